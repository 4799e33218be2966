/**
 * NMI benchmark (issue 5, section 7): token requests with a warm cache from 20 pod addresses
 * (127.0.0.10-29, client sockets bound with localAddress so the NMI identifies each pod by its
 * source address), at 10 and 50 concurrent keep-alive callers, beside a bare node:http server
 * answering a canned token JSON in the same run. Prints tokens/s, p50 and p99 for both, and the
 * targets (>= 5,000 tokens/s at 50 callers; p99 <= 5 ms at 10 callers).
 *
 * The servers run in a child process so the load generator does not share their event loop.
 * The per-pod rate limit is raised out of the way (it would otherwise be what is measured).
 *   npm run bench:nmi                 (5 s per measurement)
 *   npx tsx bench/nmi.ts --duration 3
 */
import { spawn } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createNmiDeps, startNmiServer } from '../src/identity/nmi/index.js';
import type { NmiIdentity, NmiPod, PodAssignment } from '../src/identity/nmi/index.js';

const PODS = 20;
const address = (i: number): string => `127.0.0.${10 + i}`;
const PATH = '/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net';

async function serve(): Promise<void> {
  const pods = new Map<string, NmiPod>();
  const assignments = new Map<string, PodAssignment[]>();
  for (let i = 0; i < PODS; i++) {
    const pod: NmiPod = { namespace: 'bench', name: `pod-${i}`, nodeName: 'local', phase: 'Running' };
    const identity: NmiIdentity = { namespace: 'bench', name: `id-${i}`, type: 0, clientID: `client-${i}` };
    pods.set(address(i), pod);
    assignments.set(pod.name, [{ identity, status: 'Assigned' }]);
  }
  const jwt = `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${'x'.repeat(900)}.${'s'.repeat(342)}`;
  const deps = createNmiDeps({
    nodeName: 'local',
    nodeAddresses: ['127.0.0.1'],
    podsByIp: (ip) => {
      const p = pods.get(ip);
      return p === undefined ? [] : [p];
    },
    assignedIdentities: (pod) => assignments.get(pod.name) ?? [],
    tokenProvider: {
      getToken: () =>
        Promise.resolve({ ok: true, token: { accessToken: jwt, expiresOnMs: Date.now() + 24 * 3_600_000 } }),
    },
    rateLimit: { ratePerSecond: 1e9, burst: 1e9 },
  });
  const nmi = await startNmiServer({ host: '127.0.0.1', port: 0, deps });
  const canned = JSON.stringify({
    access_token: jwt,
    refresh_token: '',
    expires_in: '86399',
    expires_on: String(Math.floor(Date.now() / 1000) + 86_400),
    not_before: String(Math.floor(Date.now() / 1000)),
    resource: 'https://vault.azure.net',
    token_type: 'Bearer',
    client_id: 'client-0',
  });
  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(canned);
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`${JSON.stringify({ nmi: nmi.port, bare: (bare.address() as AddressInfo).port })}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (l) => {
    if (l === 'cpu') {
      const u = process.cpuUsage();
      process.stdout.write(`${(u.user + u.system) / 1000}\n`);
    }
  });
  lines.on('close', () => process.exit(0));
}

interface Outcome {
  readonly requests: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly non200: number;
}

function once(agent: Agent, port: number, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: PATH, agent, localAddress, headers: { Metadata: 'true' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function load(port: number, callers: number, seconds: number): Promise<Outcome> {
  const latencies: number[] = [];
  let non200 = 0;
  const deadline = performance.now() + seconds * 1000;
  const agents: Agent[] = [];
  const loops = Array.from({ length: callers }, async (_v, c) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const from = address(c % PODS);
    while (performance.now() < deadline) {
      const t = performance.now();
      const status = await once(agent, port, from);
      latencies.push(performance.now() - t);
      if (status !== 200) non200 += 1;
    }
  });
  const started = performance.now();
  await Promise.all(loops);
  const elapsed = (performance.now() - started) / 1000;
  for (const a of agents) a.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    requests: latencies.length,
    perSecond: latencies.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    non200,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--serve')) return serve();
  const durationArg = args.indexOf('--duration');
  const duration = durationArg === -1 ? 5 : Number(args[durationArg + 1]);
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
  });
  const ports = JSON.parse(first) as { nmi: number; bare: number };
  const cpu = (): Promise<number> =>
    new Promise((resolve) => {
      lines.once('line', (l) => resolve(Number(l)));
      child.stdin.write('cpu\n');
    });

  // Warm the cache (one token per pod) and check every pod is served.
  for (let i = 0; i < PODS; i++) {
    const status = await once(new Agent(), ports.nmi, address(i));
    if (status !== 200) throw new Error(`warm-up for ${address(i)} answered ${status}`);
  }
  await load(ports.nmi, 10, 1);
  await load(ports.bare, 10, 1);

  const fmt = (n: number, d = 2): string => n.toFixed(d);
  process.stdout.write(
    `NMI bench: ${PODS} pod addresses, warm cache, keep-alive callers, ${duration} s per measurement, node ${process.version}\n`,
  );
  process.stdout.write('server  callers  tokens/s   p50 ms  p99 ms  non-200  server CPU ms/req\n');
  const results: Record<string, Outcome> = {};
  for (const callers of [10, 50]) {
    for (const [name, port] of [
      ['nmi', ports.nmi],
      ['bare', ports.bare],
    ] as const) {
      const c0 = await cpu();
      const r = await load(port, callers, duration);
      const c1 = await cpu();
      results[`${name}@${callers}`] = r;
      process.stdout.write(
        `${name.padEnd(6)}  ${String(callers).padStart(7)}  ${fmt(r.perSecond, 0).padStart(8)}  ${fmt(r.p50).padStart(7)}  ${fmt(r.p99).padStart(6)}  ${String(r.non200).padStart(7)}  ${fmt((c1 - c0) / r.requests, 3).padStart(8)}\n`,
      );
    }
  }
  const n50 = results['nmi@50']!;
  const b50 = results['bare@50']!;
  const n10 = results['nmi@10']!;
  process.stdout.write(
    `targets: tokens/s at 50 callers ${fmt(n50.perSecond, 0)} (>= 5000: ${n50.perSecond >= 5000 ? 'met' : 'MISSED'}); ` +
      `p99 at 10 callers ${fmt(n10.p99)} ms (<= 5: ${n10.p99 <= 5 ? 'met' : 'MISSED'}); ` +
      `p99 at 50 callers ${fmt(n50.p99)} ms vs bare ${fmt(b50.p99)} ms (${fmt(n50.p99 / b50.p99)}x)\n`,
  );
  child.stdin.end();
}

const invoked = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invoked)
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
