/**
 * Compiles a model once into set form: every policy's podSelector to the set of pods it
 * selects (isolates), every peer to the set of model pods it matches (selectors resolved per
 * namespace with the shared label-selector core, ipBlocks against pod addresses) plus its
 * parsed CIDRs for addresses outside the model, and every rule to a (peer set, port set) pair.
 * Matrices and explain read the pod-index sets.
 *
 * Data-plane contract (what a renderer such as a future nftables backend consumes; nothing in
 * it needs NetworkPolicy semantics re-derived, only addresses, CIDRs and port ranges):
 * - `CompiledPolicy.selectedAddresses`: canonical addresses of the pods the policy isolates
 *   (pods without an address are left out and counted in `selectedWithoutAddress`).
 * - `CompiledRule.dataPlane` (`RuleDataPlane`), one allow each; a connection is allowed by the
 *   v1 tier in a direction iff the subject is selected by some policy with that direction
 *   (otherwise the tier has no opinion) and some rule of such a policy matches it:
 *   - peer: `peerAddresses` ('all' = any address) contains the other end's address, or a
 *     `peerCidrs` entry contains it outside every `except`;
 *   - port: `ports` ('all' = every protocol and port) holds a range with the protocol whose
 *     port..endPort (inclusive) covers it, or `resolvedPorts.get(destination address)` does.
 *     Named ports are already resolved there per destination (ingress: each selected pod;
 *     egress: each peer pod), by name AND protocol; they never match addresses outside it.
 * Addresses and CIDRs are canonical text (IPv4 dotted, IPv6 RFC 5952; CIDRs with host bits
 * cleared). Ingress: subject = selected address (destination), peer = source; egress: subject
 * = selected address (source), peer = destination. Loopback and own-node traffic are allowed
 * outside the tiers (evaluate.ts) and are not in these sets.
 */
import { isEmptySelector, matchesSelector } from '../lib/label-selector/index.js';
import type { LabelSelector } from '../lib/label-selector/index.js';
import { Bitset } from './model/bitset.js';
import { buildModel } from './model/build.js';
import type { NetpolModel } from './model/build.js';
import { cidrContains, formatCidr, formatIp, parseCidr } from './model/cidr.js';
import type { Cidr, IpAddress } from './model/cidr.js';
import type { ClusterInput, NetpolPolicy, Peer, PolicyRef, PortSpec, Protocol, Rule } from './model/types.js';

export interface CompiledIpBlock {
  readonly cidr: Cidr;
  readonly except: readonly Cidr[];
}

export interface CompiledPeer {
  readonly peer: Peer;
  /** Model pods this peer matches (never hostNetwork pods for selector peers); shared, never mutated. */
  readonly pods: Bitset;
  /** For ipBlock peers: the block, to match addresses outside the model. */
  readonly ipBlock: CompiledIpBlock | null;
}

/** A concrete inclusive port range of one protocol (`port === endPort` for a single port). */
export interface PortRange {
  readonly protocol: Protocol;
  readonly port: number;
  readonly endPort: number;
}

/** A CIDR with the CIDRs carved out of it, canonical text. */
export interface CidrSet {
  readonly cidr: string;
  readonly except: readonly string[];
}

/** One rule as address and port sets (see the contract at the top of this file). */
export interface RuleDataPlane {
  /** Canonical addresses of the pods the selector peers match; 'all' when the rule has no peers. */
  readonly peerAddresses: readonly string[] | 'all';
  /** The ipBlock peers (unparsable blocks match nothing and are left out). */
  readonly peerCidrs: readonly CidrSet[];
  /** Pods matched by selector peers that have no address (not in `peerAddresses`). */
  readonly peerPodsWithoutAddress: number;
  /** Numeric and whole-protocol entries (a whole protocol is 1..65535); 'all' = any traffic. */
  readonly ports: readonly PortRange[] | 'all';
  /** Named-port entries resolved per destination address; empty when the rule names no port. */
  readonly resolvedPorts: ReadonlyMap<string, readonly PortRange[]>;
}

export interface CompiledRule {
  readonly index: number;
  readonly rule: Rule;
  /** 'all': every peer, pods and addresses alike. */
  readonly peers: readonly CompiledPeer[] | 'all';
  /** Union of the peers' pods (every pod for 'all'); may be shared with other rules, never mutated. */
  readonly peerPods: Bitset;
  readonly ports: readonly PortSpec[] | 'all';
  readonly dataPlane: RuleDataPlane;
}

