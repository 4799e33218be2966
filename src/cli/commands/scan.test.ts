import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Capture } from '../../../test/support/capture.js';
import { resultSchemaValidator, sarifValidator } from '../../../test/support/schemas.js';
import type { ScanReport } from '../output/result-json.js';
import { runScan, type ScanOptions } from './scan.js';

const PRIVILEGED_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: app
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: ok
          image: nginx
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
        - name: bad
          image: busybox
          securityContext:
            privileged: true
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
`;

const GOOD_POD = `apiVersion: v1
kind: Pod
metadata: {name: good, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
    - name: c
      image: nginx
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
`;

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'podsec-scan-'));
  mkdirSync(join(dir, 'tree', 'nested'), { recursive: true });
  writeFileSync(join(dir, 'tree', 'deploy.yaml'), PRIVILEGED_DEPLOYMENT);
  writeFileSync(join(dir, 'tree', 'nested', 'good.yaml'), GOOD_POD);
  writeFileSync(join(dir, 'tree', 'kustomization.yaml'), 'resources:\n  - deploy.yaml\n');
  writeFileSync(join(dir, 'tree', 'notes.txt'), 'not yaml');
  writeFileSync(join(dir, 'broken.yaml'), `${GOOD_POD}---\nkind: [unclosed\n`);
  writeFileSync(join(dir, 'values.yaml'), 'replicaCount: 1\n');
  writeFileSync(join(dir, 'helm.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n');
  writeFileSync(
    join(dir, 'list.json'),
    JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'List',
        items: [
          JSON.parse(
            JSON.stringify({
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: { name: 'a' },
              spec: { hostPID: true, containers: [{ name: 'x', image: 'x' }] },
            }),
          ),
        ],
      },
      null,
      2,
    ),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function opts(over: Partial<ScanOptions> = {}): ScanOptions & { stdout: Capture; stderr: Capture } {
  return {
    level: undefined,
    pssVersion: undefined,
    config: undefined,
    format: 'json',
    exclude: [],
    color: false,
    levelGiven: false,
    versionGiven: false,
    stdout: new Capture(),
    stderr: new Capture(),
    ...over,
  } as ScanOptions & { stdout: Capture; stderr: Capture };
}

async function scanJson(
  paths: string[],
  over: Partial<ScanOptions> = {},
): Promise<{ code: number; report: ScanReport }> {
  const o = opts(over);
  const code = await runScan(paths, o);
  return { code, report: JSON.parse(o.stdout.text) as ScanReport };
}

describe('podsec scan', () => {
  it('reports a privileged container of a Deployment with its field path and position', async () => {
    const { code, report } = await scanJson([join(dir, 'tree', 'deploy.yaml')]);
    expect(code).toBe(1);
    const [r] = report.results;
    expect(r).toMatchObject({
      kind: 'Deployment',
      name: 'web',
      namespace: 'app',
      allowed: false,
      status: 'denied',
      line: 1,
    });
    const v = r!.violations.find((x) => x.check === 'privileged');
    expect(v).toMatchObject({
      container: 'bad',
      path: 'spec.template.spec.containers[1].securityContext.privileged',
      line: 23,
      effects: [{ assignment: 'restricted:latest', effect: 'deny' }],
    });
    expect(v!.hint.length).toBeGreaterThan(10);
    expect(v!.reason).toBe('privileged');
    // What kubectl would show, in Pod Security Admission's exact words.
    expect(r!.messages).toEqual([
      {
        assignment: 'restricted:latest',
        effect: 'deny',
        text: 'violates PodSecurity "restricted:latest": privileged (container "bad" must not set securityContext.privileged=true)',
      },
    ]);
    expect(resultSchemaValidator()(report)).toBe(true);
  });

  it('walks directories: skips non-manifests and counts them, ignores other extensions', async () => {
    const { code, report } = await scanJson([join(dir, 'tree')]);
    expect(code).toBe(1);
    expect(report.results.map((r) => r.name).sort()).toEqual(['good', 'web']);
    expect(report.summary).toMatchObject({ documents: 2, denied: 1, allowed: 1, skipped: 1, errors: 0 });
    expect(report.results.find((r) => r.name === 'good')?.file).toBe(
      join(dir, 'tree', 'nested', 'good.yaml'),
    );
  });

  it('honours --exclude globs', async () => {
    const { report } = await scanJson([join(dir, 'tree')], { exclude: ['nested/**'] });
    expect(report.results.map((r) => r.name)).toEqual(['web']);
  });

  it('reports broken YAML with its line, still scans the other documents, exits 2', async () => {
    const { code, report } = await scanJson([join(dir, 'broken.yaml')]);
    expect(code).toBe(2);
    expect(report.results.map((r) => r.name)).toEqual(['good']);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ file: join(dir, 'broken.yaml') });
    expect(report.errors[0]!.line).toBeGreaterThanOrEqual(14);
  });

  it('a named file without Kubernetes objects is an error', async () => {
    const { code, report } = await scanJson([join(dir, 'values.yaml')]);
    expect(code).toBe(2);
    expect(report.errors[0]?.message).toMatch(/no Kubernetes object/);
  });

  it('Helm template syntax gets the hint to render first', async () => {
    const { code, report } = await scanJson([join(dir, 'helm.yaml')]);
    expect(code).toBe(2);
    expect(report.errors[0]?.hint).toMatch(/helm template/);
  });

  it('expands List items into results of their own, from JSON', async () => {
    const { report } = await scanJson([join(dir, 'list.json')], { level: 'baseline', levelGiven: true });
    expect(report.results).toHaveLength(1);
    expect(report.results[0]).toMatchObject({ name: 'a', status: 'denied' });
    expect(report.results[0]!.violations[0]).toMatchObject({ check: 'hostNamespaces', path: 'spec.hostPID' });
    expect(report.results[0]!.violations[0]!.line).toBeGreaterThan(1);
  });

  it('a wrongly typed security field is an input error with its position, and the object is still reported', async () => {
    const text = PRIVILEGED_DEPLOYMENT.replace('privileged: true', 'privileged: "yes"');
    const { code, report } = await scanJson(['-'], { stdin: Readable.from([text]) });
    expect(code).toBe(2);
    expect(report.results).toHaveLength(1);
    expect(report.errors).toEqual([
      expect.objectContaining({
        file: '-',
        line: 23,
        message:
          'spec.template.spec.containers[1].securityContext.privileged must be a boolean (true or false), not the string "yes"',
      }),
    ]);
  });

  it('gives items of a typed list (kubectl get --raw) the kind of the list, and reports untyped items', async () => {
    const text =
      'apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: raw}\n  spec: {hostPID: true, containers: [{name: c, image: x}]}\n- 7\n';
    const { code, report } = await scanJson(['-'], {
      stdin: Readable.from([text]),
      level: 'baseline',
      levelGiven: true,
    });
    expect(code).toBe(2);
    expect(report.results).toEqual([
      expect.objectContaining({ kind: 'Pod', name: 'raw', status: 'denied', line: 4 }),
    ]);
    expect(report.errors).toEqual([
      expect.objectContaining({
        line: 6,
        message: expect.stringMatching(/items\[1\] is not a Kubernetes object/),
      }),
    ]);
  });

  it('applies pod-security labels of Namespace objects in the input, as the cluster would', async () => {
    const text = [
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: strict\n  labels: {pod-security.kubernetes.io/enforce: restricted}',
      GOOD_POD.replace('namespace: app', 'namespace: strict').replace(
        'allowPrivilegeEscalation: false',
        'allowPrivilegeEscalation: true',
      ),
      GOOD_POD.replace('allowPrivilegeEscalation: false', 'allowPrivilegeEscalation: true'),
    ].join('\n---\n');
    const { report } = await scanJson(['-'], {
      stdin: Readable.from([text]),
      level: 'baseline',
      levelGiven: true,
    });
    const byNs = Object.fromEntries(
      report.results.filter((r) => r.kind === 'Pod').map((r) => [r.namespace, r.status]),
    );
    expect(byNs).toEqual({ strict: 'denied', app: 'allowed' });
  });

  it.each([
    [
      'a Deployment without a pod template',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n',
      /spec\.template\.spec is required/,
    ],
    [
      'a Pod with spec: null',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: null\n',
      /spec is required/,
    ],
    [
      'a Pod without containers',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: null}\n',
      /containers is required/,
    ],
  ])('%s is an input error and never reported as allowed', async (_name, text, message) => {
    const { code, report } = await scanJson(['-'], {
      stdin: Readable.from([text]),
      level: 'baseline',
      levelGiven: true,
    });
    expect(code).toBe(2);
    expect(report.results[0]).toMatchObject({ allowed: false, status: 'denied' });
    expect(report.results[0]!.reason).toMatch(/invalid object/);
    expect(report.errors[0]!.message).toMatch(message);
  });

  it('reads stdin for -', async () => {
    const { code, report } = await scanJson(['-'], { stdin: Readable.from([GOOD_POD]) });
    expect(code).toBe(0);
    expect(report.results[0]).toMatchObject({ file: '-', name: 'good', status: 'allowed' });
  });

  it('baseline at an old version allows what restricted denies', async () => {
    const { code } = await scanJson(['-'], {
      stdin: Readable.from([
        GOOD_POD.replace('allowPrivilegeEscalation: false', 'allowPrivilegeEscalation: true'),
      ]),
      level: 'baseline',
      levelGiven: true,
      pssVersion: 'v1.20',
      versionGiven: true,
    });
    expect(code).toBe(0);
  });

  it.each([
    ['bad version', { pssVersion: 'v1.01', versionGiven: true }, /pss-version/],
    ['config with level', { config: 'x.yaml', level: 'baseline', levelGiven: true }, /cannot be combined/],
  ])('usage error: %s', async (_name, over, message) => {
    await expect(runScan([join(dir, 'tree')], opts(over as Partial<ScanOptions>))).rejects.toThrow(message);
  });

  it('SARIF output validates against the SARIF 2.1.0 schema and has rules, levels and fingerprints', async () => {
    const o = opts({ format: 'sarif' });
    await runScan([join(dir, 'tree')], o);
    const sarif = JSON.parse(o.stdout.text) as {
      runs: {
        tool: { driver: { rules: { id: string; help: { text: string } }[] } };
        results: Record<string, unknown>[];
      }[];
    };
    const validate = sarifValidator();
    expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true);
    const run = sarif.runs[0]!;
    const ids = run.tool.driver.rules.map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining(['privileged', 'runAsNonRoot', 'capabilities_restricted']));
    for (const rule of run.tool.driver.rules) expect(rule.help.text.length).toBeGreaterThan(0);
    const result = run.results.find((r) => r['ruleId'] === 'privileged')!;
    expect(result['level']).toBe('error');
    expect(result['partialFingerprints']).toBeDefined();
    const loc = (
      result['locations'] as {
        physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
      }[]
    )[0]!;
    expect(loc.physicalLocation.region.startLine).toBe(23);
    expect(loc.physicalLocation.artifactLocation.uri).not.toMatch(/^\//);
  });

  it('renders a table grouped by resource with counts', async () => {
    const o = opts({ format: 'table' });
    await runScan([join(dir, 'tree')], o);
    expect(o.stdout.text).toMatch(/DENIED {2}Deployment app\/web/);
    expect(o.stdout.text).toMatch(/PASS {2}Pod app\/good/);
    expect(o.stdout.text).toMatch(/2 objects, 1 denied, 0 warned, 0 audited, 1 passed, 1 skipped/);
    expect(o.stdout.text.includes('\u001b[')).toBe(false);
  });
});
