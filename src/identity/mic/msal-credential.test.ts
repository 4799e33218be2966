/**
 * The controller's TokenCredential (MSAL client credentials) against podsec's own issuer on
 * loopback HTTPS standing in for Azure AD, and the cloud config parser. MSAL's network client here
 * trusts the test CA and refuses any URL but the issuer's, so nothing leaves loopback (no
 * instance discovery). A wrong secret fails with a message that does not contain the secret.
 */
import type { Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackMsalNetwork, startLoopbackIssuer } from '../../../test/support/loopback-issuer.js';
import { parseCloudConfig } from './cloud-config.js';
import { createClientSecretCredential } from './msal-credential.js';

const TENANT = 'aaaabbbb-0000-1111-2222-3333444455aa';
const APP = '10000000-0000-0000-0000-0000000000c1';
const SECRET = 'controller-secret-value';

describe('createClientSecretCredential against podsec issuer (loopback HTTPS)', () => {
  let server: Server;
  let host = '';
  let ca = '';
  const attempted: string[] = [];

  beforeAll(async () => {
    ({ server, host, ca } = await startLoopbackIssuer(() => [
      { clientId: APP, tenantId: TENANT, secret: SECRET },
    ]));
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
      networkClient: loopbackMsalNetwork(
        () => ca,
        () => host,
        attempted,
      ),
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
      networkClient: loopbackMsalNetwork(
        () => ca,
        () => host,
        attempted,
      ),
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
