/**
 * A verdict is an engine evaluation with its violation paths made relative to the pod
 * (`spec.containers[0]...`), so a pod and its owner's template can be compared, and one verdict
 * object can be shared by every pod that was judged the same (memory stays flat on big clusters).
 */
import type {
  AppliedEffect,
  CompiledAssignment,
  Effect,
  ExemptedBy,
  ObjectEvaluation,
  PolicyInfo,
  ResultStatus,
} from '../policy/index.js';
import { formatPath, type PathSegment } from '../lib/path.js';

export interface AuditViolation {
  readonly check: string;
  readonly message: string;
  readonly container: string | null;
  /** Relative to the pod-shaped object: `spec.containers[0].securityContext.privileged`. */
  readonly path: string;
  readonly hint: string;
  readonly parameter: string | null;
  readonly effects: readonly AppliedEffect[];
  readonly exemptedBy: ExemptedBy | null;
}

/** An assignment whose scope took the object in: its name, effect and the ids of its checks. */
export interface ApplicableAssignment {
  readonly name: string;
  readonly effect: Exclude<Effect, 'disabled'>;
  readonly info: PolicyInfo;
  readonly checks: readonly string[];
}

export interface Verdict {
  readonly status: ResultStatus;
  readonly allowed: boolean;
  readonly policy: PolicyInfo;
  readonly reason?: string;
  readonly violations: readonly AuditViolation[];
  /** The assignments that applied, in evaluation order (shared lists: see VerdictPool.applicable). */
  readonly applicable: readonly ApplicableAssignment[];
  /** Equal exactly when two verdicts judge the same things the same way. */
  readonly fingerprint: string;
}

function relative(path: readonly PathSegment[], base: readonly PathSegment[]): PathSegment[] {
  for (let i = 0; i < base.length; i++) if (path[i] !== base[i]) return [...path];
  return path.slice(base.length);
}

function fingerprintOf(v: Omit<Verdict, 'fingerprint'>): string {
  const parts = v.violations
    .map((x) =>
      JSON.stringify([
        x.check,
        x.container,
        x.path,
        x.message,
        x.parameter,
        x.effects.map((e) => `${e.assignment}=${e.effect}`),
        x.exemptedBy?.assignment ?? null,
      ]),
    )
    .sort();
  const applied = v.applicable.map((a) => `${a.name}=${a.effect}:${a.info.level}:${a.info.version}`);
  return JSON.stringify([v.status, v.policy.level, v.policy.version, v.reason ?? null, applied, parts]);
}

/** Builds a verdict from an evaluation of an object whose pod sits at `basePath`. */
export function toVerdict(
  evaluation: ObjectEvaluation,
  basePath: readonly PathSegment[],
  applicable: readonly ApplicableAssignment[] = [],
  reason: string | undefined = evaluation.reason,
): Verdict {
  const violations: AuditViolation[] = evaluation.violations.map((v) => ({
    check: v.check,
    message: v.message,
    container: v.container,
    path: formatPath(relative(v.path, basePath)),
    hint: v.hint,
    parameter: v.parameter,
    effects: v.effects,
    exemptedBy: v.exemptedBy,
  }));
  const base = {
    status: evaluation.status,
    allowed: evaluation.allowed,
    policy: evaluation.policy,
    ...(reason === undefined ? {} : { reason }),
    violations,
    applicable,
  };
  return { ...base, fingerprint: fingerprintOf(base) };
}

/** Interns verdicts by fingerprint: 50,000 identical pods share one object. */
export class VerdictPool {
  private readonly pool = new Map<string, Verdict>();
  private readonly lists = new Map<string, readonly ApplicableAssignment[]>();
  private readonly checkIds = new WeakMap<object, readonly string[]>();

  /** One shared list per set of applicable assignments (a handful per cluster). */
  applicable(assignments: readonly CompiledAssignment[]): readonly ApplicableAssignment[] {
    const key = assignments
      .map((a) => `${a.name}\0${a.effect}\0${a.info.level}:${a.info.version}`)
      .join('\n');
    const known = this.lists.get(key);
    if (known !== undefined) return known;
    const list = Object.freeze(
      assignments.map((a) => {
        let ids = this.checkIds.get(a.checks);
        if (ids === undefined) this.checkIds.set(a.checks, (ids = Object.freeze(a.checks.map((c) => c.id))));
        return Object.freeze({ name: a.name, effect: a.effect, info: a.info, checks: ids });
      }),
    );
    this.lists.set(key, list);
    return list;
  }

  intern(v: Verdict): Verdict {
    const known = this.pool.get(v.fingerprint);
    if (known !== undefined) return known;
    this.pool.set(v.fingerprint, v);
    return v;
  }
  get size(): number {
    return this.pool.size;
  }
}

export type { ResultStatus };
