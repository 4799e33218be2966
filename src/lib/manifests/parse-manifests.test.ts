/** Positions, problems and document handling of parseManifests, for both the fast and the fallback path. */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseManifests } from './parse-manifests.js';
import type { ManifestPath } from './types.js';

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx
        securityContext:
          privileged: true
      - name: side
        ports: [{containerPort: 80, hostPort: 8080}]
`;

interface LocateCase {
  name: string;
  text: string;
  path: ManifestPath;
  want: { line: number; column: number; exact: boolean };
}

const withAnchors = `base: &b
  cpu: 1
  mem: 2
obj:
  <<: *b
  own: 3
list:
- &x one
- *x
`;

const locateCases: LocateCase[] = [
  { name: 'root', text: deployment, path: [], want: { line: 1, column: 1, exact: true } },
  { name: 'top-level key', text: deployment, path: ['kind'], want: { line: 2, column: 1, exact: true } },
  {
    name: 'nested key is the key position',
    text: deployment,
    path: ['spec', 'template', 'spec', 'containers', 0, 'securityContext', 'privileged'],
    want: { line: 12, column: 11, exact: true },
  },
  {
    name: 'sequence item is the item start',
    text: deployment,
    path: ['spec', 'template', 'spec', 'containers', 1],
    want: { line: 13, column: 9, exact: true },
  },
  {
    name: 'absent field gives the nearest parent',
    text: deployment,
    path: ['spec', 'template', 'spec', 'containers', 1, 'securityContext', 'runAsNonRoot'],
    want: { line: 13, column: 9, exact: false },
  },
  {
    name: 'absent container index',
    text: deployment,
    path: ['spec', 'template', 'spec', 'containers', 5, 'image'],
    want: { line: 8, column: 7, exact: false },
  },
  {
    name: 'inside a flow collection',
    text: deployment,
    path: ['spec', 'template', 'spec', 'containers', 1, 'ports', 0, 'hostPort'],
    want: { line: 14, column: 37, exact: true },
  },
  {
    name: 'number segment on a mapping is absent',
    text: deployment,
    path: ['metadata', 0],
    want: { line: 3, column: 1, exact: false },
  },
  {
    name: 'second document counts lines from the file start',
    text: `a: 1\n---\n# comment\n\nkind: Pod\nspec:\n  x: 1\n`,
    path: ['spec', 'x'],
    want: { line: 7, column: 3, exact: true },
  },
  {
    name: 'CRLF file',
    text: 'a: 1\r\nb:\r\n  c: 2\r\n',
    path: ['b', 'c'],
    want: { line: 3, column: 3, exact: true },
  },
  {
    name: 'fallback document: plain key',
    text: withAnchors,
    path: ['obj', 'own'],
    want: { line: 6, column: 3, exact: true },
  },
  {
    name: 'fallback document: merged key reports the << line',
    text: withAnchors,
    path: ['obj', 'cpu'],
    want: { line: 5, column: 3, exact: true },
  },
  {
    name: 'fallback document: absent key',
    text: withAnchors,
    path: ['obj', 'nope'],
    want: { line: 4, column: 1, exact: false },
  },
  {
    name: 'fallback document: alias item',
    text: withAnchors,
    path: ['list', 1],
    want: { line: 9, column: 3, exact: true },
  },
  {
    name: 'JSON document',
    text: '{\n  "kind": "Pod",\n  "spec": {\n    "containers": [\n      {"name": "a"}\n    ]\n  }\n}\n',
    path: ['spec', 'containers', 0, 'name'],
    want: { line: 5, column: 8, exact: true },
  },
  {
    name: 'JSON with tabs, absent field',
    text: '{\n\t"spec": {\n\t\t"x": 1\n\t}\n}',
    path: ['spec', 'y'],
    want: { line: 2, column: 2, exact: false },
  },
];

describe('locate', () => {
  it.each(locateCases)('$name', ({ text, path, want }) => {
    const { documents, problems } = parseManifests(text);
    expect(problems).toEqual([]);
    const doc = documents[documents.length - 1];
    expect(doc?.locate(path)).toEqual(want);
  });
});

describe('document lines and indexes', () => {
  it.each([
    { name: 'first content, not the marker', text: '---\n# c\n\napiVersion: v1\n', lines: [4] },
    { name: 'empty document is at its marker', text: 'a: 1\n---\n---\nb: 1\n', lines: [1, 2, 4] },
    { name: 'fallback document line', text: '---\n\nx: &a 1\n', lines: [3] },
    { name: 'JSON', text: '\n\n  {"a": 1}', lines: [3] },
  ])('$name', ({ text, lines }) => {
    expect(parseManifests(text).documents.map((d) => d.line)).toEqual(lines);
  });
});

