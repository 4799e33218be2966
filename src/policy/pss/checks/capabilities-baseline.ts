/**
 * capabilities_baseline (baseline, v1.0+): adding NET_RAW or capabilities beyond the default set is disallowed.
 *
 * Restricted fields: spec.containers[*].securityContext.capabilities.add (and init/ephemeral containers)
 * Allowed values: undefined, empty, or names from AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
 *   MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT (exact, upper case, no CAP_ prefix)
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
  listOf,
  securityContextOf,
  sortedUnique,
  str,
} from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

const ALLOWED_V1_0: ReadonlySet<unknown> = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

function addedList(c: Container): readonly unknown[] {
  const caps: unknown = securityContextOf(c)?.capabilities;
  return isRecord(caps) ? listOf(caps['add']) : listOf(undefined);
}

function addsNonDefault(c: Container): boolean {
  const add = addedList(c);
  for (let i = 0; i < add.length; i++) if (!ALLOWED_V1_0.has(add[i])) return true;
  return false;
}

function capabilitiesBaselineV1Dot0(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  if (!anyContainer(spec, addsNonDefault, undefined)) return ALLOWED;
  const names: string[] = [];
  const bad: string[] = [];
  const findings: Finding[] = [];
  for (const ref of containerRefs(spec)) {
    const add = addedList(ref.container);
    let found = false;
    add.forEach((cap, j) => {
      if (ALLOWED_V1_0.has(cap)) return;
      found = true;
      bad.push(str(cap));
      findings.push(
        containerFinding(
          ref,
          ['securityContext', 'capabilities', 'add', j],
          `container "${ref.name}" must not add capability ${str(cap)}`,
        ),
      );
    });
    if (found) names.push(ref.name);
  }
  return fail(
    'non-default capabilities',
    `${containersPhrase(names)} must not include ${joinQuote(sortedUnique(bad))} in securityContext.capabilities.add`,
    findings,
  );
}

export const capabilitiesBaseline: CheckDefinition = {
  id: 'capabilities_baseline',
  level: 'baseline',
  versions: [{ minVersion: 0, check: capabilitiesBaselineV1Dot0 }],
  hint: 'Add only capabilities from the default set (never NET_RAW, SYS_ADMIN, ...) in securityContext.capabilities.add.',
};
