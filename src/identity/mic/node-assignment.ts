/**
 * Node assignment decisions for user-assigned managed identities (type 0), as pure functions: which
 * identities each VM or scale set must carry, which podsec may take away again, and which
 * (node, identity) pairs are confirmed usable. The ARM calls live behind NodeAssigner
 * (node-assigner.ts); this file only decides, so the rules are table-tested.
 *
 * Rules (aad-pod-identity's MIC, made safer):
 * - a node's target comes from its spec.providerID: a VM, or the scale set of a VMSS instance
 *   (identities are set on the scale set, as upstream did, so all nodes of one scale set share
 *   one target and one update);
 * - add: every identity some desired assignment on the target's nodes uses and that the last
 *   read of the target did not show (all of them when the target was never read);
 * - remove: only identities podsec itself added (the ledger), that no desired assignment on any
 *   node of the target uses any more, and that are not immutable. An identity that was already
 *   on the VM when podsec first wanted it is never removed (upstream removed anything no
 *   AzureAssignedIdentity used, including identities others had put there);
 * - ARM resource IDs compare case-insensitively (ARM may answer with another casing).
 */

/** A VM, or a VMSS instance (identity changes go to its scale set). */
export type NodeTarget =
  | {
      readonly kind: 'vm';
      readonly subscriptionId: string;
      readonly resourceGroup: string;
      readonly name: string;
    }
  | {
      readonly kind: 'vmss';
      readonly subscriptionId: string;
      readonly resourceGroup: string;
      /** The scale set's name. */
      readonly name: string;
      /** The instance, when the target came from a node's providerID. */
      readonly instanceId?: string | undefined;
    };

const PROVIDER_PREFIX = 'azure://';
const SEGMENT = '([^/]+)';
const VM_ID = new RegExp(
  `^/subscriptions/${SEGMENT}/resourceGroups/${SEGMENT}/providers/Microsoft\\.Compute/virtualMachines/${SEGMENT}$`,
  'i',
);
const VMSS_ID = new RegExp(
  `^/subscriptions/${SEGMENT}/resourceGroups/${SEGMENT}/providers/Microsoft\\.Compute/virtualMachineScaleSets/${SEGMENT}(?:/virtualMachines/${SEGMENT})?$`,
  'i',
);

/** An ARM resource ID of a VM, a scale set or a scale-set instance; undefined for anything else. */
export function parseResourceId(id: string): NodeTarget | undefined {
  const vm = VM_ID.exec(id);
  if (vm) return { kind: 'vm', subscriptionId: vm[1]!, resourceGroup: vm[2]!, name: vm[3]! };
  const ss = VMSS_ID.exec(id);
  if (ss) {
    return {
      kind: 'vmss',
      subscriptionId: ss[1]!,
      resourceGroup: ss[2]!,
      name: ss[3]!,
      ...(ss[4] === undefined ? {} : { instanceId: ss[4] }),
    };
  }
  return undefined;
}

/**
 * A Node's spec.providerID (`azure:///subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/
 * virtualMachines/NAME` or `.../virtualMachineScaleSets/SS/virtualMachines/ID`) as a target.
 */
export function parseProviderId(providerID: string): NodeTarget | undefined {
  if (!providerID.toLowerCase().startsWith(PROVIDER_PREFIX)) return undefined;
  const id = providerID.slice(PROVIDER_PREFIX.length);
  return id.startsWith('/') ? parseResourceId(id) : undefined;
}

/** The ARM ID the identity update goes to: the VM, or the whole scale set. */
export function targetResourceId(t: NodeTarget): string {
  const base = `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}/providers/Microsoft.Compute`;
  return t.kind === 'vm' ? `${base}/virtualMachines/${t.name}` : `${base}/virtualMachineScaleSets/${t.name}`;
}

/** The key one update is batched under: the lower-cased target ID (several VMSS nodes share it). */
export function targetKey(t: NodeTarget): string {
  return targetResourceId(t).toLowerCase();
}

/** Case-insensitive identity of an ARM resource ID. */
export function normalizeId(id: string): string {
  return id.toLowerCase();
}

