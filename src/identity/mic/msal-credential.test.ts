/**
 * The controller's TokenCredential (MSAL client credentials) against podsec's own issuer on
 * loopback HTTPS standing in for Azure AD, and the cloud config parser. MSAL's network client here
 * trusts the test CA and refuses any URL but the issuer's, so nothing leaves loopback (no
 * instance discovery). A wrong secret fails with a message that does not contain the secret.
 */
import { request } from 'node:https';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificates } from '../../lib/tls/index.js';
import { createIssuer } from '../issuer/issuer.js';
import { KeySet } from '../issuer/keys.js';
import { issuerListener } from '../issuer/node-listener.js';
import { parseCloudConfig } from './cloud-config.js';
import { createClientSecretCredential } from './msal-credential.js';

const TENANT = 'aaaabbbb-0000-1111-2222-3333444455aa';
const APP = '10000000-0000-0000-0000-0000000000c1';
const SECRET = 'controller-secret-value';

function network(ca: string, host: () => string, attempted: string[]): INetworkModule {
  const send = <T>(method: string, url: string, o?: NetworkRequestOptions): Promise<NetworkResponse<T>> => {
    attempted.push(url);
    const u = new URL(url);
    if (u.protocol !== 'https:' || u.host !== host())
      return Promise.reject(new Error(`refusing ${u.origin}`));
    return new Promise((resolve, reject) => {
      const req = request(u, { method, headers: o?.headers, ca, timeout: 5000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
          resolve({
            status: res.statusCode ?? 0,
            headers,
            body: JSON.parse(Buffer.concat(chunks).toString()) as T,
          });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(o?.body);
    });
  };
  return {
    sendGetRequestAsync: <T>(url: string, o?: NetworkRequestOptions) => send<T>('GET', url, o),
    sendPostRequestAsync: <T>(url: string, o?: NetworkRequestOptions) => send<T>('POST', url, o),
  };
}

describe('createClientSecretCredential against podsec issuer (loopback HTTPS)', () => {
  let server: Server;
  let host = '';
  let ca = '';
  const attempted: string[] = [];

  beforeAll(async () => {
    const tls = await generateCertificates({ service: 'issuer', namespace: 'test', localhost: true });
    ca = tls.caCert;
    const keys = await KeySet.generate({ retentionSeconds: 3900 });
    const issuer = createIssuer({
      baseUrl: () => `https://${host}`,
      keys,
      identities: () => [{ clientId: APP, tenantId: TENANT, secret: SECRET }],
    });
    server = createServer({ cert: tls.cert, key: tls.key }, issuerListener(issuer));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('gets a bearer token for the ARM scope', async () => {
    const cred = createClientSecretCredential({
      tenantId: TENANT,
      clientId: APP,
      clientSecret: SECRET,
      authorityHost: `https://${host}`,
      networkClient: network(ca, () => host, attempted),
    });
    const token = await cred.getToken('https://management.azure.com/.default');
    expect(token?.token.split('.')).toHaveLength(3);
    expect(token!.expiresOnTimestamp).toBeGreaterThan(Date.now());
    expect(attempted.every((u) => u.startsWith(`https://${host}/`))).toBe(true);
  });

  it('a wrong secret fails without quoting it', async () => {
    const cred = createClientSecretCredential({
      tenantId: TENANT,
      clientId: APP,
      clientSecret: 'not-the-secret-xyz',
      authorityHost: `https://${host}`,
      networkClient: network(ca, () => host, attempted),
    });
    const err = await cred.getToken('https://management.azure.com/.default').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain(APP);
    expect(err?.message).not.toContain('not-the-secret-xyz');
  });

  it('refuses a plain-http authority', () => {
    expect(() =>
      createClientSecretCredential({
        tenantId: 't',
        clientId: 'c',
        clientSecret: 's',
        authorityHost: 'http://127.0.0.1:1',
      }),
    ).toThrow(/https/);
  });
});

describe('parseCloudConfig', () => {
  const good = {
    tenantId: 't',
    aadClientId: 'c',
    aadClientSecret: 'hunter2',
    subscriptionId: 's',
    resourceGroup: 'rg',
    vmType: 'vmss',
  };
  it.each([
    ['complete', good, []],
    [
      'missing fields',
      { tenantId: 't' },
      ['aadClientId: required', 'aadClientSecret: required', 'subscriptionId: required'],
    ],
    ['wrong types', { ...good, tenantId: 3 }, ['tenantId: must be a string', 'tenantId: required']],
    ['bad vmType', { ...good, vmType: 'vmas' }, ['vmType: must be "standard" or "vmss"']],
    [
      'managed identity',
      { ...good, useManagedIdentityExtension: true },
      [expect.stringMatching(/^useManagedIdentityExtension: managed identity/)],
    ],
  ] as const)('%s', (_n, input, problems) => {
    const r = parseCloudConfig(JSON.stringify(input));
    if (problems.length === 0)
      expect(r).toMatchObject({ ok: true, value: { vmType: 'vmss', resourceGroup: 'rg' } });
    else expect(r).toEqual({ ok: false, problems });
    expect(JSON.stringify(r.ok ? {} : r)).not.toContain('hunter2');
  });
  it('not JSON', () => {
    expect(parseCloudConfig('{')).toEqual({ ok: false, problems: ['not valid JSON'] });
  });
});
