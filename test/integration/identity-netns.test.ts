/**
 * `podsec identity nmi --redirect` against the real kernel, in throwaway network namespaces
 * (CONTRACTS.md section 7). The lab (reference/network-policy.md section 6): a node namespace
 * with ip_forward, pod namespaces with /32 addresses behind veths (Calico's 169.254.1.1 link-scope
 * gateway, proxy_arp on the node side), and a stand-in "IMDS" namespace holding 169.254.169.254
 * that records every request: it makes a leak observable. First the test asserts that the lab
 * cannot reach any metadata address by itself (no route leaves it; this machine's real IMDS is
 * never contacted). The NMI (built CLI, local mode, in-process issuer) runs inside the node
 * namespace; the unmodified @azure/identity ManagedIdentityCredential runs inside the pod
 * namespaces with NO endpoint override. Proofs: a bound pod gets a JWKS-verified token, an
 * unbound pod a clear error, a deleted table is restored by the periodic check, a stopped NMI
 * leaves pods rejected at once (never passed to the stand-in IMDS), --cleanup removes the table,
 * and a kernel bridge behind the pod-interface patterns makes --redirect refuse to start.
 * Needs root, ip, nft, conntrack and setpriv: skipped loudly without them, a failure when CI=true.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KeySet, verifyToken } from '../../src/identity/issuer/index.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = `${root}dist/cli/main.js`;

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const missing = [
  ...(process.getuid?.() === 0 ? [] : ['root']),
  ...['ip', 'nft', 'conntrack', 'setpriv'].filter((c) => !hasCommand(c)),
  ...(existsSync(bin) ? [] : ['dist/cli/main.js (npm run build)']),
];

const PREFIX = 'podsec-t-nmi-';
const TAG = randomBytes(3).toString('hex');
const RUN = `${PREFIX}${process.pid}-${TAG}`;
const NS = { node: `${RUN}-node`, bound: `${RUN}-pa`, unbound: `${RUN}-pb`, imds: `${RUN}-imds` } as const;
/** Host-side interface names (in the node namespace only): pods `vp<tag>a|b`, the stand-in `vi<tag>`. */
const IF = { bound: `vp${TAG}a`, unbound: `vp${TAG}b`, imds: `vi${TAG}` } as const;
const NODE_IP = '10.251.0.1';
const POD_IP = { bound: '10.251.1.2', unbound: '10.251.1.3' } as const;
const NMI_PORT = 2579;
const NODE_NAME = 'lab-node';
const CLIENT_ID = '00000000-0000-0000-0000-0000000000c1';
const TENANT_ID = '00000000-0000-0000-0000-0000000000a1';
const ISSUER_URL = 'https://issuer.podsec.test';

const STATE = `
apiVersion: v1
kind: Pod
metadata: {name: bound, namespace: apps, labels: {aadpodidbinding: reader}}
spec: {nodeName: ${NODE_NAME}, containers: [{name: c, image: busybox}]}
status: {phase: Running, podIP: ${POD_IP.bound}}
---
apiVersion: v1
kind: Pod
metadata: {name: unbound, namespace: apps}
spec: {nodeName: ${NODE_NAME}, containers: [{name: c, image: busybox}]}
status: {phase: Running, podIP: ${POD_IP.unbound}}
---
apiVersion: v1
kind: Secret
metadata: {name: reader-secret, namespace: apps}
type: Opaque
stringData: {clientSecret: not-used-by-the-nmi}
---
apiVersion: aadpodidentity.k8s.io/v1
kind: AzureIdentity
metadata: {name: reader, namespace: apps}
spec:
  type: 1
  clientID: ${CLIENT_ID}
  tenantID: ${TENANT_ID}
  clientPassword: {name: reader-secret, namespace: apps}
---
apiVersion: aadpodidentity.k8s.io/v1
kind: AzureIdentityBinding
metadata: {name: reader-binding, namespace: apps}
spec: {azureIdentity: reader, selector: reader}
---
apiVersion: aadpodidentity.k8s.io/v1
kind: AzureAssignedIdentity
metadata: {name: bound-apps-reader, namespace: apps, labels: {nodename: ${NODE_NAME}}}
spec:
  pod: bound
  podNamespace: apps
  nodename: ${NODE_NAME}
  azureIdentityRef:
    apiVersion: aadpodidentity.k8s.io/v1
    kind: AzureIdentity
    metadata: {name: reader, namespace: apps}
    spec: {type: 1, clientID: ${CLIENT_ID}, tenantID: ${TENANT_ID}}
  azureBindingRef:
    apiVersion: aadpodidentity.k8s.io/v1
    kind: AzureIdentityBinding
    metadata: {name: reader-binding, namespace: apps}
    spec: {azureIdentity: reader, selector: reader}
status: {status: Assigned}
`;