interface ProblemCase {
  name: string;
  text: string;
  /** Expected problems (subset match) and the indexes of the documents that still parse. */
  problems: { line: number; message: RegExp; hint?: RegExp; documentIndex?: number }[];
  documents: number[];
}

const problemCases: ProblemCase[] = [
  {
    name: 'broken document among good ones',
    text: 'a: 1\n---\nb: c: d\n---\ne: 2\n',
    problems: [{ line: 3, message: /^invalid YAML: /, documentIndex: 1 }],
    documents: [0, 2],
  },
  {
    name: 'duplicate key',
    text: 'kind: Pod\nmetadata:\n  name: a\n  name: b\n',
    problems: [{ line: 4, message: /^duplicate key "name"$/, documentIndex: 0 }],
    documents: [],
  },
  {
    name: 'helm template at a value',
    text: 'a: 1\n---\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n',
    problems: [
      {
        line: 5,
        message: /Go template syntax/,
        hint: /helm template <chart> \| podsec <command> -/,
        documentIndex: 1,
      },
    ],
    documents: [0],
  },
  {
    name: 'helm control line',
    text: '{{- if .Values.enabled }}\napiVersion: v1\nkind: Service\n{{- end }}\n',
    problems: [{ line: 1, message: /Go template syntax/, hint: /helm template/ }],
    documents: [],
  },
  {
    name: 'helm include in a document the fast path gives up on',
    text: 'metadata:\n  labels:\n    {{- include "x.labels" . | nindent 4 }}\n  name: &n x\n',
    problems: [{ line: 3, message: /Go template syntax/, hint: /helm template/ }],
    documents: [],
  },
  {
    name: 'quoted non-Helm template text (Prometheus $labels) is just a string',
    text: 'annotations:\n  summary: "{{ $labels.instance }} is down"\n',
    problems: [],
    documents: [0],
  },
  {
    name: 'template in a block scalar is just text',
    text: 'data:\n  alert.tmpl: |\n    {{ define "x" }}hi{{ end }}\n',
    problems: [],
    documents: [0],
  },
  {
    name: 'alias bomb',
    text: [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    ].join('\n'),
    // yaml gives up at the second *c of line 4: its expansion is the one that crosses the cap.
    problems: [{ line: 4, message: /alias bomb/ }],
    documents: [],
  },
  {
    name: 'wide alias bomb: reported at the alias that crosses the cap',
    text: `a: 1\n---\nx: &x [1]\nl:\n${'- *x\n'.repeat(120)}`,
    // The anchor's own value counts once, so the 100th alias (line 104) is the one over the cap.
    problems: [{ line: 104, message: /^too many alias expansions \(more than 100\)/, documentIndex: 1 }],
    documents: [0],
  },
  {
    name: 'a few aliases are fine',
    text: 'x: &x {cpu: 1}\na: *x\nb: *x\n',
    problems: [],
    documents: [0],
  },
  {
    name: 'alias without anchor',
    text: 'a: 1\n---\nb: *nope\n',
    problems: [{ line: 3, message: /alias \*nope has no anchor/, documentIndex: 1 }],
    documents: [0],
  },
  {
    name: 'broken JSON gets a line through the YAML reading',
    text: '{\n  "a": 1,\n  "b": [1, 2\n}\n',
    problems: [{ line: 4, message: /^invalid YAML: / }],
    documents: [],
  },
];

describe('problems', () => {
  it.each(problemCases)('$name', ({ text, problems, documents }) => {
    const got = parseManifests(text);
    expect(got.documents.map((d) => d.index)).toEqual(documents);
    expect(got.problems).toHaveLength(problems.length);
    problems.forEach((want, i) => {
      const p = got.problems[i];
      expect(p?.line).toBe(want.line);
      expect(p?.column).toBeGreaterThanOrEqual(1);
      expect(p?.message).toMatch(want.message);
      expect(p?.message).not.toMatch(/\n|YAMLParseError|at line/);
      if (want.hint) expect(p?.hint).toMatch(want.hint);
      if (want.documentIndex !== undefined) expect(p?.documentIndex).toBe(want.documentIndex);
    });
  });
});

