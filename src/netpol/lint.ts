/**
 * `podsec netpol lint`: what in a set of NetworkPolicies is probably not what its author meant.
 * Pure: cluster input in, findings out (no I/O). The findings are
 * - pods that no policy isolates in a direction (every pod may reach them / they may reach anything),
 * - policies that select no pod,
 * - selector peers that match no pod,
 * - named ports that resolve on no destination pod (by name AND protocol),
 * - rules made redundant by a broader rule of a policy selecting the same pods.
 * Redundancy is judged on the rules' text (selector and CIDR containment), not on the pods
 * that happen to exist, so a rule is never called redundant just because the cluster is small.
 * The one cluster fact used is the policy namespace's labels: a lone podSelector peer is within
 * a namespaceSelector peer that those labels match today. Such a finding says "given the
 * current labels of namespace X" (relabelling the namespace would make the rule needed again);
 * every other redundancy finding is structural and holds whatever the labels.
 * hostNetwork pods are node traffic: never isolated, never selected, never matched by selectors;
 * a policy or peer that matches only such pods says so.
 * Without any pod in the input (policies from a GitOps repository) the checks that judge
 * selectors against pods are skipped with a note, and so are podSelector checks in a namespace
 * that holds no pod: "selects nothing" there means "nothing was given", not a mistake.
 */
import { matchesSelector } from '../lib/label-selector/index.js';
import { describeSelector } from './generate.js';
import { compile, resolveNamedPort, type CompiledPolicy, type CompiledRule } from './compile.js';
import type { Bitset } from './model/bitset.js';
import { NAMESPACE_NAME_LABEL, type NetpolModel } from './model/build.js';
import { cidrWithin, parseCidr } from './model/cidr.js';
import type {
  ClusterInput,
  Direction,
  LabelSelector,
  Labels,
  Peer,
  PolicyRef,
  PortSpec,
  Rule,
  SourceRef,
} from './model/types.js';

export const LINT_CODES = [
  'pod-not-isolated',
  'policy-selects-nothing',
  'peer-matches-nothing',
  'named-port-unresolved',
  'rule-redundant',
] as const;
export type LintCode = (typeof LINT_CODES)[number];

export interface LintFinding {
  readonly code: LintCode;
  readonly message: string;
  /** The policy the finding is about (null for a pod that no policy isolates). */
  readonly policy: PolicyRef | null;
  /** `namespace/name` of the pod the finding is about, when it is about a pod. */
  readonly pod: string | null;
  readonly direction: Direction | null;
  /** Field path inside the policy (`spec.ingress[0].from[1]`), null for the whole object. */
  readonly path: string | null;
  readonly source: SourceRef | null;
  /**
   * Where a reader finds it: the line and column of `path` in the policy's file (of its nearest
   * existing parent when the field is absent), or the policy's first line when the loader gave
   * no way to locate fields; null for pods.
   */
  readonly location: FindingLocation | null;
}

export interface FindingLocation {
  readonly file: string | null;
  readonly line: number;
  readonly column: number | null;
}

export interface LintReport {
  readonly findings: readonly LintFinding[];
  readonly counts: Readonly<Record<LintCode, number>>;
  /** Checks left out and why (no pods to judge selectors on); not findings. */
  readonly notes: readonly string[];
}

/** The note of a run whose input holds no pod at all (a GitOps repo of policies). */
export const NO_PODS_NOTE =
  'no pods in the input: selector checks skipped; scan a cluster dump or add --state';

const RULES_KEY: Record<Direction, 'ingress' | 'egress'> = { ingress: 'ingress', egress: 'egress' };
const PEERS_KEY: Record<Direction, 'from' | 'to'> = { ingress: 'from', egress: 'to' };

function nsLabelsOf(model: NetpolModel, ns: string): Labels {
  const i = model.namespaceIndex.get(ns);
  return (i === undefined ? null : model.namespaces[i]?.labels) ?? { [NAMESPACE_NAME_LABEL]: ns };
}

function sameMembers(a: Bitset, b: Bitset): boolean {
  return a.clone().andNot(b).isEmpty() && b.clone().andNot(a).isEmpty();
}

// ---------------------------------------------------------------------------------------------
// Containment, on the rules' text

type Req = { key: string; op: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values: readonly string[] };

function requirements(s: LabelSelector): Req[] {
  return [
    ...Object.entries(s.matchLabels).map(([key, v]) => ({ key, op: 'In' as const, values: [v] })),
    ...s.matchExpressions.map((e) => ({ key: e.key, op: e.operator, values: e.values })),
  ];
}

