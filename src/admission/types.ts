/**
 * Types of the admission core: the decoded AdmissionRequest (admission.k8s.io/v1), the response we
 * answer with, and the dependencies the handler reads the cluster through. The core is pure: the
 * server decodes HTTP, calls the handler, and encodes; nothing here knows about sockets or TLS.
 */
import type { KubeObject } from '../kube/types.js';
import type { PodsecConfig, Policy } from '../policy/index.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
export const ADMISSION_REVIEW_KIND = 'AdmissionReview';

export const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export interface UserInfo {
  readonly username?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
}

/** The validated `request` of an AdmissionReview. Objects are passed through untouched (untrusted). */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly resource: GroupVersionResource;
  /** Empty when the request is for the resource itself. */
  readonly subResource: string;
  readonly requestKind?: GroupVersionKind;
  readonly requestResource?: GroupVersionResource;
  readonly requestSubResource?: string;
  /** Empty when unknown (e.g. a generateName create). */
  readonly name: string;
  /** Empty for cluster-scoped objects (a Namespace request carries its own name here). */
  readonly namespace: string;
  readonly operation: Operation;
  readonly userInfo: UserInfo;
  /** The new object (CREATE, UPDATE, CONNECT options); null when absent. */
  readonly object: KubeObject | null;
  /** The existing object (UPDATE, DELETE); null when absent. */
  readonly oldObject: KubeObject | null;
  readonly dryRun: boolean;
}

/** One field problem of a 422 Invalid answer, as apimachinery's StatusCause. */
export interface StatusCause {
  /** `FieldValueInvalid` */
  readonly reason: string;
  /** `Invalid value: "strictest": must be one of privileged, baseline, restricted` */
  readonly message: string;
  /** `metadata.labels[pod-security.kubernetes.io/enforce]` */
  readonly field: string;
}

export interface StatusDetails {
  readonly name: string;
  readonly group: string;
  readonly kind: string;
  readonly causes: readonly StatusCause[];
}

export interface AdmissionStatus {
  readonly code: number;
  readonly message: string;
  readonly reason: string;
  /** Only on 422 Invalid answers (invalid namespace labels), as the API server's NewInvalid. */
  readonly details?: StatusDetails;
}

/** What the handler decides; `uid` is added by encodeResponse. */
export interface AdmissionResponse {
  readonly allowed: boolean;
  readonly status?: AdmissionStatus;
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

/** The current compiled configuration, swapped atomically on reload. */
export interface PolicySnapshot {
  /** Null without --config: only namespace labels decide. */
  readonly policy: Policy | null;
  readonly config: PodsecConfig | null;
}

/** One existing AzureIdentity's claim on a client id (identity-check.ts). */
export interface IdentityClaim {
  readonly namespace: string;
  readonly name: string;
  readonly clientID: string;
}

export interface AdmissionDeps {
  policy(): PolicySnapshot;
  /** Labels of a namespace (informer cache); undefined when the namespace is unknown. */
  namespaceLabels(namespace: string): Promise<Record<string, string> | undefined>;
  /** Pods of a namespace (informer cache), for the namespace dry-run. */
  podsInNamespace(namespace: string): readonly KubeObject[];
  /** Milliseconds, as Date.now(); the namespace dry-run measures its 1 s budget with it. */
  now(): number;
  /**
   * Every AzureIdentity's client id claim (informer cache, or a live list while it is not
   * synced). Absent: AzureIdentity requests that need it are refused (fail closed).
   */
  identityClaims?(): Promise<readonly IdentityClaim[]>;
  /**
   * Claims this replica admitted a moment ago, not yet in the cache (identity-claims.ts
   * RecentClaims). Read and written synchronously around the decision, so two requests in one
   * replica cannot both pass with the same new client id.
   */
  readonly recentIdentityClaims?: {
    list(): readonly IdentityClaim[];
    remember(claim: IdentityClaim): void;
  };
}

export const DECISIONS = ['allow', 'deny', 'warn', 'audit', 'exempt', 'skip', 'error'] as const;
/**
 * allow: evaluated, nothing to say; deny/warn/audit: the strongest answer given; exempt: a
 * cluster-wide exemption applied; skip: not evaluated (other kinds, DELETE, ignored
 * subresources, insignificant updates); error: a fault (denied for pods, namespaces and the
 * identity kinds, allowed for workloads).
 */
export type Decision = (typeof DECISIONS)[number];

export interface DecisionMetrics {
  readonly kind: string;
  readonly namespace: string;
  readonly decision: Decision;
  /** Check ids of the violations that counted (not exempted), each once. */
  readonly violations: string[];
}

export interface AdmissionDecision {
  readonly response: AdmissionResponse;
  readonly metrics: DecisionMetrics;
}

/** The AdmissionReview we answer with. */
export interface EncodedReview {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: typeof ADMISSION_REVIEW_KIND;
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: AdmissionStatus;
    readonly warnings?: string[];
    readonly auditAnnotations?: Record<string, string>;
  };
}
