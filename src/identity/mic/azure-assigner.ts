/**
 * NodeAssigner over Azure Resource Manager with @azure/arm-compute (imported lazily: only a
 * controller in standard mode with a cloud config loads it). One target = one GET of the VM or
 * scale set and, when the union with the wanted identities differs, one PATCH of its `identity`
 * (SystemAssigned kept, the type string recomputed, removals sent as null entries), as upstream
 * updated the scale set rather than each instance.
 *
 * Retries are ours and bounded: the SDK pipeline's own retry is switched off, because it would
 * wait for any Retry-After however long. Here a 429/503 Retry-After up to `maxRetryAfterMs` is
 * honoured within `maxAttempts`; a longer one ends the call at once with `retryAfterMs` so the
 * controller schedules the target no earlier than that. Errors are reported by status and ARM
 * error code, never with request bodies or tokens.
 */
import type { TokenCredential } from '@azure/core-auth';
import type { AssignOutcome, NodeAssigner, TargetChange } from './node-assigner.js';
import {
  identityUpdate,
  normalizeId,
  targetResourceId,
  type ArmIdentity,
  type NodeTarget,
} from './node-assignment.js';

export const DEFAULT_ARM_ENDPOINT = 'https://management.azure.com';

export interface AzureAssignerOptions {
  readonly credential: TokenCredential;
  /** Resource Manager base URL (default https://management.azure.com). */
  readonly armEndpoint?: string | undefined;
  /** Token scope (default: the endpoint's origin + `/.default`). */
  readonly scope?: string | undefined;
  /** Extra CA certificates (PEM) to trust for the endpoint: a local stand-in in tests. */
  readonly ca?: string | undefined;
  /** Attempts per ARM call (GET or PATCH) on 429, 5xx and network errors. Default 3. */
  readonly maxAttempts?: number | undefined;
  /** The longest Retry-After waited for inside one call. Default 60 s. */
  readonly maxRetryAfterMs?: number | undefined;
  /** First backoff without Retry-After, doubled per attempt. Default 1 s. */
  readonly retryBaseMs?: number | undefined;
  /** Polling interval of long-running updates (202 responses). Default 2 s. */
  readonly pollIntervalMs?: number | undefined;
  /**
   * Bound on one target's whole read-and-update, polling included (a scale set takes 40-60 s; an
   * operation ARM never finishes must not stall the controller). Default 10 min.
   */
  readonly operationTimeoutMs?: number | undefined;
  /** Injected for tests. */
  readonly sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
}

interface ComputeLike {
  virtualMachines: {
    get(rg: string, name: string, options?: object): Promise<{ identity?: ArmIdentity }>;
    update(rg: string, name: string, body: object, options?: object): PromiseLike<unknown>;
  };
  virtualMachineScaleSets: {
    get(rg: string, name: string, options?: object): Promise<{ identity?: ArmIdentity }>;
    update(rg: string, name: string, body: object, options?: object): PromiseLike<unknown>;
  };
}

interface CallFailure {
  error: string;
  /** ARM's own error message (used to find the identities it rejected; not logged whole). */
  detail?: string | undefined;
  status?: number | undefined;
  retryAfterMs?: number | undefined;
}