/** True when requirement `a` alone guarantees `b` (same key). */
function implies(a: Req, b: Req): boolean {
  if (a.key !== b.key) return false;
  switch (b.op) {
    case 'In':
      return a.op === 'In' && a.values.every((v) => b.values.includes(v));
    case 'NotIn':
      return (
        (a.op === 'NotIn' && b.values.every((v) => a.values.includes(v))) ||
        (a.op === 'In' && a.values.every((v) => !b.values.includes(v))) ||
        a.op === 'DoesNotExist'
      );
    case 'Exists':
      return a.op === 'In' || a.op === 'Exists';
    case 'DoesNotExist':
      return a.op === 'DoesNotExist';
  }
}

/** True when everything `narrow` matches, `broad` matches too (judged on the text). */
export function selectorWithin(narrow: LabelSelector, broad: LabelSelector): boolean {
  const a = requirements(narrow);
  return requirements(broad).every((b) => a.some((x) => implies(x, b)));
}

const EMPTY: LabelSelector = { matchLabels: {}, matchExpressions: [] };

/** A lone podSelector means the policy's namespace: as a selector on its name label. */
function namespaceScope(peer: Peer & { kind: 'selector' }, policyNs: string): LabelSelector {
  return (
    peer.namespaceSelector ?? { matchLabels: { [NAMESPACE_NAME_LABEL]: policyNs }, matchExpressions: [] }
  );
}

/**
 * How one peer or rule is within another: on the text alone ('structural'), or only because of
 * the namespace labels the input holds now ('labels': a lone podSelector inside a
 * namespaceSelector that its namespace's current labels match), or not (null).
 */
type Containment = 'structural' | 'labels' | null;

function peerWithin(model: NetpolModel, narrow: Peer, nNs: string, broad: Peer, bNs: string): Containment {
  return structuralPeerWithin(narrow, nNs, broad, bNs)
    ? 'structural'
    : labelPeerWithin(model, narrow, nNs, broad)
      ? 'labels'
      : null;
}

/** A lone podSelector (its own namespace) inside a namespaceSelector its namespace matches today. */
function labelPeerWithin(model: NetpolModel, narrow: Peer, nNs: string, broad: Peer): boolean {
  if (narrow.kind !== 'selector' || broad.kind !== 'selector') return false;
  if (narrow.namespaceSelector !== null || broad.namespaceSelector === null) return false;
  if (!selectorWithin(narrow.podSelector ?? EMPTY, broad.podSelector ?? EMPTY)) return false;
  return matchesSelector(broad.namespaceSelector, nsLabelsOf(model, nNs));
}

function structuralPeerWithin(narrow: Peer, nNs: string, broad: Peer, bNs: string): boolean {
  if (narrow.kind === 'ipBlock' || broad.kind === 'ipBlock') {
    if (narrow.kind !== 'ipBlock' || broad.kind !== 'ipBlock') return false;
    const n = parseCidr(narrow.ipBlock.cidr);
    const b = parseCidr(broad.ipBlock.cidr);
    if (n === null || b === null || !cidrWithin(n, b)) return false;
    // Each hole of the broad block that reaches into the narrow one must be a hole there too.
    const nHoles = narrow.ipBlock.except.map(parseCidr);
    return broad.ipBlock.except.every((text) => {
      const hole = parseCidr(text);
      if (hole === null) return false;
      const overlaps = cidrWithin(hole, n) || cidrWithin(n, hole);
      return !overlaps || nHoles.some((h) => h !== null && cidrWithin(hole, h));
    });
  }
  if (!selectorWithin(narrow.podSelector ?? EMPTY, broad.podSelector ?? EMPTY)) return false;
  const nScope = namespaceScope(narrow, nNs);
  // A broad lone podSelector also covers a namespaceSelector that names that namespace only.
  if (broad.namespaceSelector === null && narrow.namespaceSelector === null) return nNs === bNs;
  return selectorWithin(nScope, namespaceScope(broad, bNs));
}

function portWithin(narrow: PortSpec, broad: PortSpec): boolean {
  if (narrow.protocol !== broad.protocol) return false;
  if (broad.port === null) return true;
  if (narrow.port === null) return false;
  if (typeof broad.port === 'string' || typeof narrow.port === 'string') return narrow.port === broad.port;
  const lo = narrow.port;
  const hi = narrow.endPort ?? narrow.port;
  return lo >= broad.port && hi <= (broad.endPort ?? broad.port);
}

