/**
 * Recommended NetworkPolicies (`podsec netpol generate`): a default deny that keeps DNS working,
 * and the two allows people write next (from labelled pods of the same namespace, from labelled
 * or named namespaces). The output is plain networking.k8s.io/v1 manifests that the API server
 * accepts and podsec's own loader reads back without a problem; every argument is validated
 * here first, so a typo becomes a usage error instead of a policy that silently matches nothing.
 *
 * Why the deny-all comes as two policies: the isolation and the DNS exception are separate
 * objects, so a user who runs their own resolver can delete the DNS one without touching the
 * deny (and `--no-dns` leaves it out). In kube-system the deny-all also isolates the cluster DNS
 * pods themselves, which would break name resolution for the whole cluster, so there it comes
 * with two more exceptions (queries in from every namespace, CoreDNS's own traffic out) and a
 * warning (`generateWarnings`).
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { PodsecError } from '../lib/errors.js';
import { parseSelectorText } from '../lib/label-selector/index.js';
import type { LabelSelector, LabelSelectorRequirement } from '../lib/label-selector/index.js';
import { NAMESPACE_NAME_LABEL } from './model/build.js';
import { portNameProblem } from './model/policy.js';
import { PROTOCOLS } from './model/types.js';
import type { Protocol } from './model/types.js';

export const GENERATE_KINDS = ['deny-all', 'allow-from-labels', 'allow-from-namespace'] as const;
export type GenerateKind = (typeof GENERATE_KINDS)[number];

/** One `--port` value: a number, a range (`8000-8080`, emitted as port + endPort) or a named port. */
export interface PortArg {
  readonly port: number | string;
  readonly endPort?: number;
  readonly protocol: Protocol;
}

/** The label every generated object carries, so `kubectl get netpol -l` finds them. */
export const MANAGED_BY_LABEL = { 'app.kubernetes.io/managed-by': 'podsec' } as const;
/** Namespace and pods of the cluster DNS, as kubeadm, AKS, EKS and GKE label them. */
export const DNS_NAMESPACE = 'kube-system';
export const DNS_POD_LABELS = { 'k8s-app': 'kube-dns' } as const;
const PURPOSE_ANNOTATION = 'podsec.io/purpose';

/** The command line, as given (strings not yet validated). */
export interface GenerateArgs {
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly podSelector?: string | undefined;
  readonly fromPodSelector?: string | undefined;
  readonly fromNamespaceSelector?: string | undefined;
  /** Namespace names (`--from-namespace`), matched by their `kubernetes.io/metadata.name` label. */
  readonly fromNamespaces?: readonly string[] | undefined;
  readonly ports?: readonly string[] | undefined;
  /** `--protocol`: the protocol of ports given without one. */
  readonly protocol?: string | undefined;
  /** False for `--no-dns`. */
  readonly dns?: boolean | undefined;
}

/** A validated request. */
export interface GenerateRequest {
  readonly kind: GenerateKind;
  readonly namespace: string;
  readonly podSelector: LabelSelector;
  readonly fromPodSelector: LabelSelector | null;
  /** `--from-namespace-selector`. Allowed namespaces are those it matches OR those named in `fromNamespaces`. */
  readonly fromNamespaceSelector: LabelSelector | null;
  /** `--from-namespace` names, sorted and without duplicates. */
  readonly fromNamespaces: readonly string[];
  readonly ports: readonly PortArg[];
  readonly dns: boolean;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; hint?: string };

/** A generated manifest and the sentence that explains it (the YAML comment, the annotation). */
export interface GeneratedPolicy {
  readonly explanation: string;
  readonly manifest: NetworkPolicyManifest;
}

/** The manifest shape podsec writes (a subset of networking.k8s.io/v1 NetworkPolicy). */
export interface NetworkPolicyManifest {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'NetworkPolicy';
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: {
    podSelector: SelectorManifest;
    policyTypes: ('Ingress' | 'Egress')[];
    ingress?: RuleManifest[];
    egress?: RuleManifest[];
  };
}

