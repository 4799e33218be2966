/**
 * `podsec identity issuer --kubeconfig <file> --nmi-token-review` as a real process (the built CLI
 * in dist/), against the fake API server: the issuer loads the kubeconfig like every other podsec
 * command, lists and watches AzureIdentities, their Secrets (only in --secret-namespace apps) and
 * AzureAssignedIdentities, and asks the API server's TokenReview about each NMI bearer token. An
 * NMI client (createHttpsIssuerClient with a bearer token) mints its node's assigned identity, is
 * refused another node's (403), and a token of another ServiceAccount is refused (401). The
 * TokenReview answers carry status.audiences only for the audience the issuer asked for. Loopback
 * only; no Azure SDK credential runs here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHttpsIssuerClient } from '../../src/identity/nmi/issuer-https.js';
import type { KubeObject } from '../../src/kube/types.js';
import { generateCertificates } from '../../src/lib/tls/index.js';
import { httpsStatus } from '../support/https-status.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = `${root}dist/cli/main.js`;

const TENANT = '00000000-0000-0000-0000-0000000000a1';
const ID_A = '0000000a-aaaa-4aaa-8aaa-00000000000a';
const ID_B = '0000000b-bbbb-4bbb-8bbb-00000000000b';
const NMI_USER = 'system:serviceaccount:podsec-node:podsec-nmi';
const NODE_NAME = 'authentication.kubernetes.io/node-name';

/** The projected tokens the fake API server knows: who each one is, on which node. */
const TOKENS: Record<string, { username: string; node: string }> = {
  'projected-token-of-the-nmi-on-node-a': { username: NMI_USER, node: 'node-a' },
  'projected-token-of-an-app-pod-on-node-a': {
    username: 'system:serviceaccount:apps:default',
    node: 'node-a',
  },
};

