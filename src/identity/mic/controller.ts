/**
 * The Managed Identity Controller's I/O loop: informers on pods and the aad-pod-identity kinds feed
 * the pure `plan` (reconcile.ts), whose actions are applied through a ClusterSource. Rounds run
 * one at a time, after a short debounce of events, on a periodic resync, and again soon after a
 * round that hit a conflict (a stale resourceVersion is never forced: the next round re-plans from
 * the refreshed caches). Invalid resources are logged by kind, name and problem, never by content.
 *
 * Node assignment (standard mode with a NodeAssigner): after the AzureAssignedIdentities are
 * written (new ones Created), every VM or scale set whose wanted user-assigned identities are not
 * confirmed gets one update through the assigner; what it confirms becomes the reconcile's
 * `nodesReady`, so the next round moves those assignments Created -> Assigned. A failed target
 * keeps its assignments Created and is retried with exponential backoff (at least its
 * Retry-After). Updates run in the background, a bounded number at once, so a slow scale set
 * does not hold up AzureAssignedIdentity writes; each settled update triggers a round. Targets
 * are re-read every drift interval; identities podsec added (recorded in the ledger) are removed
 * when nothing on the target needs them (never those it found there). The ledger is never saved
 * over content that could not be read: until a load succeeds (retried with backoff; a corrupt
 * ConfigMap is reported and kept for an operator to fix or delete) nothing is removed, and what
 * was added meanwhile is merged into the stored entries once they are read. Without an assigner
 * (managed mode, local mode, no Resource Manager) type 0 identities are Assigned at once.
 *
 * Nodes are always watched: once at least one Node is known, a pod whose node is not among them
 * (a deleted Node) gets no assignment and its existing ones are deleted, as upstream; a VM or
 * scale set that no Node uses and that ARM answers 404 for is dropped from the ledger. With no Node
 * at all (a --state directory without Node manifests) nodes are not checked. A required kind the
 * API server does not serve (CRD not installed) makes runController throw KindNotServedError.
 */
import type { Logger } from 'pino';
import { AAD_POD_IDENTITY_API_VERSION, ASSIGNED_IDENTITY_FINALIZER } from '../crds/types.js';
import type { AzureAssignedIdentity } from '../crds/types.js';
import type { ClusterSource, Informer, KindRef } from '../../kube/cluster-source/types.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../kube/cluster-source/errors.js';
import type { KubeObject } from '../../kube/types.js';
import { scrubSecrets } from '../../observability/logger.js';
import { LedgerCorruptError, type AssignmentLedger } from './ledger.js';
import type { NodeAssigner } from './node-assigner.js';
import {
  nodeTargetOf,
  normalizeId,
  planNodeAssignments,
  readyPairs,
  targetKey,
  type TargetDecision,
} from './node-assignment.js';
import { plan, type Action, type InvalidResource, type MicPod } from './reconcile.js';
import { awaitKinds } from '../served-kinds.js';

export const MIC_KINDS = {
  pod: { apiVersion: 'v1', kind: 'Pod' },
  identity: { apiVersion: AAD_POD_IDENTITY_API_VERSION, kind: 'AzureIdentity' },
  binding: { apiVersion: AAD_POD_IDENTITY_API_VERSION, kind: 'AzureIdentityBinding' },
  assigned: { apiVersion: AAD_POD_IDENTITY_API_VERSION, kind: 'AzureAssignedIdentity' },
  node: { apiVersion: 'v1', kind: 'Node' },
} as const satisfies Record<string, KindRef>;

