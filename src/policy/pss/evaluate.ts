/**
 * Runs a precomputed check list against one pod and renders PSA's denial and warning text. It takes the
 * list rather than a (level, version) so callers (the Azure parameter layer) can pass modified lists.
 */
import type { ObjectMeta, PodSpec } from '../../kube/types.js';
import type { ActiveCheck, CheckFailure } from './types.js';

export interface PodEvaluation {
  readonly allowed: boolean;
  readonly failures: readonly CheckFailure[];
}

/** Shared result for allowed pods, so the passing path allocates nothing. */
const ALLOWED_EVALUATION: PodEvaluation = Object.freeze({ allowed: true, failures: Object.freeze([]) });

export function evaluatePod(checks: readonly ActiveCheck[], meta: ObjectMeta, spec: PodSpec): PodEvaluation {
  let failures: CheckFailure[] | undefined;
  for (let i = 0; i < checks.length; i++) {
    const active = checks[i]!;
    const result = active.check(meta, spec);
    if (result.allowed) continue;
    (failures ??= []).push({
      id: active.id,
      reason: result.reason === '' ? 'unknown forbidden reason' : result.reason,
      detail: result.detail,
      findings: result.findings,
      hint: active.hint,
      parameter: active.parameter,
    });
  }
  return failures === undefined ? ALLOWED_EVALUATION : { allowed: false, failures };
}

/** `reason (detail), reason (detail)`: PSA's aggregate forbidden detail. */
export function formatFailures(failures: readonly CheckFailure[]): string {
  return failures.map((f) => (f.detail === '' ? f.reason : `${f.reason} (${f.detail})`)).join(', ');
}

/** PSA's enforce message: `violates PodSecurity "restricted:latest": privileged (...), ...`. */
export function formatDenial(level: string, versionLabel: string, failures: readonly CheckFailure[]): string {
  return `violates PodSecurity "${level}:${versionLabel}": ${formatFailures(failures)}`;
}

/** PSA's audit/warn message: `would violate PodSecurity "<level>:<version>": ...`. */
export function formatWarning(
  level: string,
  versionLabel: string,
  failures: readonly CheckFailure[],
): string {
  return `would violate PodSecurity "${level}:${versionLabel}": ${formatFailures(failures)}`;
}
