/**
 * Tokens per (identity, resource). aad-pod-identity cached nothing and leaned on IMDS, which
 * throttles at 20 requests per second per VM; here a token is reused until its refresh point
 * (80% of its lifetime, or 5 minutes before expiry if that is sooner). Past the refresh point a
 * still-valid token is served while one background fetch replaces it; an expired (or nearly
 * expired) token is never served. Concurrent misses share one fetch. Entries are bounded so
 * callers inventing resources cannot grow memory without limit.
 */
import type { AccessToken, NmiIdentity, TokenProvider, TokenResult } from './types.js';

export interface TokenCacheOptions {
  readonly provider: TokenProvider;
  readonly now: () => number;
  /** Refresh at this fraction of the lifetime (default 0.8). */
  readonly refreshFraction?: number | undefined;
  /** ... or this long before expiry, whichever comes first (default 5 min). */
  readonly refreshBeforeMs?: number | undefined;
  /** A token this close to expiry is not handed out (default 30 s). */
  readonly minRemainingMs?: number | undefined;
  /** Most entries kept (default 10,000); the oldest goes first. */
  readonly maxEntries?: number | undefined;
  /** Called when a background refresh fails (the old token keeps being served until it expires). */
  readonly onRefreshError?: ((identity: NmiIdentity, resource: string, error: unknown) => void) | undefined;
}

interface Entry {
  token: AccessToken;
  refreshAtMs: number;
  refreshing: Promise<TokenResult> | undefined;
}

export type CacheOutcome = 'hit' | 'miss' | 'stale';

export interface CachedTokenResult {
  readonly result: TokenResult;
  readonly outcome: CacheOutcome;
}

export function identityKey(identity: NmiIdentity): string {
  return `${identity.namespace}/${identity.name}/${identity.clientID.toLowerCase()}/${identity.resourceID?.toLowerCase() ?? ''}`;
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<TokenResult>>();
  private readonly refreshFraction: number;
  private readonly refreshBeforeMs: number;
  private readonly minRemainingMs: number;
  private readonly maxEntries: number;

  constructor(private readonly options: TokenCacheOptions) {
    this.refreshFraction = options.refreshFraction ?? 0.8;
    this.refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
    this.minRemainingMs = options.minRemainingMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(identity: NmiIdentity, resource: string): Promise<CachedTokenResult> {
    const key = `${identityKey(identity)}\n${resource}`;
    const now = this.options.now();
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.token.expiresOnMs - now > this.minRemainingMs) {
      if (now < entry.refreshAtMs) return { result: { ok: true, token: entry.token }, outcome: 'hit' };
      if (entry.refreshing === undefined) this.refreshInBackground(key, entry, identity, resource);
      return { result: { ok: true, token: entry.token }, outcome: 'stale' };
    }
    if (entry !== undefined) this.entries.delete(key);
    return { result: await this.fetch(key, identity, resource), outcome: 'miss' };
  }

  /** Forget every token of an identity (its assignment went away, say). */
  evictIdentity(identity: NmiIdentity): void {
    const prefix = `${identityKey(identity)}\n`;
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  private fetch(key: string, identity: NmiIdentity, resource: string): Promise<TokenResult> {
    const pending = this.inflight.get(key);
    if (pending !== undefined) return pending;
    const started = this.options.now();
    const promise = this.options.provider
      .getToken(identity, resource)
      .then((result) => {
        if (result.ok) this.store(key, result.token, started);
        return result;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  private refreshInBackground(key: string, entry: Entry, identity: NmiIdentity, resource: string): void {
    entry.refreshing = this.fetch(key, identity, resource);
    entry.refreshing
      .then((result) => {
        if (!result.ok) this.options.onRefreshError?.(identity, resource, new Error(result.error));
      })
      .catch((error: unknown) => this.options.onRefreshError?.(identity, resource, error))
      .finally(() => {
        entry.refreshing = undefined;
      });
  }

  private store(key: string, token: AccessToken, obtainedMs: number): void {
    const lifetime = Math.max(0, token.expiresOnMs - obtainedMs);
    const refreshAtMs = Math.min(
      obtainedMs + lifetime * this.refreshFraction,
      token.expiresOnMs - this.refreshBeforeMs,
    );
    this.entries.delete(key);
    this.entries.set(key, {
      token: { ...token, notBeforeMs: token.notBeforeMs ?? obtainedMs },
      refreshAtMs: Math.max(obtainedMs, refreshAtMs),
      refreshing: undefined,
    });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}
