/**
 * The Azure AD provider against podsec's own issuer on loopback HTTPS, standing in for Azure AD:
 * MSAL's real ConfidentialClientApplication with a secret and with a certificate read from
 * Secrets, its network client trusting the test CA and refusing any URL but the issuer's (so no
 * instance discovery, nothing off loopback). Also the refusals a caller sees: a wrong secret, a
 * missing Secret or key, the issuer down.
 */
import type { Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackMsalNetwork, startLoopbackIssuer } from '../../../../test/support/loopback-issuer.js';
import type { KubeObject } from '../../../kube/types.js';
import { generateCertificates } from '../../../lib/tls/index.js';
import type { KeySet } from '../../issuer/keys.js';
import { verifyToken } from '../../issuer/verify.js';
import type { NmiIdentity, TokenResult } from '../types.js';
import { AzureTokenProvider } from './azure-token-provider.js';
import { MsalTokenProvider, scopeForResource, splitPemBundle } from './msal-token-provider.js';

const TENANT = 'aaaabbbb-0000-1111-2222-333344445555';
const SECRET_APP = '10000000-0000-0000-0000-0000000000a1';
const CERT_APP = '10000000-0000-0000-0000-0000000000a2';
const SECRET_VALUE = 'correct-horse-battery-staple';

function azureIdentity(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentity',
    metadata: { namespace: 'apps', name },
    spec,
  };
}

function secret(name: string, stringData: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace: 'apps', name },
    stringData,
  };
}

function nmiIdentity(name: string, type: 0 | 1 | 2, clientID: string): NmiIdentity {
  return { namespace: 'apps', name, type, clientID, tenantID: TENANT };
}

