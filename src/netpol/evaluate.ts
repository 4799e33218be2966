/**
 * The evaluator: a fixed sequence of tiers, each answering accept, deny or next per direction
 * (egress at the source, ingress at the destination); the first tier that does not say next
 * decides, and a direction where every tier says next is allowed. NetworkPolicy v1 is one
 * tier: for a pod no policy isolates it says next, for an isolated pod it accepts what the
 * union of the isolating policies' rules allows and denies the rest (the implicit deny).
 * Ordered policies (Calico tiers, ClusterNetworkPolicy Admin/Baseline) slot in as more tiers
 * before or after it without touching this one.
 *
 * Outside the tiers: loopback and traffic between a pod and its own node are always allowed,
 * and hostNetwork pods are node traffic (never subjects, so both their directions say next).
 *
 * Each tier answers in two shapes that must agree (tested): `judge` for one connection with
 * its reasons (explain), and `row` for one subject against every pod at once (matrices).
 */
import { Bitset } from './model/bitset.js';
import { nodesByIp } from './model/build.js';
import type { NetpolModel } from './model/build.js';
import { parseIp } from './model/cidr.js';
import type { IpAddress } from './model/cidr.js';
import type {
  Direction,
  DirectionResult,
  Endpoint,
  PolicyRef,
  Protocol,
  RuleMatch,
  TierAnswer,
  VerdictBasis,
} from './model/types.js';
import { ipBlockContains, matchingPortIndex, portSpecMatches, resolveNamedPort } from './compile.js';
import type { CompiledCluster, CompiledRule } from './compile.js';

export interface TierJudgement {
  readonly answer: TierAnswer;
  readonly isolated: boolean;
  readonly isolatingPolicies: readonly PolicyRef[];
  readonly allowedBy: readonly RuleMatch[];
}

/** A tier's answers for one subject against every model pod: neither set = next. */
export interface RowAnswer {
  readonly accept: Bitset;
  readonly deny: Bitset;
}

/** Per (port, protocol) caches shared by the rows of one matrix. */
export class PortContext {
  private readonly named = new Map<string, Bitset>();
  constructor(
    readonly compiled: CompiledCluster,
    readonly port: number,
    readonly protocol: Protocol,
  ) {}

  /** Pods on which the named port `name` resolves (for this protocol) to this port. */
  namedPortPods(name: string): Bitset {
    let set = this.named.get(name);
    if (set === undefined) {
      const model = this.compiled.model;
      set = new Bitset(model.pods.length);
      for (let i = 0; i < model.pods.length; i++) {
        if (resolveNamedPort(model, i, name, this.protocol) === this.port) set.add(i);
      }
      this.named.set(name, set);
    }
    return set;
  }
}

export interface Tier {
  readonly name: string;
  /**
   * One connection: `subject` is the pod whose policies apply (source for egress,
   * destination for ingress), `peer` the other end.
   */
  judge(
    compiled: CompiledCluster,
    direction: Direction,
    subject: number,
    peer: Endpoint,
    port: number,
    protocol: Protocol,
  ): TierJudgement;
  /** `subject` against every model pod as the peer; null when the tier says next for all. */
  row(ctx: PortContext, direction: Direction, subject: number): RowAnswer | null;
  /** One model pod as the peer, without reasons (matrix rows of very large clusters). */
  answer(ctx: PortContext, direction: Direction, subject: number, peer: number): TierAnswer;
}

const NEXT: TierJudgement = { answer: 'next', isolated: false, isolatingPolicies: [], allowedBy: [] };

function peerAddress(peer: Endpoint): IpAddress | null {
  return peer.kind === 'ip' ? parseIp(peer.ip) : null;
}

