/**
 * `podsec identity issuer` in process over real HTTPS: a --state directory holds AzureIdentity
 * objects and their Secrets; discovery is served, a client secret buys a token, an invalid
 * identity is logged with its problems and never served, /healthz and /readyz answer, and the
 * informer picks up an identity added while running. Loopback only.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startIdentityIssuer, type RunningIssuer } from '../../src/cli/commands/identity-issuer.js';
import { verifyToken } from '../../src/identity/issuer/index.js';
import { UsageError } from '../../src/lib/errors.js';
import {
  callIssuer,
  clientSecretYaml,
  ISSUER_TENANT,
  requestToken,
  spIdentityYaml,
  startStateIssuer,
  type Reply,
  type StateIssuer,
} from '../support/state-issuer.js';

const TENANT = ISSUER_TENANT;
const identityYaml = (name: string, clientID: string, secretName: string, extra = ''): string =>
  spIdentityYaml({ name, clientID, secretName, secretNamespace: 'app', extra });
const secretYaml = (name: string, value: string): string => clientSecretYaml(name, 'app', value);

let running: StateIssuer;
let dir: string;
let issuer: RunningIssuer;
const logLines = (): string => running.logs();
const call = (path: string, form?: Record<string, string>): Promise<Reply> => callIssuer(running, path, form);
const token = (clientId: string, secret: string): Promise<Reply> => requestToken(running, clientId, secret);

beforeAll(async () => {
  running = await startStateIssuer(
    'podsec-issuer-',
    {
      'reporting.yaml': `${identityYaml('reporting', 'reporting', 'reporting-secret')}---\n${secretYaml('reporting-secret', 's3cret-value')}`,
      // Invalid: an adEndpoint over plain http to a non-loopback host.
      'broken.yaml': `${identityYaml('broken', 'broken', 'broken-secret', '  adEndpoint: http://login.example.com\n')}---\n${secretYaml('broken-secret', 'broken-value')}`,
    },
    (d) => ({ keysDir: join(d, 'keys') }),
  );
  ({ dir, issuer } = running);
}, 30_000);

afterAll(async () => {
  await running.close();
});

describe('podsec identity issuer', () => {
  it('answers /healthz and, once synced, /readyz', async () => {
    expect((await call('/healthz')).status).toBe(200);
    const ready = await call('/readyz');
    expect(ready.status).toBe(200);
  });

  it('serves OpenID discovery for the tenant of a served identity, with its own base URL', async () => {
    const res = await call(`/${TENANT}/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const doc = JSON.parse(res.body) as Record<string, unknown>;
    expect(doc['issuer']).toBe(`https://127.0.0.1:${issuer.port}/${TENANT}/v2.0`);
    expect(doc['token_endpoint']).toBe(`https://127.0.0.1:${issuer.port}/${TENANT}/oauth2/v2.0/token`);
  });

  it('issues a client_credentials token for the secret in the referenced Secret, verifiable with the JWKS', async () => {
    const res = await token('reporting', 's3cret-value');
    expect(res.status).toBe(200);
    const accessToken = (JSON.parse(res.body) as { access_token: string }).access_token;
    const jwks = JSON.parse((await call(`/${TENANT}/discovery/v2.0/keys`)).body) as Parameters<
      typeof verifyToken
    >[1]['jwks'];
    const v = await verifyToken(accessToken, {
      issuer: `https://127.0.0.1:${issuer.port}/${TENANT}/v2.0`,
      audience: 'api://orders',
      jwks,
    });
    expect(v.ok).toBe(true);
  });

  it('refuses a wrong secret', async () => {
    const res = await token('reporting', 'wrong');
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_client' });
  });

  it('never serves an invalid identity, and logs its problems without the secret', async () => {
    const res = await token('broken', 'broken-value');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body).not.toContain('access_token');
    expect(issuer.feed.current().refused).toEqual([
      expect.objectContaining({ namespace: 'app', name: 'broken' }),
    ]);
    expect(logLines()).toContain('AzureIdentity refused');
    expect(logLines()).toContain('spec.adEndpoint');
    expect(logLines()).not.toContain('s3cret-value');
    expect(logLines()).not.toContain('broken-value');
  });

  it('serves an identity added while running (informer refresh)', async () => {
    writeFileSync(
      join(dir, 'state', 'late.yaml'),
      `${identityYaml('late', 'late', 'late-secret')}---\n${secretYaml('late-secret', 'late-value')}`,
    );
    await vi.waitFor(
      async () => {
        expect((await token('late', 'late-value')).status).toBe(200);
      },
      { timeout: 15_000, interval: 200 },
    );
  }, 20_000);
});

describe('podsec identity issuer flags', () => {
  it.each([
    ['a port out of range', { port: '70000' }],
    ['an http base URL', { baseUrl: 'http://issuer.example' }],
    ['--state with --kubeconfig', { state: '/nonexistent', kubeconfig: '/nonexistent' }],
    ['a missing certificate', { tlsCert: '/nonexistent/tls.crt' }],
  ])('refuses %s with a usage error', async (_name, change) => {
    await expect(
      startIdentityIssuer({
        tlsCert: join(dir, 'tls.crt'),
        tlsKey: join(dir, 'tls.key'),
        port: '0',
        state: join(dir, 'state'),
        logLevel: 'silent',
        ...change,
      }),
    ).rejects.toBeInstanceOf(UsageError);
  });
});
