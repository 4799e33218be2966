/**
 * The normalised form of Azure Policy's pod-security parameters. Parsing resolves aliases
 * (Gatekeeper spellings) and shapes once, so check builders only see canonical values and
 * every violation can name the Azure parameter that decided it.
 */

export type InitiativeName = 'baseline' | 'restricted' | 'azure-baseline' | 'azure-restricted';

export const INITIATIVE_NAMES = ['baseline', 'restricted', 'azure-baseline', 'azure-restricted'] as const;

/** A problem with one parameter; `path` is relative to the `parameters` object. */
export interface ParameterIssue {
  path: (string | number)[];
  message: string;
}

export const USER_RULES = ['MustRunAs', 'MustRunAsNonRoot', 'RunAsAny'] as const;
export type UserRule = (typeof USER_RULES)[number];

export const GROUP_RULES = ['MustRunAs', 'MayRunAs', 'RunAsAny'] as const;
export type GroupRule = (typeof GROUP_RULES)[number];

/** Inclusive id range; `max` is Infinity when Azure's `max: -1` (no upper bound) was given. */
export interface IdRange {
  readonly min: number;
  readonly max: number;
}

/** Inclusive host port range; a single port is `{min: p, max: p}`. */
export interface PortRange {
  readonly min: number;
  readonly max: number;
}

export interface HostPathRule {
  readonly pathPrefix: string;
  readonly readOnly: boolean;
}

/** One allowedSELinuxOptions entry; a field that is absent here must be absent in the pod too. */
export interface SELinuxRule {
  readonly level?: string;
  readonly role?: string;
  readonly type?: string;
  readonly user?: string;
}

export const PROC_MOUNT_TYPES = ['Default', 'Unmasked'] as const;
export type ProcMountType = (typeof PROC_MOUNT_TYPES)[number];

/** Id rules: the four user/group parameters, each as a rule name and a range list. */
export const ID_FIELDS = ['runAsUser', 'runAsGroup', 'supplementalGroups', 'fsGroup'] as const;
export type IdField = (typeof ID_FIELDS)[number];

/**
 * Parameters the user gave, by canonical Azure name (aliases resolved). Absent = not given:
 * the initiative's default (or, for baseline/restricted, the upstream check) applies.
 */
export interface ParsedParameters {
  readonly allowedCapabilities?: readonly string[];
  readonly requiredDropCapabilities?: readonly string[];
  readonly allowedHostPaths?: readonly HostPathRule[];
  readonly allowHostNetwork?: boolean;
  readonly allowedHostPorts?: readonly PortRange[];
  readonly allowedVolumeTypes?: readonly string[];
  /** seccomp profiles, as given (either spelling). */
  readonly allowedProfiles?: readonly string[];
  readonly allowedSysctls?: readonly string[];
  readonly forbiddenSysctls?: readonly string[];
  readonly procMountType?: ProcMountType;
  readonly allowedAppArmorProfiles?: readonly string[];
  readonly allowedSELinuxOptions?: readonly SELinuxRule[];
  readonly allowedSELinuxTypes?: readonly string[];
  readonly forcePrivilegeEscalationToBeFalse?: boolean;
  readonly runAsUserRule?: UserRule;
  readonly runAsUserRanges?: readonly IdRange[];
  readonly runAsGroupRule?: GroupRule;
  readonly runAsGroupRanges?: readonly IdRange[];
  readonly supplementalGroupsRule?: GroupRule;
  readonly supplementalGroupsRanges?: readonly IdRange[];
  readonly fsGroupRule?: GroupRule;
  readonly fsGroupRanges?: readonly IdRange[];
  readonly readOnlyRootFilesystem?: boolean;
}

export type ParameterName = keyof ParsedParameters;

/** One documented parameter: the single source for docs/parameters.md, the JSON Schema and defaults. */
export interface ParameterDoc {
  /** Azure Policy's name. */
  readonly name: ParameterName;
  /** Other accepted spellings (the Gatekeeper library's, older Azure definitions'). */
  readonly aliases: readonly string[];
  /** The shape in words, e.g. `array of strings`. */
  readonly shape: string;
  /** JSON Schema of the canonical spelling. */
  readonly schema: Readonly<Record<string, unknown>>;
  /** Value per initiative; absent = not set (the upstream check decides, or no check). */
  readonly defaults: { readonly [I in InitiativeName]?: unknown };
  /** Check ids this parameter replaces or adds. */
  readonly checks: readonly string[];
  readonly description: string;
}
