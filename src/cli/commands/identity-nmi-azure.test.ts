/**
 * `podsec identity nmi --token-provider azure` wiring, in process over a --state directory: a type
 * 0 identity's token comes from the node's IMDS, other /metadata paths are passed through, and
 * AzurePodIdentityException pods are refused unless --allow-exceptions. The IMDS is a loopback
 * stand-in written here; --imds-address always names it (local mode has no default, so nothing
 * can reach 169.254.169.254). The MSAL flows are tested in src/identity/nmi/providers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assignedIdentityYaml } from '../../../test/support/nmi-state-yaml.js';
import { UsageError } from '../../lib/errors.js';
import { silentLogger } from '../../observability/index.js';
import { startIdentityNmi, type IdentityNmiOptions, type RunningNmi } from './identity-nmi.js';

const MSI_CLIENT = '33333333-0000-0000-0000-000000000001';

function state(opts: { exception?: boolean }): string {
  const docs = [
    `apiVersion: v1
kind: Pod
metadata: {name: app, namespace: default, labels: {aadpodidbinding: app, role: Legacy}}
spec: {nodeName: local, containers: [{name: c, image: busybox}]}
status: {phase: Running, podIP: 127.0.0.1}`,
    `apiVersion: aadpodidentity.k8s.io/v1
kind: AzureIdentity
metadata: {name: msi, namespace: default}
spec:
  type: 0
  clientID: ${MSI_CLIENT}
  resourceID: /subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/msi`,
    assignedIdentityYaml({
      pod: 'app',
      identity: 'msi',
      clientID: MSI_CLIENT,
      node: 'local',
      namespace: 'default',
      binding: 'b',
    }),
  ];
  if (opts.exception === true) {
    docs.push(`apiVersion: aadpodidentity.k8s.io/v1
kind: AzurePodIdentityException
metadata: {name: legacy, namespace: default}
spec: {podLabels: {role: legacy}}`);
  }
  return docs.join('\n---\n');
}

let imds: Server;
let imdsAddress = '';
let imdsSeen: string[] = [];
let dirs: string[] = [];
let running: RunningNmi[] = [];

beforeAll(async () => {
  imds = createServer((req, res) => {
    imdsSeen.push(`${req.headers['metadata'] === 'true' ? 'M ' : ''}${req.url ?? ''}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url?.startsWith('/metadata/identity/oauth2/token') === true) {
      const q = new URL(req.url, 'http://x').searchParams;
      res.end(
        JSON.stringify({
          access_token: `imds-token-for-${q.get('client_id') ?? 'node'}`,
          expires_on: String(Math.floor(Date.now() / 1000) + 3600),
          resource: q.get('resource'),
          token_type: 'Bearer',
        }),
      );
    } else res.end('{"Events":[]}');
  });
  await new Promise<void>((resolve) => imds.listen(0, '127.0.0.1', resolve));
  imdsAddress = `127.0.0.1:${(imds.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => imds.close(() => resolve()));
});

afterEach(async () => {
  for (const r of running) await r.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  dirs = [];
  running = [];
  imdsSeen = [];
});

async function start(over: Partial<IdentityNmiOptions>, exception = false): Promise<RunningNmi> {
  const dir = await mkdtemp(join(tmpdir(), 'podsec-nmi-azure-'));
  dirs.push(dir);
  await writeFile(join(dir, 'cluster.yaml'), state({ exception }));
  const nmi = await startIdentityNmi(
    {
      node: 'local',
      port: '0',
      listenAddress: '127.0.0.1',
      tokenProvider: 'azure',
      logLevel: 'silent',
      state: dir,
      ...over,
    },
    { logger: silentLogger() },
  );
  running.push(nmi);
  return nmi;
}

async function get(
  nmi: RunningNmi,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${nmi.url}${path}`, { headers: { Metadata: 'true' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const TOKEN_PATH =
  '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net';

describe('podsec identity nmi --token-provider azure', () => {
  it("type 0: the node IMDS's token for the identity's client_id; other paths passed, instance blocked", async () => {
    const nmi = await start({ imdsAddress });
    const token = await get(nmi, TOKEN_PATH);
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({
      access_token: `imds-token-for-${MSI_CLIENT}`,
      client_id: MSI_CLIENT,
      resource: 'https://vault.azure.net',
    });
    expect(await get(nmi, '/metadata/scheduledevents?api-version=2020-07-01')).toEqual({
      status: 200,
      body: { Events: [] },
    });
    expect((await get(nmi, '/metadata/instance?api-version=2021-02-01')).status).toBe(403);
    expect(imdsSeen).toEqual([
      `M /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=${MSI_CLIENT}`,
      'M /metadata/scheduledevents?api-version=2020-07-01',
    ]);
  });

  it('--allow-instance-metadata passes /metadata/instance', async () => {
    const nmi = await start({ imdsAddress, allowInstanceMetadata: true });
    expect((await get(nmi, '/metadata/instance?api-version=2021-02-01')).status).toBe(200);
    expect(imdsSeen).toEqual(['M /metadata/instance?api-version=2021-02-01']);
  });

  it('exception pod: refused without --allow-exceptions, passed through with it', async () => {
    const refused = await start({ imdsAddress }, true);
    const r = await get(refused, TOKEN_PATH);
    expect(r.status).toBe(403);
    expect(r.body['error_description']).toMatch(
      /AzurePodIdentityException default\/legacy.*--allow-exceptions/,
    );
    expect(imdsSeen).toEqual([]);
    await refused.stop();
    running = [];
    const allowed = await start({ imdsAddress, allowExceptions: true }, true);
    const a = await get(allowed, TOKEN_PATH);
    expect(a.status).toBe(200);
    expect(a.body['access_token']).toBe('imds-token-for-node');
    expect(imdsSeen).toEqual([
      'M /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net',
    ]);
  });

  it('local mode without --imds-address: nothing passed anywhere', async () => {
    const nmi = await start({});
    expect((await get(nmi, '/metadata/scheduledevents')).status).toBe(404);
    const t = await get(nmi, TOKEN_PATH);
    expect(t.status).toBe(500);
    expect(t.body['error_description']).toMatch(/--imds-address/);
    expect(imdsSeen).toEqual([]);
  });

  const usage: { name: string; over: Partial<IdentityNmiOptions>; message: RegExp }[] = [
    {
      name: '--authority-host with issuer-local',
      over: { tokenProvider: 'issuer-local', authorityHost: 'https://login.example/' },
      message: /only applies to --token-provider azure/,
    },
    { name: '--keys-dir with azure', over: { keysDir: '/tmp/nope' }, message: /--keys-dir do not apply/ },
    {
      name: 'bad --imds-address',
      over: { imdsAddress: '127.0.0.1' },
      message: /--imds-address must be HOST:PORT/,
    },
    {
      name: 'plain-HTTP --authority-host',
      over: { authorityHost: 'http://login.example/' },
      message: /--authority-host must be an https/,
    },
  ];
  for (const c of usage) {
    it(`usage error: ${c.name}`, async () => {
      const err = await start(c.over).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(c.message);
    });
  }
});
