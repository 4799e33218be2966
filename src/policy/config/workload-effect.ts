/**
 * How `workloads` relates to `effect`. A workload answer stricter than the pods' own would be
 * incoherent: `workloads: deny` on an `effect: audit` assignment refuses a Deployment whose
 * pods that same assignment only audits. The loader rejects such explicit values, and the
 * default (`warn`) is capped at the effect, so an audit assignment audits its workloads too.
 */
import { DEFAULT_WORKLOADS } from './types.js';
import type { Effect, WorkloadEffect } from './types.js';

/** Strictness of an answer: deny > warn > audit. */
const RANK: Readonly<Record<WorkloadEffect, number>> = { audit: 0, warn: 1, deny: 2 };

/** The `workloads` an assignment gets when it says none: `warn`, or its effect when milder. */
export function defaultWorkloadsFor(effect: Effect): WorkloadEffect {
  if (effect === 'disabled') return DEFAULT_WORKLOADS;
  return RANK[effect] < RANK[DEFAULT_WORKLOADS] ? effect : DEFAULT_WORKLOADS;
}

/**
 * Why `workloads` cannot go with `effect`, or null when it can. A disabled assignment is not
 * evaluated, so any `workloads` goes with it (the loader warns that it is ignored).
 */
export function workloadsConflict(workloads: WorkloadEffect, effect: Effect): string | null {
  if (effect === 'disabled' || RANK[workloads] <= RANK[effect]) return null;
  const consequence =
    workloads === 'deny'
      ? 'a Deployment would be refused although its pods are admitted'
      : 'a Deployment would get warnings although its pods are only audited';
  return (
    `workloads: ${workloads} is stricter than effect: ${effect}: ${consequence}; ` +
    `use effect: ${workloads} or workloads: ${effect}`
  );
}
