/**
 * Manifests (files, directories, stdin, a `kubectl get -A -o json` dump) or a ClusterSource ->
 * the NetworkPolicy model's input (model/types.ts ClusterInput), with every problem as a value
 * that carries its file, line, column and field path. An invalid object is reported and left
 * out (the API server would not hold it), and everything valid is still used, so one typo does
 * not hide the rest of a cluster. Kinds the engine has no use for are counted, never errors.
 *
 * Pods come from `status.podIP`; a workload whose pods are not among the inputs contributes one
 * representative pod `<namespace>/<kind>-<name>` (kind in lower case) with its template's labels
 * and ports (CONTRACTS.md section 6). A pod "belongs" to a workload when its ownerReferences
 * reach it, directly or through an owner in the inputs (Deployment -> ReplicaSet -> Pod,
 * CronJob -> Job -> Pod), and also when no workload of the inputs owns the pod (no
 * ownerReferences, or owners left out of the inputs) but the workload's `spec.selector` matches
 * its labels in the same namespace: a hand-made or partial dump still has no extra pod. Pods that finished (phase Succeeded or Failed) hold no address and
 * are left out.
 *
 * `--pod-cidr` (ASSIGNMENT SCHEME, stable and documented): pods without an address (neither
 * `status.podIP` nor, for hostNetwork pods, `status.hostIP`) are sorted by `namespace/name`
 * (UTF-16 code unit order) and given the CIDR's addresses in increasing order, starting after
 * the network address, skipping every address a pod or node of the input already holds and,
 * in IPv4, the broadcast address. hostNetwork pods are never given one (they use their node's).
 * The same inputs always give the same addresses; adding a pod can shift the ones after it.
 */
import { collectInputs } from '../lib/input/index.js';
import type { CollectOptions, InputFile } from '../lib/input/index.js';
import { isRecord } from '../lib/is-record.js';
import { labelKeyProblem, labelValueProblem, matchesSelector } from '../lib/label-selector/index.js';
import type { LabelSelector } from '../lib/label-selector/index.js';
import { parseManifests } from '../lib/manifests/index.js';
import type { ManifestDocument } from '../lib/manifests/index.js';
import { formatPath } from '../lib/path.js';
import type { PathSegment } from '../lib/path.js';
import type { ClusterSource, KindRef } from '../kube/cluster-source/types.js';
import type { KubeObject } from '../kube/types.js';
import { extractPod, isKubernetesObject, WORKLOAD_KINDS } from '../kube/workloads.js';
import type { TemplatePath } from '../kube/workloads.js';
import { formatIp, parseCidr, parseIp } from './model/cidr.js';
import type { Cidr } from './model/cidr.js';
import { NAMESPACE_NAME_LABEL } from './model/build.js';
import { labelSelectorFromObject, portNameProblem, toNetpolPolicy } from './model/policy.js';
import { PROTOCOLS } from './model/types.js';
import type {
  ClusterInput,
  ContainerPort,
  NetpolNamespace,
  NetpolNode,
  NetpolPod,
  NetpolPolicy,
  NetpolService,
  Protocol,
  ServicePort,
} from './model/types.js';

/** One problem of the input, where a reader finds it. `file` null (and no line) for API objects. */
export interface LoadProblem {
  readonly file: string | null;
  readonly line: number | null;
  readonly column: number | null;
  /**
   * The object, `NetworkPolicy app/web` (`Namespace x` for cluster-scoped kinds), or null when the
   * problem is the file's (unreadable, broken YAML) or the run's.
   */
  readonly object: string | null;
  /**
   * Field path inside the object (`spec.ingress[0].from[1].ipBlock.cidr`), or for a List item
   * inside its document (`items[3]`); '' for the whole object or file.
   */
  readonly path: string;
  /** What is wrong with the field at `path` (`is required`, `"10.0.0.0/33" is not a valid CIDR`). */
  readonly message: string;
  readonly hint?: string;
}

export interface LoadSummary {
  /** Documents read (files' documents, or objects listed from a cluster source). */
  readonly documents: number;
  /** Kubernetes objects the model uses, List items counted one by one. */
  readonly used: number;
  /** Objects of kinds the engine has no use for, by kind. */
  readonly ignored: Readonly<Record<string, number>>;
  /** Documents that are not Kubernetes objects (values files, kustomizations, empty documents). */
  readonly skipped: number;
  /** Pods left out because they finished (phase Succeeded or Failed). */
  readonly finishedPods: number;
  /** Workloads that stood in with a representative pod (their own pods were not among the inputs). */
  readonly representatives: number;
  /** Pods given an address from `--pod-cidr`. */
  readonly assignedAddresses: number;
}

export interface LoadResult {
  readonly input: ClusterInput;
  readonly problems: readonly LoadProblem[];
  readonly summary: LoadSummary;
}

