/**
 * Pod Security Standards core types. A check is pure: pod metadata and spec in, a result out.
 * Passing pods allocate nothing; structured findings (field paths, containers) are built only
 * when a check fails, because the scanner needs them and the admission hot path does not pay.
 */
import type { ObjectMeta, PodSpec } from '../../kube/types.js';
import type { FieldPath } from '../../lib/path.js';

export const LEVELS = ['privileged', 'baseline', 'restricted'] as const;
export type Level = (typeof LEVELS)[number];

/** Newest policy version this engine knows; `latest` and newer versions evaluate as this one. */
export const LATEST_MINOR = 37;

/** A parsed policy version: `latest` or v1.<minor>. */
export type PolicyVersion = { readonly latest: true } | { readonly latest: false; readonly minor: number };

/** One offending field. `path` is relative to the pod (starts at `metadata` or `spec`). */
export interface Finding {
  readonly path: FieldPath;
  /** Container name when the finding is about one container. */
  readonly container: string | null;
  /** Which list the container is in, when it is about a container. */
  readonly containerField?: 'containers' | 'initContainers' | 'ephemeralContainers';
  /** Image of that container (for image exemptions). */
  readonly image?: string | undefined;
  /** One-line, human description of just this finding. */
  readonly message: string;
}

export type CheckResult =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** PSA's forbidden reason, e.g. `privileged`. */
      readonly reason: string;
      /** PSA's forbidden detail, e.g. `container "a" must not set securityContext.privileged=true`. */
      readonly detail: string;
      readonly findings: readonly Finding[];
    };

export type CheckFn = (meta: ObjectMeta, spec: PodSpec) => CheckResult;

/** One implementation of a check, in force from `minVersion` (minor) until the next one. */
export interface VersionedCheck {
  readonly minVersion: number;
  readonly check: CheckFn;
  /** Baseline check ids this (restricted) implementation replaces at this version. */
  readonly overrides?: readonly string[];
}

export interface CheckDefinition {
  /** Upstream PSA check id, e.g. `capabilities_restricted`. */
  readonly id: string;
  readonly level: 'baseline' | 'restricted';
  readonly versions: readonly VersionedCheck[];
  /** What to change to pass, shown with each violation. */
  readonly hint: string;
}

/** A check in force at one (level, version), ready to run. */
export interface ActiveCheck {
  readonly id: string;
  readonly level: 'baseline' | 'restricted';
  readonly check: CheckFn;
  readonly hint: string;
  /** Set when an Azure Policy parameter replaced or added this check. */
  readonly parameter?: string;
}

export interface CheckFailure {
  readonly id: string;
  readonly reason: string;
  readonly detail: string;
  readonly findings: readonly Finding[];
  readonly hint: string;
  readonly parameter?: string | undefined;
}
