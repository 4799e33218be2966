/**
 * hostProbesAndHostLifecycle (baseline, v1.34+): probes and lifecycle handlers must not target another host.
 *
 * Restricted fields (containers, initContainers, ephemeralContainers):
 *   livenessProbe / readinessProbe / startupProbe .httpGet.host and .tcpSocket.host
 *   lifecycle.postStart / lifecycle.preStop .httpGet.host and .tcpSocket.host
 * Allowed values: undefined, ""
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
  joinQuote,
  pluralize,
  sortedUnique,
  str,
} from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const HOOKS = ['postStart', 'preStop'] as const;
const ACTIONS = ['httpGet', 'tcpSocket'] as const;

function hostOf(handler: unknown, action: (typeof ACTIONS)[number]): unknown {
  if (!isRecord(handler)) return undefined;
  const target = handler[action];
  if (!isRecord(target)) return undefined;
  const host = target['host'];
  return host === undefined || host === null || host === '' ? undefined : host;
}

function handlerHasHost(handler: unknown): boolean {
  return hostOf(handler, 'httpGet') !== undefined || hostOf(handler, 'tcpSocket') !== undefined;
}

function usesHost(c: Container): boolean {
  if (handlerHasHost(c.livenessProbe) || handlerHasHost(c.readinessProbe) || handlerHasHost(c.startupProbe)) {
    return true;
  }
  const lifecycle: unknown = c.lifecycle;
  return (
    isRecord(lifecycle) && (handlerHasHost(lifecycle['postStart']) || handlerHasHost(lifecycle['preStop']))
  );
}

function hostProbesAndHostLifecycleV1Dot34(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  if (!anyContainer(spec, usesHost, undefined)) return ALLOWED;
  const names: string[] = [];
  const hosts: string[] = [];
  const findings: Finding[] = [];
  for (const ref of containerRefs(spec)) {
    const c = ref.container;
    const lifecycle: unknown = c.lifecycle;
    const handlers: [string[], unknown][] = [
      ...PROBES.map((p): [string[], unknown] => [[p], c[p]]),
      ...HOOKS.map((h): [string[], unknown] => [
        ['lifecycle', h],
        isRecord(lifecycle) ? lifecycle[h] : undefined,
      ]),
    ];
    for (const [path, handler] of handlers) {
      for (const action of ACTIONS) {
        const host = hostOf(handler, action);
        if (host === undefined) continue;
        names.push(ref.name);
        hosts.push(str(host));
        findings.push(
          containerFinding(
            ref,
            [...path, action, 'host'],
            `container "${ref.name}" must not set ${path.join('.')}.${action}.host (${str(host)})`,
          ),
        );
      }
    }
  }
  // Upstream collects both into sets, so containers and hosts are listed sorted and once each.
  const badContainers = sortedUnique(names);
  const badHosts = sortedUnique(hosts);
  return fail(
    'probe or lifecycle host',
    `${containersPhrase(badContainers)} ${pluralize('uses', 'use', badContainers.length)} ${pluralize('probe or lifecycle host', 'probe or lifecycle hosts', badHosts.length)} ${joinQuote(badHosts)}`,
    findings,
  );
}

export const hostProbesAndHostLifecycle: CheckDefinition = {
  id: 'hostProbesAndHostLifecycle',
  level: 'baseline',
  versions: [{ minVersion: 34, check: hostProbesAndHostLifecycleV1Dot34 }],
  hint: 'Remove the host field from httpGet/tcpSocket probes and lifecycle handlers; they then target the pod itself.',
};
