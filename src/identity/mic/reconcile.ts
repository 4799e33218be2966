/**
 * The Managed Identity Controller's reconcile, as a pure function: a snapshot of pods, identities,
 * bindings and the current AzureAssignedIdentities in, the create/update/delete actions that make
 * the assigned set equal the desired one out. No I/O and no memory between calls, so a restarted
 * controller computes the same actions from the same cluster, and applying the actions then
 * reconciling again yields nothing (idempotent).
 *
 * Rules (aad-pod-identity's MIC, with podsec's safer namespace default):
 * - a pod is considered when it is scheduled (spec.nodeName), not finished (phase Pending, Running
 *   or not yet reported) and carries the label `aadpodidbinding`; when the snapshot lists the
 *   existing Nodes (`nodes`), a pod on a node not among them is not considered (deleted node);
 * - a binding matches when its spec.selector equals that label exactly; only bindings in the pod's
 *   namespace unless allowCrossNamespace; the identity is looked up in the binding's namespace; an
 *   identity annotated `aadpodidentity.k8s.io/Behavior: namespaced` serves only its own namespace;
 * - invalid identities and bindings are ignored whole (reported in `invalid`), never half-applied;
 *   every AzureIdentity whose client id another AzureIdentity also claims is invalid (podsec's rule,
 *   crds/duplicates.ts: a copied client id must not borrow another namespace's identity);
 * - one AzureAssignedIdentity per (pod, identity): several bindings naming the same identity for a
 *   pod yield one, carrying the first binding by (namespace, name), as upstream sorts them;
 * - status Assigned once usable on the pod's node: identities that need no node assignment
 *   (service principals, served by podsec's issuer or Azure AD) at once; user-assigned managed
 *   identities (type 0) once `nodesReady` holds "node|resourceID"; otherwise Created. With
 *   `preassigned` (managed mode, or no Resource Manager configured) type 0 is Assigned at once too.
 * - `nodeIdentities` in the plan tells node assignment (node-assignment.ts) which user-assigned
 *   identities each node needs; the controller feeds back what it confirmed as `nodesReady`.
 */
import { createHash } from 'node:crypto';
import {
  AAD_POD_IDENTITY_API_VERSION,
  ASSIGNED_IDENTITY_FINALIZER,
  BEHAVIOR_ANNOTATION,
  BEHAVIOR_NAMESPACED,
  BINDING_LABEL,
  NODENAME_LABEL,
  type AssignedStatus,
  type AzureAssignedIdentity,
  type AzureIdentity,
  type AzureIdentityBinding,
  type FieldProblem,
} from '../crds/types.js';
import { validateAssignedIdentity, validateBinding, validateIdentity } from '../crds/validate.js';
import { clientIdKey, duplicateClientIdMessage, duplicateClientIds } from '../crds/duplicates.js';