export interface NodeAssignmentOptions {
  readonly assigner: NodeAssigner;
  /** Identities podsec added, kept across restarts (default: in memory only). */
  readonly ledger?: AssignmentLedger | undefined;
  /**
   * Identities never removed (upstream's --immutable-user-msis): resource IDs, or client IDs
   * (resolved through the AzureIdentities, the only identities podsec ever adds).
   */
  readonly immutable?: readonly string[] | undefined;
  /** Re-read every target this often and re-add what went missing. Default 3 min. */
  readonly driftCheckMs?: number | undefined;
  /** First retry delay of a failed target, doubled per failure. Default 2 s. */
  readonly backoffBaseMs?: number | undefined;
  /** Longest retry delay (a longer Retry-After still wins). Default 5 min. */
  readonly backoffMaxMs?: number | undefined;
  /** Targets updated at once. Default 4. */
  readonly concurrency?: number | undefined;
}

export interface ControllerOptions {
  readonly source: ClusterSource;
  /** Upstream's cross-namespace bindings (off by default, see MicOptions). */
  readonly allowCrossNamespace?: boolean | undefined;
  /** Stops the loop (and its informers); runController then resolves. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** A full round at least this often even without events. Default 30 s. */
  readonly resyncMs?: number | undefined;
  /** Events closer together than this make one round. Default 100 ms. */
  readonly debounceMs?: number | undefined;
  /** How soon a round that hit conflicts or errors is retried. Default 1 s. */
  readonly retryMs?: number | undefined;
  /**
   * Attach user-assigned identities (type 0) to nodes (standard mode). Absent: they are treated as
   * attached already (managed mode, local mode) and Assigned at once.
   */
  readonly nodeAssignment?: NodeAssignmentOptions | undefined;
  /** Called after each round (tests, metrics). */
  readonly onRound?: ((round: RoundResult) => void) | undefined;
}

export interface RoundResult {
  readonly actions: number;
  readonly applied: number;
  /** Stale resourceVersion, already exists, already gone: retried on the next round. */
  readonly conflicts: number;
  readonly failed: number;
  readonly invalid: number;
  /** Node targets read or updated successfully since the previous round. */
  readonly nodeTargets: number;
  /** Node target updates that failed since the previous round (retried with backoff). */
  readonly nodeFailures: number;
}

type Outcome = 'applied' | 'conflict' | 'failed';

function isConflict(err: unknown): boolean {
  return err instanceof ConflictError || err instanceof AlreadyExistsError || err instanceof NotFoundError;
}

function message(err: unknown): string {
  return scrubSecrets(err instanceof Error ? err.message : String(err));
}

