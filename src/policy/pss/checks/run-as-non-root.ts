/**
 * runAsNonRoot (restricted, v1.0+; v1.35 exempts user-namespace pods): containers must be required to run as
 * non-root users. A non-zero runAsUser does not satisfy it.
 *
 * Restricted fields: spec.securityContext.runAsNonRoot, spec.containers[*].securityContext.runAsNonRoot
 *   (and init/ephemeral containers)
 * Allowed values: true; unset on a container when the pod level is true. An explicit false anywhere fails.
 *   From v1.35 any value when spec.hostUsers is false.
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

function podValue(spec: PodSpec): unknown {
  const sc: unknown = spec.securityContext;
  return isRecord(sc) ? sc['runAsNonRoot'] : undefined;
}

function explicitlyFalse(c: Container): boolean {
  return securityContextOf(c)?.runAsNonRoot === false;
}

/** Neither true nor false on the container (a non-boolean counts as unset, as a decoder would drop it). */
function unset(c: Container): boolean {
  const v: unknown = securityContextOf(c)?.runAsNonRoot;
  return v !== true && v !== false;
}

function runAsNonRootV1Dot0(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const pod = podValue(spec);
  const podFalse = pod === false;
  const podTrue = pod === true;
  if (
    !podFalse &&
    !anyContainer(spec, explicitlyFalse, undefined) &&
    (podTrue || !anyContainer(spec, unset, undefined))
  ) {
    return ALLOWED;
  }

  const findings: Finding[] = [];
  const setters: string[] = [];
  if (podFalse) {
    setters.push('pod');
    findings.push(
      podFinding(
        ['spec', 'securityContext', 'runAsNonRoot'],
        'pod must not set securityContext.runAsNonRoot=false',
      ),
    );
  }
  const refs = containerRefs(spec);
  const explicit = refs.filter((ref) => explicitlyFalse(ref.container));
  if (explicit.length > 0) setters.push(containersPhrase(explicit.map((ref) => ref.name)));
  for (const ref of explicit) {
    findings.push(
      containerFinding(
        ref,
        ['securityContext', 'runAsNonRoot'],
        `container "${ref.name}" must not set securityContext.runAsNonRoot=false`,
      ),
    );
  }
  if (setters.length > 0) {
    return fail(
      'runAsNonRoot != true',
      `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false`,
      findings,
    );
  }

  const implicit = refs.filter((ref) => unset(ref.container));
  for (const ref of implicit) {
    findings.push(
      containerFinding(
        ref,
        ['securityContext', 'runAsNonRoot'],
        `container "${ref.name}" (or the pod) must set securityContext.runAsNonRoot=true`,
      ),
    );
  }
  return fail(
    'runAsNonRoot != true',
    `pod or ${containersPhrase(implicit.map((ref) => ref.name))} must set securityContext.runAsNonRoot=true`,
    findings,
  );
}

function runAsNonRootV1Dot35(meta: ObjectMeta, spec: PodSpec): CheckResult {
  return isUserNamespacePod(spec) ? ALLOWED : runAsNonRootV1Dot0(meta, spec);
}

export const runAsNonRoot: CheckDefinition = {
  id: 'runAsNonRoot',
  level: 'restricted',
  versions: [
    { minVersion: 0, check: runAsNonRootV1Dot0 },
    { minVersion: 35, check: runAsNonRootV1Dot35 },
  ],
  hint: 'Set spec.securityContext.runAsNonRoot: true (and never false on a container); the image must use a non-root UID.',
};