export interface LoadOptions {
  /** Addresses for pods without one (see the scheme above); parse it with `parsePodCidr`. */
  readonly podCidr?: Cidr | null | undefined;
  /** Namespace of namespaced objects without metadata.namespace (as `kubectl apply -n`); `default`. */
  readonly defaultNamespace?: string | undefined;
  /** Extra pod-template locations for custom workload kinds (podsec.yaml podTemplatePaths). */
  readonly templatePaths?: readonly TemplatePath[] | undefined;
}

/** `--pod-cidr` text as a CIDR, or why it is not one. */
export function parsePodCidr(text: string): { ok: true; cidr: Cidr } | { ok: false; message: string } {
  const cidr = parseCidr(text.trim());
  if (cidr === null) {
    return {
      ok: false,
      message: `--pod-cidr ${JSON.stringify(text)} is not a CIDR (for example 10.244.0.0/16)`,
    };
  }
  return { ok: true, cidr };
}

// --- records: an object and where it came from ----------------------------------------------

interface ObjectRecord {
  readonly obj: KubeObject;
  readonly file: string | null;
  /** The document holding it, for positions; null for API objects. */
  readonly doc: ManifestDocument | null;
  /** Path of the object inside its document (`['items', 3]` for a List item). */
  readonly prefix: readonly PathSegment[];
}

const USED_KINDS = new Set([
  'v1/Namespace',
  'v1/Pod',
  'v1/Node',
  'v1/Service',
  'networking.k8s.io/v1/NetworkPolicy',
]);
const PROTOCOL_SET: ReadonlySet<string> = new Set(PROTOCOLS);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Workload kinds that create pods (PodTemplate only describes one). */
const WORKLOADS = WORKLOAD_KINDS.filter((w) => w.kind !== 'PodTemplate');
const WORKLOAD_KIND_NAMES = new Set(WORKLOADS.map((w) => w.kind));
/** How far ownerReferences are followed (Deployment -> ReplicaSet -> Pod is 2). */
const MAX_OWNER_DEPTH = 8;

function isListKind(kind: string): boolean {
  return kind === 'List' || (kind.endsWith('List') && kind.length > 4);
}

/**
 * Items of a typed list (`PodList` from `kubectl get --raw`) carry no apiVersion and kind: they
 * take them from the list, as the API server's decoder does.
 */
function typedItem(list: KubeObject, item: unknown): unknown {
  const kind = list.kind ?? '';
  if (!isRecord(item) || kind === 'List') return item;
  if (typeof item['kind'] === 'string' && typeof item['apiVersion'] === 'string') return item;
  return {
    ...item,
    apiVersion: item['apiVersion'] ?? list.apiVersion,
    kind: item['kind'] ?? kind.slice(0, -4),
  };
}

/**
 * Core's converter reports paths as text (`spec.podSelector.matchLabels.app.kubernetes.io/x`);
 * label keys may hold dots, so the text is matched against the object's real keys (longest
 * first) to find the segments to locate.
 */
export function pathSegments(root: unknown, path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let node = root;
  let rest = path;
  while (rest !== '') {
    const index = /^\[(\d+)\]/.exec(rest);
    if (index !== null) {
      const i = Number(index[1]);
      segments.push(i);
      node = Array.isArray(node) ? (node as unknown[])[i] : undefined;
      rest = rest.slice(index[0].length);
      continue;
    }
    const quoted = /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest);
    if (quoted !== null) {
      const key = JSON.parse(quoted[1] ?? '""') as string;
      segments.push(key);
      node = isRecord(node) ? node[key] : undefined;
      rest = rest.slice(quoted[0].length);
      continue;
    }
    if (rest.startsWith('.')) rest = rest.slice(1);
    let key: string | undefined;
    if (isRecord(node)) {
      for (const k of Object.keys(node)) {
        const next = rest[k.length];
        if (
          rest.startsWith(k) &&
          (next === undefined || next === '.' || next === '[') &&
          k.length > (key?.length ?? 0)
        ) {
          key = k;
        }
      }
    }
    key ??= /^[^.[]*/.exec(rest)?.[0] ?? rest;
    if (key === '') break;
    segments.push(key);
    node = isRecord(node) ? node[key] : undefined;
    rest = rest.slice(key.length);
  }
  return segments;
}

// --- the assembly -------------------------------------------------------------------------

interface WorkloadEntry {
  readonly rec: ObjectRecord;
  readonly namespace: string;
  readonly name: string;
  readonly kind: string;
}

interface PendingPod {
  readonly pod: NetpolPod;
  readonly hostIP: string | null;
  /** `ns/Kind/name` of its ownerReferences (empty for a representative or a bare pod). */
  readonly owners: readonly string[];
}

/**
 * The pod selector of a workload: `spec.selector` as a label selector (a plain map for a
 * ReplicationController); null when it has none or it is not valid (then no pod is matched by
 * label, only by ownerReferences).
 */
