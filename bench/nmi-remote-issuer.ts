/**
 * Cold-path cost of `--token-provider issuer=URL` (what the NMI pays on a token-cache miss): the
 * NMI's HTTPS mint client (keep-alive, client certificate) against podsec's issuer mint API with
 * mutual TLS on loopback, beside the in-process `mintForIdentity` of `issuer-local`. Sequential
 * requests (p50/p99 latency) and 16 concurrent callers (tokens/s). Warm NMI caches avoid all of
 * this; see bench:nmi for that path.
 *   npx tsx bench/nmi-remote-issuer.ts [--count 2000]
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  clientCertificateAuthenticator,
  createIssuer,
  KeySet,
  mintListener,
} from '../src/identity/issuer/index.js';
import { createHttpsIssuerClient } from '../src/identity/nmi/issuer-https.js';
import {
  generateCertificates,
  generateClientCa,
  generateNmiClientCertificate,
} from '../src/lib/tls/index.js';

const countArg = process.argv.indexOf('--count');
const COUNT = countArg > 0 ? Number(process.argv[countArg + 1]) : 2000;
const CLIENT = '20000000-0000-0000-0000-0000000000a1';

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function measure(name: string, once: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < 50; i++) await once(i); // warm-up
  const times: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    const t = performance.now();
    await once(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < COUNT) {
        next += 1;
        await once(next);
      }
    }),
  );
  const rate = COUNT / ((performance.now() - t0) / 1000);
  console.log(
    `${name.padEnd(34)} p50 ${pct(times, 50).toFixed(3)} ms  p99 ${pct(times, 99).toFixed(3)} ms  16 callers ${rate.toFixed(0)} tokens/s`,
  );
}

const keys = await KeySet.generate({ retentionSeconds: 3900 });
const issuer = createIssuer({
  baseUrl: 'https://issuer.bench',
  keys,
  identities: () => [{ namespace: 'bench', name: 'id', clientId: CLIENT, tenantId: 'bench' }],
  isAssignedOnNode: (node, identity) =>
    node === 'node-a' &&
    identity.namespace === 'bench' &&
    identity.name === 'id' &&
    identity.clientId === CLIENT,
});
const serving = await generateCertificates({ service: 'podsec-issuer', namespace: 'bench', localhost: true });
const clientCa = await generateClientCa();
const cert = await generateNmiClientCertificate(clientCa, 'node-a');
const server = createServer(
  { cert: serving.cert, key: serving.key, ca: clientCa.cert, requestCert: true, rejectUnauthorized: false },
  mintListener(issuer, clientCertificateAuthenticator()),
);
server.keepAliveTimeout = 5_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;
const client = createHttpsIssuerClient({
  url: new URL(`https://localhost:${port}`),
  tls: { ca: serving.caCert, cert: cert.cert, key: cert.key },
});

console.log(`mint cost per token-cache miss, ${COUNT} tokens, issuer signing key ${keys.active().alg}`);
await measure('in process (issuer-local)', async (i) => {
  const r = await issuer.mintForIdentity(
    { namespace: 'bench', name: 'id', clientId: CLIENT },
    `api://bench-${i}`,
    { node: 'node-a' },
  );
  if (!r.ok) throw new Error(r.message);
});
await measure('HTTPS + mutual TLS (issuer=URL)', async (i) => {
  const r = await client.mint({
    clientId: CLIENT,
    resource: `api://bench-${i}`,
    identity: { namespace: 'bench', name: 'id' },
  });
  if ('refused' in r) throw new Error(r.description);
});
client.close();
server.closeAllConnections();
await new Promise<void>((resolve) => server.close(() => resolve()));