function invalidKey(r: InvalidResource): string {
  return JSON.stringify([r.kind, r.namespace ?? '', r.name ?? '', r.problems]);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Applies one action through the source; the cache of AzureAssignedIdentities gives current objects. */
async function applyOne(source: ClusterSource, assigned: Informer, action: Action): Promise<void> {
  switch (action.type) {
    case 'create': {
      const created = await source.create(action.object as unknown as KubeObject);
      // The API server drops status on create (status subresource): set it explicitly.
      const want = action.object.status;
      const got = (created as Partial<AzureAssignedIdentity>).status;
      if (got?.status !== want.status) await source.updateStatus({ ...created, status: want });
      return;
    }
    case 'update': {
      const updated = await source.update(action.object as unknown as KubeObject);
      const want = action.object.status;
      const got = (updated as Partial<AzureAssignedIdentity>).status;
      if (got?.status !== want.status) await source.updateStatus({ ...updated, status: want });
      return;
    }
    case 'update-status': {
      const current = assigned.get(action.namespace, action.name) as AzureAssignedIdentity | undefined;
      if (current === undefined) throw new NotFoundError(refOf(action));
      const rv = action.resourceVersion ?? current.metadata.resourceVersion;
      const next = {
        ...current,
        metadata: { ...current.metadata, ...(rv === undefined ? {} : { resourceVersion: rv }) },
        status: { ...current.status, status: action.status },
      };
      await source.updateStatus(next);
      return;
    }
    case 'delete': {
      let rv = action.resourceVersion;
      const current = assigned.get(action.namespace, action.name) as AzureAssignedIdentity | undefined;
      const finalizers = current?.metadata.finalizers ?? [];
      if (current !== undefined && finalizers.includes(ASSIGNED_IDENTITY_FINALIZER)) {
        // Our finalizer would keep the object terminating forever on an API server: drop it first.
        const released = await source.update({
          ...current,
          metadata: {
            ...current.metadata,
            ...(rv === undefined ? {} : { resourceVersion: rv }),
            finalizers: finalizers.filter((f) => f !== ASSIGNED_IDENTITY_FINALIZER),
          },
        } as unknown as KubeObject);
        rv = released.metadata?.resourceVersion ?? rv;
      }
      await source.delete(refOf(action), rv === undefined ? {} : { resourceVersion: rv });
      return;
    }
  }
}

function refOf(a: { namespace: string; name: string }): {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
} {
  return { ...MIC_KINDS.assigned, namespace: a.namespace, name: a.name };
}

function describe(action: Action): string {
  switch (action.type) {
    case 'create':
    case 'update':
      return `${action.type} ${action.object.metadata.namespace}/${action.object.metadata.name}`;
    case 'update-status':
      return `status ${action.status} ${action.namespace}/${action.name}`;
    case 'delete':
      return `delete ${action.namespace}/${action.name} (${action.reason})`;
  }
}

/**
 * Runs the controller until `signal` aborts. Resolves after the informers are stopped; throws
 * KindNotServedError when a CRD it needs is not installed, otherwise only for faults in the
 * controller itself (write failures are logged and retried).
 */
export async function runController(opts: ControllerOptions): Promise<void> {
  const { source, signal, log } = opts;
  const resyncMs = opts.resyncMs ?? 30_000;
  const debounceMs = opts.debounceMs ?? 100;
  const retryMs = opts.retryMs ?? 1000;
  const na = opts.nodeAssignment;
  const informers = {
    pods: source.informer(MIC_KINDS.pod),
    identities: source.informer(MIC_KINDS.identity),
    bindings: source.informer(MIC_KINDS.binding),
    assigned: source.informer(MIC_KINDS.assigned),
  };
  // Nodes: a pod on a deleted Node loses its assignments, and (when identities are attached) their
  // providerID names the VM or scale set.
  const nodeInformer = source.informer(MIC_KINDS.node);
  const all = [...Object.values(informers), nodeInformer];
  // Watched from the start so a CRD the API server does not serve is noticed at once (exit 2).
  const served = awaitKinds(
    [
      { kind: MIC_KINDS.pod, informer: informers.pods, need: 'required' },
      { kind: MIC_KINDS.identity, informer: informers.identities, need: 'required' },
      { kind: MIC_KINDS.binding, informer: informers.bindings, need: 'required' },
      { kind: MIC_KINDS.assigned, informer: informers.assigned, need: 'required' },
      { kind: MIC_KINDS.node, informer: nodeInformer, need: 'required' },
    ],
    { log, signal },
  );
  // Awaited below, after the node state is set up; a rejection meanwhile is not unhandled.
  served.catch(() => undefined);
  let wake: (() => void) | undefined;
  let pending = false;
  const trigger = (): void => {
    pending = true;
    wake?.();
  };
  const providerIds = new Map<string, string>();
  const unsubscribe = all.map((inf) =>
    inf.onEvent((event) => {
      if (event.type === 'ERROR') {
        log.warn({ err: message(event.error) }, 'informer error; relisting');
        return;
      }
      if (inf === nodeInformer && event.type !== 'SYNCED') {
        // Node status changes often; only a new, removed or re-homed node changes assignments.
        const name = event.object.metadata?.name ?? '';
        const pid = (event.object as { spec?: { providerID?: string } }).spec?.providerID ?? '';
        const before = providerIds.get(name);
        if (event.type === 'DELETED') providerIds.delete(name);
        else providerIds.set(name, pid);
        if (event.type !== 'DELETED' && before === pid) return;
      }
      trigger();
    }),
  );
  const reported = new Set<string>();
  // Updates run in the background (a scale set update can take a minute); each one that settles
  // triggers a round, which turns what it confirmed into Assigned.
  const nodeState = na === undefined ? undefined : await createNodeState(na, log, signal, trigger);
  try {
    await served;
    if (signal.aborted) return;
    log.info({ source: source.description, nodeAssignment: na !== undefined }, 'caches synced; reconciling');
    pending = true;
    while (!signal.aborted) {
      if (!pending) {
        const until = nodeState?.nextDueAt();
        const waitMs = until === undefined ? resyncMs : Math.max(0, Math.min(resyncMs, until - Date.now()));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, waitMs);
          function done(): void {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            wake = undefined;
            resolve();
          }
          wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
        if (signal.aborted) break;
      }
      await sleep(debounceMs, signal);
      if (signal.aborted) break;
      pending = false;
      const round = await runRound();
      opts.onRound?.(round);
      if (round.conflicts + round.failed > 0) {
        await sleep(retryMs, signal);
        pending = true;
      }
    }
  } finally {
    await nodeState?.idle();
    for (const off of unsubscribe) off();
    for (const inf of all) inf.stop();
  }

  async function runRound(): Promise<RoundResult> {
    const nodes = new Map<string, string | undefined>();
    for (const n of nodeInformer.list()) {
      const name = n.metadata?.name;
      if (name !== undefined) nodes.set(name, (n as { spec?: { providerID?: string } }).spec?.providerID);
    }
    const identities = informers.identities.list();
    const readiness = nodeState ? readyPairs(nodes, userAssignedIds(identities), nodeState.known) : undefined;
    const result = plan(
      {
        pods: informers.pods.list() as unknown as readonly MicPod[],
        identities,
        bindings: informers.bindings.list(),
        assigned: informers.assigned.list(),
        ...(readiness ? { nodesReady: readiness.ready, nodesUnknown: readiness.unknownNodes } : {}),
        // Pods on a Node that no longer exists lose their assignments; checked only once some Node
        // is known, so a --state directory without Node manifests (local mode) keeps working.
        ...(nodes.size > 0 ? { nodes: new Set(nodes.keys()) } : {}),
      },
      { allowCrossNamespace: opts.allowCrossNamespace === true, preassigned: nodeState === undefined },
    );
    const seen = new Set<string>();
    for (const bad of result.invalid) {
      const key = invalidKey(bad);
      seen.add(key);
      if (reported.has(key)) continue;
      reported.add(key);
      log.warn(
        {
          kind: bad.kind,
          namespace: bad.namespace,
          name: bad.name,
          problems: bad.problems.map((p) => `${p.path}: ${scrubSecrets(p.message)}`),
        },
        'invalid resource ignored',
      );
    }
    for (const key of reported) if (!seen.has(key)) reported.delete(key);
    const counts: Record<Outcome, number> = { applied: 0, conflict: 0, failed: 0 };
    for (const action of result.actions) {
      if (signal.aborted) break;
      try {
        await applyOne(source, informers.assigned, action);
        counts.applied += 1;
        log.info({ action: describe(action) }, 'applied');
      } catch (err) {
        if (isConflict(err)) {
          counts.conflict += 1;
          log.debug({ action: describe(action), err: message(err) }, 'conflict; retrying next round');
        } else {
          counts.failed += 1;
          log.warn({ action: describe(action), err: message(err) }, 'action failed; retrying');
        }
      }
    }
    if (nodeState && !signal.aborted)
      nodeState.assign(result.nodeIdentities, nodes, userAssignedClients(identities));
    const node = nodeState?.takeCompleted() ?? { targets: 0, failures: 0 };
    return {
      actions: result.actions.length,
      applied: counts.applied,
      conflicts: counts.conflict,
      failed: counts.failed,
      invalid: result.invalid.length,
      nodeTargets: node.targets,
      nodeFailures: node.failures,
    };
  }
}