/** The few pod fields the controller reads; any Kubernetes Pod object fits. */
export interface MicPod {
  metadata: { name: string; namespace?: string; labels?: Readonly<Record<string, string>> };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

export interface MicSnapshot {
  pods: readonly MicPod[];
  /** Raw AzureIdentity objects; each is validated here. */
  identities: readonly unknown[];
  /** Raw AzureIdentityBinding objects; each is validated here. */
  bindings: readonly unknown[];
  /** The AzureAssignedIdentity objects currently stored. */
  assigned: readonly unknown[];
  /**
   * Confirmed node assignments of user-assigned identities, as "node|resourceID". Absent when the
   * caller has no such information: then an Assigned object whose node and identity are unchanged
   * stays Assigned, and everything else waits in Created.
   */
  nodesReady?: ReadonlySet<string>;
  /**
   * Nodes whose assignments are not known yet (their VM was not read since the controller started):
   * for these the no-information rule applies even when `nodesReady` is given, so a restart does
   * not flip confirmed assignments back to Created.
   */
  nodesUnknown?: ReadonlySet<string>;
  /**
   * The names of the Nodes that exist. When given, a pod whose spec.nodeName is not among them is
   * on a deleted node: it gets no assignment and its existing ones are deleted (upstream deletes
   * every assigned identity of a node that no longer exists). Absent: nodes are not checked. The
   * controller gives it only once its Node cache holds at least one Node, so a `--state` directory
   * without Node manifests (local mode) keeps working.
   */
  nodes?: ReadonlySet<string>;
}

export interface MicOptions {
  /** Upstream's behaviour: a binding matches pods in every namespace. Off by default. */
  allowCrossNamespace: boolean;
  /**
   * User-assigned identities are already attached to every node (upstream's managed mode, or no
   * Resource Manager configured): type 0 assignments are Assigned at once, like the others.
   */
  preassigned?: boolean | undefined;
}

export type DeleteReason =
  'not-desired' | 'node-deleted' | 'duplicate' | 'malformed' | 'moved-namespace' | 'terminating';

export type Action =
  | { type: 'create'; object: AzureAssignedIdentity }
  /** Spec or labels changed (new node, edited identity or binding): replace the object. */
  | { type: 'update'; object: AzureAssignedIdentity }
  | {
      type: 'update-status';
      namespace: string;
      name: string;
      status: AssignedStatus;
      resourceVersion?: string;
    }
  /**
   * The edge removes the finalizer, then deletes (the NMI stops serving at once). Unlike upstream
   * no Unassigned status is written first: a node detachment is not tied to one object (an
   * identity leaves a VM only when nothing there needs it), it follows in node assignment.
   */
  | { type: 'delete'; namespace: string; name: string; reason: DeleteReason; resourceVersion?: string };

export interface InvalidResource {
  kind: 'AzureIdentity' | 'AzureIdentityBinding' | 'AzureAssignedIdentity';
  namespace?: string;
  name?: string;
  problems: FieldProblem[];
}

export interface ReconcilePlan {
  actions: Action[];
  invalid: InvalidResource[];
  /**
   * Node name -> resource IDs of the user-assigned identities (type 0) its desired assignments use:
   * what node assignment must attach (node-assignment.ts).
   */
  nodeIdentities: Map<string, Set<string>>;
}

/** Phases in which a scheduled pod may still ask for tokens. An unreported phase counts as Pending. */
const LIVE_PHASES: ReadonlySet<string> = new Set(['Pending', 'Running', '']);
const MAX_NAME = 253;

function keyOf(podNs: string, pod: string, idNs: string, id: string): string {
  return `${podNs}\n${pod}\n${idNs}\n${id}`;
}

/** Key order-independent JSON, so objects read back from a store compare equal to fresh ones. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function identityNeedsNode(identity: AzureIdentity): boolean {
  return identity.spec.type === 0;
}

function metaOf(obj: unknown): { namespace?: string; name?: string } {
  if (typeof obj !== 'object' || obj === null) return {};
  const m = (obj as { metadata?: unknown }).metadata;
  if (typeof m !== 'object' || m === null) return {};
  const { name, namespace } = m as { name?: unknown; namespace?: unknown };
  const out: { namespace?: string; name?: string } = {};
  if (typeof name === 'string') out.name = name;
  if (typeof namespace === 'string') out.namespace = namespace;
  return out;
}

interface Desired {
  key: string;
  pod: string;
  podNamespace: string;
  node: string;
  identity: AzureIdentity;
  binding: AzureIdentityBinding;
}

/** Upstream's `<pod>-<podNamespace>-<identity>`; a hashed form only when that is taken or too long. */
export function assignedIdentityName(pod: string, podNamespace: string, identity: string): string {
  return `${pod}-${podNamespace}-${identity}`;
}

function hashedName(base: string, key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
  const prefix = base.slice(0, MAX_NAME - 11).replace(/[-.]+$/, '');
  return `${prefix}-${hash}`;
}

/** Compute the actions and the invalid resources. */
export function plan(snapshot: MicSnapshot, options: MicOptions): ReconcilePlan {
  const invalid: InvalidResource[] = [];
  const report = (kind: InvalidResource['kind'], obj: unknown, problems: FieldProblem[]): void => {
    invalid.push({ kind, ...metaOf(obj), problems });
  };

  // A client id claimed by several AzureIdentities (any namespaces): all of them are invalid, so a
  // copy of another namespace's client id never yields an assignment, whichever is listed first.
  const shared = duplicateClientIds(snapshot.identities);
  const identities = new Map<string, AzureIdentity>();
  for (const raw of snapshot.identities) {
    const v = validateIdentity(raw);
    if (!v.ok) {
      report('AzureIdentity', raw, v.problems);
      continue;
    }
    const clientId = v.value.spec.clientID;
    const claimants = clientId === undefined ? undefined : shared.get(clientIdKey(clientId));
    if (clientId !== undefined && claimants !== undefined) {
      report('AzureIdentity', raw, [
        { path: 'spec.clientID', message: duplicateClientIdMessage(clientId, claimants) },
      ]);
      continue;
    }
    const k = `${v.value.metadata.namespace}/${v.value.metadata.name}`;
    if (!identities.has(k)) identities.set(k, v.value);
  }

  // Bindings indexed by the label value they match (and by namespace unless cross-namespace).
  const bindings = new Map<string, AzureIdentityBinding[]>();
  for (const raw of snapshot.bindings) {
    const v = validateBinding(raw);
    if (!v.ok) {
      report('AzureIdentityBinding', raw, v.problems);
      continue;
    }
    const b = v.value;
    const k = options.allowCrossNamespace ? b.spec.selector : `${b.metadata.namespace}\n${b.spec.selector}`;
    const list = bindings.get(k);
    if (list) list.push(b);
    else bindings.set(k, [b]);
  }
  const byNsName = (a: AzureIdentityBinding, b: AzureIdentityBinding): number => {
    const x = `${a.metadata.namespace}\n${a.metadata.name}`;
    const y = `${b.metadata.namespace}\n${b.metadata.name}`;
    return x < y ? -1 : x > y ? 1 : 0;
  };
  for (const list of bindings.values()) list.sort(byNsName);

  const desired = new Map<string, Desired>();
  for (const pod of snapshot.pods) {
    const label = pod.metadata.labels?.[BINDING_LABEL];
    const node = pod.spec?.nodeName;
    if (label === undefined || label === '' || node === undefined || node === '') continue;
    if (!LIVE_PHASES.has(pod.status?.phase ?? '')) continue;
    if (snapshot.nodes !== undefined && !snapshot.nodes.has(node)) continue;
    const podNs = pod.metadata.namespace ?? 'default';
    const list = bindings.get(options.allowCrossNamespace ? label : `${podNs}\n${label}`);
    if (!list) continue;
    for (const binding of list) {
      const idNs = binding.metadata.namespace;
      const identity = identities.get(`${idNs}/${binding.spec.azureIdentity}`);
      if (!identity) continue;
      if (idNs !== podNs && identity.metadata.annotations?.[BEHAVIOR_ANNOTATION] === BEHAVIOR_NAMESPACED)
        continue;
      const key = keyOf(podNs, pod.metadata.name, idNs, identity.metadata.name);
      if (desired.has(key)) continue;
      desired.set(key, { key, pod: pod.metadata.name, podNamespace: podNs, node, identity, binding });
    }
  }

  const nodeIdentities = new Map<string, Set<string>>();
  for (const want of desired.values()) {
    const id = want.identity.spec.resourceID;
    if (!identityNeedsNode(want.identity) || id === undefined || id === '') continue;
    const set = nodeIdentities.get(want.node);
    if (set) set.add(id);
    else nodeIdentities.set(want.node, new Set([id]));
  }
  const status = (want: Desired, existing?: AzureAssignedIdentity): AssignedStatus =>
    options.preassigned === true
      ? 'Assigned'
      : statusFor(
          want,
          existing,
          snapshot.nodesUnknown?.has(want.node) === true ? undefined : snapshot.nodesReady,
        );

  // Current objects grouped by the (pod, identity) they serve.
  const actions: Action[] = [];
  const deletes: Action[] = [];
  const current = new Map<string, AzureAssignedIdentity[]>();
  const taken = new Set<string>();
  for (const raw of snapshot.assigned) {
    const m = metaOf(raw);
    if (m.name !== undefined) taken.add(`${m.namespace ?? 'default'}/${m.name}`);
    const v = validateAssignedIdentity(raw);
    if (!v.ok) {
      report('AzureAssignedIdentity', raw, v.problems);
      // MIC owns this kind: an object it cannot read serves nobody and is removed.
      if (m.name !== undefined) {
        deletes.push({
          type: 'delete',
          namespace: m.namespace ?? 'default',
          name: m.name,
          reason: 'malformed',
        });
      }
      continue;
    }
    const a = v.value;
    const s = a.spec;
    const k = keyOf(
      s.podNamespace,
      s.pod,
      s.azureIdentityRef.metadata.namespace,
      s.azureIdentityRef.metadata.name,
    );
    const list = current.get(k);
    if (list) list.push(a);
    else current.set(k, [a]);
  }

  const del = (a: AzureAssignedIdentity, reason: DeleteReason): Action => {
    const out: Action = { type: 'delete', namespace: a.metadata.namespace, name: a.metadata.name, reason };
    if (a.metadata.resourceVersion !== undefined) out.resourceVersion = a.metadata.resourceVersion;
    return out;
  };

  const creates: Desired[] = [];
  for (const [key, list] of current) {
    const want = desired.get(key);
    if (!want) {
      for (const a of list) {
        const gone = snapshot.nodes !== undefined && !snapshot.nodes.has(a.spec.nodename);
        deletes.push(del(a, gone ? 'node-deleted' : 'not-desired'));
      }
      continue;
    }
    const ns = targetNamespace(want, options);
    // Keep one object: in the right namespace, not being deleted, upstream name first, then by name.
    const upstream = assignedIdentityName(want.pod, want.podNamespace, want.identity.metadata.name);
    const ranked = list
      .filter((a) => a.metadata.namespace === ns && a.metadata.deletionTimestamp === undefined)
      .sort((a, b) => rank(a, upstream) - rank(b, upstream) || (a.metadata.name < b.metadata.name ? -1 : 1));
    const keep = ranked[0];
    for (const a of list) {
      if (a === keep) continue;
      const reason: DeleteReason =
        a.metadata.namespace !== ns
          ? 'moved-namespace'
          : a.metadata.deletionTimestamp !== undefined
            ? 'terminating'
            : 'duplicate';
      deletes.push(del(a, reason));
    }
    if (!keep) {
      creates.push(want);
      continue;
    }
    const object = build(want, ns, keep.metadata.name, status(want, keep), keep);
    if (!sameContent(keep, object)) actions.push({ type: 'update', object });
    else if (keep.status.status !== object.status.status) {
      const a: Action = {
        type: 'update-status',
        namespace: ns,
        name: keep.metadata.name,
        status: object.status.status,
      };
      if (keep.metadata.resourceVersion !== undefined) a.resourceVersion = keep.metadata.resourceVersion;
      actions.push(a);
    }
  }
  for (const want of desired.values()) if (!current.has(want.key)) creates.push(want);

  // New names in key order, so two new objects competing for one upstream name resolve the same way
  // whatever order the snapshot lists pods in.
  creates.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const want of creates) {
    const ns = targetNamespace(want, options);
    const upstream = assignedIdentityName(want.pod, want.podNamespace, want.identity.metadata.name);
    const name =
      upstream.length <= MAX_NAME && !taken.has(`${ns}/${upstream}`)
        ? upstream
        : hashedName(upstream, want.key);
    taken.add(`${ns}/${name}`);
    actions.push({
      type: 'create',
      object: build(want, ns, name, status(want)),
    });
  }
  return { actions: [...deletes, ...actions], invalid, nodeIdentities };
}

