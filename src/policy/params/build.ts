/**
 * Turns an initiative and its parameters into the check list an assignment runs. Built once per
 * assignment (never per pod). PSA-exact initiatives without parameters return the upstream list
 * untouched; a parameter replaces the check it maps to (keeping the upstream id, tagged with the
 * parameter) or adds a check of its own name. The azure-* initiatives are assembled from Azure
 * Policy's member definitions and their initiative values, which the user's parameters override.
 */
import type { ObjectMeta, PodSpec } from '../../kube/types.js';
import { ALLOWED, isWindowsPod } from '../pss/check-helpers.js';
import type { ActiveCheck, CheckFn } from '../pss/types.js';
import { addRule, capabilitiesCheck } from './capability-checks.js';
import type { AddRule, DropRule } from './capability-checks.js';
import {
  hostNamespacesCheck,
  hostPathVolumesCheck,
  hostPortsCheck,
  privilegedCheck,
  restrictedVolumesCheck,
} from './host-checks.js';
import {
  allowPrivilegeEscalationCheck,
  fsGroupCheck,
  readOnlyRootFilesystemCheck,
  runAsGroupCheck,
  runAsUserRuleCheck,
  supplementalGroupsCheck,
} from './identity-checks.js';
import { initiativeDefaults } from './parameters.js';
import { parseParameters } from './parse.js';
import { appArmorCheck, procMountCheck, seccompCheck, seLinuxCheck, sysctlsCheck } from './profile-checks.js';
import type { InitiativeName, ParameterName, ParsedParameters } from './types.js';

type Level = 'baseline' | 'restricted';

/** Fix hints for the checks podsec adds or rebuilds; upstream hints are kept where an upstream check exists. */
const HINTS: Readonly<Record<string, string>> = {
  privileged: 'Remove securityContext.privileged or set it to false.',
  hostNamespaces: 'Remove hostNetwork, hostPID and hostIPC (or set them to false).',
  hostPorts: 'Remove ports[].hostPort or use a port listed in allowedHostPorts.',
  capabilities_baseline: 'Add only the capabilities listed in allowedCapabilities.',
  capabilities_restricted:
    'Drop ALL capabilities (securityContext.capabilities.drop: ["ALL"]) and add only allowed ones.',
  hostPathVolumes:
    'Use a hostPath under an allowedHostPaths prefix (read-only where required), or another volume type.',
  restrictedVolumes: 'Use only the volume types listed in allowedVolumeTypes.',
  seccompProfile_baseline: 'Set securityContext.seccompProfile.type to a profile listed in allowedProfiles.',
  seccompProfile_restricted:
    'Set securityContext.seccompProfile.type to a profile listed in allowedProfiles (RuntimeDefault).',
  sysctls: 'Remove sysctls that are forbidden or not allowed from spec.securityContext.sysctls.',
  procMount: 'Remove securityContext.procMount or set it to Default.',
  procMount_restricted: 'Remove securityContext.procMount or set it to Default.',
  appArmorProfile: 'Set securityContext.appArmorProfile.type to a profile listed in allowedAppArmorProfiles.',
  seLinuxOptions: 'Use seLinuxOptions allowed by allowedSELinuxOptions / allowedSELinuxTypes.',
  allowPrivilegeEscalation: 'Set securityContext.allowPrivilegeEscalation to false.',
  runAsNonRoot: 'Set securityContext.runAsNonRoot: true or a non-zero runAsUser.',
  runAsUser: 'Set securityContext.runAsUser to a user id inside runAsUserRanges.',
  runAsGroup: 'Set securityContext.runAsGroup to a group id inside runAsGroupRanges.',
  supplementalGroups:
    'Set spec.securityContext.supplementalGroups to group ids inside supplementalGroupsRanges.',
  fsGroup: 'Set spec.securityContext.fsGroup to a group id inside fsGroupRanges.',
  readOnlyRootFilesystem:
    'Set securityContext.readOnlyRootFilesystem: true (mount emptyDir volumes where the app writes).',
};