export interface SelectorManifest {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface PeerManifest {
  podSelector?: SelectorManifest;
  namespaceSelector?: SelectorManifest;
}

export interface RuleManifest {
  from?: PeerManifest[];
  to?: PeerManifest[];
  ports?: { protocol: Protocol; port?: number | string; endPort?: number }[];
}

// --- argument parsing -------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `name` is not a valid namespace name (an RFC 1123 label), or null. */
export function namespaceNameProblem(name: string): string | null {
  if (name.length === 0) return 'a namespace name cannot be empty';
  if (name.length > 63 || !DNS_LABEL.test(name)) {
    return `namespace name ${JSON.stringify(name)} must be at most 63 lower-case letters, digits or '-', starting and ending with a letter or digit`;
  }
  return null;
}

/** `TCP`, `udp`, `Sctp` -> the API spelling; null when not a NetworkPolicy protocol. */
export function parseProtocol(text: string): Protocol | null {
  const upper = text.trim().toUpperCase();
  return (PROTOCOLS as readonly string[]).includes(upper) ? (upper as Protocol) : null;
}

const PORT_NUMBER = /^[0-9]+$/;

function portNumber(text: string): number | null {
  if (!PORT_NUMBER.test(text)) return null;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : null;
}

/**
 * `--port P[/PROTO]` (CONTRACTS.md section 2): P is a number 1-65535, a range `N-M` (N <= M)
 * or a port name; PROTO is TCP (the default, or `defaultProtocol`), UDP or SCTP in any case.
 */
export function parsePortArg(text: string, defaultProtocol: Protocol = 'TCP'): Parsed<PortArg> {
  const bad = (why: string): Parsed<PortArg> => ({
    ok: false,
    message: `invalid --port ${JSON.stringify(text)}: ${why}`,
    hint: 'write P[/PROTO]: 8080, 8080/UDP, 8000-8080/TCP or a container port name such as http',
  });
  const slash = text.indexOf('/');
  const portText = (slash < 0 ? text : text.slice(0, slash)).trim();
  let protocol = defaultProtocol;
  if (slash >= 0) {
    const p = parseProtocol(text.slice(slash + 1));
    if (p === null)
      return bad(`unknown protocol ${JSON.stringify(text.slice(slash + 1))} (TCP, UDP or SCTP)`);
    protocol = p;
  }
  if (portText === '') return bad('the port is missing');
  const range = /^([0-9]+)-([0-9]+)$/.exec(portText);
  if (range !== null) {
    const start = portNumber(range[1] ?? '');
    const end = portNumber(range[2] ?? '');
    if (start === null || end === null) return bad('range ends must be numbers from 1 to 65535');
    if (end < start) return bad(`the range end ${end} is below its start ${start}`);
    return {
      ok: true,
      value: start === end ? { port: start, protocol } : { port: start, endPort: end, protocol },
    };
  }
  if (PORT_NUMBER.test(portText)) {
    const n = portNumber(portText);
    return n === null
      ? bad('a port number must be from 1 to 65535')
      : { ok: true, value: { port: n, protocol } };
  }
  const nameProblem = portNameProblem(portText);
  if (nameProblem !== null) return bad(nameProblem);
  return { ok: true, value: { port: portText, protocol } };
}

/** Selector text (`app=web,tier in (a,b)`) as a label selector, or the usage problem. */
export function parseSelectorArg(flag: string, text: string): Parsed<LabelSelector> {
  try {
    return { ok: true, value: parseSelectorText(text) };
  } catch (e) {
    const why = e instanceof PodsecError ? e.message : String(e);
    return {
      ok: false,
      message: `${flag}: ${why}`,
      hint: 'write labels as K=V,K2=V2 (also K!=V, K in (a,b), K notin (a), K, !K)',
    };
  }
}

function usage(message: string, hint?: string): { ok: false; message: string; hint?: string } {
  return hint === undefined ? { ok: false, message } : { ok: false, message, hint };
}

/** Validates the command line; every problem is a usage error (exit 2) with a clear message. */
export function parseGenerateArgs(args: GenerateArgs): Parsed<GenerateRequest> {
  if (!(GENERATE_KINDS as readonly string[]).includes(args.kind)) {
    return usage(`unknown policy ${JSON.stringify(args.kind)}`, `choose one of ${GENERATE_KINDS.join(', ')}`);
  }
  const kind = args.kind as GenerateKind;
  if (args.namespace === undefined) {
    return usage(
      '--namespace is required',
      'NetworkPolicies are namespaced: name the namespace of the pods to protect',
    );
  }
  const nsProblem = namespaceNameProblem(args.namespace);
  if (nsProblem !== null) return usage(`--namespace: ${nsProblem}`);

  const podSelector = parseSelectorArg('--pod-selector', args.podSelector ?? '');
  if (!podSelector.ok) return podSelector;

  let fromPodSelector: LabelSelector | null = null;
  if (args.fromPodSelector !== undefined) {
    const p = parseSelectorArg('--from-pod-selector', args.fromPodSelector);
    if (!p.ok) return p;
    fromPodSelector = p.value;
  }
  let fromNamespaceSelector: LabelSelector | null = null;
  if (args.fromNamespaceSelector !== undefined) {
    const p = parseSelectorArg('--from-namespace-selector', args.fromNamespaceSelector);
    if (!p.ok) return p;
    fromNamespaceSelector = p.value;
  }
  const names = args.fromNamespaces ?? [];
  for (const name of names) {
    const problem = namespaceNameProblem(name);
    if (problem !== null) return usage(`--from-namespace: ${problem}`);
  }
  const fromNamespaces = [...new Set(names)].sort();

  let defaultProtocol: Protocol = 'TCP';
  if (args.protocol !== undefined) {
    const p = parseProtocol(args.protocol);
    if (p === null)
      return usage(`--protocol: unknown protocol ${JSON.stringify(args.protocol)}`, 'use TCP, UDP or SCTP');
    defaultProtocol = p;
  }
  const ports: PortArg[] = [];
  for (const text of args.ports ?? []) {
    const p = parsePortArg(text, defaultProtocol);
    if (!p.ok) return p;
    if (!ports.some((q) => samePort(q, p.value))) ports.push(p.value);
  }
  if (args.protocol !== undefined && ports.length === 0 && kind !== 'deny-all') {
    return usage(
      '--protocol needs --port',
      'for every port of one protocol there is no flag; give --port with a range 1-65535/PROTO',
    );
  }
  const dns = args.dns ?? true;

  if (kind === 'deny-all') {
    const extra = [
      fromPodSelector !== null ? '--from-pod-selector' : null,
      fromNamespaceSelector !== null ? '--from-namespace-selector' : null,
      fromNamespaces.length > 0 ? '--from-namespace' : null,
      ports.length > 0 ? '--port' : null,
      args.protocol !== undefined ? '--protocol' : null,
    ].filter((f): f is string => f !== null);
    if (extra.length > 0) {
      return usage(
        `deny-all takes no ${extra.join(', ')}`,
        'generate the deny first, then the allows (allow-from-labels, allow-from-namespace) with their peers and ports',
      );
    }
  } else {
    if (!dns)
      return usage(`--no-dns applies to deny-all only`, `${kind} only adds ingress; it never blocks DNS`);
    if (kind === 'allow-from-labels') {
      if (fromNamespaceSelector !== null || fromNamespaces.length > 0) {
        return usage(
          'allow-from-labels allows pods of the same namespace; it takes no --from-namespace-selector or --from-namespace',
          'use allow-from-namespace with --from-pod-selector to allow labelled pods of other namespaces',
        );
      }
      if (fromPodSelector === null) {
        return usage(
          'allow-from-labels needs --from-pod-selector',
          'for example --from-pod-selector app=frontend',
        );
      }
    } else if (fromNamespaceSelector === null && fromNamespaces.length === 0) {
      return usage(
        'allow-from-namespace needs --from-namespace-selector or --from-namespace',
        'for example --from-namespace-selector team=payments, or --from-namespace monitoring',
      );
    }
  }
  return {
    ok: true,
    value: {
      kind,
      namespace: args.namespace,
      podSelector: podSelector.value,
      fromPodSelector,
      fromNamespaceSelector,
      fromNamespaces,
      ports,
      dns,
    },
  };
}

function samePort(a: PortArg, b: PortArg): boolean {
  return a.port === b.port && a.endPort === b.endPort && a.protocol === b.protocol;
}

// --- manifests --------------------------------------------------------------------------

/**
 * The selector as a manifest: single-value `In` requirements (what `K=V` parses to) become
 * matchLabels, which is how people write and read them; the rest stay expressions.
 */
export function selectorManifest(selector: LabelSelector): SelectorManifest {
  const matchLabels: Record<string, string> = { ...selector.matchLabels };
  const matchExpressions: { key: string; operator: string; values?: string[] }[] = [];
  const singleIn = new Map<string, number>();
  for (const req of selector.matchExpressions) {
    if (req.operator === 'In' && req.values.length === 1)
      singleIn.set(req.key, (singleIn.get(req.key) ?? 0) + 1);
  }
  for (const req of selector.matchExpressions) {
    const value = req.values[0];
    if (
      req.operator === 'In' &&
      req.values.length === 1 &&
      value !== undefined &&
      singleIn.get(req.key) === 1 &&
      !Object.hasOwn(selector.matchLabels, req.key)
    ) {
      matchLabels[req.key] = value;
    } else if (req.operator === 'Exists' || req.operator === 'DoesNotExist') {
      matchExpressions.push({ key: req.key, operator: req.operator });
    } else {
      matchExpressions.push({ key: req.key, operator: req.operator, values: [...req.values] });
    }
  }
  const out: SelectorManifest = {};
  if (Object.keys(matchLabels).length > 0) out.matchLabels = matchLabels;
  if (matchExpressions.length > 0) out.matchExpressions = matchExpressions;
  return out;
}

/** Selector in the words of a sentence: `app=web, tier in (a, b)`; `{}` reads "every pod". */
export function describeSelector(selector: LabelSelector): string {
  const terms: string[] = Object.entries(selector.matchLabels).map(([k, v]) => `${k}=${v}`);
  for (const r of selector.matchExpressions) {
    switch (r.operator) {
      case 'In':
        terms.push(
          r.values.length === 1 ? `${r.key}=${r.values[0] ?? ''}` : `${r.key} in (${r.values.join(', ')})`,
        );
        break;
      case 'NotIn':
        terms.push(
          r.values.length === 1
            ? `${r.key}!=${r.values[0] ?? ''}`
            : `${r.key} notin (${r.values.join(', ')})`,
        );
        break;
      case 'Exists':
        terms.push(r.key);
        break;
      case 'DoesNotExist':
        terms.push(`!${r.key}`);
        break;
    }
  }
  return terms.join(', ');
}

const MAX_NAME = 63;

/**
 * Selector words usable in an object name: `app=web` -> `app-web`; key prefixes are dropped
 * and a namespace's name label contributes only the names (`--from-namespace monitoring`
 * -> `monitoring`).
 */
function slug(selector: LabelSelector): string {
  const words: string[] = [];
  const key = (k: string): string[] => (k === NAMESPACE_NAME_LABEL ? [] : [k.slice(k.indexOf('/') + 1)]);
  for (const [k, v] of Object.entries(selector.matchLabels)) words.push(...key(k), v);
  for (const r of selector.matchExpressions) {
    const not = r.operator === 'NotIn' || r.operator === 'DoesNotExist' ? ['not'] : [];
    words.push(...not, ...key(r.key), ...r.values);
  }
  return words
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function portSlug(ports: readonly PortArg[]): string {
  return ports
    .map((p) => `${p.port}${p.endPort === undefined ? '' : `-${p.endPort}`}-${p.protocol.toLowerCase()}`)
    .join('-');
}

/**
 * A valid object name from readable parts. Names longer than 63 characters (the limit that
 * keeps them usable as label values too) are cut at a word boundary (never inside a word such
 * as `tcp`) and end in a hash of the full name, so two different requests never share a name.
 */
export function policyName(parts: readonly string[]): string {
  const full = parts
    .filter((p) => p !== '')
    .join('-')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (full.length <= MAX_NAME) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  const room = MAX_NAME - hash.length - 1;
  // Keep whole words: cut before the last '-' that fits, unless the cut already falls on one.
  // A single word longer than the room is cut hard (there is no boundary to keep).
  const lastDash = full.lastIndexOf('-', room);
  const end = full[room] === '-' || lastDash <= 0 ? room : lastDash;
  return `${full.slice(0, end).replace(/-+$/, '')}-${hash}`;
}

function metadata(name: string, namespace: string, explanation: string): NetworkPolicyManifest['metadata'] {
  return {
    name,
    namespace,
    labels: { ...MANAGED_BY_LABEL },
    annotations: { [PURPOSE_ANNOTATION]: explanation },
  };
}

function targetWords(req: GenerateRequest): string {
  const sel = describeSelector(req.podSelector);
  return sel === ''
    ? `every pod in namespace ${req.namespace}`
    : `the pods matching ${sel} in namespace ${req.namespace}`;
}

function portWords(ports: readonly PortArg[]): string {
  if (ports.length === 0) return 'on every port and protocol';
  const words = ports.map((p) =>
    typeof p.port === 'string'
      ? `the ${p.protocol} port named ${p.port}`
      : p.endPort === undefined
        ? `${p.protocol} ${p.port}`
        : `${p.protocol} ${p.port}-${p.endPort}`,
  );
  return `on ${words.join(', ')}`;
}

function portsManifest(ports: readonly PortArg[]): NonNullable<RuleManifest['ports']> {
  return ports.map((p) =>
    p.endPort === undefined
      ? { protocol: p.protocol, port: p.port }
      : { protocol: p.protocol, port: p.port, endPort: p.endPort },
  );
}

const DNS_PORTS: NonNullable<RuleManifest['ports']> = [
  { protocol: 'UDP', port: 53 },
  { protocol: 'TCP', port: 53 },
];
const DNS_PODS_WORDS = `the cluster DNS pods (k8s-app=kube-dns in namespace ${DNS_NAMESPACE})`;

/**
 * True when the deny-all targets the namespace of the cluster DNS. Generate cannot see pods, so
 * it keys on the namespace where kubeadm, AKS, EKS and GKE run kube-dns/CoreDNS.
 */
function deniesClusterDns(req: GenerateRequest): boolean {
  return req.kind === 'deny-all' && req.namespace === DNS_NAMESPACE;
}

function policy(
  name: string,
  namespace: string,
  explanation: string,
  spec: NetworkPolicyManifest['spec'],
): GeneratedPolicy {
  return {
    explanation,
    manifest: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(name, namespace, explanation),
      spec,
    },
  };
}

function denyAll(req: GenerateRequest): GeneratedPolicy[] {
  const target = slug(req.podSelector);
  const inDnsNamespace = deniesClusterDns(req);
  let dnsWords: string;
  if (!req.dns) {
    dnsWords = inDnsNamespace
      ? ` DNS is blocked too (--no-dns): ${DNS_PODS_WORDS}, when selected, neither accept queries nor ` +
        `reach their upstream resolvers and the API server, so name resolution breaks for every pod of the cluster.`
      : ' DNS is blocked too (--no-dns).';
  } else {
    dnsWords = inDnsNamespace
      ? ' DNS stays open through the companion policies: allow-dns (these pods query the cluster DNS), ' +
        'allow-dns-ingress (the cluster DNS pods accept queries from pods of every namespace) and ' +
        'allow-dns-egress-upstream (the cluster DNS pods reach their upstream resolvers and the API server).'
      : ' DNS stays open through the companion allow-dns policy.';
  }
  const denyExplanation =
    `Denies all ingress and egress of ${targetWords(req)}: they accept and open only the connections ` +
    `that other policies allow (replies, loopback and traffic from their own node stay allowed).` +
    dnsWords;
  const policies: GeneratedPolicy[] = [
    policy(policyName(['deny-all', target]), req.namespace, denyExplanation, {
      podSelector: selectorManifest(req.podSelector),
      policyTypes: ['Ingress', 'Egress'],
    }),
  ];
  if (!req.dns) return policies;
  const dnsExplanation =
    `Allows ${targetWords(req)} to reach the cluster DNS: UDP and TCP 53 to pods labelled ` +
    `k8s-app=kube-dns in namespace ${DNS_NAMESPACE}. Without it, the deny-all breaks name resolution.`;
  policies.push(
    policy(policyName(['allow-dns', target]), req.namespace, dnsExplanation, {
      podSelector: selectorManifest(req.podSelector),
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: DNS_NAMESPACE } },
              podSelector: { matchLabels: { ...DNS_POD_LABELS } },
            },
          ],
          ports: [...DNS_PORTS],
        },
      ],
    }),
  );
  if (!inDnsNamespace) return policies;
  const ingressExplanation =
    `Allows ${DNS_PODS_WORDS} to accept DNS queries, UDP and TCP 53, from pods of every namespace: ` +
    `the deny-all in ${DNS_NAMESPACE} would otherwise cut name resolution for the whole cluster. ` +
    `It also isolates those pods for ingress: other ports (such as CoreDNS metrics on 9153) and ` +
    `sources that are not pods (other nodes, host-network pods on other nodes) need a policy of their own.`;
  policies.push(
    policy('allow-dns-ingress', DNS_NAMESPACE, ingressExplanation, {
      podSelector: { matchLabels: { ...DNS_POD_LABELS } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: {} }], ports: [...DNS_PORTS] }],
    }),
  );
  const upstreamExplanation =
    `Allows ${DNS_PODS_WORDS} egress to every destination on every port. CoreDNS forwards the names ` +
    `it does not serve to upstream resolvers outside the cluster, and watches Services and ` +
    `EndpointSlices through the API server; neither address is known here and both vary by cluster, ` +
    `so the deny-all in ${DNS_NAMESPACE} must not cut them. Narrow it to your resolvers and API ` +
    `server addresses (ipBlock) if you know them.`;
  policies.push(
    policy('allow-dns-egress-upstream', DNS_NAMESPACE, upstreamExplanation, {
      podSelector: { matchLabels: { ...DNS_POD_LABELS } },
      policyTypes: ['Egress'],
      egress: [{}],
    }),
  );
  return policies;
}

