/**
 * `podsec identity nmi --token-provider azure` as a real process (the built CLI) with MSAL's own
 * network client: podsec's issuer on loopback HTTPS stands in for Azure AD (`--authority-host`),
 * its CA trusted through NODE_EXTRA_CA_CERTS, the child's environment reduced to PATH and that
 * variable (no proxy, no Azure variables). A pod with a type 1 (secret) and a type 2 (certificate)
 * identity gets a token for each that verifies against the issuer's keys; the issuer saw only
 * its own paths (MSAL asked no instance discovery); the secret never reaches the log. --state
 * means no IMDS address: nothing can go to 169.254.169.254.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createIssuer } from '../../src/identity/issuer/issuer.js';
import { KeySet } from '../../src/identity/issuer/keys.js';
import { issuerListener } from '../../src/identity/issuer/node-listener.js';
import { verifyToken } from '../../src/identity/issuer/verify.js';
import { generateCertificates } from '../../src/lib/tls/index.js';
import { assignedIdentityYaml } from '../support/nmi-state-yaml.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = process.env['PODSEC_BIN'] ?? `${root}dist/cli/main.js`;

const TENANT = 'aaaabbbb-0000-1111-2222-3333444455aa';
const SP = '10000000-0000-0000-0000-0000000000b1';
const CERT = '10000000-0000-0000-0000-0000000000b2';
const SECRET = 'process-test-secret-value-7f3a';

function state(certBundle: string): string {
  const indent = certBundle
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  const assigned = (name: string, type: number, client: string): string =>
    assignedIdentityYaml({
      pod: 'app',
      identity: name,
      clientID: client,
      node: 'local',
      namespace: 'default',
      type,
      binding: `b-${name}`,
    });
  return [
    `apiVersion: v1
kind: Pod
metadata: {name: app, namespace: default, labels: {aadpodidbinding: app}}
spec: {nodeName: local, containers: [{name: c, image: busybox}]}
status: {phase: Running, podIP: 127.0.0.1}`,
    `apiVersion: v1
kind: Secret
metadata: {name: sp-secret, namespace: default}
stringData: {clientSecret: ${SECRET}}`,
    `apiVersion: v1
kind: Secret
metadata: {name: cert-secret, namespace: default}
stringData:
  certificate: |
${indent}`,
    `apiVersion: aadpodidentity.k8s.io/v1
kind: AzureIdentity
metadata: {name: sp, namespace: default}
spec: {type: 1, clientID: ${SP}, tenantID: ${TENANT}, clientPassword: {name: sp-secret, namespace: default}}`,
    `apiVersion: aadpodidentity.k8s.io/v1
kind: AzureIdentity
metadata: {name: cert, namespace: default}
spec: {type: 2, clientID: ${CERT}, tenantID: ${TENANT}, clientPassword: {name: cert-secret, namespace: default}}`,
    assigned('sp', 1, SP),
    assigned('cert', 2, CERT),
  ].join('\n---\n');
}

async function freePort(): Promise<number> {
  const s = createHttpServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe.skipIf(!existsSync(bin))('podsec identity nmi --token-provider azure (process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'podsec-nmi-azure-proc-'));
  let issuerServer: Server;
  let host = '';
  let keys: KeySet;
  const issuerSaw: string[] = [];
  let child: ChildProcess | undefined;
  let stderr = '';
  let nmiUrl = '';

  beforeAll(async () => {
    const tls = await generateCertificates({ service: 'issuer', namespace: 'podsec', localhost: true });
    const app = await generateCertificates({ service: 'app', namespace: 'default', algorithm: 'rsa-2048' });
    keys = await KeySet.generate({ retentionSeconds: 3900 });
    const issuer = createIssuer({
      baseUrl: () => `https://${host}`,
      keys,
      identities: () => [
        { clientId: SP, tenantId: TENANT, secret: SECRET },
        { clientId: CERT, tenantId: TENANT, certificatePem: app.cert },
      ],
    });
    issuerServer = createServer(
      { cert: tls.cert, key: tls.key },
      issuerListener(issuer, { onRequest: (method, path) => issuerSaw.push(`${method} ${path}`) }),
    );
    await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
    writeFileSync(join(dir, 'ca.pem'), tls.caCert);
    const stateDir = join(dir, 'state');
    mkdirSync(stateDir);
    writeFileSync(join(stateDir, 'cluster.yaml'), state(`${app.cert}\n${app.key}`));
    const port = await freePort();
    const args = ['identity', 'nmi', '--node', 'local', '--port', String(port), '--state', stateDir];
    args.push('--token-provider', 'azure', '--authority-host', `https://${host}/`, '--log-level', 'debug');
    child = spawn(process.execPath, [bin, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '', NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') },
    });
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    nmiUrl = `http://127.0.0.1:${port}`;
    await vi.waitFor(
      () => {
        if (!stderr.includes('nmi: serving')) throw new Error(`not serving yet: ${stderr}`);
      },
      { timeout: 15_000, interval: 100 },
    );
  }, 30_000);

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.on('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    issuerServer.closeAllConnections();
    await new Promise<void>((resolve) => issuerServer.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    {
      name: 'type 1 (client secret)',
      client: SP,
      resource: 'api://orders',
      claims: { azp: SP, tid: TENANT },
    },
    {
      name: 'type 2 (certificate, MSAL-signed assertion)',
      client: CERT,
      resource: 'https://vault.azure.net',
      claims: { sub: CERT, azpacr: '2' },
    },
  ];
  for (const c of cases) {
    it(`${c.name}: the token verifies against the issuer keys`, async () => {
      const res = await fetch(
        `${nmiUrl}/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=${encodeURIComponent(c.resource)}&client_id=${c.client}`,
        { headers: { Metadata: 'true' } },
      );
      const body = (await res.json()) as Record<string, string>;
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ client_id: c.client, resource: c.resource, token_type: 'Bearer' });
      const v = await verifyToken(body['access_token'] ?? '', {
        issuer: `https://${host}/${TENANT}/v2.0`,
        audience: c.resource,
        jwks: keys.jwks(),
      });
      expect(v.ok).toBe(true);
      expect(v.ok && v.token.claims).toMatchObject(c.claims);
      const exp = v.ok ? Number(v.token.claims['exp']) : 0;
      expect(Number(body['expires_on'])).toBe(exp);
    });
  }

  it('the issuer saw only its own paths; the secret and tokens stay out of the log', () => {
    expect([...new Set(issuerSaw)].sort()).toEqual(
      [`GET /${TENANT}/v2.0/.well-known/openid-configuration`, `POST /${TENANT}/oauth2/v2.0/token`].sort(),
    );
    expect(stderr).not.toContain(SECRET);
    expect(stderr).not.toContain('eyJ');
    expect(stderr).not.toContain('    at ');
  });
});