export interface CompiledPolicy {
  readonly index: number;
  readonly policy: NetpolPolicy;
  readonly ref: PolicyRef;
  /** Pods this policy selects (its namespace, its podSelector, never hostNetwork pods); shared, never mutated. */
  readonly selected: Bitset;
  /** Canonical addresses of the selected pods (data plane), in pod order, without duplicates. */
  readonly selectedAddresses: readonly string[];
  /** Selected pods without an address (they cannot be rendered into a data plane). */
  readonly selectedWithoutAddress: number;
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
  private readonly peerCache = new Map<string, Bitset>();
  private readonly selectedCache = new Map<string, Bitset>();
  /** Resolved named ports per (destination set, named port entries), shared by identical rules. */
  readonly resolvedCache = new Map<Bitset, Map<string, ReadonlyMap<string, readonly PortRange[]>>>();
  private readonly addressTexts: (readonly string[] | undefined)[] = [];
  private readonly setAddresses = new Map<Bitset, { addresses: readonly string[]; without: number }>();
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

  /** Pods a policy's podSelector selects in namespace `ns`; shared between equal selectors (never mutated). */
  selected(ns: number, selector: LabelSelector): Bitset {
    const key = selectorKey(selector);
    const cacheKey = `${ns}\u0000${key}`;
    const cached = this.selectedCache.get(cacheKey);
    if (cached !== undefined) return cached;
    const set = Bitset.of(this.model.pods.length, this.podsIn(ns, selector, key));
    this.selectedCache.set(cacheKey, set);
    return set;
  }

  /** Shared between peers with the same selectors (never mutated). */
  selectorPeer(peer: Extract<Peer, { kind: 'selector' }>, policyNs: number): Bitset {
    const key = peer.podSelector === null ? '*' : selectorKey(peer.podSelector);
    const nsKey = peer.namespaceSelector === null ? `own:${policyNs}` : selectorKey(peer.namespaceSelector);
    const cacheKey = `${nsKey}\u0000${key}`;
    const cached = this.peerCache.get(cacheKey);
    if (cached !== undefined) return cached;
    const set = new Bitset(this.model.pods.length);
    const namespaces = peer.namespaceSelector === null ? [policyNs] : this.namespaces(peer.namespaceSelector);
    for (const ns of namespaces) for (const i of this.podsIn(ns, peer.podSelector, key)) set.add(i);
    this.peerCache.set(cacheKey, set);
    return set;
  }

  /** Canonical addresses of pod `i` (a hostNetwork pod has its node's too). */
  addressesOf(i: number): readonly string[] {
    let list = this.addressTexts[i];
    if (list === undefined) {
      list = (this.model.podAddresses[i] ?? []).map(formatIp);
      this.addressTexts[i] = list;
    }
    return list;
  }

