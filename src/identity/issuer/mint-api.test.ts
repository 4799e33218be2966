/**
 * The issuer's mint API over real HTTPS with mutual TLS on 127.0.0.1: the node comes only from a
 * client certificate of the configured client CA; missing, foreign, expired or misnamed
 * certificates get 401, another node's identity 403, and a good request a JWT that verifies
 * against the issuer's JWKS.
 */
import { request, type RequestOptions } from 'node:https';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateCertificates,
  generateClientCa,
  generateNmiClientCertificate,
  type ClientCertificate,
} from '../../lib/tls/index.js';
import { createIssuer } from './issuer.js';
import { KeySet } from './keys.js';
import {
  clientCertificateAuthenticator,
  mintListener,
  nodeFromCertificate,
  MINT_PATH,
  WHOAMI_PATH,
} from './mint-api.js';
import { verifyToken } from './verify.js';

const TENANT = 'podsec';
const ON_A = '0000000a-0000-0000-0000-00000000000a';
const ON_B = '0000000b-0000-0000-0000-00000000000b';
/** One client id claimed by prod/orders and by a copy in namespace evil (review finding 1). */
const SHARED = '0000000c-0000-0000-0000-00000000000c';
const A = { namespace: 'apps', name: 'on-a' };
const B = { namespace: 'apps', name: 'on-b' };
const PROD = { namespace: 'prod', name: 'orders' };
const EVIL = { namespace: 'evil', name: 'copy' };

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

let server: Server;
let port: number;
let serverCa: string;
let keys: KeySet;
let certA: ClientCertificate;
let certB: ClientCertificate;
let foreign: ClientCertificate;
let expired: ClientCertificate;
let misnamed: { cert: string; key: string };
const issuerUrl = 'https://issuer.test';

beforeAll(async () => {
  const serving = await generateCertificates({
    service: 'podsec-issuer',
    namespace: 'test',
    localhost: true,
  });
  serverCa = serving.caCert;
  const clientCa = await generateClientCa();
  const otherCa = await generateClientCa();
  certA = await generateNmiClientCertificate(clientCa, 'node-a');
  certB = await generateNmiClientCertificate(clientCa, 'node-b');
  foreign = await generateNmiClientCertificate(otherCa, 'node-a');
  expired = await generateNmiClientCertificate(clientCa, 'node-a', {
    days: 1,
    now: new Date(Date.now() - 10 * 86_400_000),
  });
  // from a CA the server trusts, but a serving certificate: OpenSSL's purpose check refuses it
  misnamed = { cert: serving.cert, key: serving.key };
  keys = await KeySet.generate({ retentionSeconds: 3900 });
  const issuer = createIssuer({
    baseUrl: issuerUrl,
    keys,
    identities: () => [
      { ...A, clientId: ON_A, tenantId: TENANT },
      { ...B, clientId: ON_B, tenantId: TENANT },
      { ...PROD, clientId: SHARED, tenantId: TENANT },
      { ...EVIL, clientId: SHARED, tenantId: 'evil-tenant' },
    ],
    // Exact objects per node; both claimants of SHARED are "assigned" on node-a.
    isAssignedOnNode: (node, id) =>
      (node === 'node-a' && id.namespace === 'apps' && id.name === 'on-a' && id.clientId === ON_A) ||
      (node === 'node-b' && id.namespace === 'apps' && id.name === 'on-b' && id.clientId === ON_B) ||
      (node === 'node-a' && id.clientId === SHARED),
  });
  const mint = mintListener(issuer, clientCertificateAuthenticator());
  server = createServer(
    {
      cert: serving.cert,
      key: serving.key,
      // the serving CA is trusted too, so `misnamed` chains to a trusted root and fails on its purpose
      ca: [clientCa.cert, serving.caCert],
      requestCert: true,
      rejectUnauthorized: false,
    },
    mint,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function call(
  path: string,
  client: { cert: string; key: string } | undefined,
  body?: unknown,
  method = body === undefined ? 'GET' : 'POST',
): Promise<Reply> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const opts: RequestOptions = {
    host: '127.0.0.1',
    port,
    path,
    method,
    ca: serverCa,
    servername: 'localhost',
    agent: false,
    headers:
      text === undefined
        ? {}
        : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
    ...(client === undefined ? {} : { cert: client.cert, key: client.key }),
  };
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(data) as Record<string, unknown>,
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end(text);
  });
}

