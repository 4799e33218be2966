/**
 * `podsec netpol matrix | explain | lint` in process on small manifest directories under the
 * system temporary directory and on the bundled hardened example: JSON checked against inline
 * schemas, exit codes, load problems with file:line, and the HTML matrix in headless Chromium.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Capture } from '../support/capture.js';
import { runNetpolMatrix, type NetpolMatrixOptions } from '../../src/cli/commands/netpol-matrix.js';
import { runNetpolExplain, type NetpolExplainOptions } from '../../src/cli/commands/netpol-explain.js';
import { runNetpolLint, type NetpolLintOptions } from '../../src/cli/commands/netpol-lint.js';
import { UsageError } from '../../src/lib/errors.js';
import { main } from '../../src/cli/main.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const hardened = join(root, 'examples/hardened');
const CHROMIUM = '/usr/bin/chromium';
const inCi = process.env['CI'] === 'true';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !inCi) {
  console.warn(
    `SKIPPING the netpol matrix HTML browser check: ${CHROMIUM} is absent (apt-get install chromium)`,
  );
}

// --- fixtures ---------------------------------------------------------------------------------

const NAMESPACES = `
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {ns: x}}
---
apiVersion: v1
kind: Namespace
metadata: {name: y, labels: {ns: y}}
`;

function pod(ns: string, name: string, ip: string | null, extra = ''): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {pod: ${name}}}
spec:
  nodeName: n1${extra}
  containers:
    - name: c
      image: agnhost
      ports: [{name: http, containerPort: 8080}]
${ip === null ? '' : `status: {podIP: ${ip}}`}
`;
}

const PODS = [
  pod('x', 'a', '10.0.1.10'),
  pod('x', 'b', '10.0.1.11'),
  pod('y', 'a', '10.0.2.10'),
  pod('y', 'pending', null),
  `
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: y, labels: {pod: agent}}
spec:
  nodeName: n2
  hostNetwork: true
  containers: [{name: c, image: agent}]
status: {podIP: 192.168.0.2, hostIP: 192.168.0.2}
---
apiVersion: v1
kind: Node
metadata: {name: n2}
status: {addresses: [{type: InternalIP, address: 192.168.0.2}]}
`,
].join('---');

/** x/a accepts ingress from x/b only, on its named port http. */
const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from: [{podSelector: {matchLabels: {pod: b}}}]
      ports: [{port: http}]
`;

const SERVICE = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: x}
spec:
  selector: {pod: a}
  ports: [{port: 80, targetPort: http}]
`;

let dir = '';
let cluster = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'podsec-netpol-'));
  cluster = join(dir, 'cluster');
  mkdirSync(cluster);
  writeFileSync(join(cluster, 'namespaces.yaml'), NAMESPACES);
  writeFileSync(join(cluster, 'pods.yaml'), PODS);
  writeFileSync(join(cluster, 'policy.yaml'), POLICY);
  writeFileSync(join(cluster, 'service.yaml'), SERVICE);
});
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function fresh(name: string, files: Record<string, string>): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
}

const io = () => ({ stdout: new Capture(), stderr: new Capture() });
const base = { state: undefined, podCidr: undefined, exclude: [] as string[] };

async function matrixRun(paths: string[], extra: Partial<NetpolMatrixOptions> = {}) {
  const c = io();
  const o = {
    ...base,
    port: '8080',
    protocol: undefined,
    format: 'json' as const,
    output: undefined,
    color: false,
    ...extra,
    ...c,
  };
  const code = await runNetpolMatrix(paths, o);
  return { code, out: c.stdout.text, err: c.stderr.text };
}

async function explainRun(paths: string[], extra: Partial<NetpolExplainOptions>) {
  const c = io();
  const o = {
    ...base,
    from: '',
    to: '',
    port: '8080',
    protocol: undefined,
    format: 'json' as const,
    ...extra,
    ...c,
  };
  const code = await runNetpolExplain(paths, o);
  return { code, out: c.stdout.text, err: c.stderr.text };
}

