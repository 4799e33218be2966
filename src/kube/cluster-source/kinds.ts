/**
 * Where each kind lives in the REST API: its plural resource name and whether it is namespaced.
 * The kinds podsec itself reads and writes are built in, so the common path needs no discovery
 * round trip; the API server source falls back to discovery for anything else.
 */
import type { KubeObject } from '../types.js';
import type { KindRef, ObjectRef } from './types.js';

export interface ResourceInfo {
  /** Plural resource name as in the URL, e.g. `pods`. */
  readonly plural: string;
  readonly namespaced: boolean;
}

const table: readonly (readonly [apiVersion: string, kind: string, plural: string, namespaced: boolean])[] = [
  ['v1', 'Pod', 'pods', true],
  ['v1', 'Namespace', 'namespaces', false],
  ['v1', 'ReplicationController', 'replicationcontrollers', true],
  ['v1', 'PodTemplate', 'podtemplates', true],
  ['v1', 'Service', 'services', true],
  ['v1', 'Endpoints', 'endpoints', true],
  ['v1', 'Node', 'nodes', false],
  ['v1', 'Event', 'events', true],
  ['v1', 'ConfigMap', 'configmaps', true],
  ['v1', 'Secret', 'secrets', true],
  ['v1', 'ServiceAccount', 'serviceaccounts', true],
  ['apps/v1', 'Deployment', 'deployments', true],
  ['apps/v1', 'ReplicaSet', 'replicasets', true],
  ['apps/v1', 'StatefulSet', 'statefulsets', true],
  ['apps/v1', 'DaemonSet', 'daemonsets', true],
  ['batch/v1', 'Job', 'jobs', true],
  ['batch/v1', 'CronJob', 'cronjobs', true],
  ['networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', true],
  ['coordination.k8s.io/v1', 'Lease', 'leases', true],
  ['events.k8s.io/v1', 'Event', 'events', true],
  [
    'admissionregistration.k8s.io/v1',
    'ValidatingWebhookConfiguration',
    'validatingwebhookconfigurations',
    false,
  ],
  ['wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'policyreports', true],
  ['wgpolicyk8s.io/v1alpha2', 'ClusterPolicyReport', 'clusterpolicyreports', false],
  ['openreports.io/v1alpha1', 'Report', 'reports', true],
  ['openreports.io/v1alpha1', 'ClusterReport', 'clusterreports', false],
  ['aadpodidentity.k8s.io/v1', 'AzureIdentity', 'azureidentities', true],
  ['aadpodidentity.k8s.io/v1', 'AzureIdentityBinding', 'azureidentitybindings', true],
  ['aadpodidentity.k8s.io/v1', 'AzureAssignedIdentity', 'azureassignedidentities', true],
  ['aadpodidentity.k8s.io/v1', 'AzurePodIdentityException', 'azurepodidentityexceptions', true],
];

export const BUILTIN_KINDS: ReadonlyMap<string, ResourceInfo> = new Map(
  table.map(([apiVersion, kind, plural, namespaced]) => [
    kindKey({ apiVersion, kind }),
    { plural, namespaced },
  ]),
);

export function kindKey(kind: KindRef): string {
  return `${kind.apiVersion}/${kind.kind}`;
}

/** `{group: '', version: 'v1'}` for the core group. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The URL prefix of a group version: `/api/v1` or `/apis/apps/v1`. */
export function groupVersionPath(apiVersion: string): string {
  const { group, version } = splitApiVersion(apiVersion);
  return group === ''
    ? `/api/${encodeURIComponent(version)}`
    : `/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}`;
}

/** The identity of an object, or undefined when it lacks apiVersion, kind or name. */
export function refOf(obj: KubeObject): ObjectRef | undefined {
  const { apiVersion, kind } = obj;
  const name = obj.metadata?.name;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof name !== 'string' || name === '') {
    return undefined;
  }
  const namespace = obj.metadata?.namespace;
  return typeof namespace === 'string' && namespace !== ''
    ? { apiVersion, kind, namespace, name }
    : { apiVersion, kind, name };
}

/** A stable key for an object within its kind: `namespace/name`, or `name` when cluster-scoped. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

export function refKey(ref: ObjectRef): string {
  return `${kindKey(ref)}|${objectKey(ref.namespace, ref.name)}`;
}
