/**
 * The issuer's request handler in process: discovery and JWKS shapes, client credentials with a
 * secret and with a certificate-signed assertion, Azure AD's error shapes, the NMI's mint path,
 * and key rotation as a resource server sees it through `verifyToken`.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, generateKeyPair, importPKCS8 } from 'jose';
import type { CryptoKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateCertificates } from '../../lib/tls/index.js';
import { createIssuer, resourceFromScope } from './issuer.js';
import type { Issuer, IssuerIdentity, IssuerResponse } from './issuer.js';
import { KeySet } from './keys.js';
import { verifyToken } from './verify.js';

const BASE = 'https://issuer.test:8443';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const SECRET_APP = '11111111-1111-1111-1111-111111111111';
const CERT_APP = '22222222-2222-2222-2222-222222222222';
const TOKEN_URL = `${BASE}/${TENANT}/oauth2/v2.0/token`;
/** The AzureIdentity objects behind the two applications. */
const ORDERS = { namespace: 'prod', name: 'orders', clientId: SECRET_APP } as const;
const REPORTS = { namespace: 'prod', name: 'reports', clientId: CERT_APP } as const;

interface Fixture {
  issuer: Issuer;
  keys: KeySet;
  clock: { t: number };
  certKey: CryptoKey;
  certPem: string;
  x5tS256: string;
}

async function fixture(): Promise<Fixture> {
  const clock = { t: Math.floor(Date.now() / 1000) * 1000 }; // the certificate is valid from now
  const now = (): Date => new Date(clock.t);
  const certs = await generateCertificates({ service: 'app', namespace: 'ns', algorithm: 'rsa-2048' });
  const keys = await KeySet.generate({ retentionSeconds: 3599 + 300, now });
  const identities: IssuerIdentity[] = [
    {
      ...ORDERS,
      tenantId: TENANT,
      secret: 's3cret-value',
      objectId: 'aaaaaaaa-0000-0000-0000-000000000001',
    },
    { ...REPORTS, tenantId: TENANT, certificatePem: certs.cert },
  ];
  const issuer = createIssuer({
    baseUrl: BASE,
    keys,
    identities: () => identities,
    now,
    isAssignedOnNode: (node, id) =>
      node === 'node-a' && id.namespace === 'prod' && id.name === 'orders' && id.clientId === SECRET_APP,
  });
  const x5tS256 = createHash('sha256').update(new X509Certificate(certs.cert).raw).digest('base64url');
  return {
    issuer,
    keys,
    clock,
    certKey: await importPKCS8(certs.key, 'RS256'),
    certPem: certs.cert,
    x5tS256,
  };
}

function post(issuer: Issuer, form: Record<string, string>, path = `/${TENANT}/oauth2/v2.0/token`) {
  return issuer.handle({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'client-request-id': 'corr-123' },
    body: new URLSearchParams(form).toString(),
  });
}

function get(issuer: Issuer, path: string) {
  return issuer.handle({ method: 'GET', url: path, headers: {}, body: '' });
}

function body(res: IssuerResponse): Record<string, unknown> {
  return JSON.parse(res.body) as Record<string, unknown>;
}

async function assertion(
  f: Fixture,
  opts: { key?: CryptoKey; aud?: string; iss?: string; x5t?: string; exp?: number } = {},
): Promise<string> {
  const iat = Math.floor(f.clock.t / 1000);
  return new SignJWT({ jti: 'j1' })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', 'x5t#S256': opts.x5t ?? f.x5tS256 })
    .setIssuer(opts.iss ?? CERT_APP)
    .setSubject(CERT_APP)
    .setAudience(opts.aud ?? TOKEN_URL)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(opts.exp ?? iat + 600)
    .sign(opts.key ?? f.certKey);
}

