/**
 * runAsUser (restricted, v1.23+; v1.35 exempts user-namespace pods): containers must not run as UID 0.
 *
 * Restricted fields: spec.securityContext.runAsUser, spec.containers[*].securityContext.runAsUser
 *   (and init/ephemeral containers)
 * Allowed values: any non-zero value, undefined; from v1.35 any value when spec.hostUsers is false
 */
import type { Container, ObjectMeta, PodSpec } from '../../../kube/types.js';
import {
  ALLOWED,
  anyContainer,
  containerFinding,
  containerRefs,
  containersPhrase,
  fail,
  isRecord,
  isUserNamespacePod,
  podFinding,
  securityContextOf,
} from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

function runsAsRoot(c: Container): boolean {
  return securityContextOf(c)?.runAsUser === 0;
}

function runAsUserV1Dot23(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const sc: unknown = spec.securityContext;
  const podRoot = isRecord(sc) && sc['runAsUser'] === 0;
  if (!podRoot && !anyContainer(spec, runsAsRoot, undefined)) return ALLOWED;
  const setters: string[] = [];
  const findings: Finding[] = [];
  if (podRoot) {
    setters.push('pod');
    findings.push(podFinding(['spec', 'securityContext', 'runAsUser'], 'pod must not set runAsUser=0'));
  }
  const names: string[] = [];
  for (const ref of containerRefs(spec)) {
    if (!runsAsRoot(ref.container)) continue;
    names.push(ref.name);
    findings.push(
      containerFinding(
        ref,
        ['securityContext', 'runAsUser'],
        `container "${ref.name}" must not set runAsUser=0`,
      ),
    );
  }
  if (names.length > 0) setters.push(containersPhrase(names));
  return fail('runAsUser=0', `${setters.join(' and ')} must not set runAsUser=0`, findings);
}

function runAsUserV1Dot35(meta: ObjectMeta, spec: PodSpec): CheckResult {
  return isUserNamespacePod(spec) ? ALLOWED : runAsUserV1Dot23(meta, spec);
}

export const runAsUser: CheckDefinition = {
  id: 'runAsUser',
  level: 'restricted',
  versions: [
    { minVersion: 23, check: runAsUserV1Dot23 },
    { minVersion: 35, check: runAsUserV1Dot35 },
  ],
  hint: 'Remove runAsUser: 0 from the pod and its containers; run as a non-zero UID.',
};
