/**
 * The aad-pod-identity CRDs (group aadpodidentity.k8s.io, version v1) as podsec reads and writes them.
 * Field names, label keys, the finalizer and the status strings are upstream's, so existing manifests
 * and tooling that read AzureAssignedIdentity objects keep working.
 */

export const AAD_POD_IDENTITY_GROUP = 'aadpodidentity.k8s.io';
export const AAD_POD_IDENTITY_API_VERSION = 'aadpodidentity.k8s.io/v1';

/** The pod label whose value must equal a binding's `spec.selector` (a plain string, not a label selector). */
export const BINDING_LABEL = 'aadpodidbinding';
/** Label on each AzureAssignedIdentity naming the pod's node, so an NMI can watch only its own node. */
export const NODENAME_LABEL = 'nodename';
/** Upstream's per-identity opt-in to namespaced matching, honoured even when cross-namespace is allowed. */
export const BEHAVIOR_ANNOTATION = 'aadpodidentity.k8s.io/Behavior';
export const BEHAVIOR_NAMESPACED = 'namespaced';
export const ASSIGNED_IDENTITY_FINALIZER = 'azureassignedidentity.finalizers.aadpodidentity.k8s.io';

/** `spec.type`: 0 user-assigned managed identity, 1 service principal (secret), 2 service principal (certificate). */
export const IDENTITY_TYPES = {
  userAssignedMSI: 0,
  servicePrincipal: 1,
  servicePrincipalCertificate: 2,
} as const;
export type IdentityType = (typeof IDENTITY_TYPES)[keyof typeof IDENTITY_TYPES];

export const ASSIGNED_STATUSES = ['Created', 'Assigned', 'Unassigned'] as const;
export type AssignedStatus = (typeof ASSIGNED_STATUSES)[number];

export interface CrdMetadata {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  finalizers?: string[];
  deletionTimestamp?: string;
}

/** A Secret reference (`clientPassword`): not the secret itself. */
export interface SecretReference {
  name: string;
  namespace: string;
}

export interface AzureIdentitySpec {
  type: IdentityType;
  resourceID?: string;
  clientID?: string;
  tenantID?: string;
  auxiliaryTenantIDs?: string[];
  clientPassword?: SecretReference;
  adResourceID?: string;
  adEndpoint?: string;
}

export interface AzureIdentity {
  apiVersion: typeof AAD_POD_IDENTITY_API_VERSION;
  kind: 'AzureIdentity';
  metadata: CrdMetadata;
  spec: AzureIdentitySpec;
}

export interface AzureIdentityBindingSpec {
  /** Name of an AzureIdentity in the binding's namespace. */
  azureIdentity: string;
  /** Matched exactly against the pod label `aadpodidbinding`. */
  selector: string;
  /** Present upstream, never used for selection. */
  weight?: number;
}

export interface AzureIdentityBinding {
  apiVersion: typeof AAD_POD_IDENTITY_API_VERSION;
  kind: 'AzureIdentityBinding';
  metadata: CrdMetadata;
  spec: AzureIdentityBindingSpec;
}

/** The embedded copies in an AzureAssignedIdentity keep only what identifies and configures the resource. */
export interface EmbeddedRef<K extends string, S> {
  apiVersion: typeof AAD_POD_IDENTITY_API_VERSION;
  kind: K;
  metadata: { name: string; namespace: string };
  spec: S;
}

export interface AzureAssignedIdentitySpec {
  azureIdentityRef: EmbeddedRef<'AzureIdentity', AzureIdentitySpec>;
  azureBindingRef: EmbeddedRef<'AzureIdentityBinding', AzureIdentityBindingSpec>;
  pod: string;
  podNamespace: string;
  nodename: string;
}

export interface AzureAssignedIdentity {
  apiVersion: typeof AAD_POD_IDENTITY_API_VERSION;
  kind: 'AzureAssignedIdentity';
  metadata: CrdMetadata;
  spec: AzureAssignedIdentitySpec;
  status: { status: AssignedStatus; availableReplicas?: number };
}

export interface AzurePodIdentityException {
  apiVersion: typeof AAD_POD_IDENTITY_API_VERSION;
  kind: 'AzurePodIdentityException';
  metadata: CrdMetadata;
  spec: { podLabels: Record<string, string> };
}

/** One reason a resource was refused: the field path as kubectl users read it, and why. */
export interface FieldProblem {
  path: string;
  message: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; problems: FieldProblem[] };
