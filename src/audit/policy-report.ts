/**
 * PolicyReports (wgpolicyk8s.io/v1alpha2, or openreports.io/v1alpha1 Report) built from audit
 * results: one report per owning workload, in its namespace, owned by it (controller: false, so
 * the garbage collector removes the report with the workload but no controller fights over it).
 * Results are one per check: fail for a counted violation, skip for an exempted one, pass for the
 * other checks of the strictest applicable assignment.
 *
 * Reports are built deterministically (sorted, no timestamps), so an unchanged cluster produces
 * byte-identical reports and the writer can skip the write. A report that would near the 1 MiB
 * object limit of etcd is split into numbered parts (Gatekeeper's capped, non-deterministic
 * violation lists are the complaint this answers).
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../kube/types.js';
import type { AttributedResult } from './attribution.js';
import type { AuditViolation } from './verdict.js';

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

function severityOf(v: AuditViolation): ReportResult['severity'] {
  const effects = v.effects.map((e) => e.effect);
  if (effects.includes('deny')) return 'high';
  if (effects.includes('warn')) return 'medium';
  if (effects.includes('audit')) return 'low';
  return 'info';
}

const RESULT_ORDER: Record<ReportResultValue, number> = { fail: 0, skip: 1, pass: 2 };

/** One result per check: violations of a check are merged into one fail (or skip when all exempted). */
export function reportResults(r: AttributedResult, passChecks: readonly string[]): ReportResult[] {
  const v = r.verdict;
  const policyName = `${v.policy.level}:${v.policy.version}`;
  const byCheck = new Map<string, AuditViolation[]>();
  for (const x of v.violations) {
    const list = byCheck.get(x.check);
    if (list === undefined) byCheck.set(x.check, [x]);
    else list.push(x);
  }
  const out: ReportResult[] = [];
  for (const [check, list] of byCheck) {
    const counted = list.filter((x) => x.exemptedBy === null);
    const shown = counted.length > 0 ? counted : list;
    const assignments = [...new Set(shown.flatMap((x) => x.effects.map((e) => e.assignment)))].sort();
    const effects = [...new Set(shown.flatMap((x) => x.effects.map((e) => e.effect)))].sort();
    const properties: Record<string, string> = {
      paths: shown.map((x) => (r.basePath === '' ? x.path : `${r.basePath}.${x.path}`)).join(', '),
      effects: effects.join(','),
    };
    const containers = [...new Set(shown.map((x) => x.container).filter((c): c is string => c !== null))];
    if (containers.length > 0) properties['containers'] = containers.join(',');
    const exemption = counted.length === 0 ? list[0]?.exemptedBy : null;
    if (exemption != null) {
      properties['exemptedBy'] = exemption.assignment;
      properties['exemptionReason'] = exemption.reason;
      if (exemption.expires !== null) properties['exemptionExpires'] = exemption.expires;
    }
    if (shown[0]?.parameter != null) properties['parameter'] = shown[0].parameter;
    out.push({
      source: 'podsec',
      policy: assignments.length > 0 ? assignments.join(',') : policyName,
      rule: check,
      category: 'Pod Security Standards',
      severity: counted.length > 0 ? severityOf(counted[0]!) : 'info',
      result: counted.length > 0 ? 'fail' : 'skip',
      scored: counted.length > 0,
      message: [...new Set(shown.map((x) => x.message))].join('; '),
      properties,
    });
  }
  if (v.status !== 'exempt') {
    for (const check of new Set(passChecks)) {
      if (byCheck.has(check)) continue;
      out.push({
        source: 'podsec',
        policy: policyName,
        rule: check,
        category: 'Pod Security Standards',
        severity: 'info',
        result: 'pass',
        scored: true,
        message: `${check}: satisfied`,
      });
    }
  } else {
    out.push({
      source: 'podsec',
      policy: policyName,
      rule: 'exempt',
      category: 'Pod Security Standards',
      severity: 'info',
      result: 'skip',
      scored: false,
      message: v.reason ?? 'exempt',
    });
  }
  return out.sort(
    (a, b) =>
      RESULT_ORDER[a.result] - RESULT_ORDER[b.result] ||
      a.rule.localeCompare(b.rule) ||
      a.policy.localeCompare(b.policy),
  );
}

export function summarize(results: readonly ReportResult[]): ReportSummary {
  const s: ReportSummary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) s[r.result]++;
  return s;
}

export interface BuildOptions {
  readonly api: ReportApi;
  /** Check ids that pass unless violated, for the strictest applicable policy of a result. */
  readonly passChecks: (r: AttributedResult) => readonly string[];
  readonly maxBytes?: number;
}

/**
 * The reports for one result, in part order. Only results for real objects with a uid (a seen
 * workload or standalone pod from the cluster) get reports: an ownerReference needs the uid.
 */
export function buildPolicyReports(r: AttributedResult, opts: BuildOptions): KubeObject[] {
  if (r.uid === null || r.namespace === null || r.apiVersion === null) return [];
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
  const all = reportResults(r, opts.passChecks(r));
  const emptySize = JSON.stringify(make(99_999, [])).length;
  const parts: ReportResult[][] = [[]];
  let size = emptySize;
  for (const res of all) {
    const itemSize = JSON.stringify(res).length + 1;
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