function workloadSelector(obj: KubeObject): LabelSelector | null {
  const spec = obj['spec'];
  const raw = isRecord(spec) ? spec['selector'] : undefined;
  if (!isRecord(raw)) return null;
  const asObject = obj.kind === 'ReplicationController' ? { matchLabels: raw } : raw;
  const parsed = labelSelectorFromObject(asObject, 'spec.selector');
  if (!parsed.ok) return null;
  const s = parsed.selector;
  // An empty selector would claim every pod of the namespace: not evidence of ownership.
  return Object.keys(s.matchLabels).length === 0 && s.matchExpressions.length === 0 ? null : s;
}

class Assembler {
  readonly problems: LoadProblem[] = [];
  readonly ignored: Record<string, number> = {};
  private readonly namespaces = new Map<string, NetpolNamespace>();
  /** Namespaces objects live in, in the order met (a Set keeps insertion order). */
  private readonly referencedNamespaces = new Set<string>();
  private readonly pods: PendingPod[] = [];
  private readonly nodes = new Map<string, string[]>();
  /** By `namespace/name`: the same object read twice (a file and a dump) counts once, the later wins, as an apply would. */
  private readonly services = new Map<string, NetpolService>();
  private readonly policies = new Map<string, NetpolPolicy>();
  private readonly workloads: WorkloadEntry[] = [];
  /** `ns/Kind/name` -> owners (`ns/Kind/name`) of every namespaced object with ownerReferences. */
  private readonly owners = new Map<string, string[]>();
  /** `ns/Kind/name` of the owners of running pods. */
  private readonly podOwners: string[] = [];
  documents = 0;
  used = 0;
  skipped = 0;
  finishedPods = 0;
  representatives = 0;
  assignedAddresses = 0;

  constructor(private readonly opts: LoadOptions) {}

  private get defaultNamespace(): string {
    return this.opts.defaultNamespace ?? 'default';
  }

  problem(rec: ObjectRecord, path: readonly PathSegment[], message: string, hint?: string): void {
    let line: number | null = null;
    let column: number | null = null;
    if (rec.doc !== null) {
      const pos = rec.doc.locate([...rec.prefix, ...path]);
      line = pos.line;
      column = pos.column;
    }
    this.problems.push({
      file: rec.file,
      line,
      column,
      path: formatPath(path),
      object: `${rec.obj.kind ?? 'object'} ${objectName(rec.obj, this.defaultNamespace)}`,
      message,
      ...(hint === undefined ? {} : { hint }),
    });
  }

  /** Adds an object (a List is expanded into its items). */
  add(rec: ObjectRecord): void {
    const { obj } = rec;
    const kind = obj.kind ?? '';
    const items = obj['items'];
    if (isListKind(kind) && (Array.isArray(items) || (kind === 'List' && items === undefined))) {
      (Array.isArray(items) ? (items as unknown[]) : []).forEach((raw, i) => {
        const value = typedItem(obj, raw);
        const item: ObjectRecord = { ...rec, prefix: [...rec.prefix, 'items', i] };
        if (!isKubernetesObject(value)) {
          const pos = rec.doc?.locate(item.prefix);
          this.problems.push({
            file: rec.file,
            line: pos?.line ?? null,
            column: pos?.column ?? null,
            path: formatPath(item.prefix),
            object: null,
            message: 'is not a Kubernetes object (no apiVersion and kind)',
            hint: 'give every item of a List its apiVersion and kind',
          });
          return;
        }
        this.add({ ...item, obj: value });
      });
      return;
    }
    const gvk = `${obj.apiVersion ?? ''}/${kind}`;
    if (USED_KINDS.has(gvk)) {
      this.used++;
      if (kind === 'Namespace') this.addNamespace(rec);
      else if (kind === 'Pod') this.addPod(rec);
      else if (kind === 'Node') this.addNode(rec);
      else if (kind === 'Service') this.addService(rec);
      else this.addPolicy(rec);
      return;
    }
    const extraction =
      WORKLOAD_KIND_NAMES.has(kind) || (this.opts.templatePaths?.length ?? 0) > 0
        ? extractPod(obj, this.opts.templatePaths ?? [])
        : null;
    if (extraction?.kind === 'template' && kind !== 'PodTemplate') {
      this.used++;
      this.addWorkload(rec);
      return;
    }
    this.ignored[kind] = (this.ignored[kind] ?? 0) + 1;
  }

  /** metadata.name, checked; null (with a problem) when missing or invalid. */
  private name(rec: ObjectRecord, pattern: RegExp, max: number): string | null {
    const meta = rec.obj.metadata;
    const name = isRecord(meta) ? meta.name : undefined;
    if (typeof name !== 'string' || name === '') {
      this.problem(rec, ['metadata', 'name'], 'is required');
      return null;
    }
    if (name.length > max || !pattern.test(name)) {
      this.problem(
        rec,
        ['metadata', 'name'],
        `${JSON.stringify(name)} is not a valid name (lower case letters, digits and '-', at most ${max} characters)`,
      );
      return null;
    }
    return name;
  }