class ArmCallError extends Error {
  constructor(readonly failure: CallFailure) {
    super(failure.error);
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Retry-After (seconds or HTTP date) or retry-after-ms / x-ms-retry-after-ms, in ms. */
export function retryAfterMs(headers: { get(name: string): string | undefined | null }): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = headers.get(name);
    if (v != null && /^\d+(\.\d+)?$/.test(v.trim())) return Math.ceil(Number(v));
  }
  const v = headers.get('retry-after');
  if (v == null || v.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** Status, ARM error code and Retry-After of an SDK error, without any body or header dump. */
function describeError(err: unknown): CallFailure {
  const e = err as {
    statusCode?: unknown;
    code?: unknown;
    message?: unknown;
    response?: { headers?: { get?(n: string): string | undefined } };
  };
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const headers = e.response?.headers;
  const after = typeof headers?.get === 'function' ? retryAfterMs(headers as never) : undefined;
  let error: string;
  if (status !== undefined) error = `ARM answered ${status}${code === undefined ? '' : ` ${code}`}`;
  else error = `ARM request failed: ${code ?? (err instanceof Error ? err.message : String(err))}`;
  const detail = typeof e.message === 'string' ? e.message : undefined;
  return { error: error.slice(0, 300), detail, status, retryAfterMs: after };
}

/** The identities an ARM 400 names (its message quotes the offending resource IDs). */
function rejectedIds(f: CallFailure, added: readonly string[]): string[] {
  if (f.status !== 400 || f.detail === undefined) return [];
  const text = f.detail.toLowerCase();
  return added.filter((id) => text.includes(normalizeId(id)));
}

function isRetriable(f: CallFailure): boolean {
  return f.status === undefined || f.status === 429 || f.status === 408 || f.status >= 500;
}

export function createAzureNodeAssigner(options: AzureAssignerOptions): NodeAssigner {
  const endpoint = (options.armEndpoint ?? DEFAULT_ARM_ENDPOINT).replace(/\/+$/, '');
  const scope = options.scope ?? `${new URL(endpoint).origin}/.default`;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const retryBaseMs = options.retryBaseMs ?? 1000;
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const operationTimeoutMs = options.operationTimeoutMs ?? 600_000;
  const sleep = options.sleep ?? defaultSleep;
  const clients = new Map<string, Promise<ComputeLike>>();

  function clientFor(subscriptionId: string): Promise<ComputeLike> {
    const key = subscriptionId.toLowerCase();
    let c = clients.get(key);
    if (!c) {
      c = (async () => {
        const { ComputeManagementClient } = await import('@azure/arm-compute');
        return new ComputeManagementClient(options.credential, subscriptionId, {
          endpoint,
          credentials: { scopes: [scope] },
          // Bounded retries happen in `call` below.
          retryOptions: { maxRetries: 0 },
          ...(options.ca === undefined ? {} : { tlsOptions: { ca: options.ca } }),
        });
      })();
      clients.set(key, c);
    }
    return c;
  }

  async function call<T>(fn: () => PromiseLike<T>, signal: AbortSignal | undefined): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const f = describeError(err);
        if (signal?.aborted === true || !isRetriable(f) || attempt >= maxAttempts) throw new ArmCallError(f);
        if (f.retryAfterMs !== undefined && f.retryAfterMs > maxRetryAfterMs) throw new ArmCallError(f);
        await sleep(f.retryAfterMs ?? retryBaseMs * 2 ** (attempt - 1), signal);
      }
    }
  }

  function ops(c: ComputeLike, t: NodeTarget): ComputeLike['virtualMachines'] {
    return t.kind === 'vm' ? c.virtualMachines : c.virtualMachineScaleSets;
  }

  return {
    async apply(change: TargetChange, outer?: AbortSignal): Promise<AssignOutcome> {
      const t = change.target;
      let before: ReadonlySet<string> | undefined;
      const deadline = AbortSignal.timeout(operationTimeoutMs);
      const signal = outer === undefined ? deadline : AbortSignal.any([outer, deadline]);
      try {
        const c = await clientFor(t.subscriptionId);
        const abort = { abortSignal: signal };
        const current = await call(() => ops(c, t).get(t.resourceGroup, t.name, abort), signal);
        const { change: update, present } = identityUpdate(current.identity, change.add, change.remove);
        if (update === undefined) return { ok: true, present, added: [], removed: [], updated: false };
        before = new Set(Object.keys(current.identity?.userAssignedIdentities ?? {}).map(normalizeId));
        const patch = (body: object): Promise<unknown> =>
          call(
            () =>
              ops(c, t).update(t.resourceGroup, t.name, body, {
                ...abort,
                updateIntervalInMs: pollIntervalMs,
              }),
            signal,
          );
        try {
          await patch({ identity: update.patch });
          return { ok: true, present, added: update.added, removed: update.removed, updated: true };
        } catch (err) {
          // One bad identity (deleted, mistyped) must not block every other one on this target:
          // drop the ones ARM names in its 400 and try once more without them, as upstream did.
          const rejected = err instanceof ArmCallError ? rejectedIds(err.failure, update.added) : [];
          if (rejected.length === 0) throw err;
          const gone = new Set(rejected.map(normalizeId));
          const retry = identityUpdate(
            current.identity,
            change.add.filter((id) => !gone.has(normalizeId(id))),
            change.remove,
          );
          if (retry.change !== undefined) await patch({ identity: retry.change.patch });
          return {
            ok: true,
            present: retry.present,
            added: retry.change?.added ?? [],
            removed: retry.change?.removed ?? [],
            updated: retry.change !== undefined,
            rejected,
          };
        }
      } catch (err) {
        const f = deadline.aborted
          ? {
              error: `no answer within ${Math.round(operationTimeoutMs / 1000)} s`,
              status: undefined,
              retryAfterMs: undefined,
            }
          : err instanceof ArmCallError
            ? err.failure
            : describeError(err);
        return {
          ok: false,
          error: `${t.kind === 'vm' ? 'VM' : 'scale set'} ${targetResourceId(t)}: ${f.error}`,
          status: f.status,
          retryAfterMs: f.retryAfterMs,
          present: before,
        };
      }
    },
  };
}
