/**
 * Cold-path cost of `--token-provider azure` (what the NMI pays on a token-cache miss), all on
 * loopback: MSAL client credentials (secret, and certificate assertion) against podsec's issuer
 * over HTTPS standing in for Azure AD, and the type 0 path against a node:http IMDS stand-in.
 * Sequential requests (p50/p99 latency) and 10 concurrent callers (tokens/s). Warm caches in the
 * NMI avoid all of this; see bench:nmi for that path.
 *   npx tsx bench/nmi-azure.ts [--count 300]
 */
import { createServer as createHttpServer } from 'node:http';
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { createIssuer, KeySet } from '../src/identity/issuer/index.js';
import { issuerListener } from '../src/identity/issuer/node-listener.js';
import { ImdsTokenProvider, MsalTokenProvider } from '../src/identity/nmi/providers/index.js';
import type { NmiIdentity, TokenProvider } from '../src/identity/nmi/types.js';
import type { KubeObject } from '../src/kube/types.js';
import { generateCertificates } from '../src/lib/tls/index.js';

const TENANT = 'aaaabbbb-0000-1111-2222-333344445555';
const SP = '10000000-0000-0000-0000-0000000000c1';
const CERT = '10000000-0000-0000-0000-0000000000c2';
const countArg = process.argv.indexOf('--count');
const COUNT = countArg > 0 ? Number(process.argv[countArg + 1]) : 300;

function network(ca: string): INetworkModule {
  const agent = new Agent({ keepAlive: true, ca });
  const send = <T>(method: string, url: string, o?: NetworkRequestOptions): Promise<NetworkResponse<T>> =>
    new Promise((resolve, reject) => {
      const req = request(url, { method, headers: o?.headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: {},
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T,
          }),
        );
      });
      req.on('error', reject);
      req.end(o?.body);
    });
  return {
    sendGetRequestAsync: <T>(url: string, o?: NetworkRequestOptions) => send<T>('GET', url, o),
    sendPostRequestAsync: <T>(url: string, o?: NetworkRequestOptions) => send<T>('POST', url, o),
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function measure(name: string, provider: TokenProvider, identity: NmiIdentity): Promise<void> {
  const warm = await provider.getToken(identity, 'api://warm');
  if (!warm.ok) throw new Error(`${name}: ${warm.description}`);
  const lat: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    const t = performance.now();
    const r = await provider.getToken(identity, `api://r${i}`);
    lat.push(performance.now() - t);
    if (!r.ok) throw new Error(`${name}: ${r.description}`);
  }
  lat.sort((a, b) => a - b);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < COUNT) {
        const i = next++;
        const r = await provider.getToken(identity, `api://c${i}`);
        if (!r.ok) throw new Error(`${name}: ${r.description}`);
      }
    }),
  );
  const rate = COUNT / ((performance.now() - started) / 1000);
  console.log(
    `${name.padEnd(34)} sequential p50 ${pct(lat, 50).toFixed(2)} ms  p99 ${pct(lat, 99).toFixed(2)} ms  | 10 callers ${rate.toFixed(0)} tokens/s`,
  );
}

async function main(): Promise<void> {
  const tls = await generateCertificates({ service: 'issuer', namespace: 'bench', localhost: true });
  const app = await generateCertificates({ service: 'app', namespace: 'bench', algorithm: 'rsa-2048' });
  const keys = await KeySet.generate({ retentionSeconds: 3900 });
  let host = '';
  const issuer = createIssuer({
    baseUrl: () => `https://${host}`,
    keys,
    identities: () => [
      { clientId: SP, tenantId: TENANT, secret: 'bench-secret' },
      { clientId: CERT, tenantId: TENANT, certificatePem: app.cert },
    ],
  });
  const server = createServer({ cert: tls.cert, key: tls.key }, issuerListener(issuer));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const obj = (name: string, type: number, clientID: string, secretName: string): KubeObject => ({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentity',
    metadata: { namespace: 'bench', name },
    spec: { type, clientID, tenantID: TENANT, clientPassword: { namespace: 'bench', name: secretName } },
  });
  const identities = new Map([
    ['sp', obj('sp', 1, SP, 'sp')],
    ['cert', obj('cert', 2, CERT, 'cert')],
  ]);
  const secrets = new Map<string, KubeObject>([
    ['sp', { apiVersion: 'v1', kind: 'Secret', stringData: { clientSecret: 'bench-secret' } }],
    [
      'cert',
      {
        apiVersion: 'v1',
        kind: 'Secret',
        stringData: { certificate: `${app.cert}\n${app.key}` },
      },
    ],
  ]);
  const msal = new MsalTokenProvider({
    authorityHost: `https://${host}/`,
    identity: (_ns, name) => identities.get(name),
    secret: (_ns, name) => Promise.resolve(secrets.get(name)),
    networkClient: network(tls.caCert),
  });

  const imds = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        access_token: 'x'.repeat(1200),
        expires_on: String(Math.floor(Date.now() / 1000) + 3600),
      }),
    );
    void req;
  });
  await new Promise<void>((resolve) => imds.listen(0, '127.0.0.1', resolve));
  const imdsProvider = new ImdsTokenProvider({
    address: { host: '127.0.0.1', port: (imds.address() as AddressInfo).port },
  });

  console.log(`podsec NMI azure provider, cold path (${COUNT} tokens per row, loopback)`);
  await measure('MSAL client secret -> issuer', msal, {
    namespace: 'bench',
    name: 'sp',
    type: 1,
    clientID: SP,
  });
  await measure('MSAL certificate -> issuer', msal, {
    namespace: 'bench',
    name: 'cert',
    type: 2,
    clientID: CERT,
  });
  await measure('type 0 -> IMDS stand-in', imdsProvider, {
    namespace: 'bench',
    name: 'msi',
    type: 0,
    clientID: SP,
  });
  server.closeAllConnections();
  server.close();
  imds.close();
}

await main();