/** Resource IDs of the user-assigned identities (type 0) among raw AzureIdentity objects. */
function userAssignedIds(identities: readonly KubeObject[]): string[] {
  const out: string[] = [];
  for (const i of identities) {
    const spec = (i as { spec?: { type?: unknown; resourceID?: unknown } }).spec;
    if (spec?.type === 0 && typeof spec.resourceID === 'string' && spec.resourceID !== '')
      out.push(spec.resourceID);
  }
  return out;
}

/** Client ID -> resource ID of the user-assigned identities (type 0) among raw AzureIdentity objects. */
function userAssignedClients(identities: readonly KubeObject[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const i of identities) {
    const spec = (i as { spec?: { type?: unknown; resourceID?: unknown; clientID?: unknown } }).spec;
    if (spec?.type === 0 && typeof spec.resourceID === 'string' && typeof spec.clientID === 'string')
      out.set(spec.clientID, spec.resourceID);
  }
  return out;
}

interface NodeState {
  /** Target key -> normalized IDs seen there by the last successful read or update. */
  readonly known: Map<string, Set<string>>;
  /** When the earliest backed-off target or drift check is due (epoch ms), if any. */
  nextDueAt(): number | undefined;
  /** Starts the due target updates (at most `concurrency` at once) without waiting for them. */
  assign(
    nodeIdentities: ReadonlyMap<string, ReadonlySet<string>>,
    nodes: ReadonlyMap<string, string | undefined>,
    /** Client ID -> resource ID of the type 0 AzureIdentities (for client IDs in `immutable`). */
    clientIds: ReadonlyMap<string, string>,
  ): void;
  /** Updates that settled since the last call. */
  takeCompleted(): { targets: number; failures: number };
  /** Resolves once no update is in flight and the ledger is saved. */
  idle(): Promise<void>;
}

