/**
 * `podsec identity controller`: flag validation (usage errors, exit 2, no secret in messages), the
 * operation modes in process on a --state directory (managed: Assigned at once with no ARM call;
 * standard with an assigner: Assigned after the ARM update), and the whole CLI as a child process
 * with --cloud-config: MSAL gets its token from podsec's issuer and the SDK patches the local
 * ARM stand-in, both trusted through NODE_EXTRA_CA_CERTS. Every endpoint is on loopback.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliForStderr } from '../../../test/support/cli-stderr.js';
import { eventually as pollUntil } from '../../../test/support/eventually.js';
import { stringify } from 'yaml';
import { startFakeArm, type FakeArm } from '../../../test/support/fake-arm.js';
import { createIssuer } from '../../identity/issuer/issuer.js';
import { KeySet } from '../../identity/issuer/keys.js';
import { issuerListener } from '../../identity/issuer/node-listener.js';
import { createAzureNodeAssigner } from '../../identity/mic/azure-assigner.js';
import { createDirectorySource } from '../../kube/cluster-source/directory.js';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import { generateCertificates } from '../../lib/tls/index.js';
import { createLogger } from '../../observability/logger.js';
import { parseControllerOptions, runIdentityController } from './identity-controller.js';

const API = 'aadpodidentity.k8s.io/v1';
const SUB = '00000000-0000-0000-0000-0000000000cc';
const TENANT = 'aaaabbbb-0000-1111-2222-3333444455cc';
const APP = '10000000-0000-0000-0000-0000000000cc';
const SECRET = 'cli-controller-secret';
const root = new URL('../../../', import.meta.url).pathname;
const mi = `/subscriptions/${SUB}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/db`;

const manifests = (providerID: string): string =>
  [
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { providerID } },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'app', labels: { aadpodidbinding: 'db' } },
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'nginx' }] },
      status: { phase: 'Running' },
    },
    {
      apiVersion: API,
      kind: 'AzureIdentity',
      metadata: { name: 'db', namespace: 'app' },
      spec: { type: 0, resourceID: mi, clientID: 'db-client' },
    },
    {
      apiVersion: API,
      kind: 'AzureIdentityBinding',
      metadata: { name: 'db', namespace: 'app' },
      spec: { azureIdentity: 'db', selector: 'db' },
    },
  ]
    .map((o) => stringify(o))
    .join('---\n');

const ref = { apiVersion: API, kind: 'AzureAssignedIdentity', namespace: 'app', name: 'web-app-db' };

async function statusIn(source: ClusterSource): Promise<string | undefined> {
  const o = (await source.get(ref)) as { status?: { status?: string } } | undefined;
  return o?.status?.status;
}

const eventually = <T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> =>
  pollUntil(probe, timeoutMs, 50);

describe('parseControllerOptions', () => {
  it('defaults: standard mode, no ARM without a cloud config, 3 min drift check', () => {
    expect(parseControllerOptions({})).toMatchObject({
      operationMode: 'standard',
      azure: undefined,
      immutable: [],
      driftCheckMs: 180_000,
    });
  });
  it('immutable identities: client IDs and resource IDs, trimmed', () => {
    expect(
      parseControllerOptions({ cloudConfig: 'azure.json', immutableUserMsis: ' abc , /subscriptions/s/x,' })
        .immutable,
    ).toEqual(['abc', '/subscriptions/s/x']);
  });
  it('standard with a cloud config: ARM settings with the defaults', () => {
    expect(parseControllerOptions({ cloudConfig: '/etc/kubernetes/azure.json' }).azure).toEqual({
      cloudConfigFile: '/etc/kubernetes/azure.json',
      armEndpoint: 'https://management.azure.com',
      authorityHost: 'https://login.microsoftonline.com',
    });
  });
  it.each([
    ['unknown mode', { operationMode: 'auto' }, /--operation-mode must be standard or managed/],
    [
      'managed with a cloud config',
      { operationMode: 'managed', cloudConfig: 'a.json' },
      /--cloud-config is for standard/,
    ],
    ['http ARM endpoint', { armEndpoint: 'http://127.0.0.1:1' }, /--arm-endpoint must be an https URL/],
    ['authority host garbage', { authorityHost: 'login' }, /--authority-host must be an https URL/],
    ['drift interval zero', { assignmentReconcileInterval: '0' }, /--identity-assignment-reconcile-interval/],
    [
      'ARM endpoint without a cloud config',
      { armEndpoint: 'https://arm.example' },
      /--arm-endpoint has no effect in standard mode without --cloud-config/,
    ],
    [
      'authority host and drift interval in managed mode',
      { operationMode: 'managed', authorityHost: 'https://login.example', assignmentReconcileInterval: '60' },
      /--authority-host, --identity-assignment-reconcile-interval have no effect in managed mode/,
    ],
    [
      'immutable identities without a cloud config',
      { immutableUserMsis: 'abc' },
      /--immutable-user-msis has no effect in standard mode without --cloud-config/,
    ],
  ] as const)('%s', (_n, opts, message) => {
    expect(() => parseControllerOptions(opts)).toThrow(message);
  });
});

describe('podsec identity controller: ARM-only flags are refused when typed outside standard + --cloud-config', () => {
  function cli(args: string[]): Promise<{ code: number; stderr: string }> {
    return runCliForStderr(['identity', 'controller', '--state', '/nonexistent', ...args]);
  }

  it('a typed --arm-endpoint in managed mode: exit 2 naming the flag and the mode', async () => {
    const { code, stderr } = await cli([
      '--operation-mode',
      'managed',
      '--arm-endpoint',
      'https://arm.example',
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--arm-endpoint has no effect in managed mode/);
  });

  it('the defaults of the ARM flags are not counted as typed', async () => {
    const { code, stderr } = await cli(['--log-level', 'loud']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--log-level must be one of/);
    expect(stderr).not.toMatch(/no effect/);
  });
});

describe('podsec identity controller (in process, --state)', () => {
  let dir: string;
  let arm: FakeArm;
  let source: ClusterSource;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podsec-ctl-cli-'));
    arm = await startFakeArm();
    source = createDirectorySource(dir, { pollIntervalMs: 50 });
  });
  afterEach(async () => {
    await source.close();
    await arm.close();
    await rm(dir, { recursive: true, force: true });
  });

  const silent = createLogger({ level: 'silent' });

  it('an unusable cloud config is a usage error naming fields, never values', async () => {
    const file = join(dir, 'azure.json');
    await writeFile(file, JSON.stringify({ tenantId: 't', aadClientSecret: SECRET }));
    let stderr = '';
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string | Uint8Array) => {
      stderr += chunk.toString();
      return true;
    };
    let code: number;
    try {
      code = await runIdentityController(
        { state: dir, cloudConfig: file, leaderElect: 'false' },
        { logger: silent },
      );
    } finally {
      process.stderr.write = write;
    }
    expect(code).toBe(2);
    expect(stderr).toContain('aadClientId: required');
    expect(stderr).toContain('subscriptionId: required');
    expect(stderr).not.toContain(SECRET);
  });

  it('managed mode: the user-assigned identity is Assigned at once and ARM is never called', async () => {
    const vm = arm.addResource(SUB, 'rg', 'virtualMachines/vm1');
    await writeFile(join(dir, 'all.yaml'), manifests(`azure://${vm}`));
    const stop = new AbortController();
    const running = runIdentityController(
      { state: dir, operationMode: 'managed', leaderElect: 'false', logLevel: 'silent' },
      { logger: silent, signal: stop.signal },
    );
    expect(await eventually(async () => ((await statusIn(source)) === 'Assigned' ? true : undefined))).toBe(
      true,
    );
    stop.abort();
    expect(await running).toBe(0);
    expect(arm.requests).toHaveLength(0);
  });

  it('standard mode with an assigner: Assigned only after the VM update; the ledger is a ConfigMap', async () => {
    const vm = arm.addResource(SUB, 'rg', 'virtualMachines/vm1');
    await writeFile(join(dir, 'all.yaml'), manifests(`azure://${vm}`));
    arm.failAlways('PATCH', { status: 500 });
    const credential: TokenCredential = {
      getToken: () => Promise.resolve({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const stop = new AbortController();
    const running = runIdentityController(
      { state: dir, cloudConfig: 'unused.json', leaderElect: 'false', leaseNamespace: 'podsec-system' },
      {
        logger: silent,
        signal: stop.signal,
        createAssigner: (azure) => {
          expect(azure.armEndpoint).toBe('https://management.azure.com');
          return Promise.resolve(
            createAzureNodeAssigner({ credential, armEndpoint: arm.url, ca: arm.ca, maxAttempts: 1 }),
          );
        },
      },
    );
    await eventually(async () => ((await statusIn(source)) === 'Created' ? true : undefined));
    await eventually(() =>
      Promise.resolve(arm.requests.some((r) => r.method === 'PATCH') ? true : undefined),
    );
    expect(await statusIn(source)).toBe('Created');
    arm.failAlways('PATCH', undefined);
    await eventually(async () => ((await statusIn(source)) === 'Assigned' ? true : undefined));
    expect(Object.keys(arm.identityOf(vm)?.userAssignedIdentities ?? {})).toEqual([mi]);
    const cm = await eventually(() =>
      source.get({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: 'podsec-system',
        name: 'podsec-identity-node-assignments',
      }),
    );
    expect(JSON.stringify(cm)).toContain(mi.toLowerCase());
    stop.abort();
    expect(await running).toBe(0);
  });
});

describe('podsec identity controller as a process with --cloud-config', () => {
  let dir: string;
  let arm: FakeArm;
  let issuerServer: Server;
  let source: ClusterSource;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podsec-ctl-proc-'));
    arm = await startFakeArm();
    source = createDirectorySource(dir, { pollIntervalMs: 50 });
  });
  afterEach(async () => {
    await source.close();
    await arm.close();
    issuerServer.closeAllConnections();
    await new Promise((r) => issuerServer.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('gets a token from the authority and attaches the identity through ARM', async () => {
    const tls = await generateCertificates({ service: 'issuer', namespace: 'test', localhost: true });
    let host = '';
    const issuer = createIssuer({
      baseUrl: () => `https://${host}`,
      keys: await KeySet.generate({ retentionSeconds: 3900 }),
      identities: () => [{ clientId: APP, tenantId: TENANT, secret: SECRET }],
    });
    issuerServer = createServer({ cert: tls.cert, key: tls.key }, issuerListener(issuer));
    await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;

    const vm = arm.addResource(SUB, 'rg', 'virtualMachines/vm1', { type: 'SystemAssigned' });
    await writeFile(join(dir, 'all.yaml'), manifests(`azure://${vm}`));
    const config = join(dir, '..', `${dir.split('/').pop() ?? 'x'}-azure.json`);
    await writeFile(
      config,
      JSON.stringify({
        tenantId: TENANT,
        aadClientId: APP,
        aadClientSecret: SECRET,
        subscriptionId: SUB,
        resourceGroup: 'rg',
        vmType: 'standard',
      }),
    );
    const caFile = join(dir, '..', `${dir.split('/').pop() ?? 'x'}-ca.pem`);
    await writeFile(caFile, `${tls.caCert}\n${arm.ca}`);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { main } = await import(${JSON.stringify(join(root, 'src/cli/main.ts'))}); process.exitCode = await main(process.argv.slice(1));`,
        '--',
        'identity',
        'controller',
        '--state',
        dir,
        '--leader-elect=false',
        '--cloud-config',
        config,
        '--arm-endpoint',
        arm.url,
        '--authority-host',
        `https://${host}`,
      ],
      {
        cwd: root,
        env: { PATH: process.env['PATH'] ?? '', NODE_EXTRA_CA_CERTS: caFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await eventually(async () => ((await statusIn(source)) === 'Assigned' ? true : undefined), 40_000);
    } catch (err) {
      throw new Error(`not Assigned; controller output:\n${output}`, { cause: err });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(arm.identityOf(vm)).toMatchObject({ type: 'SystemAssigned, UserAssigned' });
    const auth = arm.requests.map((r) => r.authorization ?? '');
    expect(auth.every((a) => /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(a))).toBe(true);
    expect(output).not.toContain(SECRET);
    await rm(config, { force: true });
    await rm(caFile, { force: true });
  }, 60_000);
});