/**
 * What the user must know before applying the policies (printed on stderr): a deny-all in
 * kube-system isolates system components, and with `--no-dns` it breaks cluster DNS.
 */
export function generateWarnings(req: GenerateRequest): string[] {
  if (!deniesClusterDns(req)) return [];
  const words = describeSelector(req.podSelector);
  const selected =
    words === '' ? 'every system component there' : `every system component there matching ${words}`;
  const base =
    `deny-all in namespace ${DNS_NAMESPACE} affects ${selected} (for example CoreDNS, ` +
    `metrics-server, CNI and ingress controllers): each one needs allows for the traffic it uses`;
  return req.dns
    ? [
        `${base}; only DNS is kept open (allow-dns, allow-dns-ingress, allow-dns-egress-upstream); ` +
          `review the others before applying`,
      ]
    : [
        `${base}; with --no-dns no DNS exception is generated, so cluster DNS will break: the kube-dns ` +
          `pods can neither answer queries nor reach their upstream resolvers and the API server`,
      ];
}

/** The selector of namespaces by their names (the label the API server sets on every namespace). */
function namespacesByName(names: readonly string[]): LabelSelector {
  const byName: LabelSelectorRequirement = { key: NAMESPACE_NAME_LABEL, operator: 'In', values: [...names] };
  return { matchLabels: {}, matchExpressions: [byName] };
}

