/**
 * The validated, normalised form of podsec.yaml (CONTRACTS.md section 3). Every default is
 * filled in by the loader, so the engine never has to guess what an absent field meant.
 */
import type { InitiativeName, parseParameters } from '../params/index.js';
import type { PolicyVersion } from '../pss/types.js';
import type { LabelSelector } from '../../lib/label-selector/index.js';

export const API_VERSION = 'podsec.io/v1alpha1';
export const KIND = 'PodsecConfig';

export const INITIATIVES = [
  'baseline',
  'restricted',
  'azure-baseline',
  'azure-restricted',
] as const satisfies readonly InitiativeName[];

export const EFFECTS = ['deny', 'audit', 'warn', 'disabled'] as const;
/** How an assignment answers a violation; `disabled` assignments are not evaluated. */
export type Effect = (typeof EFFECTS)[number];

export const WORKLOAD_EFFECTS = ['warn', 'audit', 'deny'] as const;
/** How the webhook answers workload kinds (Deployment, ...) for an assignment. */
export type WorkloadEffect = (typeof WORKLOAD_EFFECTS)[number];

/**
 * The default effect is `deny` (Azure Policy's is Audit): a security policy that forgot its
 * effect should fail closed, and `podsec scan` without a config also denies.
 */
export const DEFAULT_EFFECT: Effect = 'deny';
export const DEFAULT_WORKLOADS: WorkloadEffect = 'warn';

/** AKS's defaults for Azure Policy's excludedNamespaces. */
export const DEFAULT_EXCLUDED_NAMESPACES: readonly string[] = [
  'kube-system',
  'gatekeeper-system',
  'azure-arc',
  'azure-extensions-usage-system',
];

/** What Azure Policy parameters parse to (owned by src/policy/params). */
export type AssignmentParameters = ReturnType<typeof parseParameters>['value'];

/** PSA's static exemptions: matching requests are not evaluated at all. */
export interface ClusterExemptions {
  readonly usernames: readonly string[];
  readonly namespaces: readonly string[];
  readonly runtimeClasses: readonly string[];
}

/** One per-assignment exemption; its dimensions are AND-ed, an empty list means "any". */
export interface AssignmentExemption {
  readonly checks: readonly string[];
  /** A trailing `*` is a prefix match, anything else is exact (as Azure's excludedImages). */
  readonly images: readonly string[];
  readonly containers: readonly string[];
  readonly reason: string;
  /** `YYYY-MM-DD`; the exemption applies through the end of that day (UTC). */
  readonly expires: string | null;
}

export interface Assignment {
  readonly name: string;
  readonly initiative: InitiativeName;
  /** Meaningful for baseline / restricted; `latest` for the Azure initiatives. */
  readonly version: PolicyVersion;
  readonly effect: Effect;
  readonly workloads: WorkloadEffect;
  /** Include-only list; empty = every namespace. */
  readonly namespaces: readonly string[];
  readonly excludedNamespaces: readonly string[];
  readonly labelSelector: LabelSelector;
  readonly exemptions: readonly AssignmentExemption[];
  readonly parameters: AssignmentParameters;
}

/** `podTemplatePaths` entry: where a custom kind keeps its pod template (`spec.template`). */
export interface PodTemplatePath {
  readonly apiVersion: string;
  readonly kind: string;
  readonly path: string;
}

export interface PodsecConfig {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof KIND;
  readonly exemptions: ClusterExemptions;
  readonly podTemplatePaths: readonly PodTemplatePath[];
  readonly assignments: readonly Assignment[];
}