describe('mint API (mutual TLS)', () => {
  it('a node-a certificate mints a node-a identity; the token verifies against the JWKS', async () => {
    const r = await call(MINT_PATH, certA, { clientId: ON_A, resource: 'api://db', identity: A });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', resource: 'api://db', client_id: ON_A });
    expect(typeof r.body['expires_on']).toBe('number');
    expect(typeof r.body['not_before']).toBe('number');
    expect(r.headers['cache-control']).toMatch(/no-store/);
    const v = await verifyToken(String(r.body['access_token']), {
      issuer: `${issuerUrl}/${TENANT}/v2.0`,
      audience: 'api://db',
      jwks: keys.jwks(),
    });
    expect(v.ok && v.token.claims.azp).toBe(ON_A);
  });

  it('whoami names the node from the certificate', async () => {
    const r = await call(WHOAMI_PATH, certB);
    expect(r).toMatchObject({ status: 200, body: { node: 'node-b', method: 'client-certificate' } });
  });

  const refusals: {
    name: string;
    client: () => { cert: string; key: string } | undefined;
    body: unknown;
    method?: string;
    status: number;
    error: string;
    says: RegExp;
  }[] = [
    {
      name: 'no client certificate',
      client: () => undefined,
      body: { clientId: ON_A, resource: 'r', identity: A },
      status: 401,
      error: 'invalid_client',
      says: /no client certificate/,
    },
    {
      name: 'a certificate from another CA',
      client: () => foreign,
      body: { clientId: ON_A, resource: 'r', identity: A },
      status: 401,
      error: 'invalid_client',
      says: /not valid/,
    },
    {
      name: 'an expired certificate',
      client: () => expired,
      body: { clientId: ON_A, resource: 'r', identity: A },
      status: 401,
      error: 'invalid_client',
      says: /CERT_HAS_EXPIRED/,
    },
    {
      name: 'a serving (not client) certificate of a trusted CA',
      client: () => misnamed,
      body: { clientId: ON_A, resource: 'r', identity: A },
      status: 401,
      error: 'invalid_client',
      says: /INVALID_PURPOSE/,
    },
    {
      name: "another node's identity",
      client: () => certA,
      body: { clientId: ON_B, resource: 'r', identity: B },
      status: 403,
      error: 'unauthorized_client',
      says: /AzureIdentity 'apps\/on-b' \(client id '0000000b-[-0-9b]+'\) is not assigned on node 'node-a'/,
    },
    {
      name: 'an unknown identity',
      client: () => certA,
      body: { clientId: 'nope', resource: 'r', identity: A },
      status: 404,
      error: 'unauthorized_client',
      says: /not known/,
    },
    {
      name: "an assigned client id under another object's name",
      client: () => certA,
      body: { clientId: ON_A, resource: 'r', identity: B },
      status: 404,
      error: 'unauthorized_client',
      says: /AzureIdentity 'apps\/on-b' with client id '0000000a-/,
    },
    {
      name: 'no identity object named (an NMI from before the fix)',
      client: () => certA,
      body: { clientId: ON_A, resource: 'r' },
      status: 400,
      error: 'invalid_request',
      says: /identity must name the AzureIdentity object/,
    },
    {
      name: 'an identity name that is not a Kubernetes name',
      client: () => certA,
      body: { clientId: ON_A, resource: 'r', identity: { namespace: 'apps', name: '../x' } },
      status: 400,
      error: 'invalid_request',
      says: /identity must name/,
    },
    {
      name: 'a client id shared by two namespaces, asked as prod (the reproduction)',
      client: () => certA,
      body: { clientId: SHARED, resource: 'r', identity: PROD },
      status: 409,
      error: 'unauthorized_client',
      says: /claimed by more than one AzureIdentity \(evil\/copy, prod\/orders\)/,
    },
    {
      name: 'a client id shared by two namespaces, asked as evil (the reproduction)',
      client: () => certA,
      body: { clientId: SHARED, resource: 'r', identity: EVIL },
      status: 409,
      error: 'unauthorized_client',
      says: /claimed by more than one AzureIdentity \(evil\/copy, prod\/orders\)/,
    },
    {
      name: 'a resource with spaces',
      client: () => certA,
      body: { clientId: ON_A, resource: 'a b', identity: A },
      status: 400,
      error: 'invalid_request',
      says: /resource/,
    },
    {
      name: 'a body that is not JSON',
      client: () => certA,
      body: 'clientId=x',
      status: 400,
      error: 'invalid_request',
      says: /not JSON/,
    },
    {
      name: 'a missing clientId',
      client: () => certA,
      body: { resource: 'r' },
      status: 400,
      error: 'invalid_request',
      says: /clientId/,
    },
    {
      name: 'GET on the mint path',
      client: () => certA,
      body: undefined,
      method: 'GET',
      status: 405,
      error: 'invalid_request',
      says: /POST/,
    },
  ];
  it.each(refusals)('refuses $name with $status', async (c) => {
    const r = await call(MINT_PATH, c.client(), c.body, c.method);
    expect(r.status).toBe(c.status);
    expect(r.body['error']).toBe(c.error);
    expect(String(r.body['error_description'])).toMatch(c.says);
    expect(r.body['access_token']).toBeUndefined();
    if (c.status === 401) expect(r.headers['www-authenticate']).toMatch(/podsec-nmi/);
  });
});

