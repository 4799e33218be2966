/**
 * The Managed Identity Controller's I/O loop: informers on pods and the aad-pod-identity kinds feed
 * the pure `plan` (reconcile.ts), whose actions are applied through a ClusterSource. Rounds run
 * one at a time, after a short debounce of events, on a periodic resync, and again soon after a
 * round that hit a conflict (a stale resourceVersion is never forced: the next round re-plans from
 * the refreshed caches). Invalid resources are logged by kind, name and problem, never by content.
 */
import type { Logger } from 'pino';
import { AAD_POD_IDENTITY_API_VERSION, ASSIGNED_IDENTITY_FINALIZER } from '../crds/types.js';
import type { AzureAssignedIdentity } from '../crds/types.js';
import type { ClusterSource, Informer, KindRef } from '../../kube/cluster-source/types.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../kube/cluster-source/errors.js';
import type { KubeObject } from '../../kube/types.js';
import { scrubSecrets } from '../../observability/logger.js';
import { plan, type Action, type InvalidResource, type MicPod } from './reconcile.js';

export const MIC_KINDS = {
  pod: { apiVersion: 'v1', kind: 'Pod' },
  identity: { apiVersion: AAD_POD_IDENTITY_API_VERSION, kind: 'AzureIdentity' },
  binding: { apiVersion: AAD_POD_IDENTITY_API_VERSION, kind: 'AzureIdentityBinding' },
  assigned: { apiVersion: AAD_POD_IDENTITY_API_VERSION, kind: 'AzureAssignedIdentity' },
} as const satisfies Record<string, KindRef>;

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
 * Runs the controller until `signal` aborts. Resolves after the informers are stopped; throws only
 * for faults in the controller itself (write failures are logged and retried).
 */
export async function runController(opts: ControllerOptions): Promise<void> {
  const { source, signal, log } = opts;
  const resyncMs = opts.resyncMs ?? 30_000;
  const debounceMs = opts.debounceMs ?? 100;
  const retryMs = opts.retryMs ?? 1000;
  const informers = {
    pods: source.informer(MIC_KINDS.pod),
    identities: source.informer(MIC_KINDS.identity),
    bindings: source.informer(MIC_KINDS.binding),
    assigned: source.informer(MIC_KINDS.assigned),
  };
  const all = Object.values(informers);
  let wake: (() => void) | undefined;
  let pending = false;
  const trigger = (): void => {
    pending = true;
    wake?.();
  };
  const unsubscribe = all.map((inf) =>
    inf.onEvent((event) => {
      if (event.type === 'ERROR') log.warn({ err: message(event.error) }, 'informer error; relisting');
      else trigger();
    }),
  );
  const reported = new Set<string>();
  try {
    await Promise.race([Promise.all(all.map((i) => i.synced)), sleep(2 ** 31 - 1, signal)]);
    if (signal.aborted) return;
    log.info({ source: source.description }, 'caches synced; reconciling');
    pending = true;
    while (!signal.aborted) {
      if (!pending) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, resyncMs);
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
    for (const off of unsubscribe) off();
    for (const inf of all) inf.stop();
  }

  async function runRound(): Promise<RoundResult> {
    const result = plan(
      {
        pods: informers.pods.list() as unknown as readonly MicPod[],
        identities: informers.identities.list(),
        bindings: informers.bindings.list(),
        assigned: informers.assigned.list(),
      },
      { allowCrossNamespace: opts.allowCrossNamespace === true },
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
    return {
      actions: result.actions.length,
      applied: counts.applied,
      conflicts: counts.conflict,
      failed: counts.failed,
      invalid: result.invalid.length,
    };
  }
}
