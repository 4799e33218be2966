/**
 * The audit's ClusterRole is exactly what the audit does: a real `podsec audit --write-reports`
 * (the command's own code path, over an in-memory cluster) runs through a ClusterSource that
 * records every call as the API request it would be (group, resource, verb), and the recorded
 * set must equal the rendered ClusterRole's rules, for each --report-api and the deploy/ install
 * that ships it. A verb the code stops using, or starts using, fails here: least privilege that
 * cannot drift from the code.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MANAGED_BY_LABEL, type ReportApi } from '../../src/audit/policy-report.js';
import { demoCluster } from '../../src/audit/testing/demo-cluster.js';
import { MemorySource } from '../../src/audit/testing/memory-source.js';
import { runAuditCommand } from '../../src/cli/commands/audit.js';
import { BUILTIN_KINDS, kindKey, splitApiVersion } from '../../src/kube/cluster-source/kinds.js';
import type { ClusterSource, KindRef } from '../../src/kube/cluster-source/types.js';
import type { KubeObject } from '../../src/kube/types.js';
import { find, kubectlSuiteRuns, renderObjects } from './kustomize.js';

/** `group/resource` -> sorted verbs, as RBAC sees requests (the core group is ''). */
type Grants = Record<string, string[]>;

function resourceOf(kind: KindRef): string {
  const info = BUILTIN_KINDS.get(kindKey(kind));
  if (info === undefined) throw new Error(`no REST resource known for ${kindKey(kind)}`);
  return `${splitApiVersion(kind.apiVersion).group}/${info.plural}`;
}

/** Wraps a source; every call is recorded as the verb the API server would authorize. */
function recording(inner: ClusterSource): { source: ClusterSource; grants: () => Grants } {
  const used = new Map<string, Set<string>>();
  const note = (kind: KindRef, ...verbs: string[]): void => {
    const key = resourceOf(kind);
    const set = used.get(key) ?? new Set<string>();
    for (const v of verbs) set.add(v);
    used.set(key, set);
  };
  const source: ClusterSource = {
    description: inner.description,
    listPages: (kind, opts) => (note(kind, 'list'), inner.listPages(kind, opts)),
    get: (ref) => (note(ref, 'get'), inner.get(ref)),
    informer: (kind, opts) => (note(kind, 'list', 'watch'), inner.informer(kind, opts)),
    create: (obj, opts) => (note(kindOf(obj), 'create'), inner.create(obj, opts)),
    update: (obj, opts) => (note(kindOf(obj), 'update'), inner.update(obj, opts)),
    updateStatus: (obj, opts) => {
      const kind = kindOf(obj);
      used.set(`${resourceOf(kind)}/status`, new Set(['update']));
      return inner.updateStatus(obj, opts);
    },
    delete: (ref, opts) => (note(ref, 'delete'), inner.delete(ref, opts)),
    close: () => inner.close(),
  };
  const grants = (): Grants =>
    Object.fromEntries([...used].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));
  return { source, grants };
}

function kindOf(obj: KubeObject): KindRef {
  return { apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '' };
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function grantsOf(rules: readonly Rule[]): Grants {
  const out = new Map<string, Set<string>>();
  for (const r of rules) {
    for (const g of r.apiGroups) {
      for (const res of r.resources) {
        const set = out.get(`${g}/${res}`) ?? new Set<string>();
        for (const v of r.verbs) set.add(v);
        out.set(`${g}/${res}`, set);
      }
    }
  }
  return Object.fromEntries(
    [...out].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]),
  );
}

const sink = (): Writable & { text: string } => {
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      w.text += chunk.toString();
      done();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
};

/**
 * Two audits with --write-reports: the first creates every report; before the second, one
 * report is altered behind podsec's back (so it is updated) and a stale podsec-managed report
 * is added (so it is listed and deleted). Every write path of the report writer runs.
 */
async function auditVerbs(api: ReportApi): Promise<{ grants: Grants; summaries: string[] }> {
  const inner = new MemorySource(demoCluster());
  const { source, grants } = recording(inner);
  const summaries: string[] = [];
  const run = async (): Promise<void> => {
    const stderr = sink();
    await runAuditCommand([], {
      level: 'restricted',
      format: 'json',
      writeReports: true,
      reportApi: api,
      color: false,
      versionGiven: false,
      stdout: sink(),
      stderr,
      openSource: () => Promise.resolve(source),
      now: () => new Date('2026-05-01T12:00:00Z'),
    });
    summaries.push(/reports: .*/.exec(stderr.text)?.[0] ?? stderr.text);
  };
  await run();
  const [report] = inner.all({
    apiVersion: api,
    kind: api.startsWith('openreports') ? 'Report' : 'PolicyReport',
  });
  if (report === undefined) throw new Error(`the first audit wrote no ${api} report`);
  await inner.update({ ...report, summary: { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 } });
  await inner.create({
    ...report,
    metadata: {
      name: 'gone',
      namespace: report.metadata?.namespace ?? 'default',
      labels: { [MANAGED_BY_LABEL]: 'podsec' },
    },
  });
  await run();
  return { grants: grants(), summaries };
}

describe.runIf(kubectlSuiteRuns('audit RBAC'))('the podsec-audit ClusterRole is what the audit does', () => {
  it.each([
    { api: 'wgpolicyk8s.io/v1alpha2', install: 'deploy/base', reports: 'wgpolicyk8s.io/policyreports' },
    {
      api: 'openreports.io/v1alpha1',
      install: 'deploy/overlays/openreports',
      reports: 'openreports.io/reports',
    },
  ] as const)('--report-api $api with $install', async ({ api, install, reports }) => {
    const { grants, summaries } = await auditVerbs(api);
    // Each write path ran: creates first, then an update and a delete.
    expect(summaries[0]).toMatch(/^reports: [1-9]\d* created, 0 updated, \d+ unchanged, 0 deleted/);
    expect(summaries[1]).toMatch(/^reports: 0 created, 1 updated, [1-9]\d* unchanged, 1 deleted/);
    expect(grants[reports]).toEqual(['create', 'delete', 'get', 'list', 'update']);

    const args = find(renderObjects(install), 'Deployment', 'podsec-audit') as unknown as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    expect(args.spec.template.spec.containers[0]?.args).toContain(`--report-api=${api}`);
    const role = find(renderObjects(install), 'ClusterRole', 'podsec-audit') as unknown as { rules: Rule[] };
    expect(grantsOf(role.rules)).toEqual(grants);
  });
});
