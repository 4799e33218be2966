/**
 * Differential tests: the loader's values must equal the `yaml` package's toJS() for every input,
 * whichever path (fast parser or fallback) produced them; cases marked `fast` must also be handled
 * by the fast parser itself, so the speed does not silently vanish.
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseFast } from './fast-yaml.js';
import { parseManifests } from './parse-manifests.js';
import { splitDocuments } from './split-documents.js';

interface Case {
  name: string;
  text: string;
  /** The fast parser must accept every document of this text (no fallback). */
  fast?: boolean;
}

const cases: Case[] = [
  { name: 'empty stream', text: '', fast: true },
  { name: 'only comments', text: '# a\n  # b\n', fast: true },
  { name: 'single --- is one null document', text: '---\n', fast: true },
  { name: 'trailing --- adds an empty document', text: 'a: 1\n---\n', fast: true },
  { name: 'two empty documents', text: '---\n---\n', fast: true },
  { name: 'comment before first marker', text: '# c\n---\na: 1\n', fast: true },
  { name: 'document end marker', text: 'a: 1\n...\n---\nb: 2\n...\n# trailing\n', fast: true },
  { name: 'bare document after end marker', text: 'a: 1\n...\nb: 2\n', fast: true },
  { name: 'marker with a comment', text: '--- # first\na: 1\n--- # second\nb: 2', fast: true },
  { name: 'no final newline', text: 'a: 1\nb: two', fast: true },
  {
    name: 'nested block mappings',
    text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels:\n    app: web\n',
    fast: true,
  },
  {
    name: 'kubernetes compact sequences',
    text: 'spec:\n  containers:\n  - name: a\n    image: nginx\n    ports:\n    - containerPort: 80\n      hostPort: 8080\n  - name: b\n',
    fast: true,
  },
  { name: 'indented sequences', text: 'list:\n  - a\n  - b\n  -   c\nnext: 1\n', fast: true },
  { name: 'nested sequences', text: '- - a\n  - b\n- - c\n-\n  - d\n', fast: true },
  { name: 'empty sequence items', text: 'a:\n-\n- x\n-\n', fast: true },
  { name: 'top-level sequence of mappings', text: '- a: 1\n  b: 2\n- c: 3\n', fast: true },
  { name: 'empty values', text: 'a:\nb:   \nc: # comment\nd:\n  # only a comment\ne: 1\n', fast: true },
  {
    name: 'core schema scalars',
    text: [
      'n1: null',
      'n2: Null',
      'n3: NULL',
      'n4: ~',
      'n5: nULL',
      'b1: true',
      'b2: False',
      'b3: TRUE',
      'b4: yes',
      'b5: no',
      'b6: on',
      'b7: off',
      'b8: tRUE',
      'i1: 42',
      'i2: -17',
      'i3: +5',
      'i4: 0777',
      'i5: 0o17',
      'i6: 0x1F',
      'i7: 0xfg',
      'i8: 0',
      'i9: -0',
      'i10: 12345678901234567890',
      'f1: 1.5',
      'f2: .5',
      'f3: 1.',
      'f4: 1e3',
      'f5: -1.5E-3',
      'f6: .inf',
      'f7: -.Inf',
      'f8: .NaN',
      'f9: +.INF',
      'f10: 1_000',
      'f11: 1.0',
      's1: 1.2.3',
      's2: 12:30',
      's3: 0b101',
      's4: ~foo',
      's5: "123"',
      "s6: 'true'",
      's7: 2024-01-02',
      's8: .5.5',
    ].join('\n'),
    fast: true,
  },
  {
    name: 'plain scalars with indicators inside',
    text: 'url: http://example.com:8080/a#frag\nx: a#b\ny: a # comment\nz: -1\nw: -foo\nv: ?q\nu: :x\nt: a, b [c] {d}\ns: a:b\nr: a - b\nq: "x" \n',
    fast: true,
  },
  { name: 'space before colon', text: 'a : 1\nb  :  two\n', fast: true },
  {
    name: 'non-string keys',
    text: '1: one\n1.0x: s\ntrue: t\n~: n\n0x10: hex\n.inf: i\n-0: m\n',
    fast: true,
  },
  {
    name: 'quoted scalars',
    text: [
      `a: 'it''s'`,
      `b: "tab\\there"`,
      `c: "quote \\" and backslash \\\\"`,
      `d: "\\u00e9\\x41\\U0001F600\\/"`,
      `e: ''`,
      `f: ""`,
      `g: "\\0\\a\\b\\e\\f\\n\\r\\v\\N\\_\\L\\P\\ \\\t"`,
      `"quoted key": 1`,
      `'single key': 2`,
      `h: '# not a comment'`,
      `i: "a: b"`,
      `j: "x" # comment`,
    ].join('\n'),
    fast: true,
  },
  {
    name: 'literal block scalars',
    text: 'a: |\n  line1\n  line2\n\n  line4\n\nb: |-\n  stripped\n\n\nc: |+\n  kept\n\n\nd: |\n    more\n     less\ne: 1\n',
    fast: true,
  },
  {
    name: 'literal block scalar chomping',
    text: 'a: |\n  x\n\n\nb: |-\n  x\n\nc: |+\n  x\n\n\nd: |\ne: |+\n\nf: |-\n\ng: end\n',
    fast: true,
  },
  {
    name: 'literal with indented lines and comment-looking content',
    text: 'script: |\n  #!/bin/sh\n  if true; then\n    echo "hi"  # not a comment\n  fi\n\n    \n  done\nafter: 1\n',
    fast: true,
  },
  {
    name: 'folded block scalars',
    text: 'a: >\n  one\n  two\n\n  three\n    indented\n    more\n  back\n\n\n  end\nb: >-\n  x\n  y\nc: >+\n  k\n\n',
    fast: true,
  },
  {
    name: 'folded with leading empty lines',
    text: 'a: >\n\n\n  first\n  second\n',
    fast: true,
  },
  { name: 'block scalar in sequence', text: 'args:\n- |\n  one\n  two\n- >\n  a\n  b\n- x\n', fast: true },
  { name: 'block scalar at end without newline', text: 'a: |\n  x\n  y', fast: true },
  { name: 'block scalar with header comment', text: 'a: | # comment\n  x\nb: >- # c\n  y\n', fast: true },
  { name: 'block scalar ended by less indented comment', text: 'a: |\n  x\n# c\nb: 1\n', fast: true },
  { name: 'block scalar with tab content', text: 'a: |\n  \tx\n  y\n', fast: true },
  {
    name: 'flow collections',
    text: 'a: [1, two, "three", \'four\', {k: v}]\nb: {x: 1, "y": [2, 3], z: }\nc: []\nd: {}\ne: [a, b, ]\nf: {a, b: c}\ng: {"json":true,"n":null}\nh: [ -1, .5, 0x10 ]\n',
    fast: true,
  },
  {
    name: 'multi-line flow collection',
    text: 'args: [\n  "--a",\n  "--b", # comment\n  --c\n]\nm: {\n  a: 1,\n  b: [x,\n    y]\n  }\n',
  },
  { name: 'flow top-level', text: '{"apiVersion": "v1", "kind": "List", "items": [{"a": 1}]}\n', fast: true },
  { name: 'flow plain colon without space', text: 'a: {b:c, d: e}\n', fast: true },
  {
    name: 'comments everywhere',
    text: '# head\na: 1 # tail\n# mid\nb:\n  # inner\n  c: 2\n  # end\n',
    fast: true,
  },
  { name: 'top-level plain scalar', text: 'just text\n', fast: true },
  { name: 'top-level quoted scalar', text: '"text"\n', fast: true },
  { name: 'top-level indented mapping', text: '  a: 1\n  b: 2\n', fast: true },
  { name: 'key named __proto__', text: '__proto__: {polluted: true}\nx: 1\n', fast: true },
  { name: 'key named constructor and toString', text: 'constructor: 1\ntoString: 2\n', fast: true },
  { name: 'unicode content', text: 'name: "héllo wörld"\njp: 日本語\nemoji: 😀\n', fast: true },
  {
    name: 'CRLF line endings',
    text: 'a: 1\r\nb:\r\n  - x\r\n  - y\r\nc: |\r\n  l1\r\n  l2\r\n---\r\nd: 2\r\n',
  },
  { name: 'byte order mark', text: '\uFEFFa: 1\nb: 2\n' },
  { name: 'tabs after values', text: 'a: 1\t# comment\nb: "x"\t\n' },
  { name: 'tab separated key value', text: 'a:\t1\n' },
  { name: 'tab inside plain scalar', text: 'a: x\ty\n' },
  { name: 'anchors and aliases', text: 'base: &b {cpu: 1}\nuse: *b\nlist:\n- &i item\n- *i\n' },
  {
    name: 'merge keys',
    text: 'defaults: &d\n  a: 1\n  b: 2\nobj:\n  <<: *d\n  b: 3\nmulti:\n  <<: [*d, {c: 4}]\n',
  },
  { name: 'tags', text: 'a: !!str 123\nb: !!int "7"\nc: !custom x\n' },
  { name: 'multi-line plain scalar', text: 'a: one\n  two\n  three\nb: 1\n' },
  { name: 'multi-line double-quoted', text: 'a: "one\n  two\\\n  three"\n' },
  { name: 'multi-line single-quoted', text: "a: 'one\n\n  two'\n" },
  { name: 'complex key', text: '? a\n: b\n' },
  { name: 'explicit indentation indicator', text: 'a: |2\n    indented\n  base\n' },
  { name: 'document with content on the marker line', text: '--- |\n  text\n--- {a: 1}\n' },
  { name: 'directives', text: '%YAML 1.2\n---\na: 1\n' },
  { name: 'nested flow in block sequence', text: '- [a, b]\n- {c: d}\n', fast: true },
  {
    name: 'deep nesting',
    text:
      'a:\n'.padEnd(0) +
      Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n') +
      ' end\n',
    fast: true,
  },
  { name: 'sequence item with nested mapping on next line', text: '-\n  a: 1\n  b: 2\n- x\n', fast: true },
  { name: 'whitespace-only lines', text: 'a: 1\n   \n\nb: 2\n  \n', fast: true },
  { name: 'plain scalar ending with spaces', text: 'a: value   \nb: x  # c\n', fast: true },
  { name: 'flow with trailing comment', text: 'a: [1, 2] # c\n', fast: true },
  { name: 'quoted values containing hash', text: `a: "x # y"\nb: 'p#q'\n`, fast: true },
  {
    name: 'many documents',
    text: Array.from({ length: 20 }, (_, i) => `---\nn: ${i}\nv: [${i}]\n`).join(''),
    fast: true,
  },
];

