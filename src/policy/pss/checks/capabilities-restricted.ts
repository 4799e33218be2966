/**
 * capabilities_restricted (restricted, v1.22+; v1.25 exempts Windows pods; overrides capabilities_baseline):
 * containers must drop ALL capabilities and may add back only NET_BIND_SERVICE.
 *
 * Restricted fields: spec.containers[*].securityContext.capabilities.drop (and init/ephemeral containers)
 * Allowed values: must include "ALL" (exact, upper case)
 *
 * Restricted fields: spec.containers[*].securityContext.capabilities.add (and init/ephemeral containers)
 * Allowed values: undefined, empty, "NET_BIND_SERVICE"
 * From v1.25 pods with spec.os.name "windows" pass.
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
  joinQuote,
  listOf,
  securityContextOf,
  sortedUnique,
  str,
} from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

function capabilitiesOf(c: Container): Record<string, unknown> | undefined {
  const caps: unknown = securityContextOf(c)?.capabilities;
  return isRecord(caps) ? caps : undefined;
}

function missingDropAll(c: Container): boolean {
  const caps = capabilitiesOf(c);
  return caps === undefined || !listOf(caps['drop']).includes('ALL');
}

function addsForbidden(c: Container): boolean {
  const caps = capabilitiesOf(c);
  if (caps === undefined) return false;
  const add = listOf(caps['add']);
  for (let i = 0; i < add.length; i++) if (add[i] !== 'NET_BIND_SERVICE') return true;
  return false;
}

function violates(c: Container): boolean {
  return missingDropAll(c) || addsForbidden(c);
}

function capabilitiesRestrictedV1Dot22(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  if (!anyContainer(spec, violates, undefined)) return ALLOWED;
  const missing: string[] = [];
  const adding: string[] = [];
  const forbidden: string[] = [];
  const findings: Finding[] = [];
  for (const ref of containerRefs(spec)) {
    if (missingDropAll(ref.container)) {
      missing.push(ref.name);
      findings.push(
        containerFinding(
          ref,
          ['securityContext', 'capabilities', 'drop'],
          `container "${ref.name}" must set securityContext.capabilities.drop=["ALL"]`,
        ),
      );
    }
    if (!addsForbidden(ref.container)) continue;
    adding.push(ref.name);
    listOf(capabilitiesOf(ref.container)?.['add']).forEach((cap, j) => {
      if (cap === 'NET_BIND_SERVICE') return;
      forbidden.push(str(cap));
      findings.push(
        containerFinding(
          ref,
          ['securityContext', 'capabilities', 'add', j],
          `container "${ref.name}" must not add capability ${str(cap)}`,
        ),
      );
    });
  }
  const details: string[] = [];
  if (missing.length > 0) {
    details.push(`${containersPhrase(missing)} must set securityContext.capabilities.drop=["ALL"]`);
  }
  if (adding.length > 0) {
    details.push(
      `${containersPhrase(adding)} must not include ${joinQuote(sortedUnique(forbidden))} in securityContext.capabilities.add`,
    );
  }
  return fail('unrestricted capabilities', details.join('; '), findings);
}

function capabilitiesRestrictedV1Dot25(meta: ObjectMeta, spec: PodSpec): CheckResult {
  return isWindowsPod(spec) ? ALLOWED : capabilitiesRestrictedV1Dot22(meta, spec);
}

export const capabilitiesRestricted: CheckDefinition = {
  id: 'capabilities_restricted',
  level: 'restricted',
  versions: [
    { minVersion: 22, check: capabilitiesRestrictedV1Dot22, overrides: ['capabilities_baseline'] },
    { minVersion: 25, check: capabilitiesRestrictedV1Dot25, overrides: ['capabilities_baseline'] },
  ],
  hint: 'Set securityContext.capabilities.drop: ["ALL"] on every container and add back at most NET_BIND_SERVICE.',
};
