import { describe, expect, it } from 'vitest';
import type { AttributedResult } from './attribution.js';
import { buildPolicyReports, reportBaseName } from './policy-report.js';
import { writeReports } from './report-writer.js';
import { MemorySource } from './testing/memory-source.js';

function result(violations: number, exempted = 0): AttributedResult {
  const v = (i: number, ex: boolean) => ({
    check: `check-${String(i).padStart(4, '0')}`,
    message: `violation ${i} ${'x'.repeat(200)}`,
    container: 'app',
    path: `spec.containers[0].f${i}`,
    hint: 'fix it',
    parameter: null,
    effects: [{ assignment: 'restricted-apps', effect: 'deny' as const }],
    exemptedBy: ex ? { assignment: 'restricted-apps', reason: 'sidecar', expires: null } : null,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: 'shop',
    name: 'web',
    uid: 'u1',
    pods: 3,
    owner: null,
    basis: 'template',
    basePath: 'spec.template',
    origin: { file: null, line: null },
    verdict: {
      status: violations > 0 ? 'denied' : 'allowed',
      allowed: violations === 0,
      policy: { level: 'restricted', version: 'latest' },
      violations: [
        ...Array.from({ length: violations }, (_, i) => v(i, false)),
        ...Array.from({ length: exempted }, (_, i) => v(violations + i, true)),
      ],
      fingerprint: `${violations}/${exempted}`,
    },
  };
}
const opts = { api: 'wgpolicyk8s.io/v1alpha2' as const, passChecks: () => ['privileged', 'check-0000'] };

describe('buildPolicyReports', () => {
  it('one report with fail, skip and pass results, owned by the workload', () => {
    const [r, ...rest] = buildPolicyReports(result(2, 1), opts);
    expect(rest).toEqual([]);
    expect(r).toMatchObject({
      kind: 'PolicyReport',
      metadata: {
        name: 'podsec-deployment-web',
        namespace: 'shop',
        labels: { 'app.kubernetes.io/managed-by': 'podsec' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u1', controller: false },
        ],
      },
      scope: { kind: 'Deployment', name: 'web', namespace: 'shop', uid: 'u1' },
      summary: { pass: 1, fail: 2, skip: 1, warn: 0, error: 0 },
    });
    expect((r!['results'] as { result: string }[]).map((x) => x.result)).toEqual([
      'fail',
      'fail',
      'skip',
      'pass',
    ]);
  });

  it('splits deterministically into numbered parts under the size limit', () => {
    const a = buildPolicyReports(result(300), { ...opts, maxBytes: 20_000 });
    const b = buildPolicyReports(result(300), { ...opts, maxBytes: 20_000 });
    expect(a.length).toBeGreaterThan(3);
    expect(a).toEqual(b);
    expect(a.map((p) => p.metadata?.name)).toEqual(
      a.map((_, i) => (i === 0 ? 'podsec-deployment-web' : `podsec-deployment-web-${i + 1}`)),
    );
    for (const p of a) expect(JSON.stringify(p).length).toBeLessThanOrEqual(20_000);
    expect(a.reduce((s, p) => s + (p['summary'] as { fail: number }).fail, 0)).toBe(300);
  });

  it('keeps long names within DNS limits', () => {
    expect(reportBaseName('Deployment', 'a'.repeat(253)).length).toBeLessThanOrEqual(230);
  });
});

describe('writeReports', () => {
  it('creates, leaves unchanged, updates through a conflict, and deletes stale parts', async () => {
    const src = new MemorySource();
    const big = buildPolicyReports(result(300), { ...opts, maxBytes: 20_000 });
    const first = await writeReports(src, big, { api: opts.api, deleteStale: true });
    expect(first).toMatchObject({ created: big.length, updated: 0, unchanged: 0, deleted: 0 });
    const same = await writeReports(src, big, { api: opts.api, deleteStale: true });
    expect(same).toMatchObject({ created: 0, updated: 0, unchanged: big.length, deleted: 0 });
    const writes = { ...src.writes };
    const small = buildPolicyReports(result(1), opts);
    src.conflictOnce.add('podsec-deployment-web');
    const shrunk = await writeReports(src, small, { api: opts.api, deleteStale: true });
    expect(shrunk).toMatchObject({ created: 0, updated: 1, deleted: big.length - 1, failed: [] });
    expect(src.writes.update).toBe(writes.update + 1);
    expect(src.all({ apiVersion: opts.api, kind: 'PolicyReport' })).toHaveLength(1);
  });
});
