/**
 * The issuer and the NMI as two servers talking real HTTPS with mutual TLS on 127.0.0.1
 * (`--token-provider issuer=URL`): the unmodified @azure/identity ManagedIdentityCredential gets a
 * token through the NMI that verifies against the issuer's JWKS; an NMI holding node-a's client
 * certificate cannot mint an identity assigned only on node-b (even when its own caches claim the
 * pod is on node-b); an NMI whose issuer is down is not ready and answers 503 with Retry-After.
 * SAFETY: AZURE_POD_IDENTITY_AUTHORITY_HOST is set before any credential exists, retries are off,
 * and every non-loopback connect in this worker is refused and fails the test.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startIdentityIssuer,
  type IdentityIssuerOptions,
  type IdentityIssuerRuntime,
  type RunningIssuer,
} from '../../src/cli/commands/identity-issuer.js';
import {
  startIdentityNmi,
  type IdentityNmiOptions,
  type RunningNmi,
} from '../../src/cli/commands/identity-nmi.js';
import { verifyToken } from '../../src/identity/issuer/index.js';
import { runCerts } from '../../src/cli/commands/certs.js';
import { createHttpsIssuerClient } from '../../src/identity/nmi/issuer-https.js';
import {
  generateCertificates,
  generateClientCa,
  generateNmiClientCertificate,
  writeFileAtomic,
} from '../../src/lib/tls/index.js';
import { silentLogger } from '../../src/observability/index.js';
import { installLoopbackGuard, type LoopbackGuard } from '../support/loopback-guard.js';
import { assignedIdentityYaml, managedIdentityYaml, runningPodYaml } from '../support/nmi-state-yaml.js';

const ID_A = '0000000a-aaaa-4aaa-8aaa-00000000000a';
const ID_B = '0000000b-bbbb-4bbb-8bbb-00000000000b';
const TENANT = '00000000-0000-0000-0000-0000000000a1';

const identity = (name: string, clientID: string): string =>
  managedIdentityYaml({ name, clientID, tenantID: TENANT });
const pod = (name: string, node: string): string =>
  runningPodYaml({ name, node, ip: '127.0.0.1', bindingLabel: name });
const assigned = (podName: string, idName: string, clientID: string, node: string): string =>
  assignedIdentityYaml({ pod: podName, identity: idName, clientID, node });

// Both pods claim 127.0.0.1, each on its own node: an NMI only sees its own node's pods.
const STATE = [
  identity('id-a', ID_A),
  identity('id-b', ID_B),
  pod('pod-a', 'node-a'),
  pod('pod-b', 'node-b'),
  assigned('pod-a', 'id-a', ID_A, 'node-a'),
  assigned('pod-b', 'id-b', ID_B, 'node-b'),
].join('---\n');

let dir: string;
let issuer: RunningIssuer;
let guard: LoopbackGuard;
const files: Record<string, string> = {};

/** The issuer on 127.0.0.1 (an ephemeral port) with the certificate runCerts wrote, plus `opts`. */
function issuerOnLoopback(
  opts: Partial<IdentityIssuerOptions>,
  runtime: IdentityIssuerRuntime,
): Promise<RunningIssuer> {
  return startIdentityIssuer(
    {
      tlsCert: files['issuer.crt'] ?? '',
      tlsKey: files['issuer.key'] ?? '',
      port: '0',
      host: '127.0.0.1',
      ...opts,
    },
    runtime,
  );
}
const nmis: RunningNmi[] = [];
let scopeCounter = 0;

function freshScope(): string {
  scopeCounter += 1;
  return `api://podsec-remote-${process.pid}-${scopeCounter}/.default`;
}

