/**
 * Indexes a ClusterInput once: pods by `namespace/name` and by address, namespaces (including
 * the ones only referenced by pods or policies, which the API server would hold with their
 * immutable `kubernetes.io/metadata.name` label), pods per namespace, and each pod's addresses
 * for ipBlock matching. hostNetwork pods are node traffic, so their addresses are their
 * node's addresses (plus their own `status.podIP`, which is normally one of them).
 */
import { parseIp } from './cidr.js';
import type { IpAddress } from './cidr.js';
import type { ClusterInput, Labels, NetpolNamespace, NetpolNode, NetpolPod } from './types.js';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface NetpolModel {
  readonly input: ClusterInput;
  readonly pods: readonly NetpolPod[];
  /** `namespace/name` of each pod, in model order (the matrix order). */
  readonly podKeys: readonly string[];
  readonly podIndex: ReadonlyMap<string, number>;
  readonly namespaces: readonly NetpolNamespace[];
  readonly namespaceIndex: ReadonlyMap<string, number>;
  /** Pod indices of each namespace (by namespace index), increasing. */
  readonly podsByNamespace: readonly (readonly number[])[];
  /** Namespace index of each pod. */
  readonly podNamespace: Int32Array;
  /** Parsed addresses of each pod for ipBlock matching (empty: matches no ipBlock). */
  readonly podAddresses: readonly (readonly IpAddress[])[];
  readonly nodes: ReadonlyMap<string, NetpolNode>;
  /** Address text -> pod indices holding it (hostNetwork pods share their node's). */
  readonly podsByAddress: ReadonlyMap<string, readonly number[]>;
}

function withNameLabel(name: string, labels: Labels): Labels {
  return labels[NAMESPACE_NAME_LABEL] === name ? labels : { ...labels, [NAMESPACE_NAME_LABEL]: name };
}

function canonical(ip: IpAddress): string {
  return `${ip.family}:${ip.value.toString(16)}`;
}

/** Builds the indexed model. Duplicate pods (same namespace/name): the later one wins, as an apply would. */
export function buildModel(input: ClusterInput): NetpolModel {
  const namespaces: NetpolNamespace[] = [];
  const namespaceIndex = new Map<string, number>();
  const addNamespace = (name: string, labels: Labels): number => {
    const existing = namespaceIndex.get(name);
    if (existing !== undefined) return existing;
    namespaceIndex.set(name, namespaces.length);
    namespaces.push({ name, labels: withNameLabel(name, labels) });
    return namespaces.length - 1;
  };
  for (const ns of input.namespaces) {
    const at = namespaceIndex.get(ns.name);
    if (at === undefined) addNamespace(ns.name, ns.labels);
    else namespaces[at] = { name: ns.name, labels: withNameLabel(ns.name, ns.labels) };
  }

  const byKey = new Map<string, NetpolPod>();
  for (const pod of input.pods) byKey.set(`${pod.namespace}/${pod.name}`, pod);
  const pods = [...byKey.values()];
  const podKeys = [...byKey.keys()];
  const podIndex = new Map<string, number>();
  podKeys.forEach((key, i) => podIndex.set(key, i));

  for (const pod of pods) addNamespace(pod.namespace, {});
  for (const policy of input.policies) addNamespace(policy.namespace, {});

  const nodes = new Map<string, NetpolNode>();
  for (const node of input.nodes) nodes.set(node.name, node);

  const podsByNamespace: number[][] = namespaces.map(() => []);
  const podNamespace = new Int32Array(pods.length);
  const podAddresses: IpAddress[][] = [];
  const podsByAddress = new Map<string, number[]>();
  pods.forEach((pod, i) => {
    const nsIndex = namespaceIndex.get(pod.namespace)!;
    podNamespace[i] = nsIndex;
    podsByNamespace[nsIndex]!.push(i);
    const texts = new Set<string>();
    if (pod.ip !== null) texts.add(pod.ip);
    if (pod.hostNetwork && pod.node !== null)
      for (const a of nodes.get(pod.node)?.addresses ?? []) texts.add(a);
    const addresses: IpAddress[] = [];
    const seen = new Set<string>();
    for (const text of texts) {
      const ip = parseIp(text);
      if (ip === null || seen.has(canonical(ip))) continue;
      seen.add(canonical(ip));
      addresses.push(ip);
      const list = podsByAddress.get(canonical(ip));
      if (list === undefined) podsByAddress.set(canonical(ip), [i]);
      else list.push(i);
    }
    podAddresses.push(addresses);
  });

  return {
    input,
    pods,
    podKeys,
    podIndex,
    namespaces,
    namespaceIndex,
    podsByNamespace,
    podNamespace,
    podAddresses,
    nodes,
    podsByAddress,
  };
}

/** Index of pod `namespace/name`, or null. */
export function findPod(model: NetpolModel, key: string): number | null {
  return model.podIndex.get(key) ?? null;
}

/**
 * Pods holding address `ip` (non-hostNetwork pods first), or an empty list. Several pods can
 * share an address: hostNetwork pods of one node, or a pod with its node's hostNetwork pods.
 */
export function findPodsByIp(model: NetpolModel, ip: string): number[] {
  const parsed = parseIp(ip);
  if (parsed === null) return [];
  const list = [...(model.podsByAddress.get(canonical(parsed)) ?? [])];
  return list.sort((a, b) => Number(model.pods[a]!.hostNetwork) - Number(model.pods[b]!.hostNetwork));
}

/** Names of the nodes holding address `ip`. */
export function nodesByIp(model: NetpolModel, ip: string): string[] {
  const parsed = parseIp(ip);
  if (parsed === null) return [];
  const key = canonical(parsed);
  const out: string[] = [];
  for (const node of model.nodes.values()) {
    if (
      node.addresses.some((a) => {
        const p = parseIp(a);
        return p !== null && canonical(p) === key;
      })
    ) {
      out.push(node.name);
    }
  }
  return out;
}