export interface NodeAssignmentInput {
  /** Node name -> resource IDs of the type 0 identities its desired assignments use. */
  readonly nodeIdentities: ReadonlyMap<string, ReadonlySet<string>>;
  /** Node name -> spec.providerID ('' or undefined when the node has none). Absent: no such Node. */
  readonly nodes: ReadonlyMap<string, string | undefined>;
  /** Target key -> user-assigned IDs (normalized) seen on it by the last successful read or update. */
  readonly known: ReadonlyMap<string, ReadonlySet<string>>;
  /** Target key -> IDs (normalized) that podsec added to it and may remove again. */
  readonly added: ReadonlyMap<string, ReadonlySet<string>>;
  /** Normalized IDs never removed (upstream's --immutable-user-msis, the kubelet identity). */
  readonly immutable?: ReadonlySet<string> | undefined;
  /** Target keys to read again even when nothing seems missing (drift check). */
  readonly verify?: ReadonlySet<string> | undefined;
}

export interface TargetDecision {
  readonly key: string;
  readonly target: NodeTarget;
  /** Nodes served by this target, sorted. */
  readonly nodes: readonly string[];
  /** Resource IDs (as the identities spell them) that must be present, sorted. */
  readonly desired: readonly string[];
  /** Of `desired`, the ones not known to be present. */
  readonly add: readonly string[];
  /** Normalized IDs podsec added and nothing needs any more. */
  readonly remove: readonly string[];
}

export type UnresolvedReason = 'no-node' | 'no-provider-id' | 'unsupported-provider-id';

export interface NodeAssignmentPlan {
  /** Targets with work (add, remove or verify), sorted by key: one update each. */
  readonly targets: readonly TargetDecision[];
  /** Nodes with desired identities whose target cannot be found: their assignments wait in Created. */
  readonly unresolved: readonly { readonly node: string; readonly reason: UnresolvedReason }[];
}

