/** Token cache, rate limiter and issuer adapter: the stateful pieces behind the handler. */
import { describe, expect, it } from 'vitest';
import { IssuerTokenProvider, type IssuerMintRequest } from './issuer-provider.js';
import { PodRateLimiter } from './rate-limit.js';
import { TokenCache } from './token-cache.js';
import type { NmiIdentity, TokenResult } from './types.js';

const MIN = 60_000;
const ID: NmiIdentity = { namespace: 'apps', name: 'a', type: 0, clientID: 'A' };

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('TokenCache', () => {
  it('concurrent misses share one fetch', async () => {
    const d = deferred<TokenResult>();
    let calls = 0;
    const cache = new TokenCache({
      now: () => 0,
      provider: {
        getToken: () => {
          calls += 1;
          return d.promise;
        },
      },
    });
    const all = Promise.all([cache.get(ID, 'r'), cache.get(ID, 'r'), cache.get(ID, 'r')]);
    d.resolve({ ok: true, token: { accessToken: 't', expiresOnMs: 60 * MIN } });
    const results = await all;
    expect(calls).toBe(1);
    expect(results.map((r) => r.outcome)).toEqual(['miss', 'miss', 'miss']);
  });

  const refreshCases = [
    // Refresh at the sooner of 80% of the lifetime and 5 minutes before expiry.
    { name: '1 h token refreshes at 48 min (80%)', lifetime: 60 * MIN, hitAt: 47 * MIN, staleAt: 48 * MIN },
    {
      name: '24 h token refreshes at 80% (19.2 h)',
      lifetime: 1440 * MIN,
      hitAt: 1151 * MIN,
      staleAt: 1152 * MIN,
    },
    {
      name: '10 min token refreshes 5 min before expiry',
      lifetime: 10 * MIN,
      hitAt: 4 * MIN,
      staleAt: 5 * MIN,
    },
  ];
  for (const c of refreshCases) {
    it(c.name, async () => {
      let now = 0;
      let calls = 0;
      const cache = new TokenCache({
        now: () => now,
        provider: {
          getToken: () => {
            calls += 1;
            return Promise.resolve({
              ok: true,
              token: { accessToken: `t${calls}`, expiresOnMs: now + c.lifetime },
            });
          },
        },
      });
      await cache.get(ID, 'r');
      now = c.hitAt;
      expect((await cache.get(ID, 'r')).outcome).toBe('hit');
      now = c.staleAt;
      const stale = await cache.get(ID, 'r');
      expect(stale.outcome).toBe('stale');
      expect(stale.result.ok && stale.result.token.accessToken).toBe('t1');
      await new Promise((r) => setImmediate(r));
      expect(calls).toBe(2);
      const fresh = await cache.get(ID, 'r');
      expect(fresh.result.ok && fresh.result.token.accessToken).toBe('t2');
    });
  }

  it('a failed background refresh keeps serving the valid token and reports the failure', async () => {
    let now = 0;
    let fail = false;
    const errors: unknown[] = [];
    const cache = new TokenCache({
      now: () => now,
      onRefreshError: (_i, _r, e) => errors.push(e),
      provider: {
        getToken: () =>
          fail
            ? Promise.resolve({ ok: false, error: 'temporarily_unavailable', description: 'down' })
            : Promise.resolve({ ok: true, token: { accessToken: 'old', expiresOnMs: now + 60 * MIN } }),
      },
    });
    await cache.get(ID, 'r');
    fail = true;
    now = 50 * MIN;
    expect((await cache.get(ID, 'r')).outcome).toBe('stale');
    await new Promise((r) => setImmediate(r));
    expect(errors).toHaveLength(1);
    const again = await cache.get(ID, 'r');
    expect(again.result.ok && again.result.token.accessToken).toBe('old');
    now = 60 * MIN;
    expect((await cache.get(ID, 'r')).result.ok).toBe(false);
  });

  it('keeps at most maxEntries, dropping the oldest; evictIdentity forgets an identity', async () => {
    const cache = new TokenCache({
      now: () => 0,
      maxEntries: 2,
      provider: {
        getToken: () => Promise.resolve({ ok: true, token: { accessToken: 't', expiresOnMs: 60 * MIN } }),
      },
    });
    await cache.get(ID, 'r1');
    await cache.get(ID, 'r2');
    await cache.get(ID, 'r3');
    expect(cache.size).toBe(2);
    expect((await cache.get(ID, 'r3')).outcome).toBe('hit');
    cache.evictIdentity(ID);
    expect(cache.size).toBe(0);
  });
});

describe('PodRateLimiter', () => {
  it('buckets are per pod and stay bounded', () => {
    const limiter = new PodRateLimiter({ ratePerSecond: 1, burst: 1, maxBuckets: 3 });
    expect(limiter.take('a', 0).allowed).toBe(true);
    expect(limiter.take('a', 0)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    for (const p of ['b', 'c', 'd', 'e']) expect(limiter.take(p, 0).allowed).toBe(true);
    expect(limiter.take('a', 1000).allowed).toBe(true);
  });
});

describe('IssuerTokenProvider', () => {
  it('passes the identity and resource to the issuer', async () => {
    const seen: IssuerMintRequest[] = [];
    const provider = new IssuerTokenProvider({
      nodeName: 'node-1',
      mint: (req) => {
        seen.push(req);
        return Promise.resolve({ accessToken: 'jwt', expiresOnMs: 1 });
      },
    });
    const result = await provider.getToken({ ...ID, tenantID: 'tenant' }, 'api://db');
    expect(result).toEqual({ ok: true, token: { accessToken: 'jwt', expiresOnMs: 1 } });
    expect(seen).toEqual([
      {
        clientId: 'A',
        tenantId: 'tenant',
        resource: 'api://db',
        identity: { namespace: 'apps', name: 'a' },
        nodeName: 'node-1',
      },
    ]);
  });

  it('a failed mint is a 503 value without the cause', async () => {
    const provider = new IssuerTokenProvider({
      mint: () => Promise.reject(new Error('client_secret=hunter2')),
    });
    const result = await provider.getToken(ID, 'api://db');
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain('hunter2');
    expect(result.ok === false && result.status).toBe(503);
  });
});
