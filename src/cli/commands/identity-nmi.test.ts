/**
 * `podsec identity nmi` in process over a --state directory: a pod on the node at 127.0.0.1 with
 * an Assigned identity gets a token that verifies with the issuer's JWKS; nothing leaves loopback.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCliForStderr } from '../../../test/support/cli-stderr.js';
import { verifyToken } from '../../identity/issuer/index.js';
import { assignedIdentityYaml } from '../../../test/support/nmi-state-yaml.js';
import { UsageError } from '../../lib/errors.js';
import { silentLogger } from '../../observability/index.js';
import { startIdentityNmi, type IdentityNmiOptions, type RunningNmi } from './identity-nmi.js';

const STATE = `
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: default, labels: {aadpodidbinding: app}}
spec: {nodeName: local, containers: [{name: c, image: busybox}]}
status: {phase: Running, podIP: 127.0.0.1}
---
apiVersion: v1
kind: Secret
metadata: {name: sp-secret, namespace: default}
type: Opaque
stringData: {clientSecret: not-used-by-the-nmi}
---
apiVersion: aadpodidentity.k8s.io/v1
kind: AzureIdentity
metadata: {name: sp, namespace: default}
spec:
  type: 1
  clientID: 00000000-0000-0000-0000-0000000000c1
  tenantID: 00000000-0000-0000-0000-0000000000a1
  clientPassword: {name: sp-secret, namespace: default}
---
${assignedIdentityYaml({
  pod: 'app',
  identity: 'sp',
  clientID: '00000000-0000-0000-0000-0000000000c1',
  node: 'local',
  namespace: 'default',
  type: 1,
  binding: 'b',
})}`;

let dirs: string[] = [];
let running: RunningNmi[] = [];
afterEach(async () => {
  for (const r of running) await r.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  dirs = [];
  running = [];
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podsec-nmi-'));
  dirs.push(dir);
  await writeFile(join(dir, 'cluster.yaml'), STATE);
  return dir;
}

function options(over: Partial<IdentityNmiOptions>): IdentityNmiOptions {
  return {
    node: 'local',
    port: '0',
    listenAddress: '127.0.0.1',
    tokenProvider: 'issuer-local',
    issuerUrl: 'https://issuer.podsec.test',
    logLevel: 'silent',
    ...over,
  };
}

describe('podsec identity nmi', () => {
  it('serves a token for the pod at 127.0.0.1 that verifies with the issuer JWKS', async () => {
    const nmi = await startIdentityNmi(options({ state: await stateDir() }), { logger: silentLogger() });
    running.push(nmi);
    const resource = 'https://vault.azure.net';
    const res = await fetch(
      `${nmi.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`,
      { headers: { Metadata: 'true' } },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; client_id?: string };
    const verified = await verifyToken(body.access_token, {
      issuer: nmi.issuer?.issuerFor('00000000-0000-0000-0000-0000000000a1') ?? 'no in-process issuer',
      audience: resource,
      jwks: nmi.keys?.jwks() ?? { keys: [] },
    });
    expect(verified.ok).toBe(true);
    if (verified.ok) expect(verified.token.claims.appid).toBe('00000000-0000-0000-0000-0000000000c1');
  });

  it('refuses a request without the Metadata header', async () => {
    const nmi = await startIdentityNmi(options({ state: await stateDir() }), { logger: silentLogger() });
    running.push(nmi);
    const res = await fetch(`${nmi.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x`);
    expect(res.status).toBe(400);
  });

  it('gives nothing to a pod on another node', async () => {
    const nmi = await startIdentityNmi(options({ node: 'other', state: await stateDir() }), {
      logger: silentLogger(),
    });
    running.push(nmi);
    const res = await fetch(`${nmi.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x`, {
      headers: { Metadata: 'true' },
    });
    expect(res.status).toBe(404);
  });

  it('passes nothing through: other /metadata paths are 404 in local mode', async () => {
    const nmi = await startIdentityNmi(options({ state: await stateDir() }), { logger: silentLogger() });
    running.push(nmi);
    for (const path of ['/metadata/instance?api-version=2021-02-01', '/metadata/scheduledevents']) {
      const res = await fetch(`${nmi.url}${path}`, { headers: { Metadata: 'true' } });
      expect([403, 404]).toContain(res.status);
    }
  });

  const usage: { name: string; over: Partial<IdentityNmiOptions> }[] = [
    { name: 'an empty --node', over: { node: '' } },
    { name: 'a bad port', over: { port: '70000' } },
    { name: '--state with --kubeconfig', over: { state: '/x', kubeconfig: '/y' } },
    { name: 'an unknown token provider', over: { tokenProvider: 'remote' } },
    { name: 'an unknown log level', over: { logLevel: 'loud' } },
    { name: '--allow-bridge-cni without --redirect', over: { allowBridgeCni: true } },
    { name: '--pod-interface without --redirect', over: { podInterfaces: ['cali*'] } },
    { name: '--redirect-interval without --redirect', over: { redirectInterval: '5' } },
  ];
  for (const c of usage) {
    it(`usage error: ${c.name}`, async () => {
      await expect(startIdentityNmi(options(c.over), { logger: silentLogger() })).rejects.toBeInstanceOf(
        UsageError,
      );
    });
  }
});

describe('podsec identity nmi: --issuer-url belongs to issuer-local and is https', () => {
  const cases: { name: string; over: Partial<IdentityNmiOptions>; message: RegExp }[] = [
    {
      name: 'with --token-provider azure',
      over: { tokenProvider: 'azure', issuerUrl: 'https://issuer.podsec.test' },
      message: /--issuer-url does not apply to --token-provider azure/,
    },
    {
      name: 'with --token-provider issuer=URL',
      over: {
        tokenProvider: 'issuer=https://127.0.0.1:1',
        issuerCa: '/nonexistent/ca.pem',
        issuerTokenFile: '/nonexistent/token',
        issuerUrl: 'https://issuer.podsec.test',
      },
      message: /--issuer-url does not apply to --token-provider issuer=URL/,
    },
    {
      name: 'an http URL',
      over: { issuerUrl: 'http://issuer.podsec.test' },
      message: /--issuer-url must be an https:\/\/ URL/,
    },
    { name: 'not a URL', over: { issuerUrl: 'issuer' }, message: /--issuer-url must be an https:\/\/ URL/ },
  ];
  for (const c of cases) {
    it(`usage error: ${c.name}`, async () => {
      await expect(startIdentityNmi(options(c.over), { logger: silentLogger() })).rejects.toThrow(c.message);
    });
  }

  function cli(args: string[]): Promise<{ code: number; stderr: string }> {
    return runCliForStderr(['identity', 'nmi', '--node', 'n1', ...args]);
  }

  it('the command refuses a typed --issuer-url with azure (exit 2, names the flag and the mode)', async () => {
    const { code, stderr } = await cli([
      '--token-provider',
      'azure',
      '--issuer-url',
      'https://i.podsec.test',
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--issuer-url does not apply to --token-provider azure/);
  });

  it('the command does not count the defaults of --issuer-url and --redirect-interval as typed', async () => {
    const { code, stderr } = await cli(['--token-provider', 'azure', '--port', '70000']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--port must be a TCP port/);
    expect(stderr).not.toMatch(/--issuer-url|--redirect-interval/);
  });
});
