/**
 * The webhook's view of existing AzureIdentity client id claims, for identity-check.ts: an
 * informer cache through ClusterSource, and a live list whenever the cache is not synced.
 *
 * A cluster without the aad-pod-identity CRDs is normal for a webhook that only judges pods, so
 * this never touches readiness: the API server answers 404 for the kind, which is logged once
 * and counts as "no identities". The informer keeps retrying (with its back-off), so the cache
 * fills by itself once the CRDs are installed. Until it has synced, every AzureIdentity review
 * lists the kind live (the API server sending such a review means the kind is served now), so a
 * CRD installed a moment ago cannot let a duplicate through an empty cache; a live list that
 * fails throws, and the handler refuses the request (fail closed).
 *
 * RecentClaims covers the moment between admitting an AzureIdentity and seeing it in the cache:
 * a second copy sent to the same replica within that moment is refused too. Entries expire (30 s
 * by default, far longer than a watch event takes); one whose write failed after admission
 * (a name that already existed, another webhook's refusal) only blocks its client id until then.
 */
import { ClusterError } from '../kube/cluster-source/errors.js';
import type { ClusterSource, Informer, KindRef, WatchEvent } from '../kube/cluster-source/types.js';
import { AAD_POD_IDENTITY_API_VERSION } from '../identity/crds/types.js';
import type { Logger } from '../observability/logger.js';
import { claimOf } from './identity-check.js';
import type { IdentityClaim } from './types.js';

export const AZURE_IDENTITY_KIND: KindRef = Object.freeze({
  apiVersion: AAD_POD_IDENTITY_API_VERSION,
  kind: 'AzureIdentity',
});

export const CLAIM_STATES = ['syncing', 'synced', 'not-served'] as const;
export type ClaimState = (typeof CLAIM_STATES)[number];

export interface IdentityClaims {
  /** Every AzureIdentity's claim: from the cache once synced, otherwise listed live. */
  claims(): Promise<readonly IdentityClaim[]>;
  readonly state: ClaimState;
  stop(): void;
}

export const RECENT_CLAIM_TTL_MS = 30_000;

/** Claims admitted by this replica in the last `ttlMs`, kept in memory. */
export class RecentClaims {
  private readonly entries = new Map<string, { claim: IdentityClaim; until: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs: number = RECENT_CLAIM_TTL_MS,
  ) {}

  remember(claim: IdentityClaim): void {
    const key = `${claim.namespace}/${claim.name}`;
    // Re-inserted so the map stays in expiry order.
    this.entries.delete(key);
    this.entries.set(key, { claim, until: this.now() + this.ttlMs });
  }

  list(): readonly IdentityClaim[] {
    if (this.entries.size === 0) return [];
    const now = this.now();
    const out: IdentityClaim[] = [];
    for (const [key, e] of this.entries) {
      if (e.until <= now) this.entries.delete(key);
      else out.push(e.claim);
    }
    return out;
  }
}

function isNotServed(error: unknown): boolean {
  return error instanceof ClusterError && error.status === 404;
}

function claimsFrom(objects: readonly unknown[]): IdentityClaim[] {
  const out: IdentityClaim[] = [];
  for (const obj of objects) {
    const claim = claimOf(obj);
    if (claim !== undefined) out.push(claim);
  }
  return out;
}

/** Starts the AzureIdentity informer on `source` and answers claims from it. */
export function watchIdentityClaims(
  source: Pick<ClusterSource, 'informer' | 'listPages'>,
  logger: Logger,
): IdentityClaims {
  const informer: Informer = source.informer(AZURE_IDENTITY_KIND);
  let state: ClaimState = 'syncing';
  let loggedNotServed = false;
  let loggedError = false;
  // Claims are rebuilt only after the cache changed.
  let cached: readonly IdentityClaim[] | null = null;

  const off = informer.onEvent((event: WatchEvent) => {
    if (event.type === 'SYNCED') {
      if (state !== 'synced')
        logger.info({ kind: 'AzureIdentity' }, 'AzureIdentity cache synced: client id claims are checked');
      state = 'synced';
      loggedError = false;
      cached = null;
    } else if (event.type === 'ERROR') {
      if (isNotServed(event.error)) {
        // Served before and gone now: the CRD was removed, and with it every AzureIdentity.
        state = 'not-served';
        cached = null;
        if (!loggedNotServed) {
          loggedNotServed = true;
          logger.info(
            { kind: 'AzureIdentity' },
            'the API server does not serve AzureIdentity (aad-pod-identity CRDs not installed): no identities to check; ' +
              'AzureIdentity reviews list the kind live until its cache syncs',
          );
        }
      } else if (!loggedError) {
        loggedError = true;
        logger.warn(
          { kind: 'AzureIdentity', reason: event.error.message },
          'AzureIdentity watch failed; retrying',
        );
      }
    } else cached = null;
  });

  async function listLive(): Promise<IdentityClaim[]> {
    const objects: unknown[] = [];
    try {
      for await (const page of source.listPages(AZURE_IDENTITY_KIND)) objects.push(...page);
    } catch (err) {
      if (isNotServed(err)) return [];
      throw new Error(`listing AzureIdentities failed: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    return claimsFrom(objects);
  }

  return {
    get state() {
      return state;
    },
    async claims() {
      if (state !== 'synced') return listLive();
      cached ??= claimsFrom(informer.list());
      return cached;
    },
    stop() {
      off();
      informer.stop();
    },
  };
}