function yamlValues(text: string): { values: unknown[]; errors: boolean } {
  const docs = parseAllDocuments(text, { merge: true });
  const list = Array.isArray(docs) ? docs : [];
  return {
    values: list.map((d): unknown => d.toJS() as unknown),
    errors: list.some((d) => d.errors.length > 0),
  };
}

describe('fast YAML parser agrees with the yaml package', () => {
  it.each(cases)('$name', ({ text, fast }) => {
    const expected = yamlValues(text);
    expect(expected.errors).toBe(false);
    const got = parseManifests(text);
    expect(got.problems).toEqual([]);
    expect(got.documents.map((d) => d.value)).toEqual(expected.values);
    expect(got.documents.map((d) => d.index)).toEqual(expected.values.map((_, i) => i));
    if (fast) {
      const { chunks } = splitDocuments(text);
      for (const chunk of chunks) {
        const r = parseFast(text, chunk.bodyStart, chunk.end);
        expect(r.ok ? 'ok' : r.reason).toBe('ok');
      }
    }
  });

  it('does not pollute Object.prototype', () => {
    const got = parseManifests('__proto__:\n  polluted: true\n');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.keys(got.documents[0]?.value as object)).toEqual(['__proto__']);
  });
});

const broken: { name: string; text: string }[] = [
  { name: 'nested mapping on one line', text: 'a: b: c\n' },
  { name: 'bad indentation', text: 'a:\n  b: 1\n c: 2\n' },
  { name: 'unterminated quote', text: 'a: "open\n' },
  { name: 'unterminated flow', text: 'a: [1, 2\n' },
  { name: 'duplicate key', text: 'a: 1\na: 2\n' },
  { name: 'duplicate key in flow', text: 'a: {x: 1, x: 2}\n' },
  { name: 'tab indentation', text: 'a:\n\tb: 1\n' },
  { name: 'sequence inside mapping at same level without key', text: 'a: 1\n- b\n' },
  { name: 'bad escape', text: 'a: "\\q"\n' },
  { name: 'long key', text: `${'k'.repeat(1100)}: v\n` },
  { name: 'same key twice after resolution', text: '~: a\nnull: b\n' },
];

describe('broken YAML is a problem whenever the yaml package reports an error', () => {
  it.each(broken)('$name', ({ text }) => {
    expect(yamlValues(text).errors).toBe(true);
    const got = parseManifests(text);
    expect(got.problems.length).toBeGreaterThan(0);
    expect(got.documents).toEqual([]);
  });
});
