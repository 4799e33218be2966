/**
 * windowsHostProcess (baseline, v1.0+): Windows HostProcess containers get privileged access to the host.
 *
 * Restricted fields: spec.securityContext.windowsOptions.hostProcess,
 *   spec.containers[*].securityContext.windowsOptions.hostProcess (and init/ephemeral containers)
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
  isRecord,
  podFinding,
  securityContextOf,
} from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

function hostProcess(sc: unknown): boolean {
  if (!isRecord(sc)) return false;
  const options = sc['windowsOptions'];
  return isRecord(options) && options['hostProcess'] === true;
}

function containerHostProcess(c: Container): boolean {
  return hostProcess(securityContextOf(c));
}

function windowsHostProcessV1Dot0(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const podBad = hostProcess(spec.securityContext);
  if (!podBad && !anyContainer(spec, containerHostProcess, undefined)) return ALLOWED;
  const setters: string[] = [];
  const findings: Finding[] = [];
  if (podBad) {
    setters.push('pod');
    findings.push(
      podFinding(
        ['spec', 'securityContext', 'windowsOptions', 'hostProcess'],
        'pod must not set securityContext.windowsOptions.hostProcess=true',
      ),
    );
  }
  const names: string[] = [];
  for (const ref of containerRefs(spec)) {
    if (!containerHostProcess(ref.container)) continue;
    names.push(ref.name);
    findings.push(
      containerFinding(
        ref,
        ['securityContext', 'windowsOptions', 'hostProcess'],
        `container "${ref.name}" must not set securityContext.windowsOptions.hostProcess=true`,
      ),
    );
  }
  if (names.length > 0) setters.push(containersPhrase(names));
  return fail(
    'hostProcess',
    `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`,
    findings,
  );
}

export const windowsHostProcess: CheckDefinition = {
  id: 'windowsHostProcess',
  level: 'baseline',
  versions: [{ minVersion: 0, check: windowsHostProcessV1Dot0 }],
  hint: 'Remove securityContext.windowsOptions.hostProcess (or set it to false) on the pod and its containers.',
};
