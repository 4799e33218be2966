/**
 * hostNamespaces (baseline, v1.0+): sharing the host's network, PID or IPC namespace must be disallowed.
 *
 * Restricted fields: spec.hostNetwork, spec.hostPID, spec.hostIPC
 * Allowed values: undefined, false
 */
import type { ObjectMeta, PodSpec } from '../../../kube/types.js';
import { ALLOWED, fail, podFinding } from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

const FIELDS = ['hostNetwork', 'hostPID', 'hostIPC'] as const;

function hostNamespacesV1Dot0(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  if (spec.hostNetwork !== true && spec.hostPID !== true && spec.hostIPC !== true) return ALLOWED;
  const set: string[] = [];
  const findings: Finding[] = [];
  for (const field of FIELDS) {
    if (spec[field] !== true) continue;
    set.push(`${field}=true`);
    findings.push(podFinding(['spec', field], `pod must not set ${field}=true`));
  }
  return fail('host namespaces', set.join(', '), findings);
}

export const hostNamespaces: CheckDefinition = {
  id: 'hostNamespaces',
  level: 'baseline',
  versions: [{ minVersion: 0, check: hostNamespacesV1Dot0 }],
  hint: 'Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false).',
};