/** The reconcile: only the actions (see `plan` for the invalid resources). */
export function reconcile(snapshot: MicSnapshot, options: MicOptions): Action[] {
  return plan(snapshot, options).actions;
}

function rank(a: AzureAssignedIdentity, upstream: string): number {
  return a.metadata.name === upstream ? 0 : 1;
}

/** Namespaced (podsec's default): the identity's namespace. Cross-namespace: `default`, as upstream. */
function targetNamespace(want: Desired, options: MicOptions): string {
  return options.allowCrossNamespace ? 'default' : want.identity.metadata.namespace;
}

function statusFor(
  want: Desired,
  existing: AzureAssignedIdentity | undefined,
  nodesReady: ReadonlySet<string> | undefined,
): AssignedStatus {
  if (!identityNeedsNode(want.identity)) return 'Assigned';
  if (nodesReady)
    return nodesReady.has(`${want.node}|${want.identity.spec.resourceID ?? ''}`) ? 'Assigned' : 'Created';
  // Without node information, keep a confirmed assignment only while its node and identity are unchanged.
  if (
    existing?.status.status === 'Assigned' &&
    existing.spec.nodename === want.node &&
    canonical(existing.spec.azureIdentityRef.spec) === canonical(want.identity.spec)
  ) {
    return 'Assigned';
  }
  return 'Created';
}