/** Runs in a pod namespace: the SDK with no override at all (default 169.254.169.254, no retries). */
const SDK_CLIENT = `
import { ManagedIdentityCredential } from '@azure/identity';
const cred = new ManagedIdentityCredential({ retryOptions: { maxRetries: 0 } });
try {
  const t = await cred.getToken(process.env.PROBE_SCOPE);
  console.log(JSON.stringify({ ok: true, token: t.token }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, name: e.name, message: String(e.message) }));
}
`;

/** Runs in a pod namespace: one raw HTTP GET to the metadata address, 3 s budget. */
const RAW_CLIENT = `
import http from 'node:http';
const started = Date.now();
const done = (r) => { console.log(JSON.stringify({ ...r, ms: Date.now() - started })); process.exit(0); };
const req = http.get({ host: '169.254.169.254', port: 80, headers: { Metadata: 'true' },
  path: '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fraw.example' },
  (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => done({ status: res.statusCode, body: b })); });
req.setTimeout(3000, () => { req.destroy(); done({ error: 'TIMEOUT' }); });
req.on('error', (e) => done({ error: e.code ?? e.message }));
`;

/** The stand-in IMDS inside its namespace: answers everything and logs each request. */
const FAKE_IMDS = `
import http from 'node:http';
http.createServer((req, res) => {
  console.log('HIT ' + req.socket.remoteAddress + ' ' + req.url);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ error: 'fake_imds', error_description: 'the lab stand-in answered' }));
}).listen(80, '169.254.169.254', () => console.log('READY')).keepAliveTimeout = 60000;
`;

const KUBE_PROXY_LIKE = `table ip lab-kube-proxy {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 169.254.169.254 tcp dport 80 dnat to 169.254.169.254:80
  }
}
`;

const children: ChildProcess[] = [];

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function inNs(ns: string, ...cmd: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...cmd], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function tryInNs(ns: string, ...cmd: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A pod process: a clean environment (no AZURE_*, IDENTITY_*, MSI_* variables), cwd the repo. */
function runInPod(
  ns: string,
  script: string,
  env: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', () => {
      clearTimeout(timer);
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as Record<string, unknown>);
      } catch {
        reject(new Error(`pod process printed no result: ${out} ${err}`));
      }
    });
  });
}

/**
 * A node script run in namespace `ns` with only PATH in its environment (stderr inherited),
 * tracked for clean-up; each complete line it prints goes to `onLine`.
 */
function spawnScriptInNs(
  ns: string,
  script: string,
  stdin: 'ignore' | 'pipe',
  onLine: (line: string) => void,
): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    stdio: [stdin, 'pipe', 'inherit'],
  });
  children.push(child);
  let buf = '';
  child.stdout!.on('data', (c: Buffer) => {
    buf += c.toString('utf8');
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
  return child;
}

function deleteNs(name: string): void {
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
}

/** Namespaces of earlier runs whose creating process is gone (a crashed run) are ours to remove. */
function removeStaleNamespaces(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (m === null) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      alive = false;
    }
    if (!alive) deleteNs(name);
  }
}

