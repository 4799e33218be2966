/**
 * Adapters from ClusterSource informer caches (plain Kubernetes objects) to what the NMI handler
 * needs: pods by source address and a pod's AzureAssignedIdentities joined with their current
 * AzureIdentity. Pure functions over "list the cache" callbacks, so they are tested with plain
 * objects; malformed objects are skipped (fail closed), never thrown on.
 */
import type { KubeObject } from '../../kube/types.js';
import type { IdentityRef } from '../issuer/index.js';
import { ASSIGNMENT_STATES } from './types.js';
import type { AssignmentState, NmiIdentity, NmiPod, PodAssignment } from './types.js';

/** Reads of the informer caches the adapters use (e.g. `() => informer.list()`). */
export interface NmiCacheReads {
  readonly pods: () => readonly KubeObject[];
  readonly assignedIdentities: () => readonly KubeObject[];
  /** The AzureIdentity `namespace/name`, or undefined when it is not (or no longer) in the cache. */
  readonly identity: (namespace: string, name: string) => KubeObject | undefined;
}

export interface NmiClusterDeps {
  podsByIp(ip: string): readonly NmiPod[];
  assignedIdentities(pod: NmiPod): readonly PodAssignment[];
  /**
   * For the issuer: is this exact AzureIdentity (the assignment's spec.azureIdentityRef names
   * `identity.namespace/name`, and that object's current client id is `identity.clientId`) usable
   * (Assigned, or '' from old MICs) on `node`? Another object with the same client id never counts.
   */
  isAssignedOnNode(node: string, identity: IdentityRef): boolean;
}

type Obj = Record<string, unknown>;

function rec(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A pod object as the NMI sees it; undefined when it lacks a namespace or name. */
export function toNmiPod(obj: KubeObject): NmiPod | undefined {
  const namespace = str(obj.metadata?.namespace);
  const name = str(obj.metadata?.name);
  if (namespace === undefined || name === undefined) return undefined;
  const spec = rec(obj['spec']) ?? {};
  const status = rec(obj['status']) ?? {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj.metadata?.labels ?? {})) if (typeof v === 'string') labels[k] = v;
  return {
    namespace,
    name,
    labels,
    nodeName: str(spec['nodeName']),
    hostNetwork: spec['hostNetwork'] === true,
    phase: str(status['phase']),
    podIP: str(status['podIP']),
  };
}

function podIps(obj: KubeObject): string[] {
  const status = rec(obj['status']) ?? {};
  const ips = new Set<string>();
  const first = str(status['podIP']);
  if (first !== undefined) ips.add(first);
  if (Array.isArray(status['podIPs'])) {
    for (const entry of status['podIPs']) {
      const ip = str(rec(entry)?.['ip']);
      if (ip !== undefined) ips.add(ip);
    }
  }
  return [...ips];
}

const LIVE_PHASES = new Set([undefined, 'Pending', 'Running']);

/** Pods on `nodeName` (all nodes when undefined) in Pending/Running whose pod IPs include `ip`. */
export function podsByIpFrom(pods: readonly KubeObject[], ip: string, nodeName?: string): NmiPod[] {
  const out: NmiPod[] = [];
  for (const obj of pods) {
    if (!podIps(obj).includes(ip)) continue;
    const pod = toNmiPod(obj);
    if (pod === undefined) continue;
    if (nodeName !== undefined && pod.nodeName !== nodeName) continue;
    if (!LIVE_PHASES.has(pod.phase)) continue;
    out.push(pod.podIP === ip ? pod : { ...pod, podIP: ip });
  }
  return out;
}

function identityType(v: unknown): 0 | 1 | 2 | undefined {
  return v === 0 || v === 1 || v === 2 ? v : undefined;
}

function assignmentState(obj: KubeObject): AssignmentState | undefined {
  const status = rec(obj['status'])?.['status'];
  if (status === undefined || status === null) return '';
  return (ASSIGNMENT_STATES as readonly unknown[]).includes(status) ? (status as AssignmentState) : undefined;
}

interface ParsedAssignment {
  readonly podNamespace: string;
  readonly pod: string;
  readonly node: string | undefined;
  readonly assignment: PodAssignment;
}

/**
 * An AzureAssignedIdentity joined with its AzureIdentity. The identity's fields come from the
 * live AzureIdentity (the embedded copy may be stale); an assignment whose AzureIdentity is gone,
 * or whose fields are malformed, is dropped.
 */
export function parseAssignment(
  obj: KubeObject,
  identity: NmiCacheReads['identity'],
): ParsedAssignment | undefined {
  const spec = rec(obj['spec']);
  if (spec === undefined) return undefined;
  const pod = str(spec['pod']) ?? str(spec['podName']);
  const podNamespace = str(spec['podNamespace']);
  const ref = rec(spec['azureIdentityRef']);
  const refMeta = rec(ref?.['metadata']);
  const idNamespace = str(refMeta?.['namespace']);
  const idName = str(refMeta?.['name']);
  const status = assignmentState(obj);
  if (
    pod === undefined ||
    podNamespace === undefined ||
    idNamespace === undefined ||
    idName === undefined ||
    status === undefined
  ) {
    return undefined;
  }
  const live = identity(idNamespace, idName);
  const idSpec = rec(live?.['spec']);
  if (idSpec === undefined) return undefined;
  const type = identityType(idSpec['type']);
  const clientID = str(idSpec['clientID']);
  if (type === undefined || clientID === undefined) return undefined;
  const nmiIdentity: NmiIdentity = {
    namespace: idNamespace,
    name: idName,
    type,
    clientID,
    resourceID: str(idSpec['resourceID']),
    tenantID: str(idSpec['tenantID']),
    objectID: str(idSpec['objectID']),
  };
  return {
    podNamespace,
    pod,
    node: str(spec['nodename']),
    assignment: { identity: nmiIdentity, status },
  };
}

/** The NMI's cluster-facing deps over the caches; `nodeName` limits pods and assignments to one node. */
export function createNmiClusterDeps(reads: NmiCacheReads, nodeName?: string): NmiClusterDeps {
  const onNode = (node: string | undefined): boolean => nodeName === undefined || node === nodeName;
  return {
    podsByIp: (ip) => podsByIpFrom(reads.pods(), ip, nodeName),
    assignedIdentities(pod) {
      const out: PodAssignment[] = [];
      for (const obj of reads.assignedIdentities()) {
        const parsed = parseAssignment(obj, reads.identity);
        if (parsed === undefined || !onNode(parsed.node)) continue;
        if (parsed.pod !== pod.name || parsed.podNamespace !== pod.namespace) continue;
        out.push(parsed.assignment);
      }
      return out;
    },
    isAssignedOnNode(node, ref) {
      return reads.assignedIdentities().some((obj) => {
        const parsed = parseAssignment(obj, reads.identity);
        return (
          parsed !== undefined &&
          parsed.node === node &&
          parsed.assignment.identity.namespace === ref.namespace &&
          parsed.assignment.identity.name === ref.name &&
          parsed.assignment.identity.clientID === ref.clientId &&
          (parsed.assignment.status === 'Assigned' || parsed.assignment.status === '')
        );
      });
    },
  };
}