  /** metadata.namespace (the default when absent), checked; null with a problem when invalid. */
  private namespaceOf(rec: ObjectRecord): string | null {
    const meta = rec.obj.metadata;
    const ns: unknown = isRecord(meta) ? meta.namespace : undefined;
    if (ns === undefined || ns === null || ns === '') {
      this.reference(this.defaultNamespace);
      return this.defaultNamespace;
    }
    if (typeof ns !== 'string' || ns.length > 63 || !DNS_LABEL.test(ns)) {
      this.problem(rec, ['metadata', 'namespace'], `${JSON.stringify(ns)} is not a valid namespace name`);
      return null;
    }
    this.reference(ns);
    return ns;
  }

  private reference(ns: string): void {
    this.referencedNamespaces.add(ns);
  }

  /** Labels at `path` (a map of strings); invalid entries are problems and left out. */
  private labels(rec: ObjectRecord, raw: unknown, path: readonly PathSegment[]): Record<string, string> {
    const out: Record<string, string> = {};
    if (raw === undefined || raw === null) return out;
    if (!isRecord(raw)) {
      this.problem(rec, path, 'must be a map of label keys to string values');
      return out;
    }
    for (const [key, value] of Object.entries(raw)) {
      const problem =
        labelKeyProblem(key) ?? (typeof value === 'string' ? labelValueProblem(value) : 'must be a string');
      if (problem !== null) this.problem(rec, [...path, key], problem);
      else out[key] = value as string;
    }
    return out;
  }

  private addNamespace(rec: ObjectRecord): void {
    const name = this.name(rec, DNS_LABEL, 63);
    if (name === null) return;
    const labels = this.labels(rec, rec.obj.metadata?.labels, ['metadata', 'labels']);
    labels[NAMESPACE_NAME_LABEL] = name;
    this.namespaces.set(name, { name, labels });
  }

  private ip(rec: ObjectRecord, raw: unknown, path: readonly PathSegment[]): string | null {
    if (raw === undefined || raw === null || raw === '') return null;
    if (typeof raw !== 'string' || parseIp(raw) === null) {
      this.problem(rec, path, `${JSON.stringify(raw)} is not an IP address`);
      return null;
    }
    return raw;
  }

  /** Container ports of a pod spec at `base` (containers and init containers, which may be sidecars). */
  private containerPorts(rec: ObjectRecord, spec: unknown, base: readonly PathSegment[]): ContainerPort[] {
    const ports: ContainerPort[] = [];
    if (!isRecord(spec)) return ports;
    for (const field of ['containers', 'initContainers'] as const) {
      const containers = spec[field];
      if (!Array.isArray(containers)) continue;
      containers.forEach((c: unknown, ci) => {
        if (!isRecord(c) || !Array.isArray(c['ports'])) return;
        (c['ports'] as unknown[]).forEach((p, pi) => {
          const at = [...base, field, ci, 'ports', pi];
          const port = this.containerPort(rec, p, at);
          if (port !== null) ports.push(port);
        });
      });
    }
    return ports;
  }

  /** A port number field (1-65535, required), or null after reporting the problem. */
  private portNumber(
    rec: ObjectRecord,
    raw: Record<string, unknown>,
    key: string,
    at: readonly PathSegment[],
  ): number | null {
    const value = raw[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
      this.problem(
        rec,
        [...at, key],
        value === undefined ? 'is required' : 'must be a number from 1 to 65535',
      );
      return null;
    }
    return value;
  }

  /** The `protocol` field (TCP when absent), or null after reporting the problem. */
  private protocolOf(
    rec: ObjectRecord,
    raw: Record<string, unknown>,
    at: readonly PathSegment[],
  ): Protocol | null {
    const value = raw['protocol'];
    if (value === undefined || value === null) return 'TCP';
    if (typeof value !== 'string' || !PROTOCOL_SET.has(value)) {
      this.problem(rec, [...at, 'protocol'], `must be one of ${PROTOCOLS.join(', ')}`);
      return null;
    }
    return value as Protocol;
  }

  private containerPort(rec: ObjectRecord, raw: unknown, at: readonly PathSegment[]): ContainerPort | null {
    if (!isRecord(raw)) {
      this.problem(rec, at, 'must be an object (containerPort, name, protocol)');
      return null;
    }
    const number = this.portNumber(rec, raw, 'containerPort', at);
    const protocol = this.protocolOf(rec, raw, at);
    if (number === null || protocol === null) return null;
    const name = raw['name'];
    if (name === undefined || name === null || name === '') return { port: number, protocol };
    const problem = typeof name === 'string' ? portNameProblem(name) : 'must be a string';
    if (problem !== null) {
      this.problem(rec, [...at, 'name'], problem);
      return null;
    }
    return { name: name as string, port: number, protocol };
  }