/** NetworkPolicy v1: a union of allows, with an implicit deny for isolated pods. */
export const networkPolicyV1Tier: Tier = {
  name: 'networkpolicy-v1',

  judge(compiled, direction, subject, peer, port, protocol) {
    const isolating =
      direction === 'egress' ? compiled.egressPolicies[subject] : compiled.ingressPolicies[subject];
    if (isolating === undefined || isolating.length === 0) return NEXT;
    const model = compiled.model;
    // Named ports resolve on the destination: the subject for ingress, the peer for egress.
    const dst = direction === 'ingress' ? subject : peer.kind === 'pod' ? peer.pod : null;
    const address = peerAddress(peer);
    const allowedBy: RuleMatch[] = [];
    const isolatingPolicies: PolicyRef[] = [];
    for (const p of isolating) {
      const policy = compiled.policies[p]!;
      isolatingPolicies.push(policy.ref);
      const rules = (direction === 'egress' ? policy.egress : policy.ingress) ?? [];
      for (const rule of rules) {
        const portIndex = matchingPortIndex(model, rule, dst, port, protocol);
        if (portIndex === null) continue;
        const peerIndex = matchingPeerIndex(rule, peer, address);
        if (peerIndex === null) continue;
        allowedBy.push({
          policy: policy.ref,
          source: policy.policy.source,
          ruleIndex: rule.index,
          peerIndex: peerIndex < 0 ? null : peerIndex,
          portIndex: portIndex < 0 ? null : portIndex,
          peer: rule.peers === 'all' || peerIndex < 0 ? null : rule.peers[peerIndex]!.peer,
          port: rule.ports === 'all' || portIndex < 0 ? null : rule.ports[portIndex]!,
        });
      }
    }
    return { answer: allowedBy.length > 0 ? 'accept' : 'deny', isolated: true, isolatingPolicies, allowedBy };
  },

  row(ctx, direction, subject) {
    const { compiled, port, protocol } = ctx;
    const isolating =
      direction === 'egress' ? compiled.egressPolicies[subject] : compiled.ingressPolicies[subject];
    if (isolating === undefined || isolating.length === 0) return null;
    const model = compiled.model;
    const accept = new Bitset(model.pods.length);
    for (const p of isolating) {
      const policy = compiled.policies[p]!;
      const rules = (direction === 'egress' ? policy.egress : policy.ingress) ?? [];
      for (const rule of rules) {
        if (direction === 'ingress') {
          if (matchingPortIndex(model, rule, subject, port, protocol) !== null) accept.or(rule.peerPods);
        } else {
          const ports = egressPortPods(ctx, rule);
          if (ports === 'all') accept.or(rule.peerPods);
          else if (ports !== null) accept.or(ports.and(rule.peerPods));
        }
      }
    }
    return { accept, deny: compiled.allPods.clone().andNot(accept) };
  },

  answer(ctx, direction, subject, peer) {
    const { compiled, port, protocol } = ctx;
    const isolating =
      direction === 'egress' ? compiled.egressPolicies[subject] : compiled.ingressPolicies[subject];
    if (isolating === undefined || isolating.length === 0) return 'next';
    const dst = direction === 'ingress' ? subject : peer;
    for (const p of isolating) {
      const policy = compiled.policies[p]!;
      for (const rule of (direction === 'egress' ? policy.egress : policy.ingress) ?? []) {
        if (
          rule.peerPods.has(peer) &&
          matchingPortIndex(compiled.model, rule, dst, port, protocol) !== null
        ) {
          return 'accept';
        }
      }
    }
    return 'deny';
  },
};

/** Destination pods an egress rule's ports admit: 'all', a fresh set, or null for none. */
function egressPortPods(ctx: PortContext, rule: CompiledRule): 'all' | Bitset | null {
  if (rule.ports === 'all') return 'all';
  let named: Bitset | null = null;
  for (const spec of rule.ports) {
    if (typeof spec.port === 'string') {
      if (spec.protocol !== ctx.protocol) continue;
      named ??= new Bitset(ctx.compiled.model.pods.length);
      named.or(ctx.namedPortPods(spec.port));
    } else if (portSpecMatches(ctx.compiled.model, spec, null, ctx.port, ctx.protocol)) {
      return 'all';
    }
  }
  return named;
}

/** Index of the first peer of `rule` matching `peer`, -1 for 'all', null for none. */
function matchingPeerIndex(rule: CompiledRule, peer: Endpoint, address: IpAddress | null): number | null {
  if (rule.peers === 'all') return -1;
  const i = rule.peers.findIndex((cp) =>
    peer.kind === 'pod'
      ? cp.pods.has(peer.pod)
      : cp.ipBlock !== null && address !== null && ipBlockContains(cp.ipBlock, address),
  );
  return i < 0 ? null : i;
}

export const DEFAULT_TIERS: readonly Tier[] = [networkPolicyV1Tier];

/** Nodes an endpoint stands for when its traffic is node traffic (hostNetwork pod, node address). */
function nodeOf(model: NetpolModel, e: Endpoint): string[] {
  if (e.kind === 'ip') return nodesByIp(model, e.ip);
  const pod = model.pods[e.pod];
  return pod?.hostNetwork === true && pod.node !== null ? [pod.node] : [];
}

/** True when one end is node traffic of the node the other end (a pod) runs on. */
export function isOwnNodeTraffic(model: NetpolModel, from: Endpoint, to: Endpoint): boolean {
  const sameNode = (nodeSide: Endpoint, podSide: Endpoint): boolean => {
    if (podSide.kind !== 'pod') return false;
    const node = model.pods[podSide.pod]?.node ?? null;
    return node !== null && nodeOf(model, nodeSide).includes(node);
  };
  return sameNode(from, to) || sameNode(to, from);
}