async function createNodeState(
  na: NodeAssignmentOptions,
  log: Logger,
  signal: AbortSignal,
  onSettled: () => void,
): Promise<NodeState> {
  const driftMs = na.driftCheckMs ?? 180_000;
  const baseMs = na.backoffBaseMs ?? 2000;
  const maxMs = na.backoffMaxMs ?? 300_000;
  const concurrency = Math.max(1, na.concurrency ?? 4);
  const immutableIds = new Set((na.immutable ?? []).filter((x) => x.startsWith('/')).map(normalizeId));
  const immutableClients = new Set(
    (na.immutable ?? []).filter((x) => !x.startsWith('/')).map((x) => x.toLowerCase()),
  );
  const known = new Map<string, Set<string>>();
  const readAt = new Map<string, number>();
  const backoff = new Map<string, { failures: number; dueAt: number }>();
  const unresolvedLogged = new Set<string>();
  /** Target key -> normalized IDs ARM refused -> until when they are left out (then tried again). */
  const rejected = new Map<string, Map<string, number>>();
  const isRejected = (key: string, id: string, now: number): boolean =>
    (rejected.get(key)?.get(normalizeId(id)) ?? 0) > now;
  const inflight = new Map<string, Promise<void>>();
  const completed = { targets: 0, failures: 0 };
  let saving: Promise<void> = Promise.resolve();
  let savedLedger = '';
  const added = new Map<string, Set<string>>();
  const textOf = (m: ReadonlyMap<string, ReadonlySet<string>>): string =>
    JSON.stringify([...m].map(([k, v]) => [k, [...v].sort()]).sort());
  const ledgerText = (): string => textOf(added);
  /**
   * False until the stored ledger was read. Until then podsec cannot tell its own earlier
   * additions, so it removes nothing, and it never saves (that would replace the stored entries
   * with this session's, and the identities recorded there would never be removed).
   */
  let ledgerLoaded = na.ledger === undefined;

  /** One load attempt; merges the stored entries with this session's additions. */
  async function loadLedger(ledger: AssignmentLedger): Promise<boolean> {
    try {
      const stored = await ledger.load();
      savedLedger = textOf(stored);
      for (const [key, ids] of stored) added.set(key, new Set([...ids, ...(added.get(key) ?? [])]));
      ledgerLoaded = true;
      return true;
    } catch (err) {
      if (err instanceof LedgerCorruptError) {
        log.error(
          { err: message(err) },
          'node assignment ledger is corrupt; it is kept as it is and no identity is removed from ' +
            'nodes until an operator fixes or deletes the ConfigMap',
        );
      } else {
        log.warn(
          { err: message(err) },
          'node assignment ledger unreadable; retrying; no identity is removed from nodes until it is read',
        );
      }
      return false;
    }
  }

  /** Retries the load with backoff until it succeeds (or the controller stops), then saves the merge. */
  async function retryLedgerLoad(ledger: AssignmentLedger): Promise<void> {
    for (let failures = 1; !signal.aborted; failures++) {
      await sleep(Math.min(maxMs, baseMs * 2 ** (failures - 1)), signal);
      if (signal.aborted) return;
      if (await loadLedger(ledger)) {
        log.info({ failures }, 'node assignment ledger read; identities podsec added may be removed again');
        saveLedger();
        onSettled();
        return;
      }
    }
  }

  if (na.ledger && !(await loadLedger(na.ledger))) void retryLedgerLoad(na.ledger);

  /** Saves the ledger when it changed; one save at a time, a failed one retried on the next call. */
  function saveLedger(): void {
    const ledger = na.ledger;
    if (!ledger) return;
    saving = saving.then(async () => {
      // Never over stored content that was not read (see ledgerLoaded).
      if (!ledgerLoaded) return;
      const text = ledgerText();
      if (text === savedLedger) return;
      try {
        await ledger.save(added);
        savedLedger = text;
      } catch (err) {
        log.warn({ err: message(err) }, 'node assignment ledger not saved; retrying');
      }
    });
  }

  /** Target keys some existing Node's providerID names (as of the last `assign`). */
  let liveTargets = new Set<string>();
  let queue: TargetDecision[] = [];
  function startNext(): void {
    while (!signal.aborted && inflight.size < concurrency) {
      const d = queue.shift();
      if (d === undefined) return;
      if (inflight.has(d.key)) continue;
      const run = applyDecision(d)
        .then(
          (ok) => {
            if (ok) completed.targets += 1;
            else completed.failures += 1;
          },
          (err: unknown) => {
            completed.failures += 1;
            log.warn({ target: d.key, err: message(err) }, 'node assignment failed unexpectedly');
          },
        )
        .finally(() => {
          inflight.delete(d.key);
          saveLedger();
          startNext();
          if (!signal.aborted) onSettled();
        });
      inflight.set(d.key, run);
    }
  }

  async function applyDecision(d: TargetDecision): Promise<boolean> {
    const start = Date.now();
    const add = d.desired.filter((id) => !isRejected(d.key, id, start));
    const outcome = await na.assigner.apply({ target: d.target, add, remove: d.remove }, signal);
    const now = Date.now();
    if (!outcome.ok && outcome.status === 404 && !liveTargets.has(d.key)) {
      // No Node uses this VM or scale set any more and ARM no longer has it (deleted with its
      // nodes): its identities went with it. Forget it, or it would be retried forever.
      added.delete(d.key);
      known.delete(d.key);
      readAt.delete(d.key);
      backoff.delete(d.key);
      rejected.delete(d.key);
      log.info(
        { target: d.key, identities: d.remove.length },
        'VM or scale set of deleted nodes no longer exists; podsec forgets what it had added there',
      );
      return true;
    }
    if (!outcome.ok) {
      // What the target already had is usable even though the update failed.
      if (outcome.present !== undefined) known.set(d.key, new Set(outcome.present));
      const prev = backoff.get(d.key)?.failures ?? 0;
      const delay = Math.max(outcome.retryAfterMs ?? 0, Math.min(maxMs, baseMs * 2 ** prev));
      backoff.set(d.key, { failures: prev + 1, dueAt: now + delay });
      log.warn(
        {
          target: d.key,
          nodes: d.nodes,
          failures: prev + 1,
          retryInMs: delay,
          status: outcome.status,
          err: scrubSecrets(outcome.error),
        },
        'node assignment failed; its assignments stay Created',
      );
      return false;
    }
    backoff.delete(d.key);
    for (const id of outcome.rejected ?? []) {
      let m = rejected.get(d.key);
      if (!m) rejected.set(d.key, (m = new Map<string, number>()));
      m.set(normalizeId(id), now + maxMs);
      log.warn(
        { target: d.key, nodes: d.nodes, identity: id, retryInMs: maxMs },
        'Resource Manager refused this identity (deleted or mistyped?); its assignments stay Created',
      );
    }
    known.set(d.key, new Set(outcome.present));
    readAt.set(d.key, now);
    const mine = new Set(added.get(d.key) ?? []);
    for (const id of outcome.added) mine.add(normalizeId(id));
    for (const id of outcome.removed) mine.delete(id);
    for (const id of mine) if (!outcome.present.has(id)) mine.delete(id);
    if (mine.size > 0) added.set(d.key, mine);
    else added.delete(d.key);
    if (outcome.updated) {
      log.info(
        {
          target: d.key,
          nodes: d.nodes,
          added: outcome.added.length,
          removed: outcome.removed.length,
        },
        'node identities updated',
      );
    }
    return true;
  }

  return {
    known,
    nextDueAt() {
      // Only future times: a past one was handled (or no longer matters) and would spin the loop.
      const now = Date.now();
      let min: number | undefined;
      const consider = (t: number): void => {
        if (t > now) min = min === undefined ? t : Math.min(min, t);
      };
      for (const b of backoff.values()) consider(b.dueAt);
      for (const at of readAt.values()) consider(at + driftMs);
      return min;
    },
    assign(nodeIdentities, nodes, clientIds) {
      const now = Date.now();
      liveTargets = new Set();
      for (const node of nodes.keys()) {
        const t = nodeTargetOf(nodes, node);
        if (typeof t !== 'string') liveTargets.add(targetKey(t));
      }
      const verify = new Set<string>();
      for (const [key, at] of readAt) if (now - at >= driftMs) verify.add(key);
      const immutable = new Set(immutableIds);
      for (const [clientId, id] of clientIds)
        if (immutableClients.has(clientId.toLowerCase())) immutable.add(normalizeId(id));
      // Removals only once the stored ledger was read (additions go ahead meanwhile).
      const removable = ledgerLoaded ? added : new Map<string, Set<string>>();
      const decided = planNodeAssignments({
        nodeIdentities,
        nodes,
        known,
        added: removable,
        immutable,
        verify,
      });
      for (const u of decided.unresolved) {
        const key = `${u.node}|${u.reason}`;
        if (unresolvedLogged.has(key)) continue;
        unresolvedLogged.add(key);
        log.warn(
          { node: u.node, reason: u.reason },
          'cannot find the VM or scale set of this node; its user-assigned identities stay Created',
        );
      }
      // Due targets wait in a queue; a slot that frees up takes the next one at once.
      queue = decided.targets.filter(
        (d) =>
          (backoff.get(d.key)?.dueAt ?? 0) <= now &&
          // Nothing left to do once refused identities are set aside (until they are tried again).
          (d.remove.length > 0 || verify.has(d.key) || d.add.some((id) => !isRejected(d.key, id, now))),
      );
      startNext();
    },
    takeCompleted() {
      const out = { ...completed };
      completed.targets = 0;
      completed.failures = 0;
      return out;
    },
    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight.values()]);
      await saving;
    },
  };
}