  private ownerRefs(rec: ObjectRecord, namespace: string): string[] {
    const refs = rec.obj.metadata?.ownerReferences;
    if (!Array.isArray(refs)) return [];
    const out: string[] = [];
    for (const r of refs as unknown[]) {
      if (isRecord(r) && typeof r['kind'] === 'string' && typeof r['name'] === 'string') {
        out.push(`${namespace}/${r['kind']}/${r['name']}`);
      }
    }
    return out;
  }

  private addPod(rec: ObjectRecord): void {
    const namespace = this.namespaceOf(rec);
    const meta = rec.obj.metadata;
    const generated = isRecord(meta) && typeof meta.generateName === 'string' && meta.name === undefined;
    const name = generated ? (meta.generateName as string) : this.name(rec, DNS_SUBDOMAIN, 253);
    if (namespace === null || name === null) return;
    const status = isRecord(rec.obj['status']) ? rec.obj['status'] : {};
    const phase = status['phase'];
    if (phase === 'Succeeded' || phase === 'Failed') {
      this.finishedPods++;
      return;
    }
    const rawSpec = rec.obj['spec'];
    const spec = isRecord(rawSpec) ? rawSpec : {};
    if (!isRecord(rawSpec)) this.problem(rec, ['spec'], 'is required');
    const hostNetwork = spec['hostNetwork'] === true;
    const hostIP = this.ip(rec, status['hostIP'], ['status', 'hostIP']);
    let ip = this.ip(rec, status['podIP'], ['status', 'podIP']);
    if (ip === null && hostNetwork) ip = hostIP;
    const node = typeof spec['nodeName'] === 'string' && spec['nodeName'] !== '' ? spec['nodeName'] : null;
    const owners = this.ownerRefs(rec, namespace);
    this.podOwners.push(...owners);
    this.pods.push({
      owners,
      hostIP,
      pod: {
        namespace,
        name,
        labels: this.labels(rec, meta?.labels, ['metadata', 'labels']),
        ip,
        node,
        hostNetwork,
        ports: this.containerPorts(rec, rawSpec, ['spec']),
        representative: false,
      },
    });
  }

  private addNode(rec: ObjectRecord): void {
    const name = this.name(rec, DNS_SUBDOMAIN, 253);
    if (name === null) return;
    const addresses = this.nodes.get(name) ?? [];
    this.nodes.set(name, addresses);
    const status = rec.obj['status'];
    const raw = isRecord(status) ? status['addresses'] : undefined;
    if (!Array.isArray(raw)) return;
    raw.forEach((a: unknown, i) => {
      if (!isRecord(a)) return;
      const type = a['type'];
      // Hostname and DNS entries are names, not addresses.
      if (type !== 'InternalIP' && type !== 'ExternalIP') return;
      const ip = this.ip(rec, a['address'], ['status', 'addresses', i, 'address']);
      if (ip !== null && !addresses.includes(ip)) addresses.push(ip);
    });
  }

  private addService(rec: ObjectRecord): void {
    const namespace = this.namespaceOf(rec);
    const name = this.name(rec, DNS_LABEL, 63);
    if (namespace === null || name === null) return;
    const spec = isRecord(rec.obj['spec']) ? rec.obj['spec'] : {};
    const selector = this.labels(rec, spec['selector'], ['spec', 'selector']);
    const ports: ServicePort[] = [];
    const raw = spec['ports'];
    if (Array.isArray(raw)) {
      raw.forEach((p: unknown, i) => {
        const port = this.servicePort(rec, p, ['spec', 'ports', i]);
        if (port !== null) ports.push(port);
      });
    }
    this.services.set(`${namespace}/${name}`, { namespace, name, selector, ports });
  }

  private servicePort(rec: ObjectRecord, raw: unknown, at: readonly PathSegment[]): ServicePort | null {
    if (!isRecord(raw)) {
      this.problem(rec, at, 'must be an object (port, targetPort, protocol, name)');
      return null;
    }
    const port = this.portNumber(rec, raw, 'port', at);
    const protocol = this.protocolOf(rec, raw, at);
    if (port === null || protocol === null) return null;
    let targetPort: number | string = port;
    const rawTarget = raw['targetPort'];
    if (typeof rawTarget === 'number') {
      if (!Number.isInteger(rawTarget) || rawTarget < 1 || rawTarget > 65535) {
        this.problem(rec, [...at, 'targetPort'], 'must be a number from 1 to 65535 or a port name');
        return null;
      }
      targetPort = rawTarget;
    } else if (typeof rawTarget === 'string' && rawTarget !== '') {
      // The API server accepts a number in a string here ("8080") and means the number.
      if (/^[0-9]+$/.test(rawTarget)) {
        const n = Number(rawTarget);
        if (n < 1 || n > 65535) {
          this.problem(rec, [...at, 'targetPort'], 'must be a number from 1 to 65535 or a port name');
          return null;
        }
        targetPort = n;
      } else {
        const problem = portNameProblem(rawTarget);
        if (problem !== null) {
          this.problem(rec, [...at, 'targetPort'], problem);
          return null;
        }
        targetPort = rawTarget;
      }
    } else if (rawTarget !== undefined && rawTarget !== null && rawTarget !== '') {
      this.problem(rec, [...at, 'targetPort'], 'must be a number from 1 to 65535 or a port name');
      return null;
    }
    const name = raw['name'];
    return typeof name === 'string' && name !== ''
      ? { name, port, targetPort, protocol }
      : { port, targetPort, protocol };
  }

