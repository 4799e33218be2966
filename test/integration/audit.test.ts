/**
 * `podsec audit` end to end in process: a --state directory standing for the cluster, the json
 * output validated against the committed schema, PolicyReports written, then rewritten only when
 * something changed; and a `kubectl get -o json` List file with a late namespace and a broken item.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Capture } from '../support/capture.js';
import { resultSchemaValidator } from '../support/schemas.js';
import { runAuditCommand, type AuditCommandOptions } from '../../src/cli/commands/audit.js';
import { DEMO_CONFIG, demoCluster } from '../../src/audit/testing/demo-cluster.js';
import { openClusterSource } from '../../src/kube/cluster-source/index.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'podsec-audit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function options(
  extra: Partial<AuditCommandOptions>,
): AuditCommandOptions & { stdout: Capture; stderr: Capture } {
  return {
    format: 'json',
    writeReports: false,
    reportApi: 'wgpolicyk8s.io/v1alpha2',
    color: false,
    versionGiven: false,
    stdout: new Capture(),
    stderr: new Capture(),
    ...extra,
  } as AuditCommandOptions & { stdout: Capture; stderr: Capture };
}

function writeState(): string {
  const state = join(dir, 'state');
  mkdirSync(state);
  writeFileSync(
    join(state, 'cluster.json'),
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: demoCluster() }),
  );
  writeFileSync(join(dir, 'podsec.yaml'), DEMO_CONFIG);
  return state;
}

describe('podsec audit --state', () => {
  it('attributes results, validates against the schema and writes PolicyReports idempotently', async () => {
    const state = writeState();
    const o = options({ state, config: join(dir, 'podsec.yaml'), writeReports: true });
    const code = await runAuditCommand([], o);
    expect(o.stderr.text).toContain('reports:');
    const report = JSON.parse(o.stdout.text);
    const validate = resultSchemaValidator();
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(code).toBe(1);
    const byName = new Map<string, unknown>(
      report.results.map((r: { kind: string; name: string }): [string, unknown] => [
        `${r.kind}/${r.name}`,
        r,
      ]),
    );
    expect(byName.get('Deployment/frontend')).toMatchObject({ pods: 2, status: 'allowed', file: null });
    expect([...byName.keys()].find((k) => k.startsWith('Pod/frontend-'))).toBeDefined();
    expect(byName.get('CronJob/nightly-report')).toMatchObject({ pods: 1 });
    expect(byName.get('Deployment/search')).toMatchObject({ pods: 0 });
    expect(byName.get('Pod/istiod-0')).toMatchObject({ status: 'exempt' });
    expect(byName.has('ReplicaSet/frontend-8f3c9d')).toBe(false);
    expect(report.summary.pods).toBe(14);

    const created = /(\d+) created, (\d+) updated, (\d+) unchanged/.exec(o.stderr.text)!;
    expect(Number(created[1])).toBeGreaterThan(5);

    const source = await openClusterSource({ state });
    const reports: {
      metadata: { name: string; ownerReferences: unknown[] };
      summary: Record<string, number>;
    }[] = [];
    for await (const page of source.listPages({
      apiVersion: 'wgpolicyk8s.io/v1alpha2',
      kind: 'PolicyReport',
    })) {
      reports.push(...(page as never[]));
    }
    await source.close();
    const gateway = reports.find((r) => r.metadata.name === 'podsec-deployment-gateway')!;
    expect(gateway.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'gateway',
        uid: 'uid-deploy-payments-gateway',
        controller: false,
      },
    ]);
    expect(gateway.summary.fail).toBeGreaterThan(3);

    // A pod that differs from its Deployment and a standalone pod get reports owned by the pod.
    const results = (name: string) =>
      (
        reports.find((r) => r.metadata.name === name) as unknown as {
          results: { policy: string; rule: string; result: string }[];
        }
      ).results;
    for (const [name, pod] of [
      ['podsec-pod-frontend-8f3c9d-p2', 'frontend-8f3c9d-p2'],
      ['podsec-pod-debug-shell', 'debug-shell'],
    ] as const) {
      const r = reports.find((x) => x.metadata.name === name);
      expect(r?.metadata.ownerReferences, name).toEqual([
        { apiVersion: 'v1', kind: 'Pod', name: pod, uid: expect.any(String), controller: false },
      ]);
    }
    // The Deployment's own report does not pass the check its differing pod fails.
    expect(results('podsec-deployment-frontend').filter((x) => x.rule === 'privileged')).toEqual([]);
    expect(results('podsec-pod-frontend-8f3c9d-p2')).toContainEqual(
      expect.objectContaining({ rule: 'privileged', result: 'fail' }),
    );
    // One assignment per result, never a joined list.
    for (const r of reports) {
      for (const x of (r as unknown as { results: { policy: string }[] }).results) {
        expect(x.policy).not.toContain(',');
      }
    }

    const again = options({ state, config: join(dir, 'podsec.yaml'), writeReports: true });
    await runAuditCommand([], again);
    expect(again.stderr.text).toMatch(/0 created, 0 updated, \d+ unchanged, 0 deleted/);
  });

  it('without --config and --level only namespace labels decide', async () => {
    const state = writeState();
    const o = options({ state });
    await runAuditCommand([], o);
    const report = JSON.parse(o.stdout.text);
    const cart = report.results.find((r: { name: string }) => r.name === 'cart');
    const gateway = report.results.find((r: { name: string }) => r.name === 'gateway');
    expect(cart).toMatchObject({ status: 'denied', policy: { level: 'restricted' } }); // shop: enforce=restricted
    expect(gateway).toMatchObject({
      status: 'allowed',
      policy: { level: 'privileged' },
      reason: 'namespace "payments" has no pod-security labels: privileged by default',
    });
  });

  it('names the results that got no report and why (an object without uid in a manifest)', async () => {
    const state = writeState();
    writeFileSync(
      join(state, 'extra.yaml'),
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: no-uid, namespace: shop}',
        'spec:',
        '  selector: {matchLabels: {app: x}}',
        '  template:',
        '    metadata: {labels: {app: x}}',
        '    spec: {containers: [{name: c, image: nginx}]}',
        '',
      ].join('\n'),
    );
    const o = options({ state, writeReports: true });
    await runAuditCommand([], o);
    expect(o.stderr.text).toMatch(
      /reports: \d+ created, 0 updated, 0 unchanged, 0 deleted; 1 result without a report \(Deployment shop\/no-uid: no metadata\.uid/,
    );
  });
});

describe('podsec audit FILE', () => {
  it('reads a List as a stream: late namespaces applied, broken items reported with their line', async () => {
    const objs = demoCluster();
    const namespaces = objs.filter((o) => o.kind === 'Namespace');
    const rest = objs.filter((o) => o.kind !== 'Namespace');
    const text = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...rest, ...namespaces] }, null, 2);
    const broken = text.replace('"name": "debug-shell"', '"name": debug-shell');
    const file = join(dir, 'cluster.json');
    writeFileSync(file, broken);
    const o = options({});
    const code = await runAuditCommand([file], o);
    const report = JSON.parse(o.stdout.text);
    expect(code).toBe(2);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({
      file,
      line: broken.split('\n').findIndex((l) => l.includes('debug-shell')) + 1,
    });
    // shop's enforce label came after its pods and still decided
    expect(report.results.find((r: { name: string }) => r.name === 'cart')).toMatchObject({
      status: 'denied',
    });
    expect(report.results.find((r: { name: string }) => r.name === 'debug-shell')).toBeUndefined();
  });

  it('renders a table grouped by namespace with pod counts', async () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ kind: 'List', apiVersion: 'v1', items: demoCluster() }));
    const o = options({ format: 'table', level: 'baseline' });
    await runAuditCommand([file], o);
    expect(o.stdout.text).toMatch(/namespace payments/);
    expect(o.stdout.text).toMatch(/DENIED +Deployment gateway +4 pods/);
  });

  it('usage errors: files with --state, --config with --level, bad --interval', async () => {
    await expect(runAuditCommand(['x.json'], options({ state: dir }))).rejects.toThrow(/not both/);
    await expect(runAuditCommand([], options({ config: 'c.yaml', level: 'baseline' }))).rejects.toThrow(
      /--config/,
    );
    await expect(runAuditCommand([], options({ state: dir, interval: '10 minutes' }))).rejects.toThrow(
      /--interval/,
    );
  });
});
