/**
 * hostPorts (baseline, v1.0+): host ports must be forbidden (PSA does not support the "known list"
 * the standard mentions).
 *
 * Restricted fields: spec.containers[*].ports[*].hostPort (and init/ephemeral containers)
 * Allowed values: undefined, 0
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
  listOf,
  pluralize,
  sortedUnique,
  str,
} from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

function hostPortOf(port: unknown): unknown {
  if (!isRecord(port)) return undefined;
  const hp = port['hostPort'];
  return hp === null || hp === 0 ? undefined : hp;
}

function usesHostPort(c: Container): boolean {
  const ports = listOf(c.ports);
  for (let i = 0; i < ports.length; i++) if (hostPortOf(ports[i]) !== undefined) return true;
  return false;
}

function hostPortsV1Dot0(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  if (!anyContainer(spec, usesHostPort, undefined)) return ALLOWED;
  const names: string[] = [];
  const ports: string[] = [];
  const findings: Finding[] = [];
  for (const ref of containerRefs(spec)) {
    let found = false;
    listOf(ref.container.ports).forEach((port, j) => {
      const hp = hostPortOf(port);
      if (hp === undefined) return;
      found = true;
      ports.push(str(hp));
      findings.push(
        containerFinding(ref, ['ports', j, 'hostPort'], `container "${ref.name}" uses hostPort ${str(hp)}`),
      );
    });
    if (found) names.push(ref.name);
  }
  const unique = sortedUnique(ports);
  return fail(
    'hostPort',
    `${containersPhrase(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('hostPort', 'hostPorts', unique.length)} ${unique.join(', ')}`,
    findings,
  );
}

export const hostPorts: CheckDefinition = {
  id: 'hostPorts',
  level: 'baseline',
  versions: [{ minVersion: 0, check: hostPortsV1Dot0 }],
  hint: 'Remove ports[*].hostPort (or set it to 0); expose the port with a Service instead.',
};