  private addPolicy(rec: ObjectRecord): void {
    const { doc, prefix, obj } = rec;
    const line = doc === null ? 0 : doc.locate(prefix).line;
    const source =
      rec.file === null && doc === null
        ? null
        : doc === null
          ? { file: rec.file, line }
          : {
              file: rec.file,
              line,
              locate: (path: string) => {
                const pos = doc.locate([...prefix, ...pathSegments(obj, path)]);
                return { line: pos.line, column: pos.column };
              },
            };
    const conversion = toNetpolPolicy(rec.obj, { defaultNamespace: this.defaultNamespace, source });
    if (!conversion.ok) {
      for (const p of conversion.problems) {
        const segments = pathSegments(rec.obj, p.path);
        this.problem(rec, segments, p.message);
      }
      // The namespace still exists (it is referenced), even if the policy does not.
      this.namespaceOf(rec);
      return;
    }
    this.reference(conversion.policy.namespace);
    this.policies.set(`${conversion.policy.namespace}/${conversion.policy.name}`, conversion.policy);
  }

  private addWorkload(rec: ObjectRecord): void {
    const namespace = this.namespaceOf(rec);
    const name = this.name(rec, DNS_SUBDOMAIN, 253);
    if (namespace === null || name === null) return;
    const kind = rec.obj.kind ?? '';
    const key = `${namespace}/${kind}/${name}`;
    const owners = this.ownerRefs(rec, namespace);
    if (owners.length > 0) this.owners.set(key, owners);
    this.workloads.push({ rec, namespace, name, kind });
  }

  /** Representative pods for the workloads none of whose pods are among the inputs. */
  private representativePods(): PendingPod[] {
    const present = new Set(this.workloads.map((w) => `${w.namespace}/${w.kind}/${w.name}`));
    const running = new Set<string>();
    for (const start of this.podOwners) {
      let frontier = [start];
      for (let depth = 0; depth < MAX_OWNER_DEPTH && frontier.length > 0; depth++) {
        const next: string[] = [];
        for (const key of frontier) {
          if (running.has(key)) continue;
          running.add(key);
          next.push(...(this.owners.get(key) ?? []));
        }
        frontier = next;
      }
    }
    // Pods no workload of the inputs owns (no ownerReferences, or owners that are not among the
    // inputs, such as a ReplicaSet left out of a dump): they count for a workload whose selector
    // matches them in its namespace.
    const reachesPresent = (owners: readonly string[]): boolean => {
      let frontier = [...owners];
      const seen = new Set<string>();
      for (let depth = 0; depth < MAX_OWNER_DEPTH && frontier.length > 0; depth++) {
        const next: string[] = [];
        for (const key of frontier) {
          if (present.has(key)) return true;
          if (seen.has(key)) continue;
          seen.add(key);
          next.push(...(this.owners.get(key) ?? []));
        }
        frontier = next;
      }
      return false;
    };
    const unowned = new Map<string, NetpolPod[]>();
    for (const p of this.pods) {
      if (reachesPresent(p.owners)) continue;
      const list = unowned.get(p.pod.namespace) ?? [];
      unowned.set(p.pod.namespace, list);
      list.push(p.pod);
    }
    const out: PendingPod[] = [];
    for (const w of this.workloads) {
      const key = `${w.namespace}/${w.kind}/${w.name}`;
      if (running.has(key)) continue;
      // A ReplicaSet of a Deployment (a Job of a CronJob) in the inputs: the owner stands in for it.
      if ((this.owners.get(key) ?? []).some((o) => present.has(o))) continue;
      const candidates = unowned.get(w.namespace) ?? [];
      const selector = candidates.length === 0 ? null : workloadSelector(w.rec.obj);
      if (selector !== null && candidates.some((p) => matchesSelector(selector, p.labels))) continue;
      const extraction = extractPod(w.rec.obj, this.opts.templatePaths ?? []);
      if (extraction.kind !== 'template') continue;
      const { target } = extraction;
      if (target.specMissing) {
        this.problem(w.rec, [...target.basePath, 'spec'], 'is required: there is no pod template');
        continue;
      }
      const spec = target.spec as Record<string, unknown>;
      out.push({
        owners: [],
        hostIP: null,
        pod: {
          namespace: w.namespace,
          name: `${w.kind.toLowerCase()}-${w.name}`,
          labels: this.labels(w.rec, target.meta.labels, [...target.basePath, 'metadata', 'labels']),
          ip: null,
          node: null,
          hostNetwork: spec['hostNetwork'] === true,
          ports: this.containerPorts(w.rec, spec, [...target.basePath, 'spec']),
          representative: true,
        },
      });
    }
    this.representatives = out.length;
    return out;
  }