/** Fast form of isOwnNodeTraffic for two model pods. */
export function isOwnNodePair(model: NetpolModel, from: number, to: number): boolean {
  const a = model.pods[from]!;
  const b = model.pods[to]!;
  return (a.hostNetwork || b.hostNetwork) && a.node !== null && a.node === b.node;
}

/** The pod index of an endpoint when tiers apply to it (a model pod that is not hostNetwork). */
function subjectOf(compiled: CompiledCluster, e: Endpoint): number | null {
  if (e.kind !== 'pod') return null;
  const pod = compiled.model.pods[e.pod];
  return pod === undefined || pod.hostNetwork ? null : e.pod;
}

function judgeDirection(
  compiled: CompiledCluster,
  tiers: readonly Tier[],
  direction: Direction,
  subject: number | null,
  peer: Endpoint,
  port: number,
  protocol: Protocol,
): DirectionResult {
  const isolatingPolicies: PolicyRef[] = [];
  let isolated = false;
  if (subject !== null) {
    for (const tier of tiers) {
      const j = tier.judge(compiled, direction, subject, peer, port, protocol);
      isolated ||= j.isolated;
      isolatingPolicies.push(...j.isolatingPolicies);
      if (j.answer !== 'next') {
        return {
          direction,
          tier: tier.name,
          isolated,
          isolatingPolicies,
          allowedBy: j.allowedBy,
          verdict: j.answer,
        };
      }
    }
  }
  return { direction, tier: 'default', isolated, isolatingPolicies, allowedBy: [], verdict: 'next' };
}

export interface Evaluation {
  readonly allowed: boolean;
  readonly basis: VerdictBasis;
  readonly egress: DirectionResult;
  readonly ingress: DirectionResult;
}

/**
 * Can `from` reach `to` on `port`/`protocol`? Both directions are always judged (so explain
 * can show them) even when loopback or own-node traffic makes the answer yes regardless.
 */
export function evaluate(
  compiled: CompiledCluster,
  from: Endpoint,
  to: Endpoint,
  port: number,
  protocol: Protocol,
  tiers: readonly Tier[] = DEFAULT_TIERS,
): Evaluation {
  const egress = judgeDirection(compiled, tiers, 'egress', subjectOf(compiled, from), to, port, protocol);
  const ingress = judgeDirection(compiled, tiers, 'ingress', subjectOf(compiled, to), from, port, protocol);
  let basis: VerdictBasis = 'policy';
  if (from.kind === 'pod' && to.kind === 'pod' && from.pod === to.pod) basis = 'loopback';
  else if (isOwnNodeTraffic(compiled.model, from, to)) basis = 'node';
  const allowed = basis !== 'policy' || (egress.verdict !== 'deny' && ingress.verdict !== 'deny');
  return { allowed, basis, egress, ingress };
}

/**
 * The pods `subject` may reach (egress) or be reached from (ingress) as far as the tiers go,
 * or null when every tier says next for every pod (all allowed).
 */
export function tierRow(
  ctx: PortContext,
  direction: Direction,
  subject: number,
  tiers: readonly Tier[] = DEFAULT_TIERS,
): Bitset | null {
  if (ctx.compiled.model.pods[subject]?.hostNetwork !== false) return null;
  let accepted: Bitset | null = null;
  let decided: Bitset | null = null;
  for (const tier of tiers) {
    const row = tier.row(ctx, direction, subject);
    if (row === null) continue;
    if (accepted === null || decided === null) {
      accepted = row.accept.clone();
      decided = row.accept.clone().or(row.deny);
      continue;
    }
    accepted.or(row.accept.clone().andNot(decided));
    decided.or(row.accept).or(row.deny);
  }
  if (accepted === null || decided === null) return null;
  // Undecided pods fall through to the default (allow).
  return ctx.compiled.allPods.clone().andNot(decided).or(accepted);
}

/** Whether the tiers let `subject` talk to model pod `peer` in `direction` (true when all say next). */
export function tierAllows(
  ctx: PortContext,
  direction: Direction,
  subject: number,
  peer: number,
  tiers: readonly Tier[] = DEFAULT_TIERS,
): boolean {
  if (ctx.compiled.model.pods[subject]?.hostNetwork !== false) return true;
  for (const tier of tiers) {
    const a = tier.answer(ctx, direction, subject, peer);
    if (a !== 'next') return a === 'accept';
  }
  return true;
}