function build(
  want: Desired,
  namespace: string,
  name: string,
  status: AssignedStatus,
  existing?: AzureAssignedIdentity,
): AzureAssignedIdentity {
  const finalizers = existing?.metadata.finalizers ?? [];
  const metadata: AzureAssignedIdentity['metadata'] = {
    name,
    namespace,
    labels: { ...existing?.metadata.labels, [NODENAME_LABEL]: want.node },
    finalizers: finalizers.includes(ASSIGNED_IDENTITY_FINALIZER)
      ? [...finalizers]
      : [...finalizers, ASSIGNED_IDENTITY_FINALIZER],
  };
  if (existing?.metadata.resourceVersion !== undefined)
    metadata.resourceVersion = existing.metadata.resourceVersion;
  if (existing?.metadata.uid !== undefined) metadata.uid = existing.metadata.uid;
  return {
    apiVersion: AAD_POD_IDENTITY_API_VERSION,
    kind: 'AzureAssignedIdentity',
    metadata,
    spec: {
      azureIdentityRef: {
        apiVersion: AAD_POD_IDENTITY_API_VERSION,
        kind: 'AzureIdentity',
        metadata: { name: want.identity.metadata.name, namespace: want.identity.metadata.namespace },
        spec: want.identity.spec,
      },
      azureBindingRef: {
        apiVersion: AAD_POD_IDENTITY_API_VERSION,
        kind: 'AzureIdentityBinding',
        metadata: { name: want.binding.metadata.name, namespace: want.binding.metadata.namespace },
        spec: want.binding.spec,
      },
      pod: want.pod,
      podNamespace: want.podNamespace,
      nodename: want.node,
    },
    status: { status, availableReplicas: 1 },
  };
}

/** Same spec and controller-owned metadata (node label, finalizer); status is compared apart. */
function sameContent(current: AzureAssignedIdentity, next: AzureAssignedIdentity): boolean {
  return (
    current.metadata.labels?.[NODENAME_LABEL] === next.metadata.labels?.[NODENAME_LABEL] &&
    (current.metadata.finalizers ?? []).includes(ASSIGNED_IDENTITY_FINALIZER) &&
    canonical(current.spec) === canonical(next.spec)
  );
}