  finish(): LoadResult {
    const pending = [...this.pods, ...this.representativePods()];
    // A pod's node exists with the pod's hostIP even without a Node object (traffic from it is allowed).
    for (const { pod, hostIP } of pending) {
      if (pod.node === null) continue;
      const addresses = this.nodes.get(pod.node) ?? [];
      this.nodes.set(pod.node, addresses);
      if (hostIP !== null && !addresses.includes(hostIP)) addresses.push(hostIP);
    }
    let pods = pending.map((p) => p.pod);
    if (this.opts.podCidr !== undefined && this.opts.podCidr !== null)
      pods = this.assign(pods, this.opts.podCidr);

    const namespaces: NetpolNamespace[] = [...this.namespaces.values()];
    for (const ns of this.referencedNamespaces) {
      if (!this.namespaces.has(ns)) namespaces.push({ name: ns, labels: { [NAMESPACE_NAME_LABEL]: ns } });
    }
    const nodes: NetpolNode[] = [...this.nodes.entries()].map(([name, addresses]) => ({ name, addresses }));
    return {
      input: {
        namespaces,
        pods,
        nodes,
        services: [...this.services.values()],
        policies: [...this.policies.values()],
      },
      problems: this.problems,
      summary: {
        documents: this.documents,
        used: this.used,
        ignored: this.ignored,
        skipped: this.skipped,
        finishedPods: this.finishedPods,
        representatives: this.representatives,
        assignedAddresses: this.assignedAddresses,
      },
    };
  }

  /** The `--pod-cidr` scheme of the module comment. */
  private assign(pods: NetpolPod[], cidr: Cidr): NetpolPod[] {
    const taken = new Set<string>();
    const canonical = (text: string): string | null => {
      const ip = parseIp(text);
      return ip === null ? null : `${ip.family}:${ip.value.toString(16)}`;
    };
    for (const p of pods) if (p.ip !== null) taken.add(canonical(p.ip) ?? '');
    for (const addresses of this.nodes.values()) for (const a of addresses) taken.add(canonical(a) ?? '');
    const needy = [
      ...new Set(pods.filter((p) => p.ip === null && !p.hostNetwork).map((p) => `${p.namespace}/${p.name}`)),
    ].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const width = cidr.family === 4 ? 32 : 128;
    const size = 1n << BigInt(width - cidr.prefix);
    const last = cidr.family === 4 && cidr.prefix < 31 ? cidr.base + size - 2n : cidr.base + size - 1n;
    let next = cidr.prefix >= width - 1 ? cidr.base : cidr.base + 1n;
    const given = new Map<string, string>();
    for (const key of needy) {
      while (next <= last && taken.has(`${cidr.family}:${next.toString(16)}`)) next++;
      if (next > last) {
        this.problems.push({
          file: null,
          line: null,
          column: null,
          object: null,
          path: '',
          message: `--pod-cidr ${cidr.text} has no free address left: ${needy.length - given.size} pod${needy.length - given.size === 1 ? '' : 's'} stay without an address (they match no ipBlock)`,
          hint: 'give a larger --pod-cidr',
        });
        break;
      }
      given.set(key, formatIp({ family: cidr.family, value: next }));
      next++;
    }
    this.assignedAddresses = given.size;
    return pods.map((p) => {
      const ip = p.ip === null && !p.hostNetwork ? given.get(`${p.namespace}/${p.name}`) : undefined;
      return ip === undefined ? p : { ...p, ip };
    });
  }
}

function objectName(obj: KubeObject, defaultNamespace: string): string {
  const meta = obj.metadata;
  const name = isRecord(meta) && typeof meta.name === 'string' ? meta.name : '(unnamed)';
  const ns = isRecord(meta) && typeof meta.namespace === 'string' ? meta.namespace : null;
  const clusterScoped = obj.kind === 'Namespace' || obj.kind === 'Node';
  return clusterScoped ? name : `${ns ?? defaultNamespace}/${name}`;
}

// --- entry points -------------------------------------------------------------------------

/**
 * Model input from manifest texts already read (pure). `explicit` names the files given on the
 * command line: such a file without any Kubernetes object is a problem (a walk skips it).
 */
