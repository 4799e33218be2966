/**
 * The NetworkPolicy model: what the evaluator reads (namespaces, pods, nodes, services and
 * validated networking.k8s.io/v1 policies) and what it answers ("can A reach B, and why").
 *
 * Every other netpol module (load, generate, lint, CLI) codes against these types, so they are
 * plain data with no behaviour, already validated and defaulted: a `NetpolPolicy` carries the
 * upstream meaning explicitly (policyTypes defaulted, missing `from`/`to`/`ports` spelled as
 * 'all'), so nothing downstream re-derives API defaults. Optional fields are `T | null` rather
 * than `?:` where "absent" has a meaning of its own (exactOptionalPropertyTypes).
 */
import type { LabelSelector } from '../../lib/label-selector/index.js';

export type { LabelSelector } from '../../lib/label-selector/index.js';

export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
/** The protocols NetworkPolicy defines; `TCP` is the default wherever a protocol is omitted. */
export type Protocol = (typeof PROTOCOLS)[number];

export const POLICY_TYPES = ['Ingress', 'Egress'] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

/** Lower-case direction names used in verdicts; `egress` is judged at the source, `ingress` at the destination. */
export type Direction = 'egress' | 'ingress';

export type Labels = Readonly<Record<string, string>>;

/** Where an object came from, for messages; `file` null for objects read from an API server. */
export interface SourceRef {
  readonly file: string | null;
  readonly line: number;
  /**
   * Where a field of the object is (`spec.egress[2].ports[0]`), or its nearest existing parent;
   * set by the loader when the object came from a file.
   */
  readonly locate?: (path: string) => { line: number; column: number };
}

export interface NetpolNamespace {
  readonly name: string;
  /** `kubernetes.io/metadata.name` is added by buildModel when missing, as the API server does. */
  readonly labels: Labels;
}

export interface ContainerPort {
  /** The container port name (IANA_SVC_NAME), the target of named ports in policies. */
  readonly name?: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface NetpolPod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** `status.podIP`; null when the pod has none (it then matches no ipBlock). */
  readonly ip: string | null;
  /** `spec.nodeName`; null when unscheduled. */
  readonly node: string | null;
  /**
   * hostNetwork pods are node traffic: never selected by a policy, never matched by selector
   * peers, matched only by ipBlock on their node's addresses (and their own `ip`).
   */
  readonly hostNetwork: boolean;
  readonly ports: readonly ContainerPort[];
  /** A stand-in for a workload without pods, built from its template (CONTRACTS.md section 6). */
  readonly representative: boolean;
}

export interface NetpolNode {
  readonly name: string;
  /** InternalIP / ExternalIP addresses of the node. */
  readonly addresses: readonly string[];
}

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  /** A number, or a container port name resolved on each endpoint pod. */
  readonly targetPort: number | string;
  readonly protocol: Protocol;
}

export interface NetpolService {
  readonly namespace: string;
  readonly name: string;
  /** Empty means "no selector" (manual endpoints): no endpoint pods. */
  readonly selector: Labels;
  readonly ports: readonly ServicePort[];
}

export interface IpBlock {
  /** A CIDR (IPv4 or IPv6), canonical or not; matched numerically. */
  readonly cidr: string;
  /** CIDRs inside `cidr` carved out of it. */
  readonly except: readonly string[];
}

/**
 * One `from`/`to` item. `selector`: `podSelector` null means "all pods" of the selected
 * namespaces; `namespaceSelector` null means "the policy's own namespace" (both null cannot
 * occur: the converter rejects an empty peer). Both set is an AND.
 */
export type Peer =
  | {
      readonly kind: 'selector';
      readonly podSelector: LabelSelector | null;
      readonly namespaceSelector: LabelSelector | null;
    }
  | { readonly kind: 'ipBlock'; readonly ipBlock: IpBlock };

/**
 * One `ports` item. `port` null: every port of `protocol`; a string is a named port resolved
 * on the destination pod by name AND protocol; `endPort` (only with a numeric port) makes
 * the inclusive range port..endPort.
 */
export interface PortSpec {
  readonly protocol: Protocol;
  readonly port: number | string | null;
  readonly endPort: number | null;
}

/** One ingress or egress rule: a missing or empty `from`/`to` (`ports`) is 'all'. */
export interface Rule {
  readonly peers: readonly Peer[] | 'all';
  readonly ports: readonly PortSpec[] | 'all';
}

