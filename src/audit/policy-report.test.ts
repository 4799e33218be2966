import { describe, expect, it } from 'vitest';
import type { AttributedResult } from './attribution.js';
import {
  buildPolicyReports,
  reportBaseName,
  reportBlocker,
  reportResults,
  type ReportResult,
} from './policy-report.js';
import { writeReports } from './report-writer.js';
import { MemorySource } from './testing/memory-source.js';
import type { ApplicableAssignment, AuditViolation, Verdict } from './verdict.js';

const RESTRICTED: ApplicableAssignment = {
  name: 'restricted-apps',
  effect: 'deny',
  info: { level: 'restricted', version: 'latest' },
  checks: ['hostNamespaces', 'privileged', 'runAsNonRoot'],
};
const LABEL_WARN: ApplicableAssignment = {
  name: 'pod-security.kubernetes.io/warn',
  effect: 'warn',
  info: { level: 'baseline', version: 'latest' },
  checks: ['hostNamespaces', 'privileged'],
};

function violation(check: string, over: Partial<AuditViolation> = {}): AuditViolation {
  return {
    check,
    message: `${check} broken`,
    container: 'app',
    path: `spec.containers[0].${check}`,
    hint: 'fix it',
    parameter: null,
    effects: [{ assignment: RESTRICTED.name, effect: 'deny' }],
    exemptedBy: null,
    ...over,
  };
}

function verdict(over: Partial<Verdict> = {}): Verdict {
  return {
    status: 'allowed',
    allowed: true,
    policy: { level: 'restricted', version: 'latest' },
    violations: [],
    applicable: [RESTRICTED],
    fingerprint: 'v',
    ...over,
  };
}

function result(over: Partial<AttributedResult> = {}): AttributedResult {
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
    verdict: verdict(),
    podsApart: [],
    ...over,
  };
}

const rows = (rs: readonly ReportResult[]) =>
  rs.map((r) => `${r.result} ${r.policy} ${r.rule} ${r.severity}`);

describe('reportResults', () => {
  const cases: { name: string; result: AttributedResult; want: string[] }[] = [
    {
      name: 'one result per (assignment, check): fail under each assignment that counts it, pass per assignment',
      result: result({
        verdict: verdict({
          status: 'denied',
          applicable: [RESTRICTED, LABEL_WARN],
          violations: [
            violation('privileged', {
              effects: [
                { assignment: RESTRICTED.name, effect: 'deny' },
                { assignment: LABEL_WARN.name, effect: 'warn' },
              ],
            }),
          ],
        }),
      }),
      want: [
        'fail pod-security.kubernetes.io/warn privileged medium',
        'fail restricted-apps privileged high',
        'pass pod-security.kubernetes.io/warn hostNamespaces medium',
        'pass restricted-apps hostNamespaces high',
        'pass restricted-apps runAsNonRoot high',
      ],
    },
    {
      name: 'an exempted violation is a skip of its assignment; two paths of one check are one result',
      result: result({
        verdict: verdict({
          violations: [
            violation('runAsNonRoot', {
              exemptedBy: { assignment: RESTRICTED.name, reason: 'legacy', expires: null },
            }),
            violation('privileged'),
            violation('privileged', { path: 'spec.containers[1].privileged', container: 'side' }),
          ],
        }),
      }),
      want: [
        'fail restricted-apps privileged high',
        'skip restricted-apps runAsNonRoot high',
        'pass restricted-apps hostNamespaces high',
      ],
    },
    {
      name: 'a check counted under another assignment only is neither passed nor failed for this one',
      result: result({
        verdict: verdict({
          applicable: [RESTRICTED, LABEL_WARN],
          violations: [violation('runAsNonRoot')],
        }),
      }),
      want: [
        'fail restricted-apps runAsNonRoot high',
        'pass pod-security.kubernetes.io/warn hostNamespaces medium',
        'pass pod-security.kubernetes.io/warn privileged medium',
        'pass restricted-apps hostNamespaces high',
        'pass restricted-apps privileged high',
      ],
    },
    {
      name: 'a workload does not pass a check that one of its pods reported apart fails',
      result: result({
        podsApart: [verdict({ status: 'denied', violations: [violation('hostNamespaces')] })],
      }),
      want: ['pass restricted-apps privileged high', 'pass restricted-apps runAsNonRoot high'],
    },
    {
      name: 'an exempt object skips every check of every applicable assignment',
      result: result({
        kind: 'Pod',
        apiVersion: 'v1',
        verdict: verdict({ status: 'exempt', reason: 'namespace "shop" is exempt' }),
      }),
      want: [
        'skip restricted-apps hostNamespaces high',
        'skip restricted-apps privileged high',
        'skip restricted-apps runAsNonRoot high',
      ],
    },
    {
      name: 'no applicable assignment: one skip saying why',
      result: result({
        verdict: verdict({
          applicable: [],
          reason: 'namespace "shop" has no pod-security labels: privileged by default',
        }),
      }),
      want: ['skip none no-assignment info'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = reportResults(c.result);
      expect(rows(got)).toEqual(c.want);
      // One stable policy per result: never a list of assignments.
      for (const r of got) expect(r.policy).not.toContain(',');
    });
  }
});