  /** Addresses of the pods in `set` (deduplicated, pod order) and how many pods have none. */
  addressesOfSet(set: Bitset): { readonly addresses: readonly string[]; readonly without: number } {
    const cached = this.setAddresses.get(set);
    if (cached !== undefined) return cached;
    const seen = new Set<string>();
    let without = 0;
    for (const i of set) {
      const list = this.addressesOf(i);
      if (list.length === 0) without++;
      for (const a of list) seen.add(a);
    }
    const out = { addresses: [...seen], without };
    this.setAddresses.set(set, out);
    return out;
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

const ALL_PORTS_LOW = 1;
const ALL_PORTS_HIGH = 65535;

function portRanges(ports: readonly PortSpec[] | 'all'): readonly PortRange[] | 'all' {
  if (ports === 'all') return 'all';
  const out: PortRange[] = [];
  for (const spec of ports) {
    if (typeof spec.port === 'string') continue;
    if (spec.port === null)
      out.push({ protocol: spec.protocol, port: ALL_PORTS_LOW, endPort: ALL_PORTS_HIGH });
    else out.push({ protocol: spec.protocol, port: spec.port, endPort: spec.endPort ?? spec.port });
  }
  return out;
}

/** Named ports of `ports` resolved on each destination pod, keyed by the pod's addresses. */
function resolvePorts(
  model: NetpolModel,
  ports: readonly PortSpec[] | 'all',
  destinations: Bitset,
  resolver: Resolver,
): ReadonlyMap<string, readonly PortRange[]> {
  const out = new Map<string, PortRange[]>();
  if (ports === 'all') return out;
  const named = ports.filter((p): p is PortSpec & { port: string } => typeof p.port === 'string');
  if (named.length === 0) return out;
  const key = JSON.stringify(named.map((p) => [p.port, p.protocol]));
  let bySpecs = resolver.resolvedCache.get(destinations);
  if (bySpecs === undefined) {
    bySpecs = new Map();
    resolver.resolvedCache.set(destinations, bySpecs);
  }
  const cached = bySpecs.get(key);
  if (cached !== undefined) return cached;
  bySpecs.set(key, out);
  for (const pod of destinations) {
    const addresses = resolver.addressesOf(pod);
    if (addresses.length === 0) continue;
    for (const spec of named) {
      const port = resolveNamedPort(model, pod, spec.port, spec.protocol);
      if (port === null) continue;
      for (const a of addresses) {
        const list = out.get(a) ?? [];
        if (!list.some((r) => r.protocol === spec.protocol && r.port === port)) {
          list.push({ protocol: spec.protocol, port, endPort: port });
        }
        out.set(a, list);
      }
    }
  }
  return out;
}

function ruleDataPlane(
  model: NetpolModel,
  rule: Rule,
  peers: readonly CompiledPeer[] | 'all',
  destinations: Bitset,
  resolver: Resolver,
): RuleDataPlane {
  let peerAddresses: readonly string[] | 'all' = 'all';
  let peerPodsWithoutAddress = 0;
  const peerCidrs: CidrSet[] = [];
  if (peers !== 'all') {
    const selectorSets = peers.filter((p) => p.peer.kind === 'selector').map((p) => p.pods);
    if (selectorSets.length === 1) {
      const r = resolver.addressesOfSet(selectorSets[0]!);
      peerAddresses = r.addresses;
      peerPodsWithoutAddress = r.without;
    } else {
      const union = new Bitset(model.pods.length);
      for (const set of selectorSets) union.or(set);
      const r = resolver.addressesOfSet(union);
      peerAddresses = r.addresses;
      peerPodsWithoutAddress = r.without;
    }
    for (const p of peers) {
      if (p.ipBlock !== null) {
        peerCidrs.push({ cidr: formatCidr(p.ipBlock.cidr), except: p.ipBlock.except.map(formatCidr) });
      }
    }
  }
  return {
    peerAddresses,
    peerCidrs,
    peerPodsWithoutAddress,
    ports: portRanges(rule.ports),
    resolvedPorts: resolvePorts(model, rule.ports, destinations, resolver),
  };
}

function compileRules(
  model: NetpolModel,
  rules: readonly Rule[],
  direction: 'ingress' | 'egress',
  policyNs: number,
  selected: Bitset,
  resolver: Resolver,
  size: number,
): CompiledRule[] {
  return rules.map((rule, index) => {
    if (rule.peers === 'all') {
      const dataPlane = ruleDataPlane(
        model,
        rule,
        'all',
        direction === 'ingress' ? selected : resolver.allPods,
        resolver,
      );
      return { index, rule, peers: 'all', peerPods: resolver.allPods, ports: rule.ports, dataPlane };
    }
    const peers = rule.peers.map((peer): CompiledPeer => {
      if (peer.kind === 'selector')
        return { peer, pods: resolver.selectorPeer(peer, policyNs), ipBlock: null };
      const block = compileIpBlock(peer.ipBlock.cidr, peer.ipBlock.except);
      const pods = block === null ? new Bitset(size) : resolver.ipBlockPeer(block);
      return { peer, pods, ipBlock: block };
    });
    // One peer: its (shared) set; several: their union.
    let peerPods: Bitset;
    if (peers.length === 1) peerPods = peers[0]!.pods;
    else {
      peerPods = new Bitset(size);
      for (const p of peers) peerPods.or(p.pods);
    }
    const destinations = direction === 'ingress' ? selected : peerPods;
    const dataPlane = ruleDataPlane(model, rule, peers, destinations, resolver);
    return { index, rule, peers, peerPods, ports: rule.ports, dataPlane };
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
    const selected = resolver.selected(ns, policy.podSelector);
    const hasIngress = policy.policyTypes.includes('Ingress');
    const hasEgress = policy.policyTypes.includes('Egress');
    for (const i of selected) {
      if (hasIngress) ingressPolicies[i]!.push(index);
      if (hasEgress) egressPolicies[i]!.push(index);
    }
    const { addresses: selectedAddresses, without: selectedWithoutAddress } =
      resolver.addressesOfSet(selected);
    return {
      index,
      policy,
      ref: { namespace: policy.namespace, name: policy.name },
      selected,
      selectedAddresses,
      selectedWithoutAddress,
      ingress: hasIngress
        ? compileRules(model, policy.ingress, 'ingress', ns, selected, resolver, size)
        : null,
      egress: hasEgress ? compileRules(model, policy.egress, 'egress', ns, selected, resolver, size) : null,
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