/**
 * The source peers. allow-from-namespace gives one peer per way of naming namespaces
 * (`--from-namespace` names, `--from-namespace-selector` labels): separate peers are ORed, so a
 * namespace matching either is allowed. `--from-pod-selector` narrows each peer to those pods.
 */
function sourcePeers(req: GenerateRequest): { peers: PeerManifest[]; source: string; fromSlug: string } {
  const podWords = req.fromPodSelector === null ? '' : describeSelector(req.fromPodSelector);
  if (req.kind === 'allow-from-labels') {
    const pods = req.fromPodSelector ?? { matchLabels: {}, matchExpressions: [] };
    return {
      peers: [{ podSelector: selectorManifest(pods) }],
      source:
        podWords === ''
          ? `every pod of namespace ${req.namespace}`
          : `pods matching ${podWords} in namespace ${req.namespace}`,
      fromSlug: slug(pods),
    };
  }
  const peers: PeerManifest[] = [];
  const phrases: string[] = [];
  const slugs: string[] = [];
  const addPeer = (namespaces: LabelSelector, phrase: string): void => {
    const peer: PeerManifest = { namespaceSelector: selectorManifest(namespaces) };
    if (req.fromPodSelector !== null) peer.podSelector = selectorManifest(req.fromPodSelector);
    peers.push(peer);
    phrases.push(phrase);
    slugs.push(slug(namespaces));
  };
  if (req.fromNamespaces.length > 0) {
    const n = req.fromNamespaces;
    addPeer(namespacesByName(n), `${n.length === 1 ? 'namespace' : 'namespaces'} ${n.join(', ')}`);
  }
  if (req.fromNamespaceSelector !== null) {
    const words = describeSelector(req.fromNamespaceSelector);
    addPeer(req.fromNamespaceSelector, words === '' ? 'every namespace' : `namespaces matching ${words}`);
  }
  const nsPhrase = phrases.join(' or in ');
  if (req.fromPodSelector !== null) slugs.push(slug(req.fromPodSelector));
  return {
    peers,
    source: podWords === '' ? `every pod in ${nsPhrase}` : `pods matching ${podWords} in ${nsPhrase}`,
    fromSlug: slugs.filter((w) => w !== '').join('-'),
  };
}