describe('discovery and JWKS', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });

  it('serves the Azure AD v2.0 OpenID configuration under {base}/{tenant}', async () => {
    const res = await get(f.issuer, `/${TENANT}/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const doc = body(res);
    expect(doc).toMatchObject({
      issuer: `${BASE}/${TENANT}/v2.0`,
      token_endpoint: `${BASE}/${TENANT}/oauth2/v2.0/token`,
      jwks_uri: `${BASE}/${TENANT}/discovery/v2.0/keys`,
      authorization_endpoint: `${BASE}/${TENANT}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${BASE}/${TENANT}/oauth2/v2.0/logout`,
      id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['pairwise'],
    });
    expect(doc.response_types_supported).toContain('code');
    expect(doc.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_post', 'private_key_jwt']),
    );
  });

  it('publishes public keys only, kid = JWK thumbprint', async () => {
    const res = await get(f.issuer, `/${TENANT}/discovery/v2.0/keys`);
    expect(res.status).toBe(200);
    const jwks = body(res) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    const [k] = jwks.keys;
    expect(k).toMatchObject({ kty: 'RSA', kid: f.keys.active().kid, alg: 'RS256', use: 'sig' });
    expect(Object.keys(k ?? {}).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
  });

  it.each([
    ['unknown tenant', `/other-tenant/v2.0/.well-known/openid-configuration`, 400, 90002],
    ['unknown path', `/${TENANT}/oauth2/v2.0/authorize`, 404, 900561],
    ['tenant with bad characters', `/%2E%2E/discovery/v2.0/keys`, 400, 90002],
  ])('%s -> %i with AADSTS%i', async (_name, path, status, code) => {
    const res = await get(f.issuer, path);
    expect(res.status).toBe(status);
    expect(body(res).error_codes).toEqual([code]);
  });
});

describe('client_credentials', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });

  it('issues a token for a client secret: claims, response shape, verifies', async () => {
    const res = await post(f.issuer, {
      grant_type: 'client_credentials',
      client_id: SECRET_APP,
      client_secret: 's3cret-value',
      scope: 'api://orders/.default',
    });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toContain('no-store');
    const b = body(res);
    expect(b).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
    const token = b.access_token as string;
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: f.keys.active().kid });
    const v = await verifyToken(token, {
      issuer: `${BASE}/${TENANT}/v2.0`,
      audience: 'api://orders',
      jwks: f.keys.jwks(),
      now: new Date(f.clock.t),
    });
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    const iat = Math.floor(f.clock.t / 1000);
    expect(v.token.claims).toMatchObject({
      iss: `${BASE}/${TENANT}/v2.0`,
      sub: 'aaaaaaaa-0000-0000-0000-000000000001',
      oid: 'aaaaaaaa-0000-0000-0000-000000000001',
      aud: 'api://orders',
      tid: TENANT,
      azp: SECRET_APP,
      appid: SECRET_APP,
      iat,
      nbf: iat,
      exp: iat + 3599,
    });
    expect(typeof v.token.claims.jti).toBe('string');
  });

  it('accepts client_secret_basic', async () => {
    const res = await f.issuer.handle({
      method: 'POST',
      url: `/${TENANT}/oauth2/v2.0/token`,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${SECRET_APP}:s3cret-value`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials&scope=https%3A%2F%2Fvault.azure.net%2F.default',
    });
    expect(res.status).toBe(200);
  });

  const good = { grant_type: 'client_credentials', client_id: SECRET_APP, client_secret: 's3cret-value' };
  it.each([
    [
      'wrong secret',
      { ...good, client_secret: 'nope', scope: 'api://a/.default' },
      401,
      'invalid_client',
      7000215,
    ],
    [
      'no credential',
      { grant_type: 'client_credentials', client_id: SECRET_APP, scope: 'api://a/.default' },
      401,
      'invalid_client',
      7000218,
    ],
    [
      'unknown client',
      { ...good, client_id: '99999999-0000-0000-0000-000000000000', scope: 'api://a/.default' },
      400,
      'unauthorized_client',
      700016,
    ],
    ['scope without /.default', { ...good, scope: 'api://a/read' }, 400, 'invalid_scope', 1002012],
    ['two resources', { ...good, scope: 'api://a/.default api://b/.default' }, 400, 'invalid_scope', 28000],
    ['missing scope', { ...good }, 400, 'invalid_request', 900144],
    [
      'missing grant_type',
      { client_id: SECRET_APP, scope: 'api://a/.default' },
      400,
      'invalid_request',
      900144,
    ],
    [
      'other grant',
      { ...good, grant_type: 'password', scope: 'api://a/.default' },
      400,
      'unsupported_grant_type',
      70003,
    ],
  ])('%s -> %i %s', async (_name, form, status, error, code) => {
    const res = await post(f.issuer, form);
    expect(res.status).toBe(status);
    const b = body(res);
    expect(b).toMatchObject({ error, error_codes: [code], correlation_id: 'corr-123' });
    expect(b.error_description).toMatch(
      new RegExp(`^AADSTS${code}: .*Trace ID: .*Correlation ID: corr-123 Timestamp: `),
    );
    expect(typeof b.trace_id).toBe('string');
    expect(b.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(res.body).not.toContain('s3cret-value');
  });

  it('refuses a client of another tenant, and GET on the token endpoint', async () => {
    const wrongTenant = await post(
      f.issuer,
      { ...good, scope: 'api://a/.default' },
      `/other/oauth2/v2.0/token`,
    );
    expect(wrongTenant.status).toBe(400);
    expect((await get(f.issuer, `/${TENANT}/oauth2/v2.0/token`)).status).toBe(405);
  });

  it('refuses a form body with another content type', async () => {
    const res = await f.issuer.handle({
      method: 'POST',
      url: `/${TENANT}/oauth2/v2.0/token`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(good),
    });
    expect(res.status).toBe(400);
  });
});

