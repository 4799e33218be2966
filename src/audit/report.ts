/**
 * The audit's result JSON: the scan's (CONTRACTS.md section 4, schemas/scan-result.schema.json)
 * plus `pods` (how many pods a result stands for) and `owner` (for a pod reported on its own, the
 * workload it differs from). Only fields are added, so scan consumers read audit output unchanged.
 */
import {
  countResult,
  emptySummary,
  type ErrorJson,
  type ResultJson,
  type SummaryJson,
} from '../policy/result-json.js';
import type { AttributedResult } from './attribution.js';
import type { AuditOutcome } from './run.js';

export interface AuditResultJson extends ResultJson {
  pods: number;
  owner: { apiVersion: string | null; kind: string; name: string } | null;
}

export interface AuditSummaryJson extends SummaryJson {
  /** Pods seen, whether counted under an owner or reported on their own. */
  pods: number;
}

export interface AuditReport {
  schemaVersion: 1;
  results: AuditResultJson[];
  errors: ErrorJson[];
  summary: AuditSummaryJson;
}

function joinPath(base: string, rel: string): string {
  if (base === '') return rel;
  return rel.startsWith('[') ? `${base}${rel}` : `${base}.${rel}`;
}

export function toResultJson(r: AttributedResult): AuditResultJson {
  const v = r.verdict;
  return {
    file: r.origin.file,
    line: r.origin.line,
    apiVersion: r.apiVersion,
    kind: r.kind,
    namespace: r.namespace,
    name: r.name,
    allowed: v.allowed,
    status: v.status,
    policy: { level: v.policy.level, version: v.policy.version },
    ...(v.reason === undefined ? {} : { reason: v.reason }),
    violations: v.violations.map((x) => ({
      check: x.check,
      message: x.message,
      container: x.container,
      path: joinPath(r.basePath, x.path),
      line: null,
      column: null,
      hint: x.hint,
      parameter: x.parameter,
      effects: x.effects.map((e) => ({ assignment: e.assignment, effect: e.effect })),
      exemptedBy: x.exemptedBy === null ? null : { ...x.exemptedBy },
    })),
    pods: r.pods,
    owner:
      r.owner === null ? null : { apiVersion: r.owner.apiVersion, kind: r.owner.kind, name: r.owner.name },
  };
}

export function toAuditReport(outcome: AuditOutcome): AuditReport {
  const summary: AuditSummaryJson = { ...emptySummary(), pods: outcome.pods };
  const results = outcome.results.map(toResultJson);
  for (const r of results) countResult(summary, r.status);
  // Objects without a pod template get no result of their own; they are counted here.
  summary.notApplicable += outcome.ignored;
  const errors: ErrorJson[] = outcome.problems.map((p) => ({
    file: p.file,
    line: p.line,
    ...(p.column === undefined ? {} : { column: p.column }),
    message: p.message,
    ...(p.hint === undefined ? {} : { hint: p.hint }),
  }));
  summary.errors = errors.length;
  return { schemaVersion: 1, results, errors, summary };
}