describe('nodeFromCertificate', () => {
  const cases: {
    name: string;
    cert: Parameters<typeof nodeFromCertificate>[0];
    node?: string;
    says?: RegExp;
  }[] = [
    {
      name: 'CN and matching URI SAN',
      cert: {
        subject: { CN: 'podsec-nmi:n1' },
        subjectaltname: 'URI:podsec-nmi:n1',
        ext_key_usage: ['1.3.6.1.5.5.7.3.2'],
      },
      node: 'n1',
    },
    {
      name: 'CN only',
      cert: { subject: { CN: 'podsec-nmi:aks-pool-0' }, subjectaltname: '' },
      node: 'aks-pool-0',
    },
    {
      name: 'another CN',
      cert: { subject: { CN: 'system:node:n1' }, subjectaltname: '' },
      says: /CN=podsec-nmi/,
    },
    {
      name: 'two CNs',
      cert: { subject: { CN: ['podsec-nmi:a', 'podsec-nmi:b'] }, subjectaltname: '' },
      says: /CN=podsec-nmi/,
    },
    {
      name: 'SAN naming another node',
      cert: { subject: { CN: 'podsec-nmi:a' }, subjectaltname: 'URI:podsec-nmi:b' },
      says: /two different nodes/,
    },
    {
      name: 'invalid node name',
      cert: { subject: { CN: 'podsec-nmi:A/../b' }, subjectaltname: '' },
      says: /valid node/,
    },
    {
      name: 'serverAuth only',
      cert: {
        subject: { CN: 'podsec-nmi:n1' },
        subjectaltname: '',
        ext_key_usage: ['1.3.6.1.5.5.7.3.1'],
      },
      says: /client authentication/,
    },
  ];
  it.each(cases)('$name', (c) => {
    const got = nodeFromCertificate(c.cert);
    if (c.node !== undefined) expect(got).toEqual({ ok: true, node: c.node });
    else expect(!got.ok && got.reason).toMatch(c.says ?? /./);
  });
});
