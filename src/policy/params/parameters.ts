/**
 * Every parameter podsec accepts, in one table: names and shapes are Azure Policy's AKS
 * definitions (reference/pod-security.md section 4), aliases are the Gatekeeper library's
 * spellings. The azure-* initiative defaults live here too, so docs/parameters.md, the JSON
 * Schema and the checks cannot disagree about them.
 */
import type { InitiativeName, ParameterDoc, ParameterName } from './types.js';

/** Azure's ContainerAllowedCapabilities value in both PSS initiatives: PSP's defaults, NET_RAW included. */
export const AZURE_ALLOWED_CAPABILITIES: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

/** The restricted initiative's AllowedVolumeTypes (PSS restricted without `image`). */
export const AZURE_ALLOWED_VOLUME_TYPES: readonly string[] = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];

const stringArray = { type: 'array', items: { type: 'string' } } as const;
const idRanges = {
  type: 'object',
  additionalProperties: false,
  required: ['ranges'],
  properties: {
    ranges: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['min', 'max'],
        properties: { min: { type: 'integer', minimum: 0 }, max: { type: 'integer', minimum: -1 } },
      },
    },
  },
} as const;
const hostPathList = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['pathPrefix'],
    properties: { pathPrefix: { type: 'string', pattern: '^/' }, readOnly: { type: 'boolean' } },
  },
} as const;
const seLinuxList = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    properties: {
      level: { type: 'string' },
      role: { type: 'string' },
      type: { type: 'string' },
      user: { type: 'string' },
    },
  },
} as const;
const groupRule = { type: 'string', enum: ['MustRunAs', 'MayRunAs', 'RunAsAny'] } as const;
const oneToMax = { ranges: [{ min: 1, max: 65535 }] };

function groupDocs(
  field: 'runAsGroup' | 'supplementalGroups' | 'fsGroup',
  where: string,
): [ParameterDoc, ParameterDoc] {
  return [
    {
      name: `${field}Rule`,
      aliases: [`${field}.rule`],
      shape: '`MustRunAs` | `MayRunAs` | `RunAsAny`',
      schema: groupRule,
      defaults: { 'azure-restricted': 'MustRunAs' },
      checks: [field],
      description:
        `Rule for ${where}. MustRunAs: it must be set and inside one of ${field}Ranges; ` +
        `MayRunAs: when set, it must be inside one of the ranges; RunAsAny: no check. ` +
        `Adds the check \`${field}\` (no upstream check covers it).`,
    },
    {
      name: `${field}Ranges`,
      aliases: [`${field}.ranges`],
      shape: '`{ranges: [{min, max}]}` (inclusive; `max: -1` = no upper bound)',
      schema: idRanges,
      defaults: { 'azure-restricted': oneToMax },
      checks: [field],
      description: `Ranges for ${field}Rule. Empty ranges reject every value that is set.`,
    },
  ];
}