function allowFrom(req: GenerateRequest): GeneratedPolicy {
  const { peers, source, fromSlug } = sourcePeers(req);
  const rule: RuleManifest = { from: peers };
  if (req.ports.length > 0) rule.ports = portsManifest(req.ports);
  const explanation =
    `Allows ingress to ${targetWords(req)} from ${source} ${portWords(req.ports)}. ` +
    `It also isolates those pods for ingress: other sources need a policy of their own. ` +
    `Sources that are isolated for egress (a deny-all in their namespace) also need an egress allow.`;
  const target = slug(req.podSelector);
  const name = policyName([
    req.kind === 'allow-from-labels' ? 'allow-from' : 'allow-from-ns',
    fromSlug === '' ? 'all' : fromSlug,
    target === '' ? '' : `to-${target}`,
    req.ports.length === 0 ? '' : `port-${portSlug(req.ports)}`,
  ]);
  return {
    explanation,
    manifest: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(name, req.namespace, explanation),
      spec: { podSelector: selectorManifest(req.podSelector), policyTypes: ['Ingress'], ingress: [rule] },
    },
  };
}

/** The policies for a validated request, in the order to apply them. */
export function generatePolicies(req: GenerateRequest): GeneratedPolicy[] {
  return req.kind === 'deny-all' ? denyAll(req) : [allowFrom(req)];
}

function commentLines(text: string, width = 96): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > width && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  if (line !== '#') lines.push(line);
  return lines;
}

/**
 * Multi-document YAML, each document opened by a comment that says what it does. `command`
 * (the command line that produced it) goes in the first comment so the file says how to redo it.
 */
export function renderYaml(policies: readonly GeneratedPolicy[], command?: string): string {
  return policies
    .map((p, i) => {
      const header = [
        ...(i === 0 && command !== undefined ? [`# Generated by: ${command}`] : []),
        `# ${p.manifest.metadata.namespace}/${p.manifest.metadata.name}`,
        ...commentLines(p.explanation),
      ];
      return `---\n${header.join('\n')}\n${stringify(p.manifest, { lineWidth: 0 })}`;
    })
    .join('');
}

/** A `v1 List` of the policies (what `kubectl apply -f` takes), as indented JSON. */
export function renderJson(policies: readonly GeneratedPolicy[]): string {
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: policies.map((p) => p.manifest) }, null, 2)}\n`;
}
