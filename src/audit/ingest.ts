/**
 * Turns one Kubernetes object into what the audit keeps of it: a namespace's labels, or a pod /
 * workload record with its verdict. The object itself is dropped by the caller right after, so
 * memory holds records, never full objects (managedFields and status are most of a pod's bytes).
 */
import { isRecord } from '../lib/is-record.js';
import { extractPod, isKubernetesObject } from '../kube/workloads.js';
import type { KubeObject } from '../kube/types.js';
import { applicableAssignments, evaluateObject, PSA_LABEL_PREFIX, type Policy } from '../policy/index.js';
import { formatPath } from '../lib/path.js';
import type { OwnerLink, Origin, PodRecord, WorkloadRecord } from './attribution.js';
import { toVerdict, type VerdictPool } from './verdict.js';

export type Ingested =
  | { readonly type: 'namespace'; readonly name: string; readonly labels: Readonly<Record<string, string>> }
  | { readonly type: 'pod'; readonly record: PodRecord }
  | { readonly type: 'workload'; readonly record: WorkloadRecord }
  /** A kind the audit has no use for: counted, never an error (CONTRACTS.md section 2). */
  | { readonly type: 'ignored'; readonly kind: string }
  | { readonly type: 'invalid'; readonly message: string };

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** The controller ownerReference, else the first one; null when there is none. */
export function ownerOf(meta: unknown): OwnerLink | null {
  if (!isRecord(meta) || !Array.isArray(meta['ownerReferences'])) return null;
  const refs = (meta['ownerReferences'] as unknown[]).filter(
    (r): r is Record<string, unknown> =>
      isRecord(r) && typeof r['kind'] === 'string' && typeof r['name'] === 'string',
  );
  const ref = refs.find((r) => r['controller'] === true) ?? refs[0];
  if (ref === undefined) return null;
  return {
    apiVersion: typeof ref['apiVersion'] === 'string' ? ref['apiVersion'] : null,
    kind: ref['kind'] as string,
    name: ref['name'] as string,
    uid: typeof ref['uid'] === 'string' ? ref['uid'] : null,
  };
}

export interface IngestContext {
  readonly policy: Policy;
  /** Labels of each namespace seen so far (PSA labels act as assignments). */
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly verdicts: VerdictPool;
}

/**
 * Why nothing restricts an object when only namespace labels decide (no --config, no --level): the
 * engine's `the policy has no enabled assignment` is true but says nothing to someone who never
 * wrote a policy.
 */
export function labelsOnlyReason(
  namespace: string | null,
  labels: Readonly<Record<string, string>> | undefined,
): string {
  if (namespace === null) return 'the object has no namespace: no pod-security labels apply';
  if (labels === undefined) {
    return `namespace "${namespace}" was not seen: its pod-security labels are unknown, privileged assumed`;
  }
  if (!Object.keys(labels).some((k) => k.startsWith(PSA_LABEL_PREFIX))) {
    return `namespace "${namespace}" has no pod-security labels: privileged by default`;
  }
  return `namespace "${namespace}" has pod-security labels at level privileged: nothing is restricted`;
}

export function ingest(obj: unknown, origin: Origin, ctx: IngestContext): Ingested {
  if (!isKubernetesObject(obj)) {
    return { type: 'invalid', message: 'not a Kubernetes object (apiVersion and kind are required)' };
  }
  const o: KubeObject = obj;
  const meta: unknown = o.metadata;
  const name = isRecord(meta) && typeof meta['name'] === 'string' ? meta['name'] : null;
  const kind = o.kind as string;
  if (kind === 'Namespace' && o.apiVersion === 'v1') {
    if (name === null) return { type: 'invalid', message: 'Namespace without metadata.name' };
    return { type: 'namespace', name, labels: stringMap(isRecord(meta) ? meta['labels'] : undefined) };
  }
  const extraction = extractPod(o, ctx.policy.podTemplatePaths);
  if (extraction.kind === 'notApplicable' || extraction.kind === 'list') return { type: 'ignored', kind };
  if (name === null) return { type: 'invalid', message: `${kind} without metadata.name` };
  const namespace = isRecord(meta) && typeof meta['namespace'] === 'string' ? meta['namespace'] : null;
  const nsLabels = namespace === null ? undefined : ctx.namespaceLabels.get(namespace);
  const evaluation = evaluateObject(
    ctx.policy,
    o,
    nsLabels === undefined ? { namespace } : { namespace, namespaceLabels: nsLabels },
  );
  const applicable = ctx.verdicts.applicable(
    applicableAssignments(ctx.policy, namespace, stringMap(extraction.target.meta.labels), nsLabels),
  );
  const reason =
    applicable.length === 0 && ctx.policy.assignments.length === 0 && evaluation.status === 'allowed'
      ? labelsOnlyReason(namespace, nsLabels)
      : evaluation.reason;
  const verdict = ctx.verdicts.intern(toVerdict(evaluation, extraction.target.basePath, applicable, reason));
  const owner = ownerOf(meta);
  const uid = isRecord(meta) && typeof meta['uid'] === 'string' && meta['uid'] !== '' ? meta['uid'] : null;
  if (extraction.kind === 'pod') {
    const labels = isRecord(meta) ? meta['labels'] : undefined;
    const hash = isRecord(labels) ? labels['pod-template-hash'] : undefined;
    return {
      type: 'pod',
      record: {
        namespace,
        name,
        uid,
        owner,
        templateHash: typeof hash === 'string' ? hash : null,
        verdict,
        origin,
      },
    };
  }
  return {
    type: 'workload',
    record: {
      apiVersion: typeof o.apiVersion === 'string' ? o.apiVersion : null,
      kind,
      namespace,
      name,
      uid,
      owner,
      basePath: formatPath(extraction.target.basePath),
      verdict,
      origin,
    },
  };
}