function identity(name: string, clientID: string): KubeObject {
  return {
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentity',
    metadata: { name, namespace: 'apps' },
    spec: {
      type: 1,
      clientID,
      tenantID: TENANT,
      clientPassword: { name: `${name}-secret`, namespace: 'apps' },
    },
  };
}
function secret(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${name}-secret`, namespace: 'apps' },
    data: { clientSecret: Buffer.from(`value-of-${name}`).toString('base64') },
  };
}
function assigned(pod: string, idName: string, clientID: string, node: string): KubeObject {
  return {
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureAssignedIdentity',
    metadata: { name: `${pod}-apps-${idName}`, namespace: 'apps', labels: { nodename: node } },
    spec: {
      pod,
      podNamespace: 'apps',
      nodename: node,
      azureIdentityRef: {
        apiVersion: 'aadpodidentity.k8s.io/v1',
        kind: 'AzureIdentity',
        metadata: { name: idName, namespace: 'apps' },
        spec: { type: 1, clientID },
      },
      azureBindingRef: {
        apiVersion: 'aadpodidentity.k8s.io/v1',
        kind: 'AzureIdentityBinding',
        metadata: { name: idName, namespace: 'apps' },
        spec: { azureIdentity: idName, selector: pod },
      },
    },
    status: { status: 'Assigned' },
  };
}

const get = httpsStatus;

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

describe.skipIf(!existsSync(bin))('podsec identity issuer --kubeconfig --nmi-token-review (process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'podsec-issuer-tokenreview-'));
  const reviews: { token: string; audiences: string[] }[] = [];
  let api: FakeApiServer;
  let child: ChildProcess | undefined;
  let exited: Promise<number | null>;
  let stderr = '';
  let port = 0;
  let ca = '';

  beforeAll(async () => {
    api = await startFakeApiServer({
      tokenReview: (spec) => {
        const token = spec.token ?? '';
        const audiences = spec.audiences ?? [];
        reviews.push({ token, audiences });
        const who = TOKENS[token];
        if (who === undefined) return { authenticated: false, error: 'invalid bearer token' };
        return {
          authenticated: true,
          user: { username: who.username, extra: { [NODE_NAME]: [who.node] } },
          // the projected tokens are minted for podsec-issuer; only that audience is confirmed
          audiences: audiences.filter((a) => a === 'podsec-issuer'),
        };
      },
    });
    api.seed([
      identity('id-a', ID_A),
      secret('id-a'),
      identity('id-b', ID_B),
      secret('id-b'),
      assigned('pod-a', 'id-a', ID_A, 'node-a'),
      assigned('pod-b', 'id-b', ID_B, 'node-b'),
    ]);
    const kubeconfig = await api.writeKubeconfig();
    const certs = await generateCertificates({ service: 'issuer', namespace: 'podsec', localhost: true });
    ca = certs.caCert;
    writeFileSync(join(dir, 'tls.crt'), certs.cert);
    writeFileSync(join(dir, 'tls.key'), certs.key, { mode: 0o600 });
    const args = [
      ...['identity', 'issuer', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key')],
      ...['--port', '0', '--kubeconfig', kubeconfig, '--nmi-token-review', '--secret-namespace', 'apps'],
    ];
    // KUBECONFIG and HOME point nowhere useful: only --kubeconfig may lead to the API server.
    const proc = spawn(process.execPath, [bin, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, KUBECONFIG: join(dir, 'no-such-kubeconfig'), HOME: dir },
    });
    child = proc;
    proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    port = await vi.waitFor(
      () => {
        const m = /"port":(\d+)[^\n]*"msg":"issuer listening"/.exec(stderr);
        if (m === null) throw new Error(`not listening yet: ${stderr.slice(-500)}`);
        return Number(m[1]);
      },
      { timeout: 20_000, interval: 100 },
    );
    await vi.waitFor(async () => expect(await get(port, ca, '/readyz')).toBe(200), {
      timeout: 15_000,
      interval: 100,
    });
  }, 45_000);

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (token: string): ReturnType<typeof createHttpsIssuerClient> =>
    createHttpsIssuerClient({
      url: new URL(`https://localhost:${port}`),
      tls: { ca },
      attempts: 1,
      bearerToken: () => Promise.resolve(token),
    });

  it("the NMI's token is reviewed by the API server: whoami names its node", async () => {
    const nmi = client('projected-token-of-the-nmi-on-node-a');
    try {
      expect(await nmi.whoami()).toEqual({ ok: true, value: { node: 'node-a', method: 'token-review' } });
    } finally {
      nmi.close();
    }
    const asked = reviews.filter((r) => r.token === 'projected-token-of-the-nmi-on-node-a');
    expect(asked.length).toBeGreaterThan(0);
    for (const r of asked) expect(r.audiences).toEqual(['podsec-issuer']);
  });

  it("mints the identity assigned on the NMI's node", async () => {
    const nmi = client('projected-token-of-the-nmi-on-node-a');
    try {
      const minted = await nmi.mint({
        clientId: ID_A,
        tenantId: TENANT,
        resource: 'api://orders',
        identity: { namespace: 'apps', name: 'id-a' },
      });
      expect('accessToken' in minted).toBe(true);
      if (!('accessToken' in minted)) return;
      expect(claims(minted.accessToken)).toMatchObject({ aud: 'api://orders', azp: ID_A, tid: TENANT });
    } finally {
      nmi.close();
    }
  });

  it("refuses another node's assigned identity with 403", async () => {
    const nmi = client('projected-token-of-the-nmi-on-node-a');
    try {
      const refused = await nmi.mint({
        clientId: ID_B,
        tenantId: TENANT,
        resource: 'api://orders',
        identity: { namespace: 'apps', name: 'id-b' },
      });
      expect(refused).toMatchObject({ refused: true, status: 403 });
    } finally {
      nmi.close();
    }
  });

  // The issuer answers 401; the NMI client turns that into a 503 for the pod (it cannot fix it),
  // so the issuer's own status is read from the client's per-attempt report.
  const unauthenticated: [string, string][] = [
    ['a token of another ServiceAccount on the same node', 'projected-token-of-an-app-pod-on-node-a'],
    ['a token the API server does not accept', 'forged-token'],
  ];
  it.each(unauthenticated)('refuses %s with 401', async (_name, token) => {
    const statuses: (number | undefined)[] = [];
    const other = createHttpsIssuerClient({
      url: new URL(`https://localhost:${port}`),
      tls: { ca },
      attempts: 1,
      bearerToken: () => Promise.resolve(token),
      onAttempt: (o) => statuses.push(o.status),
    });
    try {
      const refused = await other.mint({
        clientId: ID_A,
        tenantId: TENANT,
        resource: 'api://orders',
        identity: { namespace: 'apps', name: 'id-a' },
      });
      expect(refused).toMatchObject({ refused: true });
      expect(statuses).toEqual([401]);
      const who = await other.whoami();
      expect(who.ok).toBe(false);
      expect(!who.ok && who.reason).toMatch(/401/);
    } finally {
      other.close();
    }
    expect(reviews.some((r) => r.token === token)).toBe(true);
  });

  it('read Secrets only in apps, reviewed tokens through POST tokenreviews, and logged no token', () => {
    const secretReads = api.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/secrets'));
    expect(secretReads.length).toBeGreaterThan(0);
    expect(new Set(secretReads.map((r) => r.path))).toEqual(new Set(['/api/v1/namespaces/apps/secrets']));
    expect(
      api.requests.some(
        (r) => r.method === 'POST' && r.path === '/apis/authentication.k8s.io/v1/tokenreviews',
      ),
    ).toBe(true);
    expect(stderr).not.toContain('projected-token-of');
    expect(stderr).not.toContain('value-of-id');
    expect(stderr).toMatch(/"status":401[^\n]*"reason":"[^"]*NMI service account/);
  });

  it('stops gracefully on SIGTERM', async () => {
    child?.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('"msg":"issuer stopped"');
    expect(stderr).not.toContain('    at ');
  }, 15_000);
});