async function lintRun(paths: string[], extra: Partial<NetpolLintOptions> = {}) {
  const c = io();
  const o = { ...base, format: 'json' as const, ...extra, ...c };
  const code = await runNetpolLint(paths, o);
  return { code, out: c.stdout.text, err: c.stderr.text };
}

// --- schemas ----------------------------------------------------------------------------------

const ajv = new Ajv({ allErrors: true, strict: false });
/** The committed schemas (schemas/netpol-*.schema.json) are the JSON contracts the outputs are checked against. */
const schema = (name: string) =>
  ajv.compile(
    JSON.parse(readFileSync(join(root, 'schemas', `netpol-${name}.schema.json`), 'utf8')) as object,
  );
const validMatrix = schema('matrix');
const validExplain = schema('explain');
const validLint = schema('lint');

function parse<T>(text: string, validate: ReturnType<typeof ajv.compile>): T {
  const value = JSON.parse(text) as unknown;
  expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
  return value as T;
}

interface MatrixOut {
  pods: string[];
  port: number;
  protocol: string;
  allowed: boolean[][];
  notes: Record<string, string[]>;
  errors: { file: string; line: number; message: string }[];
}

// --- matrix -----------------------------------------------------------------------------------

describe('podsec netpol matrix', () => {
  it('JSON: pods by namespace, allowed[from][to], notes for hostNetwork and address-less pods', async () => {
    const r = await matrixRun([cluster]);
    expect(r.code).toBe(0);
    const m = parse<MatrixOut>(r.out, validMatrix);
    expect(Object.keys(m).slice(0, 4)).toEqual(['pods', 'port', 'protocol', 'allowed']);
    expect(m.pods).toEqual(['x/a', 'x/b', 'y/a', 'y/agent', 'y/pending']);
    expect(m.port).toBe(8080);
    expect(m.protocol).toBe('TCP');
    const at = (from: string, to: string) => m.allowed[m.pods.indexOf(from)]![m.pods.indexOf(to)];
    expect(at('x/b', 'x/a')).toBe(true);
    expect(at('y/a', 'x/a')).toBe(false);
    expect(at('x/a', 'y/a')).toBe(true);
    expect(at('y/pending', 'x/a')).toBe(false);
    expect(m.notes).toEqual({ 'y/agent': ['hostNetwork'], 'y/pending': ['noAddress'] });
  });

  it.each([
    ['another port: the named port http is 8080, so 9090 is denied from x/b too', '9090', false],
    ['UDP: the rule is TCP', '8080/UDP', false],
  ])('%s', async (_name, port, expected) => {
    const m = parse<MatrixOut>((await matrixRun([cluster], { port })).out, validMatrix);
    expect(m.allowed[1]![0]).toBe(expected);
  });

  it('--state DIR reads the directory as the cluster, without its .podsec/ writes', async () => {
    const d = fresh('state', { 'all.yaml': [NAMESPACES, pod('x', 'a', '10.0.1.10')].join('---\n') });
    mkdirSync(join(d, '.podsec'), { recursive: true });
    writeFileSync(join(d, '.podsec', 'junk.yaml'), 'not: [valid');
    const r = await matrixRun([], { state: d });
    expect(r.code).toBe(0);
    expect(parse<MatrixOut>(r.out, validMatrix).pods).toEqual(['x/a']);
  });

  it('--pod-cidr gives the address-less pod an address', async () => {
    const m = parse<MatrixOut>((await matrixRun([cluster], { podCidr: '10.9.0.0/24' })).out, validMatrix);
    expect(m.notes['y/pending']).toBeUndefined();
  });

  it('table: indices, namespace blocks and the loopback mark', async () => {
    const r = await matrixRun([cluster], { format: 'table' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^8080\/TCP: 5 pods, \d+ of 20 pairs denied$/m);
    expect(r.out).toMatch(/^x 0 a +- \. {3}\. \. \.$/m);
    expect(r.out).toMatch(/^y 2 a +X \. {3}- \. \.$/m);
    expect(r.out).toContain('3 y/agent: hostNetwork: node traffic');
  });

  it('the bundled hardened example: representative pods, web reaches api on 8080 only', async () => {
    const m = parse<MatrixOut>((await matrixRun([hardened])).out, validMatrix);
    expect(m.pods).toEqual(['shop/cronjob-nightly-report', 'shop/deployment-api', 'shop/deployment-web']);
    expect(m.allowed).toEqual([
      [true, false, false],
      [false, true, false],
      [false, true, true],
    ]);
    expect(Object.values(m.notes).every((n) => n.includes('representative'))).toBe(true);
  });

  it.each([
    ['a port that is not a number', { port: 'http' }],
    ['a protocol that disagrees', { port: '80/UDP', protocol: 'TCP' }],
    ['an unknown protocol', { port: '80/ICMP' }],
    ['a bad --pod-cidr', { podCidr: '10.0.0.0/99' }],
  ])('usage error: %s', async (_name, extra) => {
    await expect(matrixRun([cluster], extra)).rejects.toBeInstanceOf(UsageError);
  });
});

// --- bad input --------------------------------------------------------------------------------

describe('bad input', () => {
  it('reports problems with file and line, still evaluates the valid objects, exits 2', async () => {
    const d = fresh('broken', {
      'ok.yaml': NAMESPACES + '---' + pod('x', 'a', '10.0.1.10') + '---' + pod('x', 'b', '10.0.1.11'),
      'broken.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: [\n',
      'bad-policy.yaml': `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: x}
spec:
  podSelector: {}
  ingress:
    - from: [{ipBlock: {cidr: 10.0.0.0/33}}]
`,
      'good-policy.yaml': POLICY,
    });
    const r = await matrixRun([d]);
    expect(r.code).toBe(2);
    const m = parse<MatrixOut>(r.out, validMatrix);
    expect(m.pods).toEqual(['x/a', 'x/b']);
    expect(m.allowed).toEqual([
      [true, true],
      [true, true],
    ]); // a-from-b is evaluated; the invalid policy is left out
    const files = m.errors.map((e) => `${e.file.replace(`${d}/`, '')}:${e.line}`);
    expect(files).toContain('bad-policy.yaml:7');
    expect(files.some((f) => f.startsWith('broken.yaml:'))).toBe(true);

    const table = await matrixRun([d], { format: 'table' });
    expect(table.code).toBe(2);
    expect(table.err).toMatch(/bad-policy\.yaml:7:\d+: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: /);
    expect(table.out).toContain('2 pods');

    const lint = await lintRun([d], { format: 'table' });
    expect(lint.code).toBe(2);
    expect(lint.err).toContain('bad-policy.yaml:7');
  });

  it.each<[string, string[], Record<string, string>]>([
    ['a missing path', [], {}],
    ['broken YAML', ['broken.yaml'], { 'broken.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: [\n' }],
  ])('%s and nothing usable: only the errors, no verdict, exit 2', async (_name, files, contents) => {
    const d = fresh(`unusable-${files.length}`, contents);
    const paths = files.length === 0 ? [join(d, 'nope.yaml')] : files.map((f) => join(d, f));
    const lint = await lintRun(paths, { format: 'table' });
    expect([lint.code, lint.out]).toEqual([2, '']);
    expect(lint.err).toMatch(files.length === 0 ? /nope\.yaml/ : /broken\.yaml:\d+/);
    const m = await matrixRun(paths, { format: 'table' });
    expect([m.code, m.out]).toEqual([2, '']);
    expect(m.err).toBe(lint.err);
    const e = await explainRun(paths, { from: '10.0.0.1', to: '10.0.0.2', format: 'text' });
    expect([e.code, e.out]).toEqual([2, '']);
    expect(e.err).toBe(lint.err);
  });

  it('a missing path exits 2 with the problem', async () => {
    const r = await lintRun([join(dir, 'nope.yaml')]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({ errors: [{ file: join(dir, 'nope.yaml') }] });
  });
});

// --- explain ----------------------------------------------------------------------------------

interface ExplainOut {
  allowed: boolean;
  verdicts: {
    from: { label: string; hostNetwork: boolean };
    to: { label: string };
    port: number;
    allowed: boolean;
    basis: string;
    egress: { isolated: boolean };
    ingress: {
      isolated: boolean;
      isolatingPolicies: { name: string }[];
      allowedBy: {
        policy: { name: string };
        ruleIndex: number;
        peerIndex: number | null;
        portIndex: number | null;
        peer: unknown;
        port: unknown;
        source: { file: string; line: number } | null;
      }[];
    };
  }[];
  notes: string[];
}

describe('podsec netpol explain', () => {
  it('allowed: names the isolating policy and the rule, peer and port that allow', async () => {
    const r = await explainRun([cluster], { from: 'x/b', to: 'x/a' });
    expect(r.code).toBe(0);
    const e = parse<ExplainOut>(r.out, validExplain);
    expect(e.allowed).toBe(true);
    const v = e.verdicts[0]!;
    expect(v.ingress.isolatingPolicies.map((p) => p.name)).toEqual(['a-from-b']);
    expect(v.ingress.allowedBy).toEqual([
      {
        policy: { namespace: 'x', name: 'a-from-b' },
        source: { file: join(cluster, 'policy.yaml'), line: 1 },
        ruleIndex: 0,
        peerIndex: 0,
        portIndex: 0,
        peer: {
          kind: 'selector',
          podSelector: { matchLabels: { pod: 'b' }, matchExpressions: [] },
          namespaceSelector: null,
        },
        port: { protocol: 'TCP', port: 'http', endPort: null },
      },
    ]);
    expect(v.egress.isolated).toBe(false);
  });

  it('denied (exit 1): text says which policy isolates and that no rule allows, with file:line', async () => {
    const r = await explainRun([cluster], { from: 'y/a', to: 'x/a', format: 'text' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^y\/a -> x\/a on 8080\/TCP: DENIED$/m);
    expect(r.out).toContain('isolated by x/a-from-b');
    expect(r.out).toMatch(/no rule of these policies allows it/);
    expect(r.out).toMatch(/x\/a-from-b {2}.*policy\.yaml:1$/m);
  });

  it('svc:NS/NAME resolves to the endpoint pods and the named target port', async () => {
    const e = parse<ExplainOut>(
      (await explainRun([cluster], { from: 'x/b', to: 'svc:x/web', port: '80' })).out,
      validExplain,
    );
    expect(e.verdicts.map((v) => [v.to.label, v.port, v.allowed])).toEqual([['x/a', 8080, true]]);
    expect(e.notes.join('\n')).toContain('svc:x/web port 80/TCP -> x/a port 8080 (targetPort http)');
  });

  it('svc: as the source stands for its endpoint pods; a Service selecting nothing has no connection (exit 1)', async () => {
    const e = parse<ExplainOut>(
      (await explainRun([cluster], { from: 'svc:x/web', to: 'y/a' })).out,
      validExplain,
    );
    expect(e.verdicts.map((v) => [v.from.label, v.to.label, v.allowed])).toEqual([['x/a', 'y/a', true]]);
    const d = fresh('svc-none', {
      'all.yaml': [NAMESPACES, pod('x', 'a', '10.0.1.10'), SERVICE.replace('pod: a', 'pod: zz')].join(
        '---\n',
      ),
    });
    const none = await explainRun([d], { from: 'x/a', to: 'svc:x/web', port: '80', format: 'text' });
    expect(none.code).toBe(1);
    expect(none.out).toContain('selects no pod');
  });

  it('an IP of a pod is that pod; an unknown IP is outside the cluster', async () => {
    const pod = parse<ExplainOut>(
      (await explainRun([cluster], { from: '10.0.1.11', to: 'x/a' })).out,
      validExplain,
    );
    expect(pod.verdicts[0]!.from.label).toBe('x/b');
    expect(pod.allowed).toBe(true);
    const out = await explainRun([cluster], { from: '203.0.113.9', to: 'x/a' });
    expect(out.code).toBe(1);
    expect(parse<ExplainOut>(out.out, validExplain).notes.join('\n')).toContain('outside the cluster');
  });

  it('a node address held by a hostNetwork pod is that node, in whole sentences', async () => {
    const r = await explainRun([cluster], { from: '192.168.0.2', to: 'x/a', format: 'text' });
    expect(r.out).toContain('note: 192.168.0.2 is node n2 (hostNetwork pods: y/agent)\n');
    expect(r.out).toContain(
      'egress: source y/agent runs in the host network of node n2: its traffic is node traffic, which no policy selects (allowed)',
    );
    expect(r.out).not.toContain('is pod y/agent');
    expect(r.out).not.toContain('is hostNetwork pods are');
  });

  it('hostNetwork pods are shown as node traffic; pods without an address are said so', async () => {
    const host = await explainRun([cluster], { from: 'y/agent', to: 'x/a', format: 'text' });
    expect(host.out).toContain('hostNetwork: node traffic');
    const none = await explainRun([cluster], { from: 'y/pending', to: 'x/b', format: 'text' });
    expect(none.out).toMatch(/y\/pending has no address/);
  });

  it('the hardened example: web -> api allowed by web-to-api and api-from-web', async () => {
    const r = await explainRun([hardened], {
      from: 'shop/deployment-web',
      to: 'shop/deployment-api',
      format: 'text',
    });
    expect(r.code).toBe(0);
    expect(r.out).toContain('policy shop/web-to-api egress[0] allows it');
    expect(r.out).toContain('policy shop/api-from-web ingress[0] allows it');
    expect(r.out).toMatch(/shop\/web-to-api\s+.*network-policies\.yaml:\d+/);
  });

  it.each([
    ['an unknown pod', { from: 'x/nope', to: 'x/a' }],
    ['an unknown Service', { from: 'x/b', to: 'svc:x/nope' }],
    ['a Service port that does not exist', { from: 'x/b', to: 'svc:x/web', port: '81' }],
    ['an endpoint that is none of the forms', { from: 'nonsense', to: 'x/a' }],
  ])('usage error: %s', async (_name, extra) => {
    await expect(explainRun([cluster], extra)).rejects.toBeInstanceOf(UsageError);
  });
});

// --- lint -------------------------------------------------------------------------------------

interface LintOut {
  findings: {
    code: string;
    policy: string | null;
    pod: string | null;
    direction: string | null;
    file: string | null;
    line: number | null;
  }[];
  summary: Record<string, number>;
}

describe('podsec netpol lint', () => {
  it('exit 1 with open pods per direction and the policy findings with file:line', async () => {
    const d = fresh('lint', {
      'all.yaml': [
        NAMESPACES,
        pod('x', 'a', '10.0.1.10'),
        pod('x', 'b', '10.0.1.11'),
        `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: x}
spec:
  podSelector: {matchLabels: {pod: db}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: nobody}}}]}]
`,
      ].join('---\n'),
    });
    const r = await lintRun([d]);
    expect(r.code).toBe(1);
    const l = parse<LintOut>(r.out, validLint);
    expect(l.summary['pod-not-isolated']).toBe(4);
    const db = l.findings.filter((f) => f.policy === 'x/db').map((f) => [f.code, f.line]);
    expect(db).toEqual([
      ['policy-selects-nothing', expect.any(Number)],
      ['peer-matches-nothing', expect.any(Number)],
    ]);
    expect(l.findings.find((f) => f.policy === 'x/db')?.file).toBe(join(d, 'all.yaml'));

    const table = await lintRun([d], { format: 'table' });
    expect(table.out).toMatch(/all\.yaml:\d+:\d+\s+x\/db\s+policy-selects-nothing/);
    expect(table.out).toContain('2 pods not isolated for ingress');
  });

  it('ignored kinds are counted and shown (table, text, JSON)', async () => {
    const cm = (n: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}, namespace: x}\n`;
    const d = fresh('ignored', {
      'all.yaml': [
        NAMESPACES,
        pod('x', 'a', '10.0.1.10'),
        cm('c1'),
        cm('c2'),
        cm('c3'),
        'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: x}\n',
      ].join('---\n'),
    });
    const line = 'ignored: 3 ConfigMap, 1 Secret';
    expect((await lintRun([d], { format: 'table' })).out).toContain(`\n${line}\n`);
    expect((await matrixRun([d], { format: 'table' })).out).toMatch(new RegExp(`\n${line}\n$`));
    expect((await explainRun([d], { from: 'x/a', to: 'x/a', format: 'text' })).out).toMatch(
      new RegExp(`\n${line}\n$`),
    );
    const expected = { ConfigMap: 3, Secret: 1 };
    expect(
      parse<LintOut & { summary: { ignored: unknown } }>((await lintRun([d])).out, validLint).summary.ignored,
    ).toEqual(expected);
    expect(JSON.parse((await matrixRun([d])).out).summary.ignored).toEqual(expected);
    expect(JSON.parse((await explainRun([d], { from: 'x/a', to: 'x/a' })).out).ignored).toEqual(expected);
  });

  it('a repository of policies without pods: exit 0, one note, no selector findings', async () => {
    const d = fresh('gitops', {
      'np.yaml': `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: x}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: http}]}]
`,
    });
    const r = await lintRun([d]);
    expect(r.code).toBe(0);
    const l = parse<LintOut & { notes: string[] }>(r.out, validLint);
    expect(l.findings).toEqual([]);
    expect(l.notes).toEqual([
      'no pods in the input: selector checks skipped; scan a cluster dump or add --state',
    ]);
    const table = await lintRun([d], { format: 'table' });
    expect(table.code).toBe(0);
    expect(table.out).toBe(
      'note: no pods in the input: selector checks skipped; scan a cluster dump or add --state\nno problems found\n',
    );
  });

  it('exit 0 when every pod is isolated both ways and nothing is wrong', async () => {
    const d = fresh('clean', {
      'all.yaml': [
        NAMESPACES,
        pod('x', 'a', '10.0.1.10'),
        `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
`,
      ].join('---\n'),
    });
    const r = await lintRun([d], { format: 'table' });
    expect(r.out).toContain('no problems found');
    expect(r.code).toBe(0);
  });

  it('the hardened example: every pod isolated; the peers naming kube-system and ingress-nginx match no pod here', async () => {
    const r = await lintRun([hardened]);
    expect(r.code).toBe(1);
    const l = parse<LintOut>(r.out, validLint);
    expect(l.summary['pod-not-isolated']).toBe(0);
    expect(l.findings.map((f) => `${f.code} ${f.policy}`)).toEqual([
      'peer-matches-nothing shop/default-deny',
      'peer-matches-nothing shop/web-from-ingress',
    ]);
  });
});

// --- through the command line parser -----------------------------------------------------------

describe('podsec netpol via main()', () => {
  it.each([
    ['matrix without --port', ['netpol', 'matrix']],
    ['lint with an unknown format', ['netpol', 'lint', '--format', 'xml']],
    ['explain of an unknown pod', ['netpol', 'explain', '--from', 'x/nope', '--to', 'x/a', '--port', '80']],
    ['an unknown subcommand', ['netpol', 'nope']],
  ])('%s exits 2', async (_name, args) => {
    expect(await main([...args, cluster])).toBe(2);
  });
});

// --- HTML in a browser ------------------------------------------------------------------------

describe.skipIf(!haveChromium && !inCi)('podsec netpol matrix --format html in headless Chromium', () => {
  it('renders the grid of the fixture cluster with its verdicts', async () => {
    expect(haveChromium, `${CHROMIUM} must exist in CI`).toBe(true);
    const file = join(dir, 'matrix.html');
    const r = await matrixRun([cluster], { format: 'html', output: file, now: new Date(0) });
    expect(r.code).toBe(0);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (q) => {
        if (!q.url().startsWith('file:')) requests.push(q.url());
      });
      await page.goto(`file://${file}`);
      expect(await page.locator('tr.ns th[colspan]').allInnerTexts()).toEqual(['x', 'y']);
      expect(await page.locator('td[data-from="2"][data-to="0"]').getAttribute('title')).toBe(
        'y/a -> x/a: denied',
      );
      expect(await page.locator('td[data-from="1"][data-to="0"]').getAttribute('class')).toBe('a');
      expect(await page.innerText('body')).toContain('y/agent: hostNetwork');
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