describe('client assertion signed by the identity certificate', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });
  const form = (a: string) => ({
    grant_type: 'client_credentials',
    client_id: CERT_APP,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: a,
    scope: 'api://orders/.default',
  });

  it('issues a token for a good assertion', async () => {
    const res = await post(f.issuer, form(await assertion(f)));
    expect(res.status).toBe(200);
    const v = await verifyToken(body(res).access_token as string, {
      issuer: `${BASE}/${TENANT}/v2.0`,
      audience: 'api://orders',
      jwks: f.keys.jwks(),
      now: new Date(f.clock.t),
    });
    expect(v.ok && v.token.claims).toMatchObject({
      sub: CERT_APP,
      oid: CERT_APP,
      azp: CERT_APP,
      azpacr: '2',
    });
  });

  it.each([
    [
      'signed by another key',
      async (fx: Fixture) => assertion(fx, { key: (await generateKeyPair('RS256')).privateKey }),
    ],
    [
      'wrong audience',
      (fx: Fixture) => assertion(fx, { aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' }),
    ],
    ['wrong issuer', (fx: Fixture) => assertion(fx, { iss: SECRET_APP })],
    ['thumbprint of another certificate', (fx: Fixture) => assertion(fx, { x5t: 'AAAA' })],
    ['expired', (fx: Fixture) => assertion(fx, { exp: Math.floor(fx.clock.t / 1000) - 3600 })],
    ['not a JWT', () => Promise.resolve('not-a-jwt')],
  ])('refuses an assertion %s with 401 invalid_client', async (_name, make) => {
    const res = await post(f.issuer, form(await make(f)));
    expect(res.status).toBe(401);
    expect(body(res)).toMatchObject({ error: 'invalid_client', error_codes: [700027] });
  });

  it('refuses an assertion for a secret-only identity', async () => {
    const res = await post(f.issuer, { ...form(await assertion(f)), client_id: SECRET_APP });
    expect(res.status).toBe(401);
  });

  it('refuses a wrong client_assertion_type', async () => {
    const res = await post(f.issuer, { ...form(await assertion(f)), client_assertion_type: 'x' });
    expect(res.status).toBe(400);
  });
});

