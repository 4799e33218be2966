/**
 * `podsec audit` against an API server (the in-process fake list/watch server on loopback), run
 * as the command runs it: LIST pages of 2 with continue tokens, --write-reports creating
 * PolicyReports on the server, and a second run that finds them current and writes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Capture } from '../support/capture.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { runAuditCommand, type AuditCommandOptions } from '../../src/cli/commands/audit.js';
import { DEMO_CONFIG, demoCluster } from '../../src/audit/testing/demo-cluster.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let fake: FakeApiServer;
let dir = '';
beforeEach(async () => {
  fake = await startFakeApiServer();
  fake.seed(demoCluster());
  dir = mkdtempSync(join(tmpdir(), 'podsec-audit-api-'));
  writeFileSync(join(dir, 'podsec.yaml'), DEMO_CONFIG);
});
afterEach(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function audit(): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const opts: AuditCommandOptions = {
    kubeconfig: await fake.writeKubeconfig(),
    config: join(dir, 'podsec.yaml'),
    format: 'json',
    writeReports: true,
    reportApi: 'wgpolicyk8s.io/v1alpha2',
    pageSize: '2',
    color: false,
    versionGiven: false,
    stdout,
    stderr,
  };
  const code = await runAuditCommand([], opts);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const isReportWrite = (r: { method: string; path: string }) =>
  r.path.includes('/policyreports') && r.method !== 'GET';

describe('podsec audit against the API server', () => {
  it('lists in pages of 2, creates PolicyReports, and a second run writes nothing', async () => {
    const first = await audit();
    expect(first.stderr).toMatch(/reports: \d+ created, 0 updated, 0 unchanged, 0 deleted\n/);
    expect(first.code).toBe(1);
    const report = JSON.parse(first.stdout);
    expect(report.summary.pods).toBe(14);
    expect(report.errors).toEqual([]);

    // Pods came in pages of 2, following continue tokens.
    const podLists = fake.requests.filter((r) => r.method === 'GET' && /\/pods$/.test(r.path));
    expect(podLists.length).toBeGreaterThanOrEqual(7);
    for (const r of podLists) expect(r.query['limit']).toBe('2');
    expect(podLists.filter((r) => r.query['continue'] !== undefined).length).toBe(podLists.length - 1);

    // Every kind with a pod template (src/kube/workloads.ts WORKLOAD_KINDS), pods and namespaces.
    const listed = new Set(
      fake.requests.filter((r) => r.method === 'GET').map((r) => r.path.split('/').at(-1)),
    );
    for (const plural of [
      'namespaces',
      'podtemplates',
      'replicationcontrollers',
      'deployments',
      'replicasets',
      'statefulsets',
      'daemonsets',
      'jobs',
      'cronjobs',
      'pods',
    ]) {
      expect(listed, plural).toContain(plural);
    }

    const created = Number(/(\d+) created/.exec(first.stderr)![1]);
    expect(created).toBe(report.results.length);
    expect(fake.requests.filter((r) => isReportWrite(r) && r.method === 'POST')).toHaveLength(created);
    const gateway = fake.object(
      'wgpolicyk8s.io/v1alpha2',
      'PolicyReport',
      'payments',
      'podsec-deployment-gateway',
    );
    expect(gateway?.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'gateway',
        uid: 'uid-deploy-payments-gateway',
        controller: false,
      },
    ]);
    const debugPod = fake.object(
      'wgpolicyk8s.io/v1alpha2',
      'PolicyReport',
      'payments',
      'podsec-pod-debug-shell',
    );
    expect(debugPod?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Pod', name: 'debug-shell' });

    const writesBefore = fake.requests.filter(isReportWrite).length;
    const second = await audit();
    expect(second.stderr).toMatch(
      new RegExp(`reports: 0 created, 0 updated, ${created} unchanged, 0 deleted\\n`),
    );
    expect(fake.requests.filter(isReportWrite).length).toBe(writesBefore);
  });
});