export function loadManifestTexts(
  files: readonly InputFile[],
  opts: LoadOptions = {},
  explicit: ReadonlySet<string> = new Set(),
): LoadResult {
  const a = new Assembler(opts);
  for (const file of files) {
    const { documents, problems } = parseManifests(file.text);
    for (const p of problems) {
      a.problems.push({
        file: file.display,
        line: p.line,
        column: p.column,
        object: null,
        path: '',
        message: p.message,
        ...(p.hint === undefined ? {} : { hint: p.hint }),
      });
    }
    let objects = 0;
    for (const doc of documents) {
      a.documents++;
      if (!isKubernetesObject(doc.value)) {
        a.skipped++;
        continue;
      }
      objects++;
      a.add({ obj: doc.value, file: file.display, doc, prefix: [] });
    }
    if (objects === 0 && problems.length === 0 && explicit.has(file.display)) {
      a.problems.push({
        file: file.display,
        line: documents[0]?.line ?? 1,
        column: 1,
        object: null,
        path: '',
        message: 'no Kubernetes object in this file (a document needs apiVersion and kind)',
        hint: 'values files and kustomizations are not manifests: render them first (helm template, kubectl kustomize)',
      });
    }
  }
  return a.finish();
}

/** Model input from files, directories and `-` (stdin), read with the scanner's input walker. */
export async function loadManifests(
  paths: readonly string[],
  opts: LoadOptions & Pick<CollectOptions, 'exclude' | 'stdin' | 'onProgress'> = {},
): Promise<LoadResult> {
  const inputs = await collectInputs(paths, {
    exclude: opts.exclude,
    stdin: opts.stdin,
    onProgress: opts.onProgress,
  });
  const result = loadManifestTexts(inputs.files, opts, inputs.explicit);
  const readProblems: LoadProblem[] = inputs.problems.map((p) => ({
    file: p.file,
    line: p.line ?? null,
    column: null,
    object: null,
    path: '',
    message: p.message,
    ...(p.hint === undefined ? {} : { hint: p.hint }),
  }));
  return { ...result, problems: [...readProblems, ...result.problems] };
}

/** Model input from objects already in memory (an API listing): no files, no positions. */
export function loadObjects(objects: Iterable<unknown>, opts: LoadOptions = {}): LoadResult {
  const a = new Assembler(opts);
  for (const obj of objects) {
    a.documents++;
    if (!isKubernetesObject(obj)) {
      a.skipped++;
      continue;
    }
    a.add({ obj, file: null, doc: null, prefix: [] });
  }
  return a.finish();
}

/** The kinds read from a ClusterSource: what the model uses, and the workloads that stand in for pods. */
export const CLUSTER_KINDS: readonly KindRef[] = [
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'v1', kind: 'Node' },
  { apiVersion: 'v1', kind: 'Pod' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  ...WORKLOADS.map((w) => ({ apiVersion: w.apiVersions[0] ?? '', kind: w.kind })),
];

/**
 * Model input from a ClusterSource (API server or `--state DIR`), listed page by page. A kind
 * that cannot be listed (RBAC, a missing API) is a problem naming it; the rest is still used.
 */
export async function loadFromClusterSource(
  source: ClusterSource,
  opts: LoadOptions = {},
): Promise<LoadResult> {
  const objects: unknown[] = [];
  const listProblems: LoadProblem[] = [];
  for (const kind of CLUSTER_KINDS) {
    try {
      for await (const page of source.listPages(kind)) {
        for (const obj of page) objects.push({ ...obj, apiVersion: kind.apiVersion, kind: kind.kind });
      }
    } catch (e) {
      listProblems.push({
        file: null,
        line: null,
        column: null,
        object: null,
        path: '',
        message: `cannot list ${kind.kind} (${kind.apiVersion}) from ${source.description}: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  }
  const result = loadObjects(objects, opts);
  return { ...result, problems: [...listProblems, ...result.problems] };
}

/**
 * `ignored: 3 ConfigMap, 1 Secret` (most first, then by kind), or null when no object was
 * ignored: kinds the engine has no use for, said so a reader knows they were seen.
 */
export function formatIgnored(ignored: Readonly<Record<string, number>>): string | null {
  const entries = Object.entries(ignored).filter(([, n]) => n > 0);
  if (entries.length === 0) return null;
  entries.sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  return `ignored: ${entries.map(([kind, n]) => `${n} ${kind}`).join(', ')}`;
}

/**
 * `file:line:column: message` for a terminal; objects from a cluster (no file) are named
 * instead: `NetworkPolicy app/web: message`. The path is not added: callers put it in front of
 * the message when they want it (`{...p, message: `${p.path}: ${p.message}`}`), as
 * `formatLoadProblemWithPath` does.
 */
export function formatLoadProblem(p: LoadProblem): string {
  const where =
    p.file === null ? p.object : p.line === null ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;
  return where === null ? p.message : `${where}: ${p.message}`;
}

/** `file:line:column: path: message` (the form podsec.yaml issues take). */
export function formatLoadProblemWithPath(p: LoadProblem): string {
  return formatLoadProblem(p.path === '' ? p : { ...p, message: `${p.path}: ${p.message}` });
}
