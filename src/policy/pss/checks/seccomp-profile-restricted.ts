/**
 * seccompProfile_restricted (restricted, v1.19+; v1.25 exempts Windows pods; overrides seccompProfile_baseline):
 * a seccomp profile must be set, and only the runtime default or a localhost profile is allowed.
 *
 * Restricted fields: spec.securityContext.seccompProfile.type,
 *   spec.containers[*].securityContext.seccompProfile.type (and init/ephemeral containers)
 * Allowed values: "RuntimeDefault", "Localhost"; a container may leave it unset when the pod level sets a valid
 *   type. From v1.25 pods with spec.os.name "windows" pass.
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
  isWindowsPod,
  securityContextOf,
} from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';
import {
  badSeccompProfile,
  containerSeccompBad,
  explicitSeccompFailure,
  podSeccompProfile,
} from './seccomp-profile-baseline.js';

function unsetOrBad(c: Container): boolean {
  const profile: unknown = securityContextOf(c)?.seccompProfile;
  return !isRecord(profile) || badSeccompProfile(profile);
}

function seccompProfileRestrictedV1Dot19(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const podProfile = podSeccompProfile(spec);
  const podBad = badSeccompProfile(podProfile);
  const podValid = isRecord(podProfile) && !podBad;
  if (podValid) {
    if (!anyContainer(spec, containerSeccompBad, undefined)) return ALLOWED;
  } else if (!podBad && !anyContainer(spec, unsetOrBad, undefined)) {
    return ALLOWED;
  }
  if (podBad || anyContainer(spec, containerSeccompBad, undefined))
    return explicitSeccompFailure(spec, podBad);

  // Nothing set explicitly wrong, but some containers have no profile and the pod sets none either.
  const names: string[] = [];
  const findings: Finding[] = [];
  for (const ref of containerRefs(spec)) {
    if (isRecord(securityContextOf(ref.container)?.seccompProfile)) continue;
    names.push(ref.name);
    findings.push(
      containerFinding(
        ref,
        ['securityContext', 'seccompProfile', 'type'],
        `container "${ref.name}" (or the pod) must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
      ),
    );
  }
  return fail(
    'seccompProfile',
    `pod or ${containersPhrase(names)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
    findings,
  );
}

function seccompProfileRestrictedV1Dot25(meta: ObjectMeta, spec: PodSpec): CheckResult {
  return isWindowsPod(spec) ? ALLOWED : seccompProfileRestrictedV1Dot19(meta, spec);
}

export const seccompProfileRestricted: CheckDefinition = {
  id: 'seccompProfile_restricted',
  level: 'restricted',
  versions: [
    { minVersion: 19, check: seccompProfileRestrictedV1Dot19, overrides: ['seccompProfile_baseline'] },
    { minVersion: 25, check: seccompProfileRestrictedV1Dot25, overrides: ['seccompProfile_baseline'] },
  ],
  hint: 'Set spec.securityContext.seccompProfile.type: RuntimeDefault (or Localhost) at pod level, or on every container.',
};