export function nodeTargetOf(
  nodes: ReadonlyMap<string, string | undefined>,
  node: string,
): NodeTarget | UnresolvedReason {
  if (!nodes.has(node)) return 'no-node';
  const providerID = nodes.get(node);
  if (providerID === undefined || providerID === '') return 'no-provider-id';
  return parseProviderId(providerID) ?? 'unsupported-provider-id';
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The update each target needs. */
export function planNodeAssignments(input: NodeAssignmentInput): NodeAssignmentPlan {
  interface Acc {
    target: NodeTarget;
    nodes: string[];
    desired: Map<string, string>; // normalized -> as spelled
  }
  const acc = new Map<string, Acc>();
  const unresolved: { node: string; reason: UnresolvedReason }[] = [];
  for (const [node, ids] of input.nodeIdentities) {
    if (ids.size === 0) continue;
    const target = nodeTargetOf(input.nodes, node);
    if (typeof target === 'string') {
      unresolved.push({ node, reason: target });
      continue;
    }
    const key = targetKey(target);
    let a = acc.get(key);
    if (!a) {
      a = { target, nodes: [], desired: new Map() };
      acc.set(key, a);
    }
    a.nodes.push(node);
    for (const id of ids) {
      const n = normalizeId(id);
      if (!a.desired.has(n)) a.desired.set(n, id);
    }
  }
  // Targets podsec added identities to but where nothing is desired any more (pods gone, node gone).
  for (const key of input.added.keys()) {
    if (acc.has(key)) continue;
    const target = parseResourceId(key);
    if (target) acc.set(key, { target, nodes: [], desired: new Map() });
  }

  const targets: TargetDecision[] = [];
  for (const [key, a] of acc) {
    const known = input.known.get(key);
    const add: string[] = [];
    for (const [n, id] of a.desired) if (!known?.has(n)) add.push(id);
    const remove: string[] = [];
    for (const n of input.added.get(key) ?? []) {
      if (a.desired.has(n) || input.immutable?.has(n) === true) continue;
      // Already gone (someone else removed it): nothing to do.
      if (known !== undefined && !known.has(n)) continue;
      remove.push(n);
    }
    const verify = input.verify?.has(key) === true && a.desired.size > 0;
    if (add.length === 0 && remove.length === 0 && !verify) continue;
    targets.push({
      key,
      target: a.target,
      nodes: a.nodes.sort(byText),
      desired: [...a.desired.values()].sort(byText),
      add: add.sort(byText),
      remove: remove.sort(byText),
    });
  }
  targets.sort((x, y) => byText(x.key, y.key));
  unresolved.sort((x, y) => byText(x.node, y.node));
  return { targets, unresolved };
}

/**
 * The reconcile's `nodesReady`: "node|resourceID" for every type 0 identity (`resourceIds`, spelled
 * as the identities spell them) that the last read of the node's target showed present; and
 * `unknownNodes`, the nodes whose target was never read (their confirmed assignments are kept as
 * they are until it is).
 */
export function readyPairs(
  nodes: ReadonlyMap<string, string | undefined>,
  resourceIds: Iterable<string>,
  known: ReadonlyMap<string, ReadonlySet<string>>,
): { ready: Set<string>; unknownNodes: Set<string> } {
  const spellings = new Map<string, string[]>();
  for (const id of resourceIds) {
    const n = normalizeId(id);
    const list = spellings.get(n);
    if (!list) spellings.set(n, [id]);
    else if (!list.includes(id)) list.push(id);
  }
  const ready = new Set<string>();
  const unknownNodes = new Set<string>();
  for (const node of nodes.keys()) {
    const target = nodeTargetOf(nodes, node);
    if (typeof target === 'string') continue;
    const present = known.get(targetKey(target));
    if (present === undefined) {
      unknownNodes.add(node);
      continue;
    }
    for (const n of present) for (const id of spellings.get(n) ?? []) ready.add(`${node}|${id}`);
  }
  return { ready, unknownNodes };
}

/** Identity section of a VM or scale set, as ARM returns and accepts it. */
export interface ArmIdentity {
  readonly type?: string | undefined;
  readonly userAssignedIdentities?: Readonly<Record<string, unknown>> | undefined;
}

export type IdentityType = 'None' | 'SystemAssigned' | 'UserAssigned' | 'SystemAssigned, UserAssigned';

export function hasSystemAssigned(identity: ArmIdentity | undefined): boolean {
  return (identity?.type ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .includes('systemassigned');
}

export function identityType(systemAssigned: boolean, userAssigned: number): IdentityType {
  if (userAssigned > 0) return systemAssigned ? 'SystemAssigned, UserAssigned' : 'UserAssigned';
  return systemAssigned ? 'SystemAssigned' : 'None';
}

export interface IdentityChange {
  /** The PATCH body's `identity`: null values remove an identity. */
  readonly patch: {
    type: IdentityType;
    userAssignedIdentities?: Record<string, Record<string, never> | null>;
  };
  /** User-assigned IDs present after the change, normalized. */
  readonly present: ReadonlySet<string>;
  /** IDs from `add` that were not there before (spelled as requested). */
  readonly added: readonly string[];
  /** Normalized IDs removed. */
  readonly removed: readonly string[];
}

/**
 * The identity update for a target from what it has now: the union with `add`, minus `remove`.
 * SystemAssigned is kept. Undefined when nothing would change (no PATCH).
 */
export function identityUpdate(
  current: ArmIdentity | undefined,
  add: readonly string[],
  remove: readonly string[],
): { change: IdentityChange | undefined; present: ReadonlySet<string> } {
  const existing = new Map<string, string>(); // normalized -> as ARM spells it
  for (const id of Object.keys(current?.userAssignedIdentities ?? {})) existing.set(normalizeId(id), id);
  const added: string[] = [];
  const entries: Record<string, Record<string, never> | null> = {};
  const present = new Set(existing.keys());
  for (const id of add) {
    const n = normalizeId(id);
    if (present.has(n)) continue;
    present.add(n);
    added.push(id);
    entries[id] = {};
  }
  const removed: string[] = [];
  for (const raw of remove) {
    const n = normalizeId(raw);
    if (!existing.has(n) || added.some((a) => normalizeId(a) === n)) continue;
    present.delete(n);
    removed.push(n);
    entries[existing.get(n)!] = null;
  }
  if (added.length === 0 && removed.length === 0) return { change: undefined, present };
  const system = hasSystemAssigned(current);
  const type = identityType(system, present.size);
  const patch: IdentityChange['patch'] = { type };
  // With no user-assigned identity left the type says so; ARM rejects the dictionary then.
  if (present.size > 0) {
    for (const id of existing.values()) if (!(id in entries)) entries[id] = {};
    patch.userAssignedIdentities = entries;
  }
  return { change: { patch, present, added, removed }, present };
}