function addPod(ns: string, hostIf: string, podIp: string): void {
  ip('netns', 'add', ns);
  inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  // Created directly inside the namespaces: nothing ever appears in the machine's own namespace.
  ip('link', 'add', hostIf, 'netns', NS.node, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  inNs(NS.node, 'ip', 'link', 'set', hostIf, 'up');
  inNs(NS.node, 'sysctl', '-qw', `net.ipv4.conf.${hostIf}.proxy_arp=1`);
  inNs(NS.node, 'ip', 'route', 'add', `${podIp}/32`, 'dev', hostIf);
  inNs(ns, 'ip', 'addr', 'add', `${podIp}/32`, 'dev', 'eth0');
  inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
  inNs(ns, 'ip', 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link');
  inNs(ns, 'ip', 'route', 'add', 'default', 'via', '169.254.1.1');
}

function buildLab(): void {
  removeStaleNamespaces();
  ip('netns', 'add', NS.node);
  inNs(NS.node, 'ip', 'link', 'set', 'lo', 'up');
  inNs(NS.node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  // Proxy ARP answers only for what the node can route: the gateway address lives on its lo.
  inNs(NS.node, 'ip', 'addr', 'add', '169.254.1.1/32', 'dev', 'lo');
  inNs(NS.node, 'ip', 'addr', 'add', `${NODE_IP}/32`, 'dev', 'lo');
  addPod(NS.bound, IF.bound, POD_IP.bound);
  addPod(NS.unbound, IF.unbound, POD_IP.unbound);
}

/** The stand-in IMDS: a namespace that owns 169.254.169.254, routed from the node namespace only. */
async function addStandInImds(): Promise<string[]> {
  ip('netns', 'add', NS.imds);
  inNs(NS.imds, 'ip', 'link', 'set', 'lo', 'up');
  ip('link', 'add', IF.imds, 'netns', NS.node, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.imds);
  inNs(NS.node, 'ip', 'link', 'set', IF.imds, 'up');
  inNs(NS.node, 'sysctl', '-qw', `net.ipv4.conf.${IF.imds}.proxy_arp=1`);
  inNs(NS.node, 'ip', 'route', 'add', '169.254.169.254/32', 'dev', IF.imds);
  inNs(NS.imds, 'ip', 'addr', 'add', '169.254.169.254/32', 'dev', 'eth0');
  inNs(NS.imds, 'ip', 'link', 'set', 'eth0', 'up');
  inNs(NS.imds, 'ip', 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link');
  inNs(NS.imds, 'ip', 'route', 'add', 'default', 'via', '169.254.1.1');
  // A kube-proxy-like DNAT of the same traffic at the usual priority (dstnat): podsec's chain runs
  // before it and wins. Being a nat chain, it also turns conntrack on in the node namespace, as
  // kube-proxy does on a real node, so connections opened before the redirect are tracked.
  execFileSync('ip', ['netns', 'exec', NS.node, 'nft', '-f', '-'], { input: KUBE_PROXY_LIKE });
  const hits: string[] = [];
  let ready = false;
  spawnScriptInNs(NS.imds, FAKE_IMDS, 'ignore', (l) => {
    if (l === 'READY') ready = true;
    else if (l.startsWith('HIT ')) hits.push(l.slice(4));
  });
  await vi.waitFor(
    () => {
      if (!ready) throw new Error('stand-in IMDS not ready');
    },
    { timeout: 10_000, interval: 50 },
  );
  return hits;
}

function nftTable(): string | undefined {
  const r = tryInNs(NS.node, 'nft', 'list', 'table', 'ip', 'podsec-nmi');
  return r.status === 0 ? r.stdout : undefined;
}

/**
 * A pod process holding one keep-alive TCP connection to 169.254.169.254:80: it sends a first
 * request at once and a second one on the same socket when told to (a line on stdin).
 */
const HOLDER = `
import net from 'node:net';
const request = 'GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=held HTTP/1.1\\r\\n' +
  'Host: 169.254.169.254\\r\\nMetadata: true\\r\\n\\r\\n';
let buf = '';
let waiting = false;
let timer;
const report = (what) => { if (!waiting) return; waiting = false; clearTimeout(timer); console.log(what); };
const send = () => {
  waiting = true;
  timer = setTimeout(() => report('timeout'), 3000);
  s.write(request);
};
const s = net.connect(80, '169.254.169.254', send);
s.on('data', (d) => { buf += d; if (buf.includes('fake_imds')) { buf = ''; report('ok'); } });
s.on('error', (e) => report('error ' + e.code));
s.on('close', () => report('closed'));
process.stdin.on('data', () => (s.destroyed ? console.log('closed') : send()));
`;

interface HeldConnection {
  /** The answer to the next request on the held socket: ok, timeout, closed or error CODE. */
  next(): Promise<string>;
}

async function openHeldConnection(): Promise<HeldConnection> {
  const lines: string[] = [];
  const child = spawnScriptInNs(NS.unbound, HOLDER, 'pipe', (l) => lines.push(l));
  const nextLine = async (): Promise<string> =>
    vi.waitFor(
      () => {
        const l = lines.shift();
        if (l === undefined) throw new Error('no answer yet');
        return l;
      },
      { timeout: 10_000, interval: 50 },
    );
  const first = await nextLine();
  if (first !== 'ok') throw new Error(`held connection: first request got ${first}`);
  return {
    next: () => {
      child.stdin!.write('go\n');
      return nextLine();
    },
  };
}

/** Tracked tcp connections to 169.254.169.254:80 in the node namespace. */
function metadataConntrack(): string[] {
  const r = tryInNs(
    NS.node,
    'conntrack',
    '-L',
    '-p',
    'tcp',
    '--orig-dst',
    '169.254.169.254',
    '--dport',
    '80',
  );
  return r.stdout.split('\n').filter((l) => l.includes('dst=169.254.169.254'));
}

const ENV_READY = missing.length === 0;

describe.skipIf(!ENV_READY && process.env['CI'] !== 'true')('NMI --redirect in network namespaces', () => {
  if (!ENV_READY) {
    // CI=true: the packages are installed by .ci/run, so their absence is a failure.
    it('has root, ip, nft, conntrack, setpriv and the built CLI (required in CI)', () => {
      expect.fail(`missing: ${missing.join(', ')}`);
    });
    return;
  }

  let dir = '';
  let stateDir = '';
  let keysDir = '';
  let nmi: ChildProcess | undefined;
  let nmiLog = '';
  let nmiExit: Promise<number | null> | undefined;
  let imdsHits: string[] = [];
  let hitsBefore = 0;
  let holder: HeldConnection | undefined;
  let scopeCounter = 0;
  const scope = (): string => `api://podsec-netns-${TAG}-${++scopeCounter}/.default`;

  /** `identity nmi` for this node over the lab's --state directory. */
  const nmiArgs = (): string[] => ['identity', 'nmi', '--node', NODE_NAME, '--state', stateDir];

  /** `podsec identity nmi` for this node, run in the node namespace with no nft on the PATH. */
  const nmiWithoutNft = (...extra: string[]): SpawnSyncReturns<string> => {
    const ipPath = spawnSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).stdout.trim();
    return spawnSync(
      ipPath,
      ['netns', 'exec', NS.node, process.execPath, bin, ...nmiArgs(), '--listen-address', NODE_IP, ...extra],
      { encoding: 'utf8', env: { PATH: '/nonexistent' } },
    );
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'podsec-nmi-netns-'));
    stateDir = join(dir, 'state');
    keysDir = join(dir, 'keys');
    mkdirSync(stateDir);
    writeFileSync(join(stateDir, 'cluster.yaml'), STATE);
    buildLab();
  }, 30_000);

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (nmi !== undefined && nmi.exitCode === null && nmi.signalCode === null) nmi.kill('SIGKILL');
    for (const name of Object.values(NS)) deleteNs(name);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('the lab has no route out: a pod cannot reach any 169.254.169.254 (the real IMDS is never contacted)', async () => {
    const r = await runInPod(NS.bound, RAW_CLIENT);
    expect(['ENETUNREACH', 'EHOSTUNREACH']).toContain(r['error']);
    expect(nftTable()).toBeUndefined();
  }, 15_000);

  it('baseline: with the stand-in IMDS routed and no podsec rules, a pod reaches it (the leak to close)', async () => {
    imdsHits = await addStandInImds();
    const r = await runInPod(NS.unbound, RAW_CLIENT);
    expect(r['body']).toContain('fake_imds');
    expect(imdsHits).toHaveLength(1);
    expect(imdsHits[0]).toContain(POD_IP.unbound);
    // A pod keeps a connection to it open across the NMI's start (see 'stale connection' below).
    holder = await openHeldConnection();
    expect(imdsHits).toHaveLength(2);
    hitsBefore = imdsHits.length;
  }, 15_000);

  it('the NMI starts in the node namespace with --redirect, installs the DNAT and flushes conntrack', async () => {
    // The baseline's connection is still tracked (TIME_WAIT): a stale entry the install must flush.
    expect(metadataConntrack()).not.toHaveLength(0);
    const args = [
      bin,
      ...nmiArgs(),
      '--keys-dir',
      keysDir,
      '--issuer-url',
      ISSUER_URL,
      '--listen-address',
      NODE_IP,
      '--port',
      String(NMI_PORT),
      '--redirect',
      '--pod-interface',
      `vp${TAG}*`,
      '--redirect-interval',
      '1',
    ];
    const child = spawn('ip', ['netns', 'exec', NS.node, process.execPath, ...args], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    nmi = child;
    nmiExit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    child.stderr.on('data', (c: Buffer) => (nmiLog += c.toString('utf8')));
    await vi.waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`nmi exited: ${nmiLog}`);
        if (!nmiLog.includes('goes to the NMI')) throw new Error('redirect not installed yet');
      },
      { timeout: 20_000, interval: 100 },
    );
    const table = nftTable();
    expect(table).toContain(`dnat to ${NODE_IP}:${NMI_PORT}`);
    expect(table).toContain(`iifname "vp${TAG}*"`);
    expect(table).toContain('priority dstnat - 10');
    expect(metadataConntrack()).toEqual([]);
  }, 30_000);

  it('a connection opened before the redirect does not keep reaching the IMDS', async () => {
    const second = await holder!.next();
    expect(['error ECONNRESET', 'closed']).toContain(second);
    expect(imdsHits).toHaveLength(hitsBefore);
  }, 15_000);

  it('(a) a bound pod: the unmodified ManagedIdentityCredential, no override, gets a JWKS-verified token', async () => {
    const s = scope();
    const r = await runInPod(NS.bound, SDK_CLIENT, { PROBE_SCOPE: s });
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
    const keys = await KeySet.load({ dir: keysDir, retentionSeconds: 3900 });
    expect(keys).toBeDefined();
    const verified = await verifyToken(String(r['token']), {
      issuer: `${ISSUER_URL}/${TENANT_ID}/v2.0`,
      audience: s.replace(/\/\.default$/, ''),
      jwks: keys!.jwks(),
    });
    expect(verified.ok, JSON.stringify(verified)).toBe(true);
    if (verified.ok) expect(verified.token.claims.appid).toBe(CLIENT_ID);
    expect(imdsHits).toHaveLength(hitsBefore);
  }, 30_000);

  it('(b) a pod without a binding gets a clear error, never a token', async () => {
    const r = await runInPod(NS.unbound, SDK_CLIENT, { PROBE_SCOPE: scope() });
    expect(r['ok']).toBe(false);
    expect(String(r['message'])).toMatch(/No identity is assigned to pod apps\/unbound/);
    expect(imdsHits).toHaveLength(hitsBefore);
  }, 30_000);

  it('(e) a table deleted by hand is restored by the periodic check', async () => {
    // Steady state: two more 1 s checks find the table as installed (no spurious reinstall, which
    // would also flush conntrack and cut pods' connections every interval).
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(nmiLog).toContain('"podInterfaces"');
    expect(nmiLog).not.toContain('reinstalled');
    // The 1 s check may restore it at any moment: the deletion itself succeeding is the proof it was gone.
    inNs(NS.node, 'nft', 'delete', 'table', 'ip', 'podsec-nmi');
    await vi.waitFor(
      () => {
        expect(nftTable()).toContain('dnat to');
        expect(nmiLog).toContain('reinstalled');
      },
      { timeout: 10_000, interval: 200 },
    );
    // Counted in the NMI's own metrics (read from inside the node namespace).
    const metrics = inNs(
      NS.node,
      process.execPath,
      '-e',
      `fetch('http://${NODE_IP}:${NMI_PORT}/metrics').then((r) => r.text()).then((t) => console.log(t))`,
    );
    expect(metrics).toMatch(/^podsec_nmi_redirect_restored_total [1-9]/m);
    const r = await runInPod(NS.bound, SDK_CLIENT, { PROBE_SCOPE: scope() });
    expect(r['ok']).toBe(true);
    expect(imdsHits).toHaveLength(hitsBefore);
  }, 30_000);

  it('(c) with the NMI stopped (SIGTERM) a pod is refused at once, never passed to the IMDS', async () => {
    nmi!.kill('SIGTERM');
    expect(await nmiExit).toBe(0);
    expect(nmiLog).not.toContain('    at ');
    const table = nftTable();
    expect(table).toBeDefined();
    expect(table).not.toContain('dnat');
    expect(table).toContain('reject with tcp reset');
    const raw = await runInPod(NS.bound, RAW_CLIENT);
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain(raw['error']);
    const sdk = await runInPod(NS.bound, SDK_CLIENT, { PROBE_SCOPE: scope() });
    expect(sdk['ok']).toBe(false);
    expect(imdsHits).toHaveLength(hitsBefore);
  }, 30_000);

  it('clear errors, no stack trace: nft missing, or no CAP_NET_ADMIN', () => {
    const noNft = nmiWithoutNft('--redirect');
    expect(noNft.status).toBe(2);
    expect(noNft.stderr).toContain('the nft command (nftables) was not found');
    expect(noNft.stderr).toContain('hint: install nftables');
    expect(noNft.stderr).not.toContain('    at ');
    // An unprivileged user in the node namespace: nft refuses, podsec says what to do.
    const unprivileged = tryInNs(
      NS.node,
      'setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      bin,
      'identity',
      'nmi',
      '--cleanup',
    );
    expect(unprivileged.status).toBe(2);
    expect(unprivileged.stderr).toMatch(/not permitted \(nftables changes need CAP_NET_ADMIN\)/);
    expect(unprivileged.stderr).toContain('NET_ADMIN');
    expect(unprivileged.stderr).not.toContain('    at ');
  }, 20_000);

  it('(d) --cleanup removes the table (and only it), idempotently', () => {
    inNs(NS.node, 'nft', 'add', 'table', 'ip', 'unrelated');
    const first = tryInNs(NS.node, process.execPath, bin, 'identity', 'nmi', '--cleanup');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('removed');
    expect(nftTable()).toBeUndefined();
    expect(inNs(NS.node, 'nft', 'list', 'tables')).toContain('table ip unrelated');
    const again = tryInNs(NS.node, process.execPath, bin, 'identity', 'nmi', '--cleanup');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('absent');
  }, 20_000);

  it('a bridge CNI: --redirect refuses to start (exit 2, spoofing risk), --allow-bridge-cni warns', () => {
    // A kernel bridge with a veth port in the node namespace (other names than the pods' vp*).
    const bridge = `bq${TAG}`;
    inNs(NS.node, 'ip', 'link', 'add', bridge, 'type', 'bridge');
    inNs(NS.node, 'ip', 'link', 'add', `vq${TAG}a`, 'type', 'veth', 'peer', 'name', `vr${TAG}a`);
    inNs(NS.node, 'ip', 'link', 'set', `vq${TAG}a`, 'master', bridge);
    // No nft on the PATH: whatever gets past the bridge check stops before touching nftables.
    const run = (...extra: string[]): ReturnType<typeof spawnSync> => nmiWithoutNft('--redirect', ...extra);
    for (const pattern of [bridge, `vq${TAG}*`]) {
      const refused = run('--pod-interface', pattern);
      expect(refused.status, String(refused.stderr)).toBe(2);
      expect(refused.stderr).toContain('--redirect refused on a bridge CNI');
      expect(refused.stderr).toContain(bridge);
      expect(refused.stderr).toMatch(/hint: run pods under the restricted Pod Security Standard/);
      expect(refused.stderr).not.toContain('    at ');
    }
    const allowed = run('--pod-interface', `vq${TAG}*`, '--allow-bridge-cni');
    expect(allowed.stderr).toMatch(/"level":"warn".*pod interfaces are on a Linux bridge/);
    // Past the guard: it then stops at the missing nft, with nothing installed.
    expect(allowed.status).toBe(2);
    expect(allowed.stderr).toContain('the nft command (nftables) was not found');
    expect(nftTable()).toBeUndefined();
  }, 20_000);
});

if (!ENV_READY && process.env['CI'] !== 'true') {
  console.warn(`SKIPPING NMI --redirect network namespace test: missing ${missing.join(', ')}`);
}
