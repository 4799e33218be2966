/**
 * Compiles a model once into set form: every policy's podSelector to the set of pods it
 * selects (isolates), every peer to the set of model pods it matches (selectors resolved per
 * namespace with the shared label-selector core, ipBlocks against pod addresses) plus its
 * parsed CIDRs for addresses outside the model, and every rule to a (peer set, port set) pair.
 * Matrices and explain read these sets; a data plane can render them without re-deriving
 * any NetworkPolicy semantics. Named ports stay names here because they resolve per
 * destination pod (`resolveNamedPort`).
 */
import { isEmptySelector, matchesSelector } from '../lib/label-selector/index.js';
import type { LabelSelector } from '../lib/label-selector/index.js';
import { Bitset } from './model/bitset.js';
import { buildModel } from './model/build.js';
import type { NetpolModel } from './model/build.js';
import { cidrContains, parseCidr } from './model/cidr.js';
import type { Cidr, IpAddress } from './model/cidr.js';
import type { ClusterInput, NetpolPolicy, Peer, PolicyRef, PortSpec, Protocol, Rule } from './model/types.js';

export interface CompiledIpBlock {
  readonly cidr: Cidr;
  readonly except: readonly Cidr[];
}

export interface CompiledPeer {
  readonly peer: Peer;
  /** Model pods this peer matches (never hostNetwork pods for selector peers). */
  readonly pods: Bitset;
  /** For ipBlock peers: the block, to match addresses outside the model. */
  readonly ipBlock: CompiledIpBlock | null;
}

export interface CompiledRule {
  readonly index: number;
  readonly rule: Rule;
  /** 'all': every peer, pods and addresses alike. */
  readonly peers: readonly CompiledPeer[] | 'all';
  /** Union of the peers' pods (every pod for 'all'). */
  readonly peerPods: Bitset;
  readonly ports: readonly PortSpec[] | 'all';
}

export interface CompiledPolicy {
  readonly index: number;
  readonly policy: NetpolPolicy;
  readonly ref: PolicyRef;
  /** Pods this policy selects (its namespace, its podSelector, never hostNetwork pods). */
  readonly selected: Bitset;
  /** null when the policy has no Ingress (Egress) policy type. */
  readonly ingress: readonly CompiledRule[] | null;
  readonly egress: readonly CompiledRule[] | null;
}

export interface CompiledCluster {
  readonly model: NetpolModel;
  readonly policies: readonly CompiledPolicy[];
  /** Per pod: indices of the policies isolating it for ingress (egress), in input order. */
  readonly ingressPolicies: readonly (readonly number[])[];
  readonly egressPolicies: readonly (readonly number[])[];
  /** Every model pod; shared, never mutated (clone before changing). */
  readonly allPods: Bitset;
}

function selectorKey(selector: LabelSelector): string {
  return JSON.stringify([Object.entries(selector.matchLabels).sort(), selector.matchExpressions]);
}

class Resolver {
  private readonly podCache = new Map<string, readonly number[]>();
  private readonly nsCache = new Map<string, readonly number[]>();
  /** Resolved ipBlocks, shared between peers with the same block (never mutated). */
  private readonly blockCache = new Map<string, Bitset>();
  private readonly addressesByFamily = new Map<4 | 6, { ip: IpAddress; pod: number }[]>();
  /** Every model pod; shared, never mutated. */
  readonly allPods: Bitset;

  constructor(private readonly model: NetpolModel) {
    this.allPods = Bitset.full(model.pods.length);
  }

  /** Non-hostNetwork pods of namespace `ns` matching `selector` (null: all of them). */
  podsIn(ns: number, selector: LabelSelector | null, key: string): readonly number[] {
    const cacheKey = `${ns}\u0000${key}`;
    const cached = this.podCache.get(cacheKey);
    if (cached !== undefined) return cached;
    const out: number[] = [];
    const all = selector === null || isEmptySelector(selector);
    for (const i of this.model.podsByNamespace[ns] ?? []) {
      const pod = this.model.pods[i]!;
      if (pod.hostNetwork) continue;
      if (all || matchesSelector(selector, pod.labels)) out.push(i);
    }
    this.podCache.set(cacheKey, out);
    return out;
  }

  namespaces(selector: LabelSelector): readonly number[] {
    const key = selectorKey(selector);
    const cached = this.nsCache.get(key);
    if (cached !== undefined) return cached;
    const out: number[] = [];
    this.model.namespaces.forEach((ns, i) => {
      if (matchesSelector(selector, ns.labels)) out.push(i);
    });
    this.nsCache.set(key, out);
    return out;
  }

  selectorPeer(peer: Extract<Peer, { kind: 'selector' }>, policyNs: number): Bitset {
    const set = new Bitset(this.model.pods.length);
    const namespaces = peer.namespaceSelector === null ? [policyNs] : this.namespaces(peer.namespaceSelector);
    const key = peer.podSelector === null ? '*' : selectorKey(peer.podSelector);
    for (const ns of namespaces) for (const i of this.podsIn(ns, peer.podSelector, key)) set.add(i);
    return set;
  }