describe('reportBlocker', () => {
  const cases: { name: string; result: AttributedResult; want: RegExp | null }[] = [
    { name: 'a workload with a uid', result: result(), want: null },
    {
      name: 'a standalone pod with a uid',
      result: result({ kind: 'Pod', apiVersion: 'v1', uid: 'pod-uid', basis: 'pod' }),
      want: null,
    },
    {
      name: 'an object without uid from a manifest',
      result: result({ uid: null, origin: { file: 'state/web.yaml', line: 1 } }),
      want: /no metadata\.uid \(read from state\/web\.yaml\)/,
    },
    {
      name: 'an owner inferred but never seen',
      result: result({ uid: null, basis: 'pods' }),
      want: /Deployment web was not seen/,
    },
    { name: 'a cluster-scoped object', result: result({ namespace: null }), want: /cluster-scoped/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = reportBlocker(c.result);
      if (c.want === null) expect(got).toBeNull();
      else expect(got).toMatch(c.want);
      expect(buildPolicyReports(c.result, { api: 'wgpolicyk8s.io/v1alpha2' })).toHaveLength(
        c.want === null ? 1 : 0,
      );
    });
  }
});

function many(n: number, text: string): AttributedResult {
  return result({
    verdict: verdict({
      status: 'denied',
      allowed: false,
      violations: Array.from({ length: n }, (_, i) =>
        violation(`check-${String(i).padStart(4, '0')}`, { message: `violation ${i} ${text}` }),
      ),
    }),
  });
}
const opts = { api: 'wgpolicyk8s.io/v1alpha2' as const };
const byteLength = (o: unknown) => Buffer.byteLength(JSON.stringify(o), 'utf8');

describe('buildPolicyReports', () => {
  it('a workload report owned by the workload; a pod report owned by the pod', () => {
    const [w] = buildPolicyReports(result(), opts);
    expect(w).toMatchObject({
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
      summary: { pass: 3, fail: 0, skip: 0, warn: 0, error: 0 },
    });
    const pod = result({
      apiVersion: 'v1',
      kind: 'Pod',
      name: 'web-7f9-x',
      uid: 'pod-uid',
      basis: 'pod',
      basePath: '',
      owner: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u1' },
    });
    expect(buildPolicyReports(pod, opts)[0]?.metadata).toMatchObject({
      name: 'podsec-pod-web-7f9-x',
      ownerReferences: [
        { apiVersion: 'v1', kind: 'Pod', name: 'web-7f9-x', uid: 'pod-uid', controller: false },
      ],
    });
  });

  const splits: { name: string; text: string }[] = [
    { name: 'ASCII messages', text: 'x'.repeat(200) },
    // 3 bytes per character in UTF-8, 1 UTF-16 code unit: counting code units would overshoot 3x.
    { name: 'multi-byte messages (CJK)', text: '禁止'.repeat(100) },
    // 4 bytes per character, 2 code units.
    { name: 'astral-plane messages (emoji)', text: '🔒'.repeat(100) },
  ];
  for (const c of splits) {
    it(`splits deterministically into numbered parts under the byte limit: ${c.name}`, () => {
      const a = buildPolicyReports(many(300, c.text), { ...opts, maxBytes: 20_000 });
      const b = buildPolicyReports(many(300, c.text), { ...opts, maxBytes: 20_000 });
      expect(a.length).toBeGreaterThan(3);
      expect(a).toEqual(b);
      expect(a.map((p) => p.metadata?.name)).toEqual(
        a.map((_, i) => (i === 0 ? 'podsec-deployment-web' : `podsec-deployment-web-${i + 1}`)),
      );
      for (const p of a) expect(byteLength(p)).toBeLessThanOrEqual(20_000);
      expect(a.reduce((s, p) => s + (p['summary'] as { fail: number }).fail, 0)).toBe(300);
    });
  }

  it('keeps long names within DNS limits', () => {
    expect(reportBaseName('Deployment', 'a'.repeat(253)).length).toBeLessThanOrEqual(230);
  });
});

describe('writeReports', () => {
  it('creates, leaves unchanged, updates through a conflict, and deletes stale parts', async () => {
    const src = new MemorySource();
    const big = buildPolicyReports(many(300, 'x'.repeat(200)), { ...opts, maxBytes: 20_000 });
    const first = await writeReports(src, big, { api: opts.api, deleteStale: true });
    expect(first).toMatchObject({ created: big.length, updated: 0, unchanged: 0, deleted: 0 });
    const same = await writeReports(src, big, { api: opts.api, deleteStale: true });
    expect(same).toMatchObject({ created: 0, updated: 0, unchanged: big.length, deleted: 0 });
    const writes = { ...src.writes };
    const small = buildPolicyReports(many(1, 'x'), opts);
    src.conflictOnce.add('podsec-deployment-web');
    const shrunk = await writeReports(src, small, { api: opts.api, deleteStale: true });
    expect(shrunk).toMatchObject({ created: 0, updated: 1, deleted: big.length - 1, failed: [] });
    expect(src.writes.update).toBe(writes.update + 1);
    expect(src.all({ apiVersion: opts.api, kind: 'PolicyReport' })).toHaveLength(1);
  });
});