function ruleWithin(model: NetpolModel, narrow: Rule, nNs: string, broad: Rule, bNs: string): Containment {
  const portsOk =
    broad.ports === 'all' ||
    (narrow.ports !== 'all' &&
      narrow.ports.every((p) => (broad.ports as readonly PortSpec[]).some((q) => portWithin(p, q))));
  if (!portsOk) return null;
  if (broad.peers === 'all') return 'structural';
  if (narrow.peers === 'all') return null;
  const broadPeers = broad.peers;
  let how: Containment = 'structural';
  for (const p of narrow.peers) {
    const each = broadPeers.map((q) => peerWithin(model, p, nNs, q, bNs));
    if (each.includes('structural')) continue;
    if (!each.includes('labels')) return null;
    how = 'labels';
  }
  return how;
}

// ---------------------------------------------------------------------------------------------

function rulePath(dir: Direction, i: number): string {
  return `spec.${RULES_KEY[dir]}[${i}]`;
}

function describePeer(peer: Peer, policyNs: string): string {
  if (peer.kind === 'ipBlock') return `ipBlock ${peer.ipBlock.cidr}`;
  const pods =
    peer.podSelector === null ? 'every pod' : `pods ${describeSelector(peer.podSelector) || '(all)'}`;
  const nss =
    peer.namespaceSelector === null
      ? `namespace ${policyNs}`
      : `namespaces ${describeSelector(peer.namespaceSelector) || '(all)'}`;
  return `${pods} in ${nss}`;
}

function rulesOf(cp: CompiledPolicy, dir: Direction): readonly CompiledRule[] | null {
  return dir === 'ingress' ? cp.ingress : cp.egress;
}

/** `hostNetwork pod c/hp` / `hostNetwork pods c/a, c/b`. */
function hostNetworkPods(keys: readonly string[]): string {
  return `hostNetwork pod${keys.length === 1 ? '' : 's'} ${keys.join(', ')}`;
}

/**
 * Lints the input; findings come policy by policy in input order, then the pods. Checks that
 * judge selectors against pods (policy-selects-nothing, peer-matches-nothing,
 * named-port-unresolved) are skipped when the input holds no pod at all (a repository of
 * policies, with a note saying so), and a podSelector is not judged in a namespace without pods.
 */
