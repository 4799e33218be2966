/**
 * The proof that matters: MSAL's real ConfidentialClientApplication (@azure/msal-node) obtains
 * tokens from the issuer served over HTTPS on 127.0.0.1, with a secret and with a certificate,
 * using the issuer as a known authority so it never asks Microsoft's instance discovery. MSAL's
 * network client here trusts the test CA and refuses any URL off this server, and the server
 * records every path it saw. Nothing leaves loopback.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Server } from 'node:https';
import { request } from 'node:https';
import { ConfidentialClientApplication } from '@azure/msal-node';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackIssuer } from '../../../test/support/loopback-issuer.js';
import { generateCertificates } from '../../lib/tls/index.js';
import type { KeySet } from './keys.js';
import { verifyToken } from './verify.js';

const run = promisify(execFile);
const TENANT = 'aaaabbbb-0000-1111-2222-333344445555';
const SECRET_APP = '10000000-0000-0000-0000-000000000001';
const CERT_APP = '10000000-0000-0000-0000-000000000002';

interface Sent {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** An HTTPS client that trusts `ca` and only talks to `allowedHost` (anything else is a test failure). */
function httpsSend(ca: string, allowedHost: () => string, attempted: string[]) {
  return (
    method: string,
    url: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<Sent> => {
    attempted.push(url);
    const u = new URL(url);
    if (u.protocol !== 'https:' || u.host !== allowedHost()) {
      return Promise.reject(new Error(`refusing to contact ${u.origin}: only the local issuer is allowed`));
    }
    return new Promise((resolve, reject) => {
      const req = request(u, { method, headers, ca, timeout: 5000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers: h, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  };
}

function msalNetwork(send: ReturnType<typeof httpsSend>): INetworkModule {
  const wrap = async <T>(
    method: string,
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> => {
    const r = await send(method, url, options?.headers, options?.body);
    return { status: r.status, headers: r.headers, body: JSON.parse(r.text) as T };
  };
  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => wrap<T>('GET', url, options),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => wrap<T>('POST', url, options),
  };
}

describe('MSAL ConfidentialClientApplication against the issuer over HTTPS', () => {
  let server: Server;
  let host = '';
  let ca = '';
  let keys: KeySet;
  const seen: string[] = [];
  const attempted: string[] = [];
  let appCert: { cert: string; key: string };

  beforeAll(async () => {
    const app = await generateCertificates({ service: 'app', namespace: 'ns', algorithm: 'rsa-2048' });
    appCert = { cert: app.cert, key: app.key };
    ({ server, host, ca, keys } = await startLoopbackIssuer(
      () => [
        { clientId: SECRET_APP, tenantId: TENANT, secret: 'msal-secret', objectId: 'obj-1' },
        { clientId: CERT_APP, tenantId: TENANT, certificatePem: app.cert },
      ],
      (method, path) => seen.push(`${method} ${path}`),
    ));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function app(
    credential:
      | { clientSecret: string }
      | { clientCertificate: { thumbprintSha256: string; privateKey: string; x5c: string } },
    clientId: string,
  ) {
    return new ConfidentialClientApplication({
      auth: { clientId, authority: `https://${host}/${TENANT}`, knownAuthorities: [host], ...credential },
      system: { networkClient: msalNetwork(httpsSend(ca, () => host, attempted)) },
    });
  }

  it('gets a token with a client secret that verifies against the issuer JWKS URL', async () => {
    const result = await app({ clientSecret: 'msal-secret' }, SECRET_APP).acquireTokenByClientCredential({
      scopes: ['api://orders/.default'],
    });
    expect(result?.accessToken).toBeTruthy();
    expect(result?.tokenType).toBe('Bearer');
    const send = httpsSend(ca, () => host, attempted);
    const fetchWithCa: typeof fetch = async (input, init) => {
      const r = await send(init?.method ?? 'GET', String(input instanceof Request ? input.url : input));
      return new Response(r.text, { status: r.status, headers: r.headers });
    };
    const v = await verifyToken(result?.accessToken ?? '', {
      issuer: `https://${host}/${TENANT}/v2.0`,
      audience: 'api://orders',
      jwks: `https://${host}/${TENANT}/discovery/v2.0/keys`,
      fetch: fetchWithCa,
    });
    expect(v.ok && v.token.claims).toMatchObject({ oid: 'obj-1', azp: SECRET_APP, tid: TENANT });
  });

  it('gets a token with a client certificate (MSAL signs the assertion)', async () => {
    const der = new X509Certificate(appCert.cert).raw;
    const result = await app(
      {
        clientCertificate: {
          thumbprintSha256: createHash('sha256').update(der).digest('hex'),
          privateKey: appCert.key,
          x5c: appCert.cert,
        },
      },
      CERT_APP,
    ).acquireTokenByClientCredential({ scopes: ['https://vault.azure.net/.default'] });
    expect(result?.accessToken).toBeTruthy();
    const v = await verifyToken(result?.accessToken ?? '', {
      issuer: `https://${host}/${TENANT}/v2.0`,
      audience: 'https://vault.azure.net',
      jwks: keys.jwks(),
    });
    expect(v.ok && v.token.claims).toMatchObject({ sub: CERT_APP, azpacr: '2' });
  });

  it('surfaces the wrong secret as MSAL invalid_client with the AADSTS code', async () => {
    await expect(
      app({ clientSecret: 'wrong' }, SECRET_APP).acquireTokenByClientCredential({
        scopes: ['api://orders/.default'],
      }),
    ).rejects.toMatchObject({
      errorCode: 'invalid_client',
      errorMessage: expect.stringContaining('AADSTS7000215') as unknown,
    });
  });

  it("works with MSAL's own network client in a child process trusting the CA via NODE_EXTRA_CA_CERTS", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podsec-issuer-ca-'));
    try {
      const caFile = join(dir, 'ca.pem');
      await writeFile(caFile, ca);
      const script = [
        "import { ConfidentialClientApplication } from '@azure/msal-node';",
        'const [authority, host, clientId, clientSecret] = process.argv.slice(1);',
        'const app = new ConfidentialClientApplication({ auth: { clientId, clientSecret, authority, knownAuthorities: [host] } });',
        "const r = await app.acquireTokenByClientCredential({ scopes: ['api://child/.default'] });",
        'process.stdout.write(r.accessToken);',
      ].join('\n');
      const child = await run(
        process.execPath,
        ['--input-type=module', '-e', script, `https://${host}/${TENANT}`, host, SECRET_APP, 'msal-secret'],
        // only the CA and the module path: no proxy variables that could send MSAL elsewhere
        {
          cwd: process.cwd(),
          env: { NODE_EXTRA_CA_CERTS: caFile, PATH: process.env.PATH ?? '' },
          timeout: 20_000,
        },
      );
      const v = await verifyToken(child.stdout, {
        issuer: `https://${host}/${TENANT}/v2.0`,
        audience: 'api://child',
        jwks: keys.jwks(),
      });
      expect(v.ok).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the server saw only its own paths and MSAL contacted nothing else', () => {
    expect(attempted.length).toBeGreaterThan(0);
    expect(attempted.every((u) => new URL(u).host === host)).toBe(true);
    const paths = new Set(seen);
    expect([...paths].sort()).toEqual(
      [
        `GET /${TENANT}/discovery/v2.0/keys`,
        `GET /${TENANT}/v2.0/.well-known/openid-configuration`,
        `POST /${TENANT}/oauth2/v2.0/token`,
      ].sort(),
    );
  });
});