/** The level a podsec-built check belongs to (for ordering and reports). */
const LEVEL_OF: Readonly<Record<string, Level>> = {
  privileged: 'baseline',
  hostNamespaces: 'baseline',
  hostPorts: 'baseline',
  capabilities_baseline: 'baseline',
  hostPathVolumes: 'baseline',
  seccompProfile_baseline: 'baseline',
  sysctls: 'baseline',
  procMount: 'baseline',
  appArmorProfile: 'baseline',
  seLinuxOptions: 'baseline',
};

function levelOf(id: string): Level {
  return LEVEL_OF[id] ?? 'restricted';
}

/** Pod that fails the three Windows-relaxed restricted checks unless the relaxation is in force. */
const WINDOWS_PROBE: PodSpec = { os: { name: 'windows' }, containers: [{ name: 'probe', image: 'probe' }] };
const NO_META: ObjectMeta = {};

function relaxesWindows(upstream: ActiveCheck | undefined): boolean {
  return upstream !== undefined && upstream.check(NO_META, WINDOWS_PROBE).allowed;
}

function exemptWindows(check: CheckFn): CheckFn {
  return (meta, spec) => (isWindowsPod(spec) ? ALLOWED : check(meta, spec));
}

function active(id: string, check: CheckFn, parameter: string | null, upstream?: ActiveCheck): ActiveCheck {
  const base = { id, level: upstream?.level ?? levelOf(id), check, hint: HINTS[id] ?? upstream?.hint ?? '' };
  return parameter === null ? base : { ...base, parameter };
}

function given(params: ParsedParameters): ParameterName[] {
  return (Object.keys(params) as ParameterName[]).filter((k) => params[k] !== undefined);
}

function joinNames(names: readonly (string | null)[]): string | null {
  const real = names.filter((n): n is string => n !== null);
  return real.length === 0 ? null : real.join(', ');
}

/**
 * The checks one parameter set produces: replacements for checks in `upstream` (null = drop it)
 * and additions. `upstream` also supplies Windows relaxations and the parts a parameter does not
 * replace (the other half of capabilities_restricted, the sysctl safe list); it is empty for azure-*.
 */