export function lintNetpol(input: ClusterInput): LintReport {
  const compiled = compile(input);
  const { model } = compiled;
  const findings: Omit<LintFinding, 'location'>[] = [];
  const notes: string[] = [];
  const anyPods = model.pods.length > 0;
  if (!anyPods && compiled.policies.length > 0) notes.push(NO_PODS_NOTE);
  const podsIn = (ns: string): boolean => {
    const i = model.namespaceIndex.get(ns);
    return i !== undefined && (model.podsByNamespace[i]?.length ?? 0) > 0;
  };
  /** hostNetwork pods (by key) matching a pod selector in the namespaces `nsOk` accepts. */
  const hostNetworkMatches = (podSelector: LabelSelector | null, nsOk: (ns: string) => boolean): string[] =>
    model.pods.flatMap((pod, i) =>
      pod.hostNetwork &&
      nsOk(pod.namespace) &&
      (podSelector === null || matchesSelector(podSelector, pod.labels))
        ? [model.podKeys[i]!]
        : [],
    );
  const skippedNamespaces = new Set<string>();

  for (const cp of compiled.policies) {
    const policy = cp.policy;
    const base = { policy: cp.ref, pod: null, source: policy.source };
    const judgeOwnNamespace = anyPods && podsIn(policy.namespace);
    if (anyPods && !judgeOwnNamespace) skippedNamespaces.add(policy.namespace);
    if (judgeOwnNamespace && cp.selected.isEmpty()) {
      const host = hostNetworkMatches(policy.podSelector, (ns) => ns === policy.namespace);
      findings.push({
        ...base,
        code: 'policy-selects-nothing',
        message:
          host.length > 0
            ? `policy ${policy.namespace}/${policy.name} matches only ${hostNetworkPods(host)}, which policies never select`
            : `policy ${policy.namespace}/${policy.name} selects no pod in namespace ${policy.namespace}`,
        direction: null,
        path: 'spec.podSelector',
      });
    }
    for (const dir of ['ingress', 'egress'] as const) {
      for (const rule of rulesOf(cp, dir) ?? []) {
        const ri = rule.index;
        if (rule.peers !== 'all' && anyPods) {
          rule.peers.forEach((peer, pi) => {
            const p = peer.peer;
            if (p.kind !== 'selector' || !peer.pods.isEmpty()) return;
            // A lone podSelector is judged only where there are pods to judge it on.
            if (p.namespaceSelector === null && !judgeOwnNamespace) return;
            const nsSelector = p.namespaceSelector;
            const host = hostNetworkMatches(p.podSelector, (ns) =>
              nsSelector === null
                ? ns === policy.namespace
                : matchesSelector(nsSelector, nsLabelsOf(model, ns)),
            );
            const what = `${dir} rule ${ri} peer ${pi} (${describePeer(p, policy.namespace)})`;
            findings.push({
              ...base,
              code: 'peer-matches-nothing',
              message:
                host.length > 0
                  ? `${what} matches only ${hostNetworkPods(host)}, which policies never select`
                  : `${what} matches no pod`,
              direction: dir,
              path: `${rulePath(dir, ri)}.${PEERS_KEY[dir]}[${pi}]`,
            });
          });
        }
        if (rule.ports === 'all' || !anyPods) continue;
        // Ingress named ports resolve on the selected pods: not judged in a namespace without pods.
        if (dir === 'ingress' && !judgeOwnNamespace) continue;
        // Named ports resolve on the destination: the selected pods for ingress, the peers for egress.
        const destinations = (dir === 'ingress' ? cp.selected : rule.peerPods).toArray();
        rule.ports.forEach((port, qi) => {
          if (typeof port.port !== 'string') return;
          const name = port.port;
          if (destinations.some((pod) => resolveNamedPort(model, pod, name, port.protocol) !== null)) return;
          findings.push({
            ...base,
            code: 'named-port-unresolved',
            message: `${dir} rule ${ri}: named port ${name}/${port.protocol} is on no ${dir === 'ingress' ? 'selected' : 'destination'} pod`,
            direction: dir,
            path: `${rulePath(dir, ri)}.ports[${qi}]`,
          });
        });
      }
    }
  }

  // Redundant rules: covered by a rule of a policy (this one or another) selecting the same pods.
  for (const cp of compiled.policies) {
    const policy = cp.policy;
    for (const dir of ['ingress', 'egress'] as const) {
      const rules = rulesOf(cp, dir);
      if (rules === null) continue;
      const candidates = compiled.policies.filter(
        (o) =>
          rulesOf(o, dir) !== null &&
          o.policy.namespace === policy.namespace &&
          (o === cp || (!cp.selected.isEmpty() && sameMembers(cp.selected, o.selected))),
      );
      for (const { rule, index: ri } of rules) {
        for (const other of candidates) {
          let how: Containment = null;
          const j = (rulesOf(other, dir) ?? []).findIndex(({ rule: broad, index: bi }) => {
            if (other === cp && bi === ri) return false;
            how = ruleWithin(model, rule, policy.namespace, broad, other.policy.namespace);
            if (how === null) return false;
            // Two equal rules cover each other: only the later one (policy order, then rule order) is reported.
            if (ruleWithin(model, broad, other.policy.namespace, rule, policy.namespace) === null)
              return true;
            return other.index < cp.index || (other.index === cp.index && bi < ri);
          });
          if (j < 0) continue;
          const where =
            other === cp
              ? `rule ${j} of this policy`
              : `${dir} rule ${j} of ${other.ref.namespace}/${other.ref.name}`;
          const given = how === 'labels' ? ` given the current labels of namespace ${policy.namespace}` : '';
          findings.push({
            policy: cp.ref,
            pod: null,
            source: policy.source,
            code: 'rule-redundant',
            message: `${dir} rule ${ri} is redundant${given}: ${where} allows everything it does`,
            direction: dir,
            path: rulePath(dir, ri),
          });
          break;
        }
      }
    }
  }

  for (const dir of ['ingress', 'egress'] as const) {
    const isolating = dir === 'ingress' ? compiled.ingressPolicies : compiled.egressPolicies;
    model.pods.forEach((pod, i) => {
      if (pod.hostNetwork || (isolating[i]?.length ?? 0) > 0) return;
      const key = model.podKeys[i]!;
      findings.push({
        code: 'pod-not-isolated',
        message:
          dir === 'ingress'
            ? `pod ${key} is not isolated for ingress: every pod may reach it`
            : `pod ${key} is not isolated for egress: it may reach every pod and address`,
        policy: null,
        pod: key,
        direction: dir,
        path: null,
        source: null,
      });
    });
  }

  const counts = Object.fromEntries(LINT_CODES.map((c) => [c, 0])) as Record<LintCode, number>;
  for (const f of findings) counts[f.code]++;
  for (const ns of skippedNamespaces) {
    notes.push(`no pods in namespace ${ns} in the input: podSelector checks of its policies skipped`);
  }
  return {
    findings: findings.map((f) => ({ ...f, location: locateFinding(f.source, f.path) })),
    counts,
    notes,
  };
}

function locateFinding(source: SourceRef | null, path: string | null): FindingLocation | null {
  if (source === null) return null;
  if (path === null || source.locate === undefined) {
    return { file: source.file, line: source.line, column: null };
  }
  const pos = source.locate(path);
  return { file: source.file, line: pos.line, column: pos.column };
}