  ipBlockPeer(block: CompiledIpBlock): Bitset {
    const key = `${block.cidr.family}/${block.cidr.base}/${block.cidr.prefix}/${block.except
      .map((e) => `${e.base}/${e.prefix}`)
      .join(',')}`;
    const cached = this.blockCache.get(key);
    if (cached !== undefined) return cached;
    const set = new Bitset(this.model.pods.length);
    // Addresses are sorted, so a CIDR is one contiguous range: binary search its start.
    const sorted = this.sortedAddresses(block.cidr.family);
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]!.ip.value < block.cidr.base) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < sorted.length && cidrContains(block.cidr, sorted[k]!.ip); k++) {
      const { ip, pod } = sorted[k]!;
      if (!block.except.some((e) => cidrContains(e, ip))) set.add(pod);
    }
    this.blockCache.set(key, set);
    return set;
  }

  private sortedAddresses(family: 4 | 6): readonly { ip: IpAddress; pod: number }[] {
    let list = this.addressesByFamily.get(family);
    if (list === undefined) {
      list = [];
      this.model.podAddresses.forEach((addresses, pod) => {
        for (const ip of addresses) if (ip.family === family) list!.push({ ip, pod });
      });
      list.sort((a, b) => (a.ip.value < b.ip.value ? -1 : a.ip.value > b.ip.value ? 1 : 0));
      this.addressesByFamily.set(family, list);
    }
    return list;
  }
}

/** True when `ip` is inside the block's CIDR and outside every except. */
export function ipBlockContains(block: CompiledIpBlock, ip: IpAddress): boolean {
  return cidrContains(block.cidr, ip) && !block.except.some((e) => cidrContains(e, ip));
}

function compileIpBlock(cidr: string, except: readonly string[]): CompiledIpBlock | null {
  const parsed = parseCidr(cidr);
  if (parsed === null) return null;
  const ex: Cidr[] = [];
  for (const e of except) {
    const p = parseCidr(e);
    // A policy that reached the model was validated; an unparsable except carves out nothing
    // would widen access, so such a block matches nothing instead (fail closed).
    if (p === null) return null;
    ex.push(p);
  }
  return { cidr: parsed, except: ex };
}

function compileRules(
  rules: readonly Rule[],
  policyNs: number,
  resolver: Resolver,
  size: number,
): CompiledRule[] {
  return rules.map((rule, index) => {
    if (rule.peers === 'all') {
      return { index, rule, peers: 'all', peerPods: resolver.allPods, ports: rule.ports };
    }
    const peerPods = new Bitset(size);
    const peers = rule.peers.map((peer): CompiledPeer => {
      if (peer.kind === 'selector') {
        const pods = resolver.selectorPeer(peer, policyNs);
        peerPods.or(pods);
        return { peer, pods, ipBlock: null };
      }
      const block = compileIpBlock(peer.ipBlock.cidr, peer.ipBlock.except);
      const pods = block === null ? new Bitset(size) : resolver.ipBlockPeer(block);
      peerPods.or(pods);
      return { peer, pods, ipBlock: block };
    });
    return { index, rule, peers, peerPods, ports: rule.ports };
  });
}

function isModel(x: ClusterInput | NetpolModel): x is NetpolModel {
  return 'podKeys' in x;
}

/** Compiles a model (built here from `input` when given a ClusterInput). */
export function compile(input: ClusterInput | NetpolModel): CompiledCluster {
  const model = isModel(input) ? input : buildModel(input);
  const size = model.pods.length;
  const resolver = new Resolver(model);
  const ingressPolicies: number[][] = model.pods.map(() => []);
  const egressPolicies: number[][] = model.pods.map(() => []);
  const policies = model.input.policies.map((policy, index): CompiledPolicy => {
    const ns = model.namespaceIndex.get(policy.namespace)!;
    const selected = Bitset.of(
      size,
      resolver.podsIn(ns, policy.podSelector, selectorKey(policy.podSelector)),
    );
    const hasIngress = policy.policyTypes.includes('Ingress');
    const hasEgress = policy.policyTypes.includes('Egress');
    for (const i of selected) {
      if (hasIngress) ingressPolicies[i]!.push(index);
      if (hasEgress) egressPolicies[i]!.push(index);
    }
    return {
      index,
      policy,
      ref: { namespace: policy.namespace, name: policy.name },
      selected,
      ingress: hasIngress ? compileRules(policy.ingress, ns, resolver, size) : null,
      egress: hasEgress ? compileRules(policy.egress, ns, resolver, size) : null,
    };
  });
  return { model, policies, ingressPolicies, egressPolicies, allPods: resolver.allPods };
}

/**
 * The port number a named port resolves to on pod `pod` for `protocol` (name AND protocol
 * must match a container port), or null.
 */
export function resolveNamedPort(
  model: NetpolModel,
  pod: number,
  name: string,
  protocol: Protocol,
): number | null {
  for (const cp of model.pods[pod]?.ports ?? []) {
    if (cp.name === name && cp.protocol === protocol) return cp.port;
  }
  return null;
}

/**
 * Whether one port entry admits traffic to `port`/`protocol` at destination pod `dst`
 * (null: the destination is an address outside the model, where named ports match nothing).
 */
export function portSpecMatches(
  model: NetpolModel,
  spec: PortSpec,
  dst: number | null,
  port: number,
  protocol: Protocol,
): boolean {
  if (spec.protocol !== protocol) return false;
  if (spec.port === null) return true;
  if (typeof spec.port === 'number') {
    return spec.endPort === null ? port === spec.port : port >= spec.port && port <= spec.endPort;
  }
  return dst !== null && resolveNamedPort(model, dst, spec.port, protocol) === port;
}

/** Index of the first port entry of `rule` admitting the traffic, -1 for 'all', null for none. */
export function matchingPortIndex(
  model: NetpolModel,
  rule: CompiledRule,
  dst: number | null,
  port: number,
  protocol: Protocol,
): number | null {
  if (rule.ports === 'all') return -1;
  const i = rule.ports.findIndex((spec) => portSpecMatches(model, spec, dst, port, protocol));
  return i < 0 ? null : i;
}