beforeAll(async () => {
  guard = installLoopbackGuard();
  dir = await mkdtemp(join(tmpdir(), 'podsec-remote-issuer-'));
  await writeFile(join(dir, 'cluster.yaml'), STATE);
  const serving = await generateCertificates({
    service: 'podsec-issuer',
    namespace: 'test',
    localhost: true,
  });
  const pem: Record<string, string> = {
    'issuer-ca.crt': serving.caCert,
    'issuer.crt': serving.cert,
    'issuer.key': serving.key,
  };
  await mkdir(join(dir, 'tls'));
  for (const name of [
    'client-ca.crt',
    'client-ca.key',
    'nmi-node-a.crt',
    'nmi-node-a.key',
    ...Object.keys(pem),
  ]) {
    files[name] = join(dir, 'tls', name);
  }
  for (const [name, text] of Object.entries(pem)) await writeFile(files[name] ?? '', text, { mode: 0o600 });
  // the client CA and node-a's certificate as an operator makes them
  const code = await runCerts(
    { out: join(dir, 'tls'), service: 'podsec-webhook', namespace: 'podsec-system', nmiClients: ['node-a'] },
    { stdout: { write: () => true } },
  );
  expect(code).toBe(0);
  issuer = await issuerOnLoopback(
    {
      state: dir,
      clientCa: files['client-ca.crt'],
    },
    { logger: silentLogger() },
  );
});

afterEach(() => {
  expect(guard.blocked).toEqual([]);
});

afterAll(async () => {
  for (const n of nmis) await n.stop();
  await issuer.stop();
  guard.uninstall();
  await rm(dir, { recursive: true, force: true });
});

function nmiOptions(over: Partial<IdentityNmiOptions>): IdentityNmiOptions {
  return {
    node: 'node-a',
    port: '0',
    listenAddress: '127.0.0.1',
    state: dir,
    tokenProvider: `issuer=${issuer.baseUrl}`,
    issuerCa: files['issuer-ca.crt'],
    clientCert: files['nmi-node-a.crt'],
    clientKey: files['nmi-node-a.key'],
    logLevel: 'silent',
    ...over,
  };
}

async function startNmi(over: Partial<IdentityNmiOptions> = {}): Promise<RunningNmi> {
  const nmi = await startIdentityNmi(nmiOptions(over), { logger: silentLogger() });
  nmis.push(nmi);
  return nmi;
}