describe('Helm syntax in values', () => {
  const pod = (image: string): string =>
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: ${image}\n`;
  it.each([
    {
      name: 'double-quoted image (fast path)',
      text: pod('"{{ .Values.image }}"'),
      at: { line: 8, column: 13 },
    },
    { name: 'single-quoted include', text: pod(`'{{- include "img" . }}'`), at: { line: 8, column: 13 } },
    {
      name: 'plain scalar with the template inside',
      text: pod('repo/app:{{ .Chart.AppVersion }}'),
      at: { line: 8, column: 21 },
    },
    { name: 'root context $.', text: pod('"{{ $.Values.image }}"'), at: { line: 8, column: 13 } },
    { name: 'tpl call', text: pod('"{{tpl .Values.image .}}"'), at: { line: 8, column: 13 } },
    {
      name: 'document the fast path gives up on (anchor)',
      text: 'kind: Pod\nmetadata: &m\n  name: "{{ .Release.Name }}"\nspec: {}\n',
      at: { line: 3, column: 10 },
    },
    {
      name: 'multi-line double-quoted scalar (yaml fallback)',
      text: 'kind: Pod\nmetadata:\n  name: "a\n    {{ .Release.Name }}"\n',
      at: { line: 4, column: 5 },
    },
    {
      name: 'stream parsed whole (carriage return), second document',
      text: 'a: 1\r\n---\nkind: Pod\nspec:\n  image: "{{ .Values.i }}"\n',
      at: { line: 5, column: 11 },
      documentIndex: 1,
    },
    {
      name: 'JSON document',
      text: '{\n  "kind": "Pod",\n  "spec": {"image": "{{ .Values.image }}"}\n}\n',
      at: { line: 3, column: 22 },
    },
    {
      name: 'ConfigMap metadata is not exempt',
      text: 'kind: ConfigMap\nmetadata:\n  name: "{{ .Release.Name }}-cfg"\ndata:\n  a: b\n',
      at: { line: 3, column: 10 },
    },
    {
      name: 'first of several in document order',
      text: 'kind: Pod\nmetadata:\n  labels:\n    a: "{{ .Values.a }}"\nspec:\n  x: "{{ .Values.x }}"\n',
      at: { line: 4, column: 9 },
    },
  ])('reported: $name', ({ text, at, documentIndex }) => {
    const got = parseManifests(text);
    const index = documentIndex ?? 0;
    expect(got.problems).toEqual([
      {
        ...at,
        message: 'Go template syntax ({{ ... }}): this is a chart template, not a rendered manifest',
        hint: 'render it first: helm template <chart> | podsec <command> -',
        documentIndex: index,
      },
    ]);
    expect(got.documents.map((d) => d.index)).not.toContain(index);
  });

  it.each([
    {
      name: 'ConfigMap data carrying Helm-like templates',
      text: 'kind: ConfigMap\ndata:\n  t.tmpl: "{{ .Values.x }}"\n  b: |\n    {{- include "y" . }}\n',
    },
    { name: 'Secret stringData', text: 'kind: Secret\nstringData:\n  t: \'{{ template "x" . }}\'\n' },
    {
      name: 'ConfigMap inside a List',
      text: 'kind: List\nitems:\n- kind: ConfigMap\n  data:\n    a: "{{ .Alerts }}"\n',
    },
    {
      name: 'Prometheus alert annotation',
      text: 'kind: PrometheusRule\nspec:\n  groups:\n  - rules:\n    - annotations:\n        summary: "{{ $labels.instance }} down, {{ $value }}"\n',
    },
    { name: 'Argo parameter', text: 'kind: Workflow\nspec:\n  args: ["{{inputs.parameters.message}}"]\n' },
    { name: 'braces in text', text: 'kind: Pod\nmetadata:\n  annotations:\n    a: "{{ x }} and {{y}}"\n' },
  ])('not reported: $name', ({ text }) => {
    const got = parseManifests(text);
    expect(got.problems).toEqual([]);
    expect(got.documents).toHaveLength(1);
  });
});

describe('nesting limit', () => {
  const block = (levels: number): string =>
    Array.from({ length: levels }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1\n';
  it.each([
    {
      name: 'flow sequences 2,000 deep (not an alias bomb)',
      text: `a: ${'['.repeat(2000)}${']'.repeat(2000)}\n`,
      at: { line: 1, column: 515 },
    },
    { name: 'block mapping 3,000 deep', text: block(3000), at: { line: 513, column: 513 } },
    {
      name: 'second document too deep, first kept',
      text: `a: 1\n---\nb:\n  c: ${'{x: '.repeat(600)}1${'}'.repeat(600)}\n`,
      // b and c are two levels: the 511th `{` is the 513th level.
      at: { line: 4, column: 6 + 4 * 510 },
    },
    {
      name: 'stream parsed whole (carriage return) is too deep',
      text: `a: 1\r\n---\nb: ${'['.repeat(1000)}${']'.repeat(1000)}\n`,
      at: { line: 3, column: 4 + 511 },
    },
  ])('$name', ({ text, at }) => {
    const got = parseManifests(text);
    expect(got.problems).toHaveLength(1);
    expect(got.problems[0]).toMatchObject({ ...at, message: 'nesting deeper than 512 levels' });
    expect(got.documents.every((d) => d.line < at.line)).toBe(true);
  });

  it.each([
    { name: 'flow 400 deep', text: `a: ${'['.repeat(400)}1${']'.repeat(400)}\n`, depth: 401 },
    { name: 'block 400 deep', text: block(400), depth: 400 },
  ])('under the limit parses: $name', ({ text, depth }) => {
    const got = parseManifests(text);
    expect(got.problems).toEqual([]);
    let v: unknown = got.documents[0]?.value;
    let n = 0;
    while (v !== null && typeof v === 'object') {
      v = Array.isArray(v) ? v[0] : Object.values(v)[0];
      n++;
    }
    expect(n).toBe(depth);
  });
});

describe('limits', () => {
  it('deep nesting is parsed or reported, never a crash', () => {
    const got = parseManifests(`a: ${'['.repeat(20000)}${']'.repeat(20000)}\n---\nb: 1\n`);
    expect(got.documents.length + got.problems.length).toBe(2);
    expect(got.documents.at(-1)?.value).toEqual({ b: 1 });
  });
});

describe('JSON', () => {
  it('reads values with JSON.parse semantics (last duplicate wins)', () => {
    const got = parseManifests('{"a": 1, "a": 2, "b": "yes"}');
    expect(got.problems).toEqual([]);
    expect(got.documents.map((d) => d.value)).toEqual([{ a: 2, b: 'yes' }]);
    expect(got.documents[0]?.locate(['a'])).toEqual({ line: 1, column: 10, exact: true });
  });

  it('a top-level array is one document', () => {
    expect(parseManifests('[1, 2]').documents.map((d) => d.value)).toEqual([[1, 2]]);
  });
});

describe('generated manifests round-trip through yaml.stringify in several styles', () => {
  // A small deterministic generator (xorshift) of Kubernetes-like values.
  function rng(seed: number): () => number {
    let x = seed;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 4294967296;
    };
  }
  const words = [
    'app',
    'yes',
    'no',
    'on',
    'true',
    '0777',
    '1.5',
    '~',
    'a: b',
    '#x',
    'x #y',
    '',
    ' pad ',
    "it's",
    'line\nbreak',
    'tab\there',
    '-1',
    'é',
    '{{ x }}',
    'null',
    '0x1F',
    '12:30',
  ];
  function value(r: () => number, depth: number): unknown {
    const k = r();
    if (depth > 3 || k < 0.45) {
      const w = r();
      if (w < 0.6) return words[Math.floor(r() * words.length)];
      if (w < 0.75) return Math.floor(r() * 70000) - 100;
      if (w < 0.85) return r() < 0.5;
      if (w < 0.9) return null;
      return Math.round(r() * 1000) / 8;
    }
    if (k < 0.7) return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
    const obj: Record<string, unknown> = {};
    const n = 1 + Math.floor(r() * 4);
    for (let i = 0; i < n; i++) obj[`${words[Math.floor(r() * words.length)]}${i}`] = value(r, depth + 1);
    return obj;
  }
  const styles = [
    {},
    { collectionStyle: 'flow' as const },
    { defaultStringType: 'QUOTE_DOUBLE' as const },
    { defaultStringType: 'QUOTE_SINGLE' as const, indentSeq: false },
    { blockQuote: 'literal' as const, indent: 4 },
    { blockQuote: 'folded' as const, lineWidth: 20 },
  ];
  it.each(styles.map((style, i) => ({ name: JSON.stringify(style), style, seed: 7 + i })))(
    '$name',
    ({ style, seed }) => {
      const r = rng(seed);
      const values = Array.from({ length: 60 }, () => ({ kind: 'X', data: value(r, 0) }));
      const text = values.map((v) => `---\n${stringify(v, style)}`).join('');
      const got = parseManifests(text);
      expect(got.problems).toEqual([]);
      expect(got.documents.map((d) => d.value)).toEqual(values);
    },
  );
});
