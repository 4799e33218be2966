/**
 * The parts of Kubernetes objects that podsec reads. Manifests are untrusted input, so every
 * field is optional and code compares values exactly (`=== true`) instead of trusting types.
 */

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: {
    apiVersion?: string;
    kind?: string;
    name?: string;
    uid?: string;
    controller?: boolean;
  }[];
  uid?: string;
  resourceVersion?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

export interface SELinuxOptions {
  user?: string;
  role?: string;
  type?: string;
  level?: string;
}

export interface SeccompProfile {
  type?: string;
  localhostProfile?: string;
}

export interface AppArmorProfile {
  type?: string;
  localhostProfile?: string;
}

export interface WindowsSecurityContextOptions {
  hostProcess?: boolean;
  runAsUserName?: string;
  gmsaCredentialSpecName?: string;
}

export interface Capabilities {
  add?: string[];
  drop?: string[];
}

export interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: Capabilities;
  procMount?: string;
  readOnlyRootFilesystem?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  seLinuxOptions?: SELinuxOptions;
  seccompProfile?: SeccompProfile;
  appArmorProfile?: AppArmorProfile;
  windowsOptions?: WindowsSecurityContextOptions;
}

export interface PodSecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  supplementalGroups?: number[];
  seLinuxOptions?: SELinuxOptions;
  seccompProfile?: SeccompProfile;
  appArmorProfile?: AppArmorProfile;
  sysctls?: { name?: string; value?: string }[];
  windowsOptions?: WindowsSecurityContextOptions;
}

export interface HandlerHost {
  httpGet?: { host?: string; port?: number | string; path?: string };
  tcpSocket?: { host?: string; port?: number | string };
  exec?: unknown;
  grpc?: unknown;
}

export interface ContainerPort {
  name?: string;
  containerPort?: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: string;
}

export interface VolumeMount {
  name?: string;
  mountPath?: string;
  readOnly?: boolean;
}

export interface Container {
  name?: string;
  image?: string;
  ports?: ContainerPort[];
  securityContext?: SecurityContext;
  livenessProbe?: HandlerHost;
  readinessProbe?: HandlerHost;
  startupProbe?: HandlerHost;
  lifecycle?: { postStart?: HandlerHost; preStop?: HandlerHost };
  volumeMounts?: VolumeMount[];
  [key: string]: unknown;
}

export interface Volume {
  name?: string;
  hostPath?: { path?: string; type?: string };
  [source: string]: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Volume[];
  securityContext?: PodSecurityContext;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  hostUsers?: boolean;
  os?: { name?: string };
  runtimeClassName?: string;
  nodeName?: string;
  serviceAccountName?: string;
  [key: string]: unknown;
}

/** The three container lists PSA walks, in its order, with their field names. */
export const CONTAINER_FIELDS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
export type ContainerField = (typeof CONTAINER_FIELDS)[number];
