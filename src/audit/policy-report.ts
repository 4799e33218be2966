/**
 * PolicyReports (wgpolicyk8s.io/v1alpha2, or openreports.io/v1alpha1 Report) built from audit
 * results: one report per owning workload, and one per pod reported on its own (standalone, or
 * different from its owner's template), in its namespace, owned by it (controller: false, so the
 * garbage collector removes the report with its object but no controller fights over it).
 * Results are one per (applicable assignment, check): fail for a counted violation, skip for an
 * exempted one, pass for the assignment's other checks (see `reportResults`).
 *
 * Reports are built deterministically (sorted, no timestamps), so an unchanged cluster produces
 * byte-identical reports and the writer can skip the write. A report that would near the 1 MiB
 * object limit of etcd is split into numbered parts (Gatekeeper's capped, non-deterministic
 * violation lists are the complaint this answers).
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../kube/types.js';
import type { AttributedResult } from './attribution.js';
import type { ApplicableAssignment, AuditViolation } from './verdict.js';

export const REPORT_APIS = ['wgpolicyk8s.io/v1alpha2', 'openreports.io/v1alpha1'] as const;
export type ReportApi = (typeof REPORT_APIS)[number];

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const SCOPE_LABEL = 'podsec.io/scope';
export const PART_LABEL = 'podsec.io/part';
/** Serialized size a part may reach; the API server's limit is 1.5 MiB per request, etcd's 1 MiB. */
export const DEFAULT_MAX_REPORT_BYTES = 900 * 1024;

export type ReportResultValue = 'pass' | 'fail' | 'skip';

export interface ReportResult {
  source: 'podsec';
  policy: string;
  rule: string;
  category: string;
  severity: 'high' | 'medium' | 'low' | 'info';
  result: ReportResultValue;
  scored: boolean;
  message: string;
  properties?: Record<string, string>;
}

export interface ReportSummary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

export function reportKind(api: ReportApi): string {
  return api === 'openreports.io/v1alpha1' ? 'Report' : 'PolicyReport';
}

function dnsName(text: string): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return cleaned === '' ? 'x' : cleaned;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** `podsec-deployment-web`, shortened with a hash so that parts still fit in 253 characters. */
export function reportBaseName(kind: string, name: string): string {
  const base = `podsec-${dnsName(kind)}-${dnsName(name)}`;
  if (base.length <= 230) return base;
  return `${base.slice(0, 212).replace(/[^a-z0-9]+$/, '')}-${shortHash(`${kind}/${name}`)}`;
}

const SEVERITY: Readonly<Record<ApplicableAssignment['effect'], ReportResult['severity']>> = {
  deny: 'high',
  warn: 'medium',
  audit: 'low',
};

const RESULT_ORDER: Record<ReportResultValue, number> = { fail: 0, skip: 1, pass: 2 };
export const CATEGORY = 'Pod Security Standards';
/** The policy name of the one result a report holds when no assignment applied. */
export const NO_ASSIGNMENT_POLICY = 'none';

interface Bucket {
  readonly assignment: string;
  readonly check: string;
  readonly effect: ApplicableAssignment['effect'];
  readonly counted: AuditViolation[];
  readonly exempted: AuditViolation[];
}

function bucketResult(r: AttributedResult, b: Bucket): ReportResult {
  const counted = b.counted.length > 0;
  const shown = counted ? b.counted : b.exempted;
  const properties: Record<string, string> = {
    paths: shown.map((x) => (r.basePath === '' ? x.path : `${r.basePath}.${x.path}`)).join(', '),
    effect: b.effect,
  };
  const containers = [...new Set(shown.map((x) => x.container).filter((c): c is string => c !== null))];
  if (containers.length > 0) properties['containers'] = containers.join(',');
  const exemption = counted ? null : shown[0]?.exemptedBy;
  if (exemption != null) {
    properties['exemptedBy'] = exemption.assignment;
    properties['exemptionReason'] = exemption.reason;
    if (exemption.expires !== null) properties['exemptionExpires'] = exemption.expires;
  }
  if (shown[0]?.parameter != null) properties['parameter'] = shown[0].parameter;
  return {
    source: 'podsec',
    policy: b.assignment,
    rule: b.check,
    category: CATEGORY,
    severity: SEVERITY[b.effect],
    result: counted ? 'fail' : 'skip',
    scored: counted,
    message: [...new Set(shown.map((x) => x.message))].join('; '),
    properties,
  };
}

/**
 * One result per (applicable assignment, check): `policy` is the assignment's name (a namespace
 * label's assignment is named after its label, `pod-security.kubernetes.io/enforce`), `rule` the
 * check id. fail: a counted violation; skip: all of its violations exempted (or the object exempt);
 * pass: a check of the assignment that this result does not fail at all. A check failed under
 * another assignment only (an exemption or a parameter of this one let it through) and a check
 * that a pod reported apart from this workload fails are neither passed nor failed here: the pod's
 * own report carries that failure.
 */
