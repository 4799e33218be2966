/**
 * The result JSON of CONTRACTS.md section 4, shared by `podsec scan` and `podsec audit` (so it lives in policy, below both).
 * Users' scripts parse this: fields are only ever added, never renamed; schemaVersion bumps otherwise.
 * The committed schema is schemas/scan-result.schema.json.
 */
import type { Effect, ResultStatus } from './engine.js';

export interface ViolationJson {
  check: string;
  /** The check's forbidden reason as Pod Security Admission words it (`host namespaces`). */
  reason?: string;
  message: string;
  container: string | null;
  path: string;
  line: number | null;
  column: number | null;
  hint: string;
  parameter: string | null;
  effects: { assignment: string; effect: Effect }[];
  exemptedBy: { assignment: string; reason: string; expires: string | null } | null;
}

export interface ResultJson {
  file: string | null;
  line: number | null;
  apiVersion: string | null;
  kind: string | null;
  namespace: string | null;
  name: string | null;
  allowed: boolean;
  status: ResultStatus;
  policy: { level: string; version: string };
  reason?: string;
  /** Per assignment with counted violations: the text Pod Security Admission would show (`violates PodSecurity ...`). */
  messages?: { assignment: string; effect: Effect; text: string }[];
  violations: ViolationJson[];
}

export interface ErrorJson {
  file: string | null;
  line: number | null;
  column?: number | null;
  message: string;
  hint?: string;
}

export interface SummaryJson {
  documents: number;
  allowed: number;
  denied: number;
  warned: number;
  audited: number;
  notApplicable: number;
  exempt: number;
  skipped: number;
  errors: number;
}

export interface ScanReport {
  schemaVersion: 1;
  results: ResultJson[];
  errors: ErrorJson[];
  summary: SummaryJson;
}

export function emptySummary(): SummaryJson {
  return {
    documents: 0,
    allowed: 0,
    denied: 0,
    warned: 0,
    audited: 0,
    notApplicable: 0,
    exempt: 0,
    skipped: 0,
    errors: 0,
  };
}

/** Adds one result to the summary; every result is one document counted once. */
export function countResult(summary: SummaryJson, status: ResultStatus): void {
  summary.documents++;
  switch (status) {
    case 'allowed':
      summary.allowed++;
      break;
    case 'denied':
      summary.denied++;
      break;
    case 'warned':
      summary.warned++;
      break;
    case 'audited':
      summary.audited++;
      break;
    case 'notApplicable':
      summary.notApplicable++;
      break;
    case 'exempt':
      summary.exempt++;
      break;
  }
}
