/**
 * procMount (baseline, v1.0+; v1.35 relaxes it for user-namespace pods): the default /proc masks reduce the
 * attack surface and are required.
 *
 * Restricted fields: spec.containers[*].securityContext.procMount (and init/ephemeral containers)
 * Allowed values: undefined, "Default"; from v1.35 any value when spec.hostUsers is false
 * (procMount_restricted keeps the strict rule at the restricted level).
 */
import type { Container, ObjectMeta, PodSpec } from '../../../kube/types.js';
import {
  ALLOWED,
  anyContainer,
  containerFinding,
  containerRefs,
  containersPhrase,
  fail,
  isUserNamespacePod,
  joinQuote,
  securityContextOf,
  sortedUnique,
  str,
} from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

function unmasked(c: Container): boolean {
  const value: unknown = securityContextOf(c)?.procMount;
  return value !== undefined && value !== null && value !== 'Default';
}

/** The unconditional rule, shared with procMount_restricted. */
export function procMountStrict(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  if (!anyContainer(spec, unmasked, undefined)) return ALLOWED;
  const names: string[] = [];
  const values: string[] = [];
  const findings: Finding[] = [];
  for (const ref of containerRefs(spec)) {
    if (!unmasked(ref.container)) continue;
    const value = str(securityContextOf(ref.container)?.procMount);
    names.push(ref.name);
    values.push(value);
    findings.push(
      containerFinding(
        ref,
        ['securityContext', 'procMount'],
        `container "${ref.name}" must not set securityContext.procMount to "${value}"`,
      ),
    );
  }
  return fail(
    'procMount',
    `${containersPhrase(names)} must not set securityContext.procMount to ${joinQuote(sortedUnique(values))}`,
    findings,
  );
}

function procMountV1Dot35(meta: ObjectMeta, spec: PodSpec): CheckResult {
  return isUserNamespacePod(spec) ? ALLOWED : procMountStrict(meta, spec);
}

export const procMount: CheckDefinition = {
  id: 'procMount',
  level: 'baseline',
  versions: [
    { minVersion: 0, check: procMountStrict },
    { minVersion: 35, check: procMountV1Dot35 },
  ],
  hint: 'Remove securityContext.procMount (or set it to Default).',
};