export function reportResults(r: AttributedResult): ReportResult[] {
  const v = r.verdict;
  const effectOf = new Map(v.applicable.map((a) => [a.name, a.effect]));
  const buckets = new Map<string, Bucket>();
  for (const x of v.violations) {
    for (const e of x.effects) {
      const k = `${e.assignment}\0${x.check}`;
      let b = buckets.get(k);
      if (b === undefined) {
        b = {
          assignment: e.assignment,
          check: x.check,
          effect: effectOf.get(e.assignment) ?? (e.effect === 'disabled' ? 'audit' : e.effect),
          counted: [],
          exempted: [],
        };
        buckets.set(k, b);
      }
      (x.exemptedBy === null ? b.counted : b.exempted).push(x);
    }
  }
  const out: ReportResult[] = [...buckets.values()].map((b) => bucketResult(r, b));
  const failed = new Set(v.violations.map((x) => x.check));
  for (const pod of r.podsApart) for (const x of pod.violations) failed.add(x.check);
  for (const a of v.applicable) {
    for (const check of new Set(a.checks)) {
      if (buckets.has(`${a.name}\0${check}`)) continue;
      if (v.status === 'exempt') {
        out.push({
          source: 'podsec',
          policy: a.name,
          rule: check,
          category: CATEGORY,
          severity: SEVERITY[a.effect],
          result: 'skip',
          scored: false,
          message: v.reason ?? 'exempt',
        });
        continue;
      }
      if (failed.has(check)) continue;
      out.push({
        source: 'podsec',
        policy: a.name,
        rule: check,
        category: CATEGORY,
        severity: SEVERITY[a.effect],
        result: 'pass',
        scored: true,
        message: `${check}: satisfied`,
      });
    }
  }
  if (v.applicable.length === 0 && out.length === 0) {
    out.push({
      source: 'podsec',
      policy: NO_ASSIGNMENT_POLICY,
      rule: 'no-assignment',
      category: CATEGORY,
      severity: 'info',
      result: 'skip',
      scored: false,
      message: v.reason ?? 'no assignment applies',
    });
  }
  return out.sort(
    (a, b) =>
      RESULT_ORDER[a.result] - RESULT_ORDER[b.result] ||
      a.policy.localeCompare(b.policy) ||
      a.rule.localeCompare(b.rule),
  );
}

export function summarize(results: readonly ReportResult[]): ReportSummary {
  const s: ReportSummary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) s[r.result]++;
  return s;
}

export interface BuildOptions {
  readonly api: ReportApi;
  readonly maxBytes?: number;
}

/**
 * Why a result can get no report, or null when it can: a report is namespaced and owned through
 * an ownerReference, which needs the owner's apiVersion and uid.
 */
export function reportBlocker(r: AttributedResult): string | null {
  if (r.namespace === null) return 'cluster-scoped (a PolicyReport lives in a namespace)';
  if (r.apiVersion === null) return 'its owner reference has no apiVersion';
  if (r.uid === null) {
    if (r.basis === 'pods') return `${r.kind} ${r.name} was not seen, so its uid is unknown`;
    return r.origin.file === null
      ? 'no metadata.uid (a manifest in the state directory carries none)'
      : `no metadata.uid (read from ${r.origin.file})`;
  }
  return null;
}

const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v), 'utf8');

/**
 * The reports for one result, in part order: a workload's owned by the workload, a pod's (standalone,
 * or different from its owner's template) owned by the pod. Empty when `reportBlocker` says why.
 * Parts are cut by serialized size in bytes (UTF-8, as the API server and etcd count).
 */
export function buildPolicyReports(r: AttributedResult, opts: BuildOptions): KubeObject[] {
  if (reportBlocker(r) !== null) return [];
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_REPORT_BYTES;
  const base = reportBaseName(r.kind, r.name);
  const scope = { apiVersion: r.apiVersion, kind: r.kind, namespace: r.namespace, name: r.name, uid: r.uid };
  const scopeHash = shortHash(`${r.kind}/${r.namespace}/${r.name}`);
  const make = (part: number, results: ReportResult[]): KubeObject => ({
    apiVersion: opts.api,
    kind: reportKind(opts.api),
    metadata: {
      name: part === 1 ? base : `${base}-${part}`,
      namespace: r.namespace!,
      labels: { [MANAGED_BY_LABEL]: 'podsec', [SCOPE_LABEL]: scopeHash, [PART_LABEL]: String(part) },
      ownerReferences: [
        { apiVersion: r.apiVersion!, kind: r.kind, name: r.name, uid: r.uid!, controller: false },
      ],
    },
    scope,
    summary: summarize(results),
    results,
  });
  const all = reportResults(r);
  // The summary's counts grow by a few digits at most; 64 bytes cover them.
  const emptySize = bytes(make(99_999, [])) + 64;
  const parts: ReportResult[][] = [[]];
  let size = emptySize;
  for (const res of all) {
    const itemSize = bytes(res) + 1;
    const current = parts[parts.length - 1]!;
    if (current.length > 0 && size + itemSize > maxBytes) {
      parts.push([res]);
      size = emptySize + itemSize;
    } else {
      current.push(res);
      size += itemSize;
    }
  }
  return parts.map((results, i) => make(i + 1, results));
}