export const PARAMETERS: readonly ParameterDoc[] = [
  {
    name: 'allowedCapabilities',
    aliases: [],
    shape: 'array of capability names (`*` = any)',
    schema: stringArray,
    defaults: {
      'azure-baseline': AZURE_ALLOWED_CAPABILITIES,
      'azure-restricted': AZURE_ALLOWED_CAPABILITIES,
    },
    checks: ['capabilities_baseline', 'capabilities_restricted'],
    description:
      'Capabilities a container may add (securityContext.capabilities.add). Matched case-insensitively, as ' +
      'Gatekeeper does. Replaces the allowed list of capabilities_baseline, or the add part of ' +
      'capabilities_restricted where restricted replaces it.',
  },
  {
    name: 'requiredDropCapabilities',
    aliases: [],
    shape: 'array of capability names',
    schema: stringArray,
    defaults: { 'azure-baseline': [], 'azure-restricted': [] },
    checks: ['capabilities_restricted'],
    description:
      'Capabilities every container must drop; dropping `ALL` satisfies any list. Replaces the drop part of ' +
      'capabilities_restricted (upstream: `ALL`); where that check is not in force, adds it with only this ' +
      'requirement. An empty list requires nothing.',
  },
  {
    name: 'allowedHostPaths',
    aliases: ['plain array of {pathPrefix, readOnly} (Gatekeeper)'],
    shape: '`{paths: [{pathPrefix, readOnly}]}`',
    schema: {
      anyOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['paths'],
          properties: { paths: hostPathList },
        },
        hostPathList,
      ],
    },
    defaults: { 'azure-baseline': { paths: [] } },
    checks: ['hostPathVolumes'],
    description:
      'hostPath volumes allowed by path prefix, matched by whole path segments (`/foo` allows `/foo/bar`, ' +
      'not `/fool`). With `readOnly: true` every volumeMount of that volume must be readOnly. An empty list ' +
      'blocks every hostPath volume. At restricted, hostPath also has to be an allowed volume type ' +
      '(allowedVolumeTypes).',
  },
  {
    name: 'allowHostNetwork',
    aliases: ['hostNetwork'],
    shape: 'boolean',
    schema: { type: 'boolean' },
    defaults: { 'azure-baseline': false, 'azure-restricted': false },
    checks: ['hostNamespaces'],
    description: 'Whether pods may set hostNetwork: true. hostPID and hostIPC stay forbidden.',
  },
  {
    name: 'allowedHostPorts',
    aliases: ['minPort + maxPort (Azure before v7)', 'min + max (Gatekeeper)'],
    shape: 'array of `"80"` or `"3000-5000"` strings',
    schema: { type: 'array', items: { type: ['string', 'integer'] } },
    defaults: { 'azure-baseline': [], 'azure-restricted': [] },
    checks: ['hostPorts'],
    description:
      'Host ports containers may use (ports[].hostPort), as single ports or inclusive ranges. An empty list ' +
      'allows none; hostPort 0 (unset) is always allowed. The aliases give one inclusive range.',
  },
  {
    name: 'allowedVolumeTypes',
    aliases: ['volumes'],
    shape: 'array of volume source names (`*` = all)',
    schema: stringArray,
    defaults: { 'azure-restricted': AZURE_ALLOWED_VOLUME_TYPES },
    checks: ['restrictedVolumes'],
    description:
      'Volume sources pods may use (configMap, hostPath, nfs, ...; field names, case-sensitive). Replaces the ' +
      'list of restrictedVolumes; at baseline, adds that check. An empty list blocks every volume.',
  },
  {
    name: 'allowedProfiles',
    aliases: ['allowedSeccompProfiles'],
    shape:
      'array of seccomp profiles: `runtime/default` | `RuntimeDefault`, `docker/default`, `localhost/*` | `Localhost`, `localhost/<file>`, `unconfined` | `Unconfined`, `*`',
    schema: stringArray,
    defaults: { 'azure-restricted': ['runtime/default', 'docker/default'] },
    checks: ['seccompProfile_baseline', 'seccompProfile_restricted'],
    description:
      "Seccomp profiles allowed for each container (its own profile, else the pod's; fields, else the legacy " +
      'annotations). A container without any profile fails unless `*` is listed. `runtime/default`, ' +
      '`docker/default` and `RuntimeDefault` are the same profile. Replaces the seccomp check in force.',
  },
  {
    name: 'allowedSysctls',
    aliases: [],
    shape: 'array of sysctl names (`*` = any, `prefix*`)',
    schema: stringArray,
    defaults: {},
    checks: ['sysctls'],
    description:
      'Sysctls pods may set. Replaces the upstream safe list; forbiddenSysctls wins over it. Without it, the upstream list of the policy version still applies (everything for azure-*).',
  },
  {
    name: 'forbiddenSysctls',
    aliases: [],
    shape: 'array of sysctl names (`*` = all, `prefix*`)',
    schema: stringArray,
    defaults: {},
    checks: ['sysctls'],
    description: 'Sysctls pods may not set, in addition to the allowed list.',
  },
  {
    name: 'procMountType',
    aliases: ['procMount'],
    shape: '`Default` | `Unmasked`',
    schema: { type: 'string', enum: ['Default', 'Unmasked'] },
    defaults: {},
    checks: ['procMount', 'procMount_restricted'],
    description:
      'Default: containers may only set procMount Default; Unmasked: Default or Unmasked. Replaces both ' +
      "upstream procMount checks (including v1.35's user-namespace relaxation).",
  },
  {
    name: 'allowedAppArmorProfiles',
    aliases: [],
    shape:
      'array of AppArmor profiles: `runtime/default` | `RuntimeDefault`, `localhost/*` | `Localhost`, `localhost/<name>`, `unconfined` | `Unconfined`, `*`',
    schema: stringArray,
    defaults: {},
    checks: ['appArmorProfile'],
    description:
      "AppArmor profiles allowed for each container (its field, else its annotation, else the pod's field, " +
      'else runtime/default).',
  },
  {
    name: 'allowedSELinuxOptions',
    aliases: ['plain array of {level, role, type, user} (Gatekeeper)'],
    shape: '`{options: [{level, role, type, user}]}`',
    schema: {
      anyOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['options'],
          properties: { options: seLinuxList },
        },
        seLinuxList,
      ],
    },
    defaults: {},
    checks: ['seLinuxOptions'],
    description:
      'Pod and container seLinuxOptions must match one entry field by field (a field the pod leaves unset ' +
      'always matches). Replaces the upstream type/user/role rules.',
  },
  {
    name: 'allowedSELinuxTypes',
    aliases: [],
    shape: 'array of SELinux types',
    schema: stringArray,
    defaults: {},
    checks: ['seLinuxOptions'],
    description:
      'SELinux types pods may set (an empty type is always allowed). user and role must stay empty unless ' +
      'allowedSELinuxOptions is given.',
  },
  {
    name: 'forcePrivilegeEscalationToBeFalse',
    aliases: [],
    shape: 'boolean',
    schema: { type: 'boolean' },
    defaults: { 'azure-restricted': false },
    checks: ['allowPrivilegeEscalation'],
    description:
      'true: every container must set allowPrivilegeEscalation: false (as PSS restricted). false: ' +
      'allowPrivilegeEscalation: true always fails, and leaving it unset is accepted only for a container ' +
      'running as a non-zero runAsUser (podsec reading of Azure\'s "depends on runAsUser"). At baseline, true ' +
      'adds the check.',
  },
  {
    name: 'runAsUserRule',
    aliases: ['runAsUser.rule'],
    shape: '`MustRunAs` | `MustRunAsNonRoot` | `RunAsAny`',
    schema: { type: 'string', enum: ['MustRunAs', 'MustRunAsNonRoot', 'RunAsAny'] },
    defaults: { 'azure-restricted': 'MustRunAsNonRoot' },
    checks: ['runAsNonRoot', 'runAsUser'],
    description:
      "Rule for each container's user (its runAsUser, else the pod's). MustRunAsNonRoot: a non-zero runAsUser, " +
      'or runAsNonRoot: true when no runAsUser is set (check `runAsNonRoot`); MustRunAs: runAsUser set and in ' +
      'runAsUserRanges (check `runAsUser`); RunAsAny: no check. Replaces both upstream checks.',
  },
  {
    name: 'runAsUserRanges',
    aliases: ['runAsUser.ranges'],
    shape: '`{ranges: [{min, max}]}` (inclusive; `max: -1` = no upper bound)',
    schema: idRanges,
    defaults: { 'azure-restricted': { ranges: [] } },
    checks: ['runAsUser'],
    description: 'Ranges for runAsUserRule MustRunAs.',
  },
  ...groupDocs('runAsGroup', "each container's runAsGroup (its own, else the pod's)"),
  ...groupDocs('supplementalGroups', "the pod's supplementalGroups (every entry)"),
  ...groupDocs('fsGroup', "the pod's fsGroup"),
  {
    name: 'readOnlyRootFilesystem',
    aliases: [],
    shape: 'boolean',
    schema: { type: 'boolean' },
    defaults: {},
    checks: ['readOnlyRootFilesystem'],
    description:
      'podsec extension (Azure has a separate definition without parameters): true requires every container ' +
      'to set readOnlyRootFilesystem: true. Adds the check `readOnlyRootFilesystem`.',
  },
];

const BY_NAME: ReadonlyMap<string, ParameterDoc> = new Map(PARAMETERS.map((p) => [p.name, p]));

export function parameterDoc(name: ParameterName): ParameterDoc {
  const doc = BY_NAME.get(name);
  if (doc === undefined) throw new Error(`internal: no documentation for parameter ${name}`);
  return doc;
}

/** The raw parameter object an initiative starts from (Azure shapes; parse it like user input). */
export function initiativeDefaults(initiative: InitiativeName): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of PARAMETERS) {
    if (p.defaults[initiative] !== undefined) out[p.name] = p.defaults[initiative];
  }
  return out;
}
