/**
 * allowPrivilegeEscalation (restricted, v1.8+; v1.25 exempts Windows pods): privilege escalation (set-user-ID or
 * set-group-ID binaries, file capabilities) must be switched off explicitly.
 *
 * Restricted fields: spec.containers[*].securityContext.allowPrivilegeEscalation (and init/ephemeral containers)
 * Allowed values: false (unset fails); from v1.25 pods with spec.os.name "windows" pass
 */
import type { Container, ObjectMeta, PodSpec } from '../../../kube/types.js';
import {
  ALLOWED,
  anyContainer,
  containerFinding,
  containerRefs,
  containersPhrase,
  fail,
  isWindowsPod,
  securityContextOf,
} from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

function mayEscalate(c: Container): boolean {
  return securityContextOf(c)?.allowPrivilegeEscalation !== false;
}

function allowPrivilegeEscalationV1Dot8(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  if (!anyContainer(spec, mayEscalate, undefined)) return ALLOWED;
  const names: string[] = [];
  const findings: Finding[] = [];
  for (const ref of containerRefs(spec)) {
    if (!mayEscalate(ref.container)) continue;
    names.push(ref.name);
    findings.push(
      containerFinding(
        ref,
        ['securityContext', 'allowPrivilegeEscalation'],
        `container "${ref.name}" must set securityContext.allowPrivilegeEscalation=false`,
      ),
    );
  }
  return fail(
    'allowPrivilegeEscalation != false',
    `${containersPhrase(names)} must set securityContext.allowPrivilegeEscalation=false`,
    findings,
  );
}

function allowPrivilegeEscalationV1Dot25(meta: ObjectMeta, spec: PodSpec): CheckResult {
  return isWindowsPod(spec) ? ALLOWED : allowPrivilegeEscalationV1Dot8(meta, spec);
}

export const allowPrivilegeEscalation: CheckDefinition = {
  id: 'allowPrivilegeEscalation',
  level: 'restricted',
  versions: [
    { minVersion: 8, check: allowPrivilegeEscalationV1Dot8 },
    { minVersion: 25, check: allowPrivilegeEscalationV1Dot25 },
  ],
  hint: 'Set securityContext.allowPrivilegeEscalation: false on every container.',
};
