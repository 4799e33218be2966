/** The in-process issuer provider: tokens verify with the issuer's JWKS; refusals map to HTTP answers. */
import { describe, expect, it } from 'vitest';
import { createIssuer, KeySet, verifyToken } from '../issuer/index.js';
import type { Issuer } from '../issuer/index.js';
import { issuerIdentitiesFrom, LocalIssuerTokenProvider } from './issuer-client.js';
import type { NmiIdentity } from './types.js';

const BASE = 'https://issuer.test';
const sp: NmiIdentity = { namespace: 'default', name: 'sp', type: 1, clientID: 'client-sp', tenantID: 't1' };

async function setup(): Promise<{ issuer: Issuer; keys: KeySet }> {
  const keys = await KeySet.generate({ retentionSeconds: 3600, alg: 'ES256' });
  const issuer = createIssuer({
    baseUrl: BASE,
    keys,
    identities: () =>
      issuerIdentitiesFrom([
        { spec: { type: 1, clientID: 'client-sp', tenantID: 't1' } },
        { spec: { type: 0, clientID: 'client-msi' } },
      ]),
    isAssignedOnNode: (node, clientId) => node === 'n1' && clientId === 'client-sp',
  });
  return { issuer, keys };
}

describe('LocalIssuerTokenProvider', () => {
  it('returns a token that verifies with the issuer JWKS, for the requested audience', async () => {
    const { issuer, keys } = await setup();
    const got = await new LocalIssuerTokenProvider({ issuer, nodeName: 'n1' }).getToken(
      sp,
      'https://vault.azure.net',
    );
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.token.expiresOnMs).toBeGreaterThan(Date.now());
    const v = await verifyToken(got.token.accessToken, {
      issuer: issuer.issuerFor('t1'),
      audience: 'https://vault.azure.net',
      jwks: keys.jwks(),
    });
    expect(v.ok).toBe(true);
    if (v.ok) expect(v.token.claims.appid).toBe('client-sp');
  });

  const refusals: {
    name: string;
    node: string;
    identity: NmiIdentity;
    resource: string;
    status: number;
    error: string;
  }[] = [
    {
      name: 'not assigned on this node',
      node: 'n2',
      identity: sp,
      resource: 'https://x',
      status: 403,
      error: 'forbidden',
    },
    {
      name: 'a resource with spaces',
      node: 'n1',
      identity: sp,
      resource: 'a b',
      status: 400,
      error: 'invalid_resource',
    },
    {
      name: 'an identity the issuer does not know',
      node: 'n1',
      identity: { ...sp, clientID: 'nobody' },
      resource: 'https://x',
      status: 400,
      error: 'invalid_request',
    },
  ];
  for (const c of refusals) {
    it(`refuses: ${c.name}`, async () => {
      const { issuer } = await setup();
      const got = await new LocalIssuerTokenProvider({ issuer, nodeName: c.node }).getToken(
        c.identity,
        c.resource,
      );
      expect(got).toMatchObject({ ok: false, status: c.status, error: c.error });
    });
  }

  it('a throwing issuer is a 503 without internals', async () => {
    const issuer = {
      mintForIdentity: () => Promise.reject(new Error('secret-ish internals')),
    };
    const got = await new LocalIssuerTokenProvider({ issuer, nodeName: 'n1' }).getToken(sp, 'https://x');
    expect(got).toMatchObject({ ok: false, status: 503, error: 'temporarily_unavailable' });
    expect(JSON.stringify(got)).not.toContain('internals');
  });
});

describe('issuerIdentitiesFrom', () => {
  it('takes client, tenant (default when absent) and object ids; skips malformed and duplicates', () => {
    expect(
      issuerIdentitiesFrom([
        { spec: { clientID: 'a', tenantID: 't', objectID: 'o' } },
        { spec: { clientID: 'b' } },
        { spec: { clientID: 'a', tenantID: 'other' } },
        { spec: { type: 0 } },
        { metadata: { name: 'x' } },
      ]),
    ).toEqual([
      { clientId: 'a', tenantId: 't', objectId: 'o' },
      { clientId: 'b', tenantId: 'podsec', objectId: undefined },
    ]);
  });
});