describe('MsalTokenProvider against podsec issuer on loopback HTTPS', () => {
  let server: Server;
  let host = '';
  let ca = '';
  let keys: KeySet;
  let appCert: { cert: string; key: string };
  const attempted: string[] = [];
  const identities = new Map<string, KubeObject>();
  const secrets = new Map<string, KubeObject>();
  const secretReads: string[] = [];
  let provider: MsalTokenProvider;

  beforeAll(async () => {
    const app = await generateCertificates({ service: 'app', namespace: 'apps', algorithm: 'rsa-2048' });
    appCert = { cert: app.cert, key: app.key };
    ({ server, host, ca, keys } = await startLoopbackIssuer(() => [
      { clientId: SECRET_APP, tenantId: TENANT, secret: SECRET_VALUE },
      { clientId: CERT_APP, tenantId: TENANT, certificatePem: app.cert },
    ]));

    const ref = (n: string) => ({ name: n, namespace: 'apps' });
    identities.set(
      'sp',
      azureIdentity('sp', {
        type: 1,
        clientID: SECRET_APP,
        tenantID: TENANT,
        clientPassword: ref('sp-secret'),
      }),
    );
    identities.set(
      'cert',
      azureIdentity('cert', {
        type: 2,
        clientID: CERT_APP,
        tenantID: TENANT,
        clientPassword: ref('cert-secret'),
      }),
    );
    identities.set(
      'nosecret',
      azureIdentity('nosecret', {
        type: 1,
        clientID: SECRET_APP,
        tenantID: TENANT,
        clientPassword: ref('missing'),
      }),
    );
    identities.set(
      'nokey',
      azureIdentity('nokey', {
        type: 1,
        clientID: SECRET_APP,
        tenantID: TENANT,
        clientPassword: ref('wrong-key'),
      }),
    );
    identities.set(
      'certonly',
      azureIdentity('certonly', {
        type: 2,
        clientID: CERT_APP,
        tenantID: TENANT,
        clientPassword: ref('cert-only'),
      }),
    );
    identities.set(
      'plainhttp',
      azureIdentity('plainhttp', {
        type: 1,
        clientID: SECRET_APP,
        tenantID: TENANT,
        clientPassword: ref('sp-secret'),
        adEndpoint: 'http://127.0.0.1:1/',
      }),
    );
    identities.set(
      'elsewhere',
      azureIdentity('elsewhere', {
        type: 1,
        clientID: SECRET_APP,
        tenantID: TENANT,
        clientPassword: ref('sp-secret'),
        adEndpoint: 'https://attacker.example/',
      }),
    );
    identities.set(
      'explicit',
      azureIdentity('explicit', {
        type: 1,
        clientID: SECRET_APP,
        tenantID: TENANT,
        clientPassword: ref('sp-secret'),
        adEndpoint: `https://${host}`,
      }),
    );
    secrets.set('sp-secret', secret('sp-secret', { clientSecret: SECRET_VALUE }));
    secrets.set('cert-secret', secret('cert-secret', { certificate: `${app.cert}\n${app.key}` }));
    secrets.set('wrong-key', secret('wrong-key', { password: SECRET_VALUE }));
    secrets.set('cert-only', secret('cert-only', { certificate: app.cert }));
    provider = new MsalTokenProvider({
      authorityHost: `https://${host}/`,
      identity: (ns, name) => (ns === 'apps' ? identities.get(name) : undefined),
      secret: (ns, name) => {
        secretReads.push(`${ns}/${name}`);
        return Promise.resolve(ns === 'apps' ? secrets.get(name) : undefined);
      },
      networkClient: loopbackMsalNetwork(
        () => ca,
        () => host,
        attempted,
      ),
    });
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function verified(r: TokenResult, audience: string) {
    expect(r.ok).toBe(true);
    const token = r.ok ? r.token.accessToken : '';
    const v = await verifyToken(token, {
      issuer: `https://${host}/${TENANT}/v2.0`,
      audience,
      jwks: keys.jwks(),
    });
    expect(v.ok).toBe(true);
    return v.ok ? v.token.claims : {};
  }

  it('type 1: client secret from the Secret; expires_on honoured', async () => {
    const r = await provider.getToken(nmiIdentity('sp', 1, SECRET_APP), 'api://orders');
    const claims = await verified(r, 'api://orders');
    expect(claims).toMatchObject({ azp: SECRET_APP, tid: TENANT });
    expect(r.ok && r.token.expiresOnMs).toBe(Number(claims['exp']) * 1000);
  });

  it('type 2: certificate and key from the Secret (MSAL signs the assertion)', async () => {
    const r = await provider.getToken(nmiIdentity('cert', 2, CERT_APP), 'https://vault.azure.net');
    const claims = await verified(r, 'https://vault.azure.net');
    expect(claims).toMatchObject({ sub: CERT_APP, azpacr: '2' });
  });

  it('a v1 resource with a trailing slash maps to "<resource>/.default" and comes back as the audience', async () => {
    expect(scopeForResource('https://management.core.windows.net/')).toBe(
      'https://management.core.windows.net//.default',
    );
    expect(scopeForResource('api://x/.default')).toBe('api://x/.default');
    const r = await provider.getToken(
      nmiIdentity('sp', 1, SECRET_APP),
      'https://management.core.windows.net/',
    );
    await verified(r, 'https://management.core.windows.net/');
  });

  it('the Secret is read on each miss, so a rotated (here: wrong) secret takes effect: 401, secret never shown', async () => {
    secrets.set('sp-secret', secret('sp-secret', { clientSecret: 'not-the-secret' }));
    try {
      const r = await provider.getToken(nmiIdentity('sp', 1, SECRET_APP), 'api://orders');
      expect(r).toMatchObject({ ok: false, status: 401, error: 'invalid_client' });
      const description = r.ok ? '' : r.description;
      expect(description).toMatch(/refused the credentials of AzureIdentity apps\/sp .*AADSTS7000215/);
      expect(description).not.toContain('not-the-secret');
      expect(description).not.toContain(SECRET_VALUE);
    } finally {
      secrets.set('sp-secret', secret('sp-secret', { clientSecret: SECRET_VALUE }));
    }
    expect((await provider.getToken(nmiIdentity('sp', 1, SECRET_APP), 'api://orders')).ok).toBe(true);
  });

  interface RefusalCase {
    name: string;
    identity: NmiIdentity;
    status: number;
    description: RegExp;
  }
  const refusals: RefusalCase[] = [
    {
      name: 'Secret missing: names namespace/name and key',
      identity: nmiIdentity('nosecret', 1, SECRET_APP),
      status: 500,
      description: /Secret apps\/missing does not exist \(key "clientSecret"\)/,
    },
    {
      name: 'Secret without the key',
      identity: nmiIdentity('nokey', 1, SECRET_APP),
      status: 500,
      description: /Secret apps\/wrong-key has no "clientSecret" key/,
    },
    {
      name: 'certificate without a private key',
      identity: nmiIdentity('certonly', 2, CERT_APP),
      status: 500,
      description: /Secret apps\/cert-only key "certificate" holds no PEM private key/,
    },
    {
      name: 'unknown AzureIdentity',
      identity: nmiIdentity('ghost', 1, SECRET_APP),
      status: 500,
      description: /AzureIdentity apps\/ghost is not known/,
    },
    {
      name: 'adEndpoint over plain HTTP is refused (the secret would travel in clear)',
      identity: nmiIdentity('plainhttp', 1, SECRET_APP),
      status: 500,
      description: /adEndpoint must be an https/,
    },
    {
      name: 'adEndpoint on a host that is neither --authority-host nor an Azure cloud is refused',
      identity: nmiIdentity('elsewhere', 1, SECRET_APP),
      status: 500,
      description: /adEndpoint host attacker\.example is neither --authority-host nor an Azure cloud/,
    },
  ];
  for (const c of refusals) {
    it(c.name, async () => {
      const r = await provider.getToken(c.identity, 'api://orders');
      expect(r.ok ? 200 : r.status).toBe(c.status);
      expect(r.ok ? '' : r.description).toMatch(c.description);
      expect(r.ok ? '' : r.description).not.toContain(SECRET_VALUE);
    });
  }

  it('adEndpoint naming the configured authority host is used', async () => {
    const r = await provider.getToken(nmiIdentity('explicit', 1, SECRET_APP), 'api://orders');
    await verified(r, 'api://orders');
  });

  it('Secret read failing or hanging: 503 naming the Secret, bounded', async () => {
    for (const read of [() => Promise.reject(new Error('boom')), () => new Promise<never>(() => undefined)]) {
      const p = new MsalTokenProvider({
        authorityHost: `https://${host}/`,
        identity: (_ns, name) => identities.get(name),
        secret: read,
        networkClient: loopbackMsalNetwork(
          () => ca,
          () => host,
          attempted,
        ),
        timeoutMs: 50,
      });
      const r = await p.getToken(nmiIdentity('sp', 1, SECRET_APP), 'api://orders');
      expect(r).toMatchObject({ ok: false, status: 503, retryAfterSeconds: 5 });
      expect(r.ok ? '' : r.description).toMatch(
        /Secret apps\/sp-secret \(key "clientSecret"\) of AzureIdentity apps\/sp could not be read/,
      );
    }
  });

  it('issuer down: 503 with Retry-After', async () => {
    const down = new MsalTokenProvider({
      authorityHost: 'https://127.0.0.1:1/',
      identity: (_ns, name) => identities.get(name),
      secret: (_ns, name) => Promise.resolve(secrets.get(name)),
      networkClient: loopbackMsalNetwork(
        () => ca,
        () => '127.0.0.1:1',
        attempted,
      ),
    });
    const r = await down.getToken(nmiIdentity('sp', 1, SECRET_APP), 'api://orders');
    expect(r).toMatchObject({
      ok: false,
      status: 503,
      error: 'temporarily_unavailable',
      retryAfterSeconds: 5,
    });
    expect(r.ok ? '' : r.description).toMatch(/could not be reached for AzureIdentity apps\/sp/);
  });

  it('through AzureTokenProvider: types 1/2 to MSAL; type 0 refused without an IMDS address', async () => {
    const azure = new AzureTokenProvider({ servicePrincipal: provider });
    expect((await azure.getToken(nmiIdentity('sp', 1, SECRET_APP), 'api://orders')).ok).toBe(true);
    const msi = await azure.getToken(nmiIdentity('msi', 0, 'c'), 'api://orders');
    expect(msi).toMatchObject({
      ok: false,
      status: 500,
      description: expect.stringMatching(/--imds-address/) as unknown,
    });
  });

  it('MSAL contacted only the issuer (no instance discovery) and Secrets were read through the lookup', () => {
    const hosts = new Set(attempted.map((u) => new URL(u).host));
    expect([...hosts].sort()).toEqual([host, '127.0.0.1:1'].sort());
    expect(attempted.some((u) => u.includes('discovery/instance'))).toBe(false);
    expect(secretReads).toContain('apps/sp-secret');
  });

  it('the MSAL application of a deleted AzureIdentity is dropped; the cache is bounded (least recently used first)', async () => {
    const live = new Map([...identities].filter(([name]) => ['sp', 'cert', 'explicit'].includes(name)));
    const make = (maxApplications?: number) =>
      new MsalTokenProvider({
        authorityHost: `https://${host}/`,
        identity: (ns, name) => (ns === 'apps' ? live.get(name) : undefined),
        secret: (_ns, name) => Promise.resolve(secrets.get(name)),
        networkClient: loopbackMsalNetwork(
          () => ca,
          () => host,
          attempted,
        ),
        maxApplications,
      });
    secrets.set('sp-secret', secret('sp-secret', { clientSecret: SECRET_VALUE }));
    const p = make();
    expect((await p.getToken(nmiIdentity('sp', 1, SECRET_APP), 'api://orders')).ok).toBe(true);
    expect((await p.getToken(nmiIdentity('cert', 2, CERT_APP), 'api://orders')).ok).toBe(true);
    expect(p.cachedApplications()).toEqual(['apps/sp', 'apps/cert']);
    live.delete('cert');
    expect((await p.getToken(nmiIdentity('sp', 1, SECRET_APP), 'api://orders')).ok).toBe(true);
    expect(p.cachedApplications()).toEqual(['apps/sp']);
    // A deleted identity asked for again: refused, and nothing is cached for it.
    const gone = await p.getToken(nmiIdentity('cert', 2, CERT_APP), 'api://orders');
    expect(gone).toMatchObject({ ok: false, description: expect.stringMatching(/not known/) as unknown });
    expect(p.cachedApplications()).toEqual(['apps/sp']);
    // prune() alone (no token request) drops the gone too.
    live.delete('sp');
    p.prune();
    expect(p.cachedApplications()).toEqual([]);

    live.set('sp', identities.get('sp')!);
    live.set('cert', identities.get('cert')!);
    const bounded = make(2);
    for (const [name, type, client] of [
      ['sp', 1, SECRET_APP],
      ['cert', 2, CERT_APP],
      ['sp', 1, SECRET_APP],
      ['explicit', 1, SECRET_APP],
    ] as const) {
      expect((await bounded.getToken(nmiIdentity(name, type, client), 'api://orders')).ok).toBe(true);
    }
    // cert was the least recently used when explicit came in.
    expect(bounded.cachedApplications()).toEqual(['apps/sp', 'apps/explicit']);
  });

  it('splitPemBundle separates certificates and the key', () => {
    const b = splitPemBundle(`${appCert.key}\n${appCert.cert}`);
    expect(b.certificates).toHaveLength(1);
    expect(b.key).toContain('PRIVATE KEY');
  });
});
