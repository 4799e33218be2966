/**
 * Start-up of the identity components over informers when a CRD may be missing. The API server
 * answers 404 for a kind it does not serve (its CRD is not installed), and the informer then
 * retries forever without ever syncing, so waiting for `synced` alone hangs. Here a 404 before
 * the first sync decides at once: an optional kind (AzurePodIdentityException) counts as empty,
 * with one warning naming the CRD and how to install it; a required kind (AzureIdentity,
 * AzureIdentityBinding, AzureAssignedIdentity) fails fast with a KindNotServedError, a
 * UsageError, so the commands exit 2 with a clear message instead of timing out.
 *
 * A local `--state` directory serves every kind (absent manifests are an empty list), so this
 * only ever triggers against an API server. The informer of an optional kind keeps running and
 * retrying (the aad-pod-identity kinds are in the source's kinds table, so each retry is a plain
 * list): its cache is empty until the CRD is installed, and fills by itself within the informer's
 * backoff (at most 30 s by default) once it is.
 */
import type { Logger } from 'pino';
import { ClusterError } from '../kube/cluster-source/errors.js';
import type { Informer, KindRef } from '../kube/cluster-source/types.js';
import { UsageError } from '../lib/errors.js';

export const KIND_NEEDS = ['required', 'optional'] as const;
export type KindNeed = (typeof KIND_NEEDS)[number];

export interface WatchedKind {
  readonly kind: KindRef;
  readonly informer: Informer;
  readonly need: KindNeed;
}

/** Where the aad-pod-identity CRDs come from (said in every message about a missing one). */
export const CRD_INSTALL_HINT =
  'install the CRDs with `kubectl apply -k deploy/identity` (or apply deploy/identity/crds/ alone)';

/** The CRD name of a kind, e.g. azureidentities.aadpodidentity.k8s.io (plural as aad-pod-identity's). */
export function crdName(kind: KindRef): string {
  const slash = kind.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : kind.apiVersion.slice(0, slash);
  const lower = kind.kind.toLowerCase();
  const plural = lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
  return group === '' ? plural : `${plural}.${group}`;
}

/** A required kind the API server does not serve: its CRD is not installed (exit 2). */
export class KindNotServedError extends UsageError {
  readonly kinds: readonly KindRef[];
  constructor(kinds: readonly KindRef[]) {
    const names = kinds.map((k) => `${k.kind} (CRD ${crdName(k)})`).join(', ');
    super(
      `the API server does not serve ${names}: the CRD${kinds.length === 1 ? ' is' : 's are'} not installed; ${CRD_INSTALL_HINT}`,
    );
    this.kinds = kinds;
  }
}

/** A 404 from discovery or the list: the kind is not served. */
export function isNotServed(error: Error): boolean {
  return error instanceof ClusterError && error.status === 404;
}

export interface AwaitKindsOptions {
  readonly log: Logger;
  /** Fails with an Error naming `what` when not every served kind synced in time. None: no limit. */
  readonly timeoutMs?: number | undefined;
  readonly what?: string | undefined;
  /** Resolves early (with what is known) when aborted. */
  readonly signal?: AbortSignal | undefined;
  /**
   * After a required kind is found not served, how long the others may take to settle so the
   * error names every missing CRD. Default 2 s.
   */
  readonly graceMs?: number | undefined;
}

export interface AwaitKindsResult {
  /** Optional kinds that are not served (counted as empty). */
  readonly notServed: readonly KindRef[];
}

/**
 * Waits until every kind is synced or known not to be served. Throws KindNotServedError once a
 * required kind is found not served (after the others settle, at most `graceMs` later), and an
 * Error on timeout.
 */
export async function awaitKinds(
  watched: readonly WatchedKind[],
  opts: AwaitKindsOptions,
): Promise<AwaitKindsResult> {
  const notServed: KindRef[] = [];
  const missingRequired: KindRef[] = [];
  const offs: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let grace: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let pending = watched.length;
      const settle = (): void => {
        pending -= 1;
        if (pending > 0) return;
        if (missingRequired.length === 0) resolve();
        else reject(new KindNotServedError(missingRequired));
      };
      if (pending === 0) resolve();
      for (const w of watched) {
        let done = false;
        const finish = (): void => {
          if (done) return;
          done = true;
          settle();
        };
        offs.push(
          w.informer.onEvent((event) => {
            if (done || event.type !== 'ERROR' || !isNotServed(event.error)) return;
            if (w.need === 'optional') {
              notServed.push(w.kind);
              opts.log.warn(
                { kind: w.kind.kind, crd: crdName(w.kind) },
                `the API server does not serve ${w.kind.kind} (CRD ${crdName(w.kind)} not installed): ` +
                  `counted as empty until it is installed; ${CRD_INSTALL_HINT}`,
              );
              finish();
              return;
            }
            // Fail fast, but name every missing CRD: the other kinds get a short grace to answer.
            missingRequired.push(w.kind);
            if (missingRequired.length === 1) {
              grace = setTimeout(() => reject(new KindNotServedError(missingRequired)), opts.graceMs ?? 2000);
            }
            finish();
          }),
        );
        w.informer.synced.then(finish, (err: unknown) => {
          // Stopped before its first sync (shutting down): nothing to wait for.
          if (!done) opts.log.debug({ kind: w.kind.kind, err: String(err) }, 'informer stopped');
          finish();
        });
      }
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(
          () => reject(new Error(`${opts.what ?? 'the caches'} did not sync within ${opts.timeoutMs} ms`)),
          opts.timeoutMs,
        );
      }
      if (opts.signal !== undefined) {
        onAbort = () => resolve();
        if (opts.signal.aborted) resolve();
        else opts.signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  } finally {
    clearTimeout(timer);
    clearTimeout(grace);
    for (const off of offs) off();
    if (onAbort !== undefined) opts.signal?.removeEventListener('abort', onAbort);
  }
  return { notServed };
}