async function waitReady(nmi: RunningNmi): Promise<number> {
  let status = 0;
  for (let i = 0; i < 50; i++) {
    status = (await fetch(`${nmi.url}/healthz`)).status;
    if (status === 200) return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  return status;
}

async function fetchJwks(): Promise<unknown> {
  const ca = await readFile(files['issuer-ca.crt'] ?? '', 'utf8');
  return new Promise((resolve, reject) => {
    get(`${issuer.baseUrl}/${TENANT}/discovery/v2.0/keys`, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

async function rawToken(
  nmi: RunningNmi,
  clientId?: string,
): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> {
  const q = new URLSearchParams({ 'api-version': '2018-02-01', resource: 'api://db' });
  if (clientId !== undefined) q.set('client_id', clientId);
  const res = await fetch(`${nmi.url}/metadata/identity/oauth2/token?${q.toString()}`, {
    headers: { Metadata: 'true' },
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    retryAfter: res.headers.get('retry-after'),
  };
}

describe('NMI --token-provider issuer=URL over mutual TLS', () => {
  it('becomes ready once the issuer answered, and the SDK gets a token that verifies with the JWKS', async () => {
    const nmi = await startNmi();
    expect(nmi.issuer).toBeUndefined();
    expect(await waitReady(nmi)).toBe(200);
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = nmi.url;
    try {
      const scope = freshScope();
      const token = await new ManagedIdentityCredential({ retryOptions: { maxRetries: 0 } }).getToken(scope);
      const resource = scope.replace(/\/\.default$/, '');
      const verified = await verifyToken(token.token, {
        issuer: `${issuer.baseUrl}/${TENANT}/v2.0`,
        audience: resource,
        jwks: (await fetchJwks()) as never,
      });
      expect(verified.ok).toBe(true);
      if (verified.ok) {
        expect(verified.token.claims.appid).toBe(ID_A);
        expect(verified.token.claims.tid).toBe(TENANT);
      }
    } finally {
      delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
    }
  });

  it("an NMI holding node-a's certificate cannot mint node-b's identity, even if its caches say node-b", async () => {
    // A misconfigured or compromised NMI: it serves node-b's pods but holds node-a's certificate.
    const nmi = await startNmi({ node: 'node-b' });
    const r = await rawToken(nmi, ID_B);
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ error: 'forbidden' });
    expect(String(r.body['error_description'])).toContain(
      `Identity apps/id-b (${ID_B}) is not assigned on this node`,
    );
    expect(r.body['access_token']).toBeUndefined();
    // and it never reports ready: the issuer sees it as node-a
    expect((await fetch(`${nmi.url}/healthz`)).status).toBe(503);
  });

  it('with the issuer unreachable: not ready, and tokens are 503 with Retry-After', async () => {
    const nmi = await startNmi({ tokenProvider: 'issuer=https://127.0.0.1:9' });
    expect((await fetch(`${nmi.url}/healthz`)).status).toBe(503);
    const r = await rawToken(nmi);
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
  });

  it('podsec certs --nmi-client adds node-b from the same client CA, and the issuer sees it as node-b', async () => {
    const tls = join(dir, 'tls');
    const caBefore = await readFile(files['client-ca.crt'] ?? '', 'utf8');
    const lines: string[] = [];
    const code = await runCerts(
      { out: tls, service: 'podsec-webhook', namespace: 'podsec-system', nmiClients: ['node-b'] },
      { stdout: { write: (t: string) => lines.push(t) } },
    );
    expect(code).toBe(0);
    expect(lines.join('')).toContain('using the client CA');
    expect(await readFile(files['client-ca.crt'] ?? '', 'utf8')).toBe(caBefore);
    const certB = await readFile(join(tls, 'nmi-node-b.crt'), 'utf8');
    expect(new X509Certificate(certB).checkIssued(new X509Certificate(caBefore))).toBe(true);
    expect((await stat(join(tls, 'nmi-node-b.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(tls, 'client-ca.key'))).mode & 0o777).toBe(0o600);
    const client = createHttpsIssuerClient({
      url: new URL(issuer.baseUrl),
      tls: {
        ca: await readFile(files['issuer-ca.crt'] ?? '', 'utf8'),
        cert: certB,
        key: await readFile(join(tls, 'nmi-node-b.key'), 'utf8'),
      },
    });
    try {
      expect(await client.whoami()).toEqual({
        ok: true,
        value: { node: 'node-b', method: 'client-certificate' },
      });
      const minted = await client.mint({
        clientId: ID_B,
        resource: 'api://db',
        identity: { namespace: 'apps', name: 'id-b' },
      });
      expect('accessToken' in minted).toBe(true);
      const refused = await client.mint({
        clientId: ID_A,
        resource: 'api://db',
        identity: { namespace: 'apps', name: 'id-a' },
      });
      expect(refused).toMatchObject({ refused: true, status: 403, error: 'forbidden' });
    } finally {
      client.close();
    }
  });

  it('an NMI proven by its ServiceAccount token (issuer --nmi-token-review) mints its own node only', async () => {
    const reviews: string[][] = [];
    const second = await issuerOnLoopback(
      {
        state: dir,
        nmiTokenReview: true,
      },
      {
        logger: silentLogger(),
        // stands in for the API server's TokenReview (tested against the fake API server elsewhere)
        tokenReviewer: (token, audiences) => {
          reviews.push([...audiences]);
          return Promise.resolve(
            token === 'projected-token-of-the-nmi-on-node-b'
              ? {
                  authenticated: true,
                  username: 'system:serviceaccount:podsec-node:podsec-nmi',
                  extra: { 'authentication.kubernetes.io/node-name': ['node-b'] },
                  audiences: [...audiences],
                }
              : { authenticated: false, error: 'invalid token' },
          );
        },
      },
    );
    try {
      const tokenFile = join(dir, 'tls', 'sa-token');
      await writeFile(tokenFile, 'projected-token-of-the-nmi-on-node-b\n', { mode: 0o600 });
      const nmi = await startNmi({
        node: 'node-b',
        tokenProvider: `issuer=${second.baseUrl}`,
        clientCert: undefined,
        clientKey: undefined,
        issuerTokenFile: tokenFile,
      });
      expect(await waitReady(nmi)).toBe(200);
      const ok = await rawToken(nmi, ID_B);
      expect(ok.status).toBe(200);
      expect(reviews[0]).toEqual(['podsec-issuer']);
      // and the node-b NMI cannot get node-a's identity from the issuer directly
      const client = createHttpsIssuerClient({
        url: new URL(second.baseUrl),
        tls: { ca: await readFile(files['issuer-ca.crt'] ?? '', 'utf8') },
        bearerToken: () => Promise.resolve('projected-token-of-the-nmi-on-node-b'),
      });
      try {
        expect(
          await client.mint({
            clientId: ID_A,
            resource: 'api://db',
            identity: { namespace: 'apps', name: 'id-a' },
          }),
        ).toMatchObject({ refused: true, status: 403 });
      } finally {
        client.close();
      }
    } finally {
      await second.stop();
    }
  });

  it('the issuer reloads --client-ca: a node certificate from a new CA is refused, then accepted', async () => {
    const newCa = await generateClientCa();
    const fromNewCa = await generateNmiClientCertificate(newCa, 'node-a');
    const caFile = join(dir, 'tls', 'rotating-client-ca.crt');
    await writeFile(caFile, await readFile(files['client-ca.crt'] ?? '', 'utf8'));
    const third = await issuerOnLoopback(
      {
        state: dir,
        clientCa: caFile,
      },
      { logger: silentLogger() },
    );
    const client = createHttpsIssuerClient({
      url: new URL(third.baseUrl),
      tls: {
        ca: await readFile(files['issuer-ca.crt'] ?? '', 'utf8'),
        cert: fromNewCa.cert,
        key: fromNewCa.key,
      },
    });
    try {
      const before = await client.whoami();
      expect(before.ok).toBe(false);
      expect(!before.ok && before.reason).toMatch(/answered 401/);
      await writeFileAtomic(caFile, newCa.cert, 0o644);
      let after = await client.whoami();
      for (let i = 0; i < 60 && !after.ok; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await client.whoami();
      }
      expect(after).toEqual({ ok: true, value: { node: 'node-a', method: 'client-certificate' } });
    } finally {
      client.close();
      await third.stop();
    }
  });

  it("the NMI reloads its client certificate: with node-b's certificate in place it becomes ready as node-b", async () => {
    const tls = join(dir, 'tls');
    const certFile = join(tls, 'rotating-nmi.crt');
    const keyFile = join(tls, 'rotating-nmi.key');
    await writeFile(certFile, await readFile(files['nmi-node-a.crt'] ?? '', 'utf8'));
    await writeFile(keyFile, await readFile(files['nmi-node-a.key'] ?? '', 'utf8'), { mode: 0o600 });
    const nmi = await startNmi({ node: 'node-b', clientCert: certFile, clientKey: keyFile });
    expect((await rawToken(nmi, ID_B)).status).toBe(403);
    expect((await fetch(`${nmi.url}/healthz`)).status).toBe(503);
    // podsec certs --nmi-client node-b ran in an earlier test: rotate to it (key first, then cert)
    await writeFileAtomic(keyFile, await readFile(join(tls, 'nmi-node-b.key'), 'utf8'), 0o600);
    await writeFileAtomic(certFile, await readFile(join(tls, 'nmi-node-b.crt'), 'utf8'), 0o644);
    let ready = 0;
    for (let i = 0; i < 60 && ready !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ready = (await fetch(`${nmi.url}/healthz`)).status;
    }
    expect(ready).toBe(200);
    expect((await rawToken(nmi, ID_B)).status).toBe(200);
  });
});

// Review finding 1, reproduced end to end: namespace evil copies prod's client id into its own
// AzureIdentity, with a pod and an assignment on node-a (as a MIC without the duplicate rule made
// them). Neither pod may get a token, through issuer=URL or issuer-local; the answer names both
// objects. With the prod identity gone, evil's own identity works again (the control).
describe('a client id claimed by AzureIdentities in two namespaces', () => {
  const SHARED = '0000000c-cccc-4ccc-8ccc-00000000000c';
  const dupIdentity = (ns: string, name: string): string =>
    managedIdentityYaml({ name, namespace: ns, clientID: SHARED, tenantID: TENANT });
  const dupPod = (ns: string, name: string, ip: string): string =>
    runningPodYaml({ name, namespace: ns, node: 'node-a', ip, bindingLabel: name });
  const dupAssigned = (ns: string, podName: string, idName: string): string =>
    assigned(podName, idName, SHARED, 'node-a')
      .replaceAll('namespace: apps', `namespace: ${ns}`)
      .replace('podNamespace: apps', `podNamespace: ${ns}`);
  const evil = [
    dupIdentity('evil', 'copy'),
    dupPod('evil', 'thief', '127.0.0.1'),
    dupAssigned('evil', 'thief', 'copy'),
  ];
  const prod = [
    dupIdentity('prod', 'orders'),
    dupPod('prod', 'api', '10.9.9.9'),
    dupAssigned('prod', 'api', 'orders'),
  ];
  let dupDir: string;
  let soloDir: string;
  let dupIssuer: RunningIssuer;

  beforeAll(async () => {
    dupDir = join(dir, 'dup-state');
    soloDir = join(dir, 'solo-state');
    await mkdir(dupDir);
    await mkdir(soloDir);
    await writeFile(join(dupDir, 'cluster.yaml'), [...prod, ...evil].join('---\n'));
    await writeFile(join(soloDir, 'cluster.yaml'), evil.join('---\n'));
    dupIssuer = await issuerOnLoopback(
      {
        state: dupDir,
        clientCa: files['client-ca.crt'],
      },
      { logger: silentLogger() },
    );
  });
  afterAll(async () => {
    await dupIssuer.stop();
  });

  const local = {
    tokenProvider: 'issuer-local',
    issuerCa: undefined,
    clientCert: undefined,
    clientKey: undefined,
  };
  // The pod is told only about its own identity (prod's namespace is not disclosed to it).
  const claimed =
    /^Identity (evil\/copy|prod\/orders) \([^)]*\) cannot be used: another AzureIdentity claims the same client id/;

  it.each([
    [
      'issuer=URL (mint API over mutual TLS)',
      () => ({ state: dupDir, tokenProvider: `issuer=${dupIssuer.baseUrl}` }),
    ],
    ['issuer-local (in process)', () => ({ state: dupDir, ...local })],
  ])('%s: the evil pod gets no token, and is told why', async (_name, over) => {
    const nmi = await startNmi(over());
    expect(await waitReady(nmi)).toBe(200);
    const r = await rawToken(nmi, SHARED);
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ error: 'forbidden' });
    expect(String(r.body['error_description'])).toMatch(claimed);
    expect(r.body['access_token']).toBeUndefined();
  });

  it("issuer=URL: node-a's NMI asking for prod/orders itself is refused too (no first-come winner)", async () => {
    const client = createHttpsIssuerClient({
      url: new URL(dupIssuer.baseUrl),
      tls: {
        ca: await readFile(files['issuer-ca.crt'] ?? '', 'utf8'),
        cert: await readFile(files['nmi-node-a.crt'] ?? '', 'utf8'),
        key: await readFile(files['nmi-node-a.key'] ?? '', 'utf8'),
      },
    });
    try {
      for (const identity of [
        { namespace: 'prod', name: 'orders' },
        { namespace: 'evil', name: 'copy' },
      ]) {
        const r = await client.mint({ clientId: SHARED, resource: 'api://orders', identity });
        expect(r).toMatchObject({ refused: true, status: 403, error: 'forbidden' });
        expect('refused' in r && r.description).toMatch(claimed);
      }
    } finally {
      client.close();
    }
  });

  it('control: without the prod AzureIdentity, evil/copy is an ordinary identity and gets its token', async () => {
    const nmi = await startNmi({ state: soloDir, ...local });
    expect(await waitReady(nmi)).toBe(200);
    const r = await rawToken(nmi, SHARED);
    expect(r.status).toBe(200);
    expect(typeof r.body['access_token']).toBe('string');
  });
});