function parameterChecks(
  p: ParsedParameters,
  upstream: ReadonlyMap<string, ActiveCheck>,
  level: Level,
): { replace: Map<string, ActiveCheck | null>; add: ActiveCheck[] } {
  const replace = new Map<string, ActiveCheck | null>();
  const add: ActiveCheck[] = [];
  const put = (id: string, check: CheckFn, parameter: string | null) => {
    const up = upstream.get(id);
    const c = active(id, check, parameter, up);
    if (up !== undefined) replace.set(id, c);
    else add.push(c);
  };

  if (p.allowHostNetwork !== undefined) {
    put('hostNamespaces', hostNamespacesCheck(p.allowHostNetwork), 'allowHostNetwork');
  }
  if (p.allowedHostPorts !== undefined)
    put('hostPorts', hostPortsCheck(p.allowedHostPorts), 'allowedHostPorts');
  if (p.allowedHostPaths !== undefined) {
    put('hostPathVolumes', hostPathVolumesCheck(p.allowedHostPaths), 'allowedHostPaths');
  }
  if (p.allowedVolumeTypes !== undefined) {
    put('restrictedVolumes', restrictedVolumesCheck(p.allowedVolumeTypes), 'allowedVolumeTypes');
  }

  // Capabilities: restricted's combined check where it is in force, else baseline's add check
  // plus (for requiredDropCapabilities) a drop-only capabilities_restricted.
  const allowed: AddRule | null =
    p.allowedCapabilities === undefined ? null : addRule(p.allowedCapabilities, 'allowedCapabilities');
  const drop: DropRule | null =
    p.requiredDropCapabilities === undefined
      ? null
      : { required: p.requiredDropCapabilities, parameter: 'requiredDropCapabilities' };
  const restrictedCaps = upstream.get('capabilities_restricted');
  if (restrictedCaps !== undefined && (allowed !== null || drop !== null)) {
    let check = capabilitiesCheck(
      'unrestricted capabilities',
      allowed ?? addRule(['NET_BIND_SERVICE'], null),
      drop ?? { required: ['ALL'], parameter: null },
    );
    if (relaxesWindows(restrictedCaps)) check = exemptWindows(check);
    put('capabilities_restricted', check, joinNames([allowed?.parameter ?? null, drop?.parameter ?? null]));
  } else {
    if (allowed !== null)
      put(
        'capabilities_baseline',
        capabilitiesCheck('non-default capabilities', allowed, null),
        allowed.parameter,
      );
    if (drop !== null && drop.required.length > 0) {
      put(
        'capabilities_restricted',
        capabilitiesCheck('unrestricted capabilities', null, drop),
        drop.parameter,
      );
    }
  }

  if (p.allowedProfiles !== undefined) {
    const restricted = upstream.get('seccompProfile_restricted');
    if (restricted !== undefined || level === 'restricted') {
      let check = seccompCheck(p.allowedProfiles, 'allowedProfiles');
      if (relaxesWindows(restricted)) check = exemptWindows(check);
      put('seccompProfile_restricted', check, 'allowedProfiles');
    } else {
      put('seccompProfile_baseline', seccompCheck(p.allowedProfiles, 'allowedProfiles'), 'allowedProfiles');
    }
  }

  if (p.allowedSysctls !== undefined || p.forbiddenSysctls !== undefined) {
    put(
      'sysctls',
      sysctlsCheck(
        p.allowedSysctls ?? null,
        p.forbiddenSysctls ?? null,
        upstream.get('sysctls')?.check ?? null,
      ),
      joinNames([
        p.allowedSysctls === undefined ? null : 'allowedSysctls',
        p.forbiddenSysctls === undefined ? null : 'forbiddenSysctls',
      ]),
    );
  }

  if (p.procMountType !== undefined) {
    // At restricted v1.35+ procMount_restricted overrides procMount; replace whichever is in force.
    const check = procMountCheck(p.procMountType);
    put(upstream.has('procMount_restricted') ? 'procMount_restricted' : 'procMount', check, 'procMountType');
  }

  if (p.allowedAppArmorProfiles !== undefined) {
    put('appArmorProfile', appArmorCheck(p.allowedAppArmorProfiles), 'allowedAppArmorProfiles');
  }

  if (p.allowedSELinuxOptions !== undefined || p.allowedSELinuxTypes !== undefined) {
    put(
      'seLinuxOptions',
      seLinuxCheck(p.allowedSELinuxOptions ?? null, p.allowedSELinuxTypes ?? null),
      joinNames([
        p.allowedSELinuxOptions === undefined ? null : 'allowedSELinuxOptions',
        p.allowedSELinuxTypes === undefined ? null : 'allowedSELinuxTypes',
      ]),
    );
  }

  if (p.forcePrivilegeEscalationToBeFalse !== undefined) {
    const up = upstream.get('allowPrivilegeEscalation');
    if (up !== undefined || level === 'restricted' || p.forcePrivilegeEscalationToBeFalse) {
      let check = allowPrivilegeEscalationCheck(p.forcePrivilegeEscalationToBeFalse);
      if (relaxesWindows(up)) check = exemptWindows(check);
      put('allowPrivilegeEscalation', check, 'forcePrivilegeEscalationToBeFalse');
    }
  }

  if (p.runAsUserRule !== undefined) {
    // The rule replaces both upstream user checks; the one that stays carries the rule's id.
    const rule = p.runAsUserRule;
    if (rule === 'RunAsAny') {
      replace.set('runAsNonRoot', null);
      replace.set('runAsUser', null);
    } else {
      const id = rule === 'MustRunAsNonRoot' ? 'runAsNonRoot' : 'runAsUser';
      const other = id === 'runAsNonRoot' ? 'runAsUser' : 'runAsNonRoot';
      put(id, runAsUserRuleCheck(rule, p.runAsUserRanges ?? []), 'runAsUserRule');
      if (upstream.has(other)) replace.set(other, null);
    }
  }

  const groups = [
    ['runAsGroup', p.runAsGroupRule, p.runAsGroupRanges, runAsGroupCheck],
    ['supplementalGroups', p.supplementalGroupsRule, p.supplementalGroupsRanges, supplementalGroupsCheck],
    ['fsGroup', p.fsGroupRule, p.fsGroupRanges, fsGroupCheck],
  ] as const;
  for (const [id, rule, ranges, build] of groups) {
    if (rule === undefined || rule === 'RunAsAny') continue;
    put(id, build(rule, ranges ?? []), `${id}Rule`);
  }

  if (p.readOnlyRootFilesystem === true) {
    put('readOnlyRootFilesystem', readOnlyRootFilesystemCheck, 'readOnlyRootFilesystem');
  }
  return { replace, add };
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** PSA's order: baseline ids, then restricted ids, each in byte order. */
function ordered(checks: ActiveCheck[]): readonly ActiveCheck[] {
  return checks.sort((a, b) =>
    a.level === b.level ? byteOrder(a.id, b.id) : a.level === 'baseline' ? -1 : 1,
  );
}

/** User parameters over the initiative's values (each given parameter replaces its default). */
function withDefaults(initiative: InitiativeName, params: ParsedParameters): ParsedParameters {
  const defaults = parseParameters(initiativeDefaults(initiative), initiative);
  if (defaults.issues.length > 0) {
    throw new Error(
      `internal: invalid ${initiative} defaults: ${defaults.issues.map((i) => i.message).join('; ')}`,
    );
  }
  return { ...defaults.value, ...stripUndefined(params) };
}

function stripUndefined(p: ParsedParameters): ParsedParameters {
  const out: Record<string, unknown> = {};
  for (const k of given(p)) out[k] = p[k];
  return out;
}

function azureChecks(
  initiative: 'azure-baseline' | 'azure-restricted',
  params: ParsedParameters,
): readonly ActiveCheck[] {
  const level: Level = initiative === 'azure-restricted' ? 'restricted' : 'baseline';
  const p = withDefaults(initiative, params);
  // Members without parameters: ContainerNoPrivilege, and BlockHostNamespace (hostPID, hostIPC)
  // joined with HostNetworkPorts' hostNetwork part in hostNamespaces.
  const members: ActiveCheck[] = [
    active('privileged', privilegedCheck, null),
    active('hostNamespaces', hostNamespacesCheck(p.allowHostNetwork ?? false), 'allowHostNetwork'),
  ];
  const { allowHostNetwork: _decided, ...rest } = p;
  const built = parameterChecks(rest, new Map(), level);
  return ordered([...members, ...built.add]);
}

/**
 * The checks for an assignment. `base` is checksFor(level, version) for baseline/restricted
 * (returned unchanged when no parameter is given); the azure-* initiatives do not use it.
 */
export function buildChecks(
  initiative: InitiativeName,
  base: readonly ActiveCheck[],
  params: ParsedParameters,
): readonly ActiveCheck[] {
  if (initiative === 'azure-baseline' || initiative === 'azure-restricted')
    return azureChecks(initiative, params);
  if (given(params).length === 0) return base;
  const upstream = new Map(base.map((c) => [c.id, c]));
  const { replace, add } = parameterChecks(params, upstream, initiative);
  const out: ActiveCheck[] = [];
  for (const c of base) {
    if (!replace.has(c.id)) out.push(c);
    else {
      const r = replace.get(c.id);
      if (r !== null && r !== undefined) out.push(r);
    }
  }
  return ordered([...out, ...add]);
}
