/**
 * privileged (baseline, v1.0+): privileged containers disable most security mechanisms.
 *
 * Restricted fields: spec.containers[*].securityContext.privileged,
 *   spec.initContainers[*].securityContext.privileged, spec.ephemeralContainers[*].securityContext.privileged
 * Allowed values: undefined, false
 */
import type { Container, ObjectMeta, PodSpec } from '../../../kube/types.js';
import {
  ALLOWED,
  anyContainer,
  containerFinding,
  containerRefs,
  containersPhrase,
  fail,
  securityContextOf,
} from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

function isPrivileged(c: Container): boolean {
  return securityContextOf(c)?.privileged === true;
}

function privilegedV1Dot0(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  if (!anyContainer(spec, isPrivileged, undefined)) return ALLOWED;
  const names: string[] = [];
  const findings: Finding[] = [];
  for (const ref of containerRefs(spec)) {
    if (!isPrivileged(ref.container)) continue;
    names.push(ref.name);
    findings.push(
      containerFinding(
        ref,
        ['securityContext', 'privileged'],
        `container "${ref.name}" must not set securityContext.privileged=true`,
      ),
    );
  }
  return fail(
    'privileged',
    `${containersPhrase(names)} must not set securityContext.privileged=true`,
    findings,
  );
}

export const privileged: CheckDefinition = {
  id: 'privileged',
  level: 'baseline',
  versions: [{ minVersion: 0, check: privilegedV1Dot0 }],
  hint: 'Remove securityContext.privileged (or set it to false) on every container.',
};