describe('mintForIdentity (the NMI path)', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });

  const VAULT = 'https://vault.azure.net';
  it.each([
    ['assigned on the caller node', ORDERS, 'node-a', VAULT, true, undefined],
    ['identity assigned elsewhere', ORDERS, 'node-b', VAULT, false, 'not-assigned'],
    ['identity not assigned on any node', REPORTS, 'node-a', VAULT, false, 'not-assigned'],
    [
      'unknown identity',
      { ...ORDERS, name: 'x', clientId: 'nobody' },
      'node-a',
      VAULT,
      false,
      'unknown-identity',
    ],
    [
      "an assigned identity's client id under another object's name",
      { namespace: 'evil', name: 'copy', clientId: SECRET_APP },
      'node-a',
      VAULT,
      false,
      'unknown-identity',
    ],
    [
      'the right object with another client id',
      { ...ORDERS, clientId: CERT_APP },
      'node-a',
      VAULT,
      false,
      'unknown-identity',
    ],
    ['empty resource', ORDERS, 'node-a', '', false, 'bad-resource'],
  ])('%s', async (_name, ref, node, resource, ok, reason) => {
    const r = await f.issuer.mintForIdentity(ref, resource, { node });
    expect(r.ok).toBe(ok);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      return;
    }
    expect(r.token).toMatchObject({ resource, clientId: ref.clientId, expiresIn: 3599 });
    const v = await verifyToken(r.token.accessToken, {
      issuer: f.issuer.issuerFor(TENANT),
      audience: resource,
      jwks: f.keys.jwks(),
      now: new Date(f.clock.t),
    });
    expect(v.ok).toBe(true);
    if (v.ok)
      expect(v.token.claims).toMatchObject({ tid: TENANT, oid: 'aaaaaaaa-0000-0000-0000-000000000001' });
  });

  it('refuses everything without an isAssignedOnNode callback', async () => {
    const issuer = createIssuer({
      baseUrl: BASE,
      keys: f.keys,
      identities: () => [{ ...ORDERS, tenantId: TENANT }],
    });
    const r = await issuer.mintForIdentity(ORDERS, 'api://x', { node: 'node-a' });
    expect(r).toMatchObject({ ok: false, reason: 'not-assigned' });
  });
});

describe('a client id claimed by two AzureIdentity objects (review finding 1)', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });
  const prod = { ...ORDERS, tenantId: TENANT, secret: 's3cret-value', objectId: 'prod-oid' };
  const copies: [string, IssuerIdentity][] = [
    ['same tenant', { namespace: 'evil', name: 'copy', clientId: SECRET_APP, tenantId: TENANT }],
    ['another tenant', { namespace: 'evil', name: 'copy', clientId: SECRET_APP, tenantId: 'evil-tenant' }],
    [
      'upper-case client id',
      { namespace: 'evil', name: 'copy', clientId: SECRET_APP.toUpperCase(), tenantId: TENANT },
    ],
  ];
  const issuerWith = (copy: IssuerIdentity, seen: string[] = []): Issuer =>
    createIssuer({
      baseUrl: BASE,
      keys: f.keys,
      identities: () => [prod, copy],
      // Both objects assigned on the node: only the duplicate rule stands between them and a token.
      isAssignedOnNode: (_node, id) => {
        seen.push(`${id.namespace}/${id.name}`);
        return true;
      },
    });

  it.each(copies)('%s: no token for either object, the answer names both', async (_name, copy) => {
    const seen: string[] = [];
    const issuer = issuerWith(copy, seen);
    for (const ref of [ORDERS, { namespace: 'evil', name: 'copy', clientId: copy.clientId }]) {
      const r = await issuer.mintForIdentity(ref, 'api://orders', { node: 'node-a' });
      expect(r).toMatchObject({ ok: false, reason: 'duplicate-client-id' });
      if (!r.ok) {
        expect(r.message).toContain('(evil/copy, prod/orders)');
        expect(r.message).not.toContain('s3cret');
      }
    }
    expect(seen).toEqual([]);
  });

  it.each(copies)('%s: the token endpoint refuses the right secret too (409)', async (_name, copy) => {
    const res = await post(issuerWith(copy), {
      grant_type: 'client_credentials',
      client_id: SECRET_APP,
      client_secret: 's3cret-value',
      scope: 'api://orders/.default',
    });
    expect(res.status).toBe(409);
    expect(res.body).toContain(`Application '${SECRET_APP}' is claimed by more than one AzureIdentity`);
    // not authenticated yet: the objects are not named
    expect(res.body).not.toContain('evil/copy');
    expect(res.body).not.toContain('access_token');
    expect(res.body).not.toContain('s3cret');
  });

  it('the assignment check is asked about the exact object, and the token carries its tid and oid', async () => {
    const seen: string[] = [];
    const other = { namespace: 'evil', name: 'mine', clientId: CERT_APP, tenantId: 'evil-tenant' };
    const issuer = createIssuer({
      baseUrl: BASE,
      keys: f.keys,
      identities: () => [other, prod],
      isAssignedOnNode: (_node, id) => {
        seen.push(`${id.namespace}/${id.name}/${id.clientId}`);
        return true;
      },
    });
    const r = await issuer.mintForIdentity(ORDERS, 'api://orders', { node: 'node-a' });
    expect(seen).toEqual([`prod/orders/${SECRET_APP}`]);
    if (!r.ok) throw new Error(r.message);
    const v = await verifyToken(r.token.accessToken, {
      issuer: issuer.issuerFor(TENANT),
      audience: 'api://orders',
      jwks: f.keys.jwks(),
      now: new Date(f.clock.t),
    });
    expect(v.ok && v.token.claims).toMatchObject({ tid: TENANT, oid: 'prod-oid', appid: SECRET_APP });
  });
});