/** A validated NetworkPolicy with upstream defaults applied. */
export interface NetpolPolicy {
  readonly namespace: string;
  readonly name: string;
  readonly podSelector: LabelSelector;
  /** Defaulted as upstream: Ingress always, Egress iff `spec.egress` is present, when omitted. */
  readonly policyTypes: readonly PolicyType[];
  /** Empty (given empty or missing) with Ingress in policyTypes = deny all ingress. */
  readonly ingress: readonly Rule[];
  readonly egress: readonly Rule[];
  readonly source: SourceRef | null;
}

export interface PolicyRef {
  readonly namespace: string;
  readonly name: string;
}

/** Everything the evaluator needs; buildModel indexes it. */
export interface ClusterInput {
  readonly namespaces: readonly NetpolNamespace[];
  readonly pods: readonly NetpolPod[];
  readonly nodes: readonly NetpolNode[];
  readonly services: readonly NetpolService[];
  readonly policies: readonly NetpolPolicy[];
}

// ---------------------------------------------------------------------------------------------
// Verdicts

/**
 * One end of a connection: a pod of the model (by its index in `model.pods`, see
 * `findPod`) or a bare address (outside the cluster, or a node). An address that belongs to
 * a pod should be turned into that pod by the caller (`findPodByIp`).
 */
export type Endpoint =
  { readonly kind: 'pod'; readonly pod: number } | { readonly kind: 'ip'; readonly ip: string };

/** What one tier says about one direction: decide now, or let the next tier decide. */
export type TierAnswer = 'accept' | 'deny' | 'next';

/**
 * The rule (and the peer and port inside it; null when the rule has none, i.e. 'all') that
 * allows, by index and by content (the validated peer and port entries as the policy states
 * them), with where the policy is defined, so tooling needs no second lookup.
 */
export interface RuleMatch {
  readonly policy: PolicyRef;
  /** Where the policy is defined; null for policies built without a position. */
  readonly source: SourceRef | null;
  readonly ruleIndex: number;
  readonly peerIndex: number | null;
  readonly portIndex: number | null;
  /** `from[peerIndex]` / `to[peerIndex]`; null when the rule allows every peer. */
  readonly peer: Peer | null;
  /** `ports[portIndex]`; null when the rule allows every port. */
  readonly port: PortSpec | null;
}

export interface DirectionResult {
  readonly direction: Direction;
  /** The tier that decided (`networkpolicy-v1`), or `default` when every tier said next. */
  readonly tier: string;
  /** True when some policy selects the subject pod with this policy type. */
  readonly isolated: boolean;
  readonly isolatingPolicies: readonly PolicyRef[];
  readonly allowedBy: readonly RuleMatch[];
  readonly verdict: TierAnswer;
}

/** Why a connection is allowed without consulting policies, or 'policy' when they decided. */
export type VerdictBasis = 'policy' | 'loopback' | 'node';

export interface Verdict {
  readonly allowed: boolean;
  readonly basis: VerdictBasis;
  readonly port: number;
  readonly protocol: Protocol;
  readonly egress: DirectionResult;
  readonly ingress: DirectionResult;
  /** Human lines: isolating policies, and the policy/rule/peer that allows, or that none does. */
  readonly explanation: readonly string[];
}

/** Reachability of every pod pair for one port: `allowed[i][j]` for pods[i] -> pods[j]. */
export interface Matrix {
  /** `namespace/name`, in model order. */
  readonly pods: readonly string[];
  readonly port: number;
  readonly protocol: Protocol;
  readonly allowed: readonly (readonly boolean[])[];
}

// ---------------------------------------------------------------------------------------------
// Conversion of raw objects (src/netpol/model/policy.ts `toNetpolPolicy`; load.ts adds positions)

/** A problem in a raw object: `path` is the Kubernetes field path (`spec.ingress[0].from[1].ipBlock.cidr`). */
export interface ObjectProblem {
  readonly path: string;
  readonly message: string;
}

/** `toNetpolPolicy(raw, source?)`: the validated policy, or every problem found (never both). */
export type PolicyConversion =
  | { readonly ok: true; readonly policy: NetpolPolicy }
  | { readonly ok: false; readonly problems: readonly ObjectProblem[] };
