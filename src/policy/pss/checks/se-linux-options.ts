/**
 * seLinuxOptions (baseline, v1.0+; v1.31 adds container_engine_t): the SELinux type is limited, and a custom
 * SELinux user or role is forbidden.
 *
 * Restricted fields: spec.securityContext.seLinuxOptions.type, spec.containers[*].securityContext.seLinuxOptions.type
 *   (and init/ephemeral containers)
 * Allowed values: undefined, "", container_t, container_init_t, container_kvm_t (+ container_engine_t from v1.31)
 *
 * Restricted fields: the same objects' .user and .role
 * Allowed values: undefined, ""
 * (.level is not constrained.)
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
  podFinding,
  securityContextOf,
  sortedUnique,
  str,
} from '../check-helpers.js';
import type { CheckDefinition, CheckFn, CheckResult, Finding } from '../types.js';
import type { FieldPath } from '../../../lib/path.js';

const TYPES_V1_0: ReadonlySet<string> = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
const TYPES_V1_31: ReadonlySet<string> = new Set([...TYPES_V1_0, 'container_engine_t']);

function nonEmpty(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function invalid(options: unknown, types: ReadonlySet<string>): boolean {
  if (!isRecord(options)) return false;
  return !types.has(str(options['type'])) || nonEmpty(options['user']) || nonEmpty(options['role']);
}

function containerInvalid(c: Container, types: ReadonlySet<string>): boolean {
  return invalid(securityContextOf(c)?.seLinuxOptions, types);
}

function podOptions(spec: PodSpec): unknown {
  const sc: unknown = spec.securityContext;
  return isRecord(sc) ? sc['seLinuxOptions'] : undefined;
}

function seLinuxOptionsFor(types: ReadonlySet<string>): CheckFn {
  return (_meta: ObjectMeta, spec: PodSpec): CheckResult => {
    const podBad = invalid(podOptions(spec), types);
    if (!podBad && !anyContainer(spec, containerInvalid, types)) return ALLOWED;

    const badTypes: string[] = [];
    let setUser = false;
    let setRole = false;
    const findings: Finding[] = [];
    const inspect = (
      options: Record<string, unknown>,
      base: FieldPath,
      who: string,
      push: (f: Finding) => void,
    ) => {
      const type = str(options['type']);
      if (!types.has(type)) {
        badTypes.push(type);
        push(podFinding([...base, 'type'], `${who} must not set seLinuxOptions.type to "${type}"`));
      }
      if (nonEmpty(options['user'])) {
        setUser = true;
        push(podFinding([...base, 'user'], `${who} must not set seLinuxOptions.user`));
      }
      if (nonEmpty(options['role'])) {
        setRole = true;
        push(podFinding([...base, 'role'], `${who} must not set seLinuxOptions.role`));
      }
    };

    const setters: string[] = [];
    if (podBad) {
      setters.push('pod');
      inspect(
        podOptions(spec) as Record<string, unknown>,
        ['spec', 'securityContext', 'seLinuxOptions'],
        'pod',
        (f) => findings.push(f),
      );
    }
    const names: string[] = [];
    for (const ref of containerRefs(spec)) {
      const options = securityContextOf(ref.container)?.seLinuxOptions;
      if (!invalid(options, types)) continue;
      names.push(ref.name);
      inspect(
        options as Record<string, unknown>,
        ['securityContext', 'seLinuxOptions'],
        `container "${ref.name}"`,
        (f) => findings.push(containerFinding(ref, f.path, f.message)),
      );
    }
    if (names.length > 0) setters.push(containersPhrase(names));

    const data: string[] = [];
    const unique = sortedUnique(badTypes);
    if (unique.length > 0) data.push(`${pluralize('type', 'types', unique.length)} ${joinQuote(unique)}`);
    if (setUser) data.push('user may not be set');
    if (setRole) data.push('role may not be set');
    return fail(
      'seLinuxOptions',
      `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}`,
      findings,
    );
  };
}

export const seLinuxOptions: CheckDefinition = {
  id: 'seLinuxOptions',
  level: 'baseline',
  versions: [
    { minVersion: 0, check: seLinuxOptionsFor(TYPES_V1_0) },
    { minVersion: 31, check: seLinuxOptionsFor(TYPES_V1_31) },
  ],
  hint: 'Leave seLinuxOptions.user and .role empty and use a container_* SELinux type (or none).',
};