describe('rotation', () => {
  it('old tokens verify until they expire; new tokens use the new kid; the retired key is then dropped', async () => {
    const f = await fixture();
    const mint = async () => {
      const r = await f.issuer.mintForIdentity(ORDERS, 'api://orders', { node: 'node-a' });
      if (!r.ok) throw new Error(r.message);
      return r.token.accessToken;
    };
    const jwksNow = async () =>
      body(await get(f.issuer, `/${TENANT}/discovery/v2.0/keys`)) as { keys: { kid: string }[] };
    const check = async (token: string) =>
      verifyToken(token, {
        issuer: f.issuer.issuerFor(TENANT),
        audience: 'api://orders',
        jwks: await jwksNow(),
        now: new Date(f.clock.t),
        clockToleranceSeconds: 0,
      });

    const oldKid = f.keys.active().kid;
    const oldToken = await mint();
    f.clock.t += 600_000;
    const fresh = await f.keys.rotate();
    expect(fresh.kid).not.toBe(oldKid);
    const newToken = await mint();
    expect(decodeProtectedHeader(newToken).kid).toBe(fresh.kid);
    expect((await jwksNow()).keys.map((k) => k.kid)).toEqual([fresh.kid, oldKid]);
    expect((await check(oldToken)).ok).toBe(true);
    expect((await check(newToken)).ok).toBe(true);

    // the old token expires 3599 s after issue; the key stays published 3899 s after retirement
    f.clock.t += 3600_000;
    const expired = await check(oldToken);
    expect(expired).toMatchObject({ ok: false, code: 'ERR_JWT_EXPIRED' });
    f.clock.t += 300_000;
    expect((await jwksNow()).keys.map((k) => k.kid)).toEqual([fresh.kid]);
    expect((await check(newToken)).ok).toBe(false); // expired by now too
  });
});

describe('resourceFromScope', () => {
  it.each([
    ['api://orders/.default', 'api://orders'],
    ['https://vault.azure.net/.default openid profile offline_access', 'https://vault.azure.net'],
    ['https://management.azure.com//.default', 'https://management.azure.com/'],
  ])('%s -> %s', (scope, resource) => {
    expect(resourceFromScope(scope)).toEqual({ ok: true, value: resource });
  });
});
