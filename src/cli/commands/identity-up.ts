/**
 * `podsec identity up --state DIR`: the whole pod identity stack in one process, for a laptop or CI
 * (local mode, CONTRACTS.md section 6). It wires together what the three commands start on their
 * own: the HTTPS issuer (startIdentityIssuer), the MIC loop (runController, no Lease: one process
 * is the only writer) and the NMI with its in-process issuer (startIdentityNmi), all over one
 * directory ClusterSource, so the controller's AzureAssignedIdentities are what the NMI serves.
 *
 * The issuer and the NMI sign with the same keys (one --keys-dir under DIR/.podsec/identity-up/),
 * so a token the NMI hands a pod verifies against the issuer's JWKS. The serving certificate and
 * its CA are kept there too and reused while valid, so a resource server that trusts the CA keeps
 * trusting it across restarts. When everything is ready, `endpoints.json` in the same directory
 * says where each part listens (the example's resource server and demo read it); it is removed on
 * start and on stop, so a stale file never points at a dead process.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, rm, stat, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import type { KubeObject } from '../../kube/types.js';
import { UsageError } from '../../lib/errors.js';
import { checkKeyPair, generateCertificates, writeFileAtomic } from '../../lib/tls/index.js';
import { createLogger, type Logger } from '../../observability/logger.js';
import { serveUntilSignal } from '../serve.js';
import { startIdentityIssuer } from './identity-issuer.js';
import { startIdentityNmi } from './identity-nmi.js';
import { parseListenPort, parseLogLevelFlag } from '../flags.js';

export interface IdentityUpOptions {
  readonly state: string;
  /** The node the NMI serves; default: the one node every pod in the state names. */
  readonly node?: string | undefined;
  /** Where the issuer and the NMI listen (default 127.0.0.1). */
  readonly host?: string | undefined;
  readonly issuerPort?: string | undefined;
  readonly nmiPort?: string | undefined;
  readonly allowCrossNamespace?: boolean | undefined;
  readonly logLevel?: string | undefined;
}

export interface IdentityUpRuntime {
  readonly logger?: Logger | undefined;
  /** Where the summary goes (default stdout). */
  readonly out?: NodeJS.WritableStream | undefined;
  /** How long to wait for the first converged controller round (default 60 s). */
  readonly readyTimeoutMs?: number | undefined;
}

/** What runs where: also written to DIR/.podsec/identity-up/endpoints.json once ready. */
export interface IdentityEndpoints {
  readonly pid: number;
  readonly state: string;
  readonly node: string;
  /** `https://host:port` */
  readonly issuerBaseUrl: string;
  /** One entry per tenant the issuer serves: its `iss` and JWKS URL. */
  readonly tenants: readonly { readonly tenant: string; readonly issuer: string; readonly jwks: string }[];
  /** The CA that signed the issuer's serving certificate (PEM file). */
  readonly caFile: string;
  /** `http://host:port` of the NMI. */
  readonly nmiUrl: string;
  readonly tokenPath: string;
  /** The pods of the node that have an identity now, with the address they call from. */
  readonly pods: readonly AssignedPod[];
}

export interface AssignedPod {
  /** `namespace/name` */
  readonly pod: string;
  /** status.podIP; undefined when the pod has none (it cannot call then). */
  readonly ip: string | undefined;
  /** Names of its AzureIdentities (namespace/name), sorted. */
  readonly identities: readonly string[];
}

export interface RunningIdentityUp {
  readonly endpoints: IdentityEndpoints;
  stop(): Promise<void>;
}

/** podsec's files for this command, inside the directory source's own state directory. */
export const UP_DIR = join('.podsec', 'identity-up');
const TOKEN_PATH = '/metadata/identity/oauth2/token';
const WILDCARDS = new Set(['0.0.0.0', '::', '']);
const WATCHED_KINDS = [
  { apiVersion: 'v1', kind: 'Pod' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentity' },
  { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentityBinding' },
  { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureAssignedIdentity' },
] as const;
/** A certificate reused on restart must stay valid at least this long. */
const CERT_MIN_REMAINING_MS = 24 * 3_600_000;

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The NMI's node when --node is not given: the single spec.nodeName all pods share. Pure, so the
 * choice and its error messages are tested without a directory.
 */
export function nodeFromPods(
  pods: readonly KubeObject[],
  explicit: string | undefined,
): { ok: true; node: string } | { ok: false; message: string } {
  if (explicit !== undefined) {
    return explicit.trim() === ''
      ? { ok: false, message: '--node must not be empty' }
      : { ok: true, node: explicit };
  }
  const nodes = new Set<string>();
  for (const pod of pods) {
    const spec = pod['spec'];
    const nodeName =
      typeof spec === 'object' && spec !== null ? (spec as Record<string, unknown>)['nodeName'] : undefined;
    if (typeof nodeName === 'string' && nodeName !== '') nodes.add(nodeName);
  }
  const list = [...nodes].sort();
  if (list.length === 1 && list[0] !== undefined) return { ok: true, node: list[0] };
  if (list.length === 0) {
    return {
      ok: false,
      message: 'no pod in the state directory has spec.nodeName: pass --node NAME for the NMI',
    };
  }
  return {
    ok: false,
    message: `pods in the state directory run on ${list.length} nodes (${list.join(', ')}): pass --node NAME for the NMI`,
  };
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
}

/** Pure: which pods of `node` the AzureAssignedIdentities give an identity, and their addresses. */
export function assignedPods(
  pods: readonly KubeObject[],
  assigned: readonly KubeObject[],
  node: string,
): AssignedPod[] {
  const byPod = new Map<string, Set<string>>();
  for (const a of assigned) {
    const spec = record(a['spec']);
    if (spec['nodename'] !== node || record(a['status'])['status'] === 'Unassigned') continue;
    const key = `${String(spec['podNamespace'])}/${String(spec['pod'])}`;
    const ref = record(record(spec['azureIdentityRef'])['metadata']);
    const identity = `${String(ref['namespace'] ?? spec['podNamespace'])}/${String(ref['name'])}`;
    byPod.set(key, (byPod.get(key) ?? new Set()).add(identity));
  }
  const ipOf = new Map<string, string | undefined>();
  for (const p of pods) {
    const ip = record(p['status'])['podIP'];
    ipOf.set(
      `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name ?? ''}`,
      typeof ip === 'string' ? ip : undefined,
    );
  }
  return [...byPod.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([pod, ids]) => ({ pod, ip: ipOf.get(pod), identities: [...ids].sort() }));
}

/** The issuer's serving pair, reused while valid for a day more, else made anew. */
async function servingCertificate(
  dir: string,
  host: string,
): Promise<{ certFile: string; keyFile: string; caFile: string }> {
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  const caFile = join(dir, 'ca.crt');
  try {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    await stat(caFile);
    const soon = new Date(Date.now() + CERT_MIN_REMAINING_MS);
    const x = new X509Certificate(cert);
    const names = isIP(host) === 0 ? x.checkHost(host) : x.checkIP(host);
    if (checkKeyPair(cert, key, soon).ok && names !== undefined) return { certFile, keyFile, caFile };
  } catch {
    // absent or unreadable: made below
  }
  const names = host === '127.0.0.1' || host === 'localhost' || host === '::1' ? [] : [host];
  const made = await generateCertificates({
    service: 'podsec-identity-issuer',
    namespace: 'podsec-system',
    localhost: true,
    extraNames: names,
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(keyFile, made.key, 0o600);
  await writeFileAtomic(certFile, made.cert);
  await writeFileAtomic(caFile, made.caCert);
  return { certFile, keyFile, caFile };
}

async function listAll(
  source: ClusterSource,
  kind: { apiVersion: string; kind: string },
): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for await (const page of source.listPages(kind)) out.push(...page);
  return out;
}

/** A view of `source` whose close() does nothing: the three parts share it and it is closed once. */
function shared(source: ClusterSource): ClusterSource {
  return {
    description: source.description,
    listPages: (kind, options) => source.listPages(kind, options),
    get: (ref) => source.get(ref),
    informer: (kind, options) => source.informer(kind, options),
    create: (obj, options) => source.create(obj, options),
    update: (obj, options) => source.update(obj, options),
    updateStatus: (obj, options) => source.updateStatus(obj, options),
    delete: (ref, options) => source.delete(ref, options),
    close: () => Promise.resolve(),
  };
}

export async function startIdentityUp(
  opts: IdentityUpOptions,
  runtime: IdentityUpRuntime = {},
): Promise<RunningIdentityUp> {
  const level = parseLogLevelFlag(opts.logLevel, 'warn');
  const host = opts.host ?? '127.0.0.1';
  const issuerPort = String(parseListenPort(opts.issuerPort ?? '8444', '--issuer-port'));
  const nmiPort = String(parseListenPort(opts.nmiPort ?? '2579', '--nmi-port'));
  if (opts.state.trim() === '') throw new UsageError('--state DIR is required');
  const stateDir = resolve(opts.state);
  try {
    if (!(await stat(stateDir)).isDirectory())
      throw new UsageError(`--state ${opts.state} is not a directory`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--state ${opts.state} does not exist`);
  }
  const log = runtime.logger ?? createLogger({ level });
  const out = runtime.out ?? process.stdout;
  const upDir = join(stateDir, UP_DIR);
  const endpointsFile = join(upDir, 'endpoints.json');
  await mkdir(upDir, { recursive: true, mode: 0o700 });
  await rm(endpointsFile, { force: true });

  const { openClusterSource } = await import('../../kube/cluster-source/index.js');
  const source = await openClusterSource({
    state: stateDir,
    onProblem: (problem) => log.warn({ problem }, 'a manifest in the state directory cannot be used'),
  });
  const view = shared(source);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    await rm(endpointsFile, { force: true });
    // Last started, first stopped: the NMI, then the controller, then the issuer, then the source.
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'stopping a part failed');
      }
    }
    stops.length = 0;
    await source.close();
  };
  try {
    const chosen = nodeFromPods(await listAll(source, { apiVersion: 'v1', kind: 'Pod' }), opts.node);
    if (!chosen.ok) throw new UsageError(chosen.message);
    const node = chosen.node;
    // Every kind the three parts watch, synced before any of them starts: they then share complete
    // caches, and the issuer never judges an identity before its Secret is in view.
    const warm = WATCHED_KINDS.map((kind) => source.informer(kind));
    stops.push(() => {
      for (const informer of warm) informer.stop();
      return Promise.resolve();
    });
    await Promise.all(warm.map((informer) => informer.synced));
    const tls = await servingCertificate(join(upDir, 'tls'), host);
    const keysDir = join(upDir, 'keys');

    const issuer = await startIdentityIssuer(
      {
        tlsCert: tls.certFile,
        tlsKey: tls.keyFile,
        port: issuerPort,
        host,
        keysDir,
        state: stateDir,
        logLevel: level,
      },
      { logger: log.child({ component: 'identity-issuer' }), openSource: () => Promise.resolve(view) },
    );
    stops.push(() => issuer.stop());

    const controllerStop = new AbortController();
    let firstConverged: () => void = () => undefined;
    const converged = new Promise<void>((resolve) => (firstConverged = resolve));
    const { runController } = await import('../../identity/mic/controller.js');
    const controller = runController({
      source: view,
      allowCrossNamespace: opts.allowCrossNamespace === true,
      signal: controllerStop.signal,
      log: log.child({ component: 'identity-controller' }),
      onRound: (round) => {
        if (round.actions === 0 && round.conflicts + round.failed === 0) firstConverged();
      },
    }).catch((err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'the controller stopped');
    });
    stops.push(async () => {
      controllerStop.abort();
      await controller;
    });

    const nmi = await startIdentityNmi(
      {
        node,
        port: nmiPort,
        listenAddress: host,
        state: stateDir,
        tokenProvider: 'issuer-local',
        keysDir,
        issuerUrl: issuer.baseUrl,
        logLevel: level,
        // The listen address plays the node's own address: callers from it are refused (403).
        nodeAddresses: WILDCARDS.has(host) ? undefined : [host],
      },
      { logger: log.child({ component: 'nmi' }), openSource: () => Promise.resolve(view) },
    );
    stops.push(() => nmi.stop());

    await issuer.feed.synced;
    const readyMs = runtime.readyTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        converged,
        new Promise((_resolve, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the controller did not converge within ${readyMs} ms`)),
            readyMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }

    const tenants = [...new Set(issuer.feed.identities().map((i) => i.tenantId))].sort().map((tenant) => ({
      tenant,
      issuer: `${issuer.baseUrl}/${tenant}/v2.0`,
      jwks: `${issuer.baseUrl}/${tenant}/discovery/v2.0/keys`,
    }));
    const endpoints: IdentityEndpoints = {
      pid: process.pid,
      state: stateDir,
      node,
      issuerBaseUrl: issuer.baseUrl,
      tenants,
      caFile: tls.caFile,
      nmiUrl: `http://${hostForUrl(host)}:${nmi.port}`,
      tokenPath: TOKEN_PATH,
      // warm follows WATCHED_KINDS: [0] pods, [4] assigned identities.
      pods: assignedPods(warm[0]?.list() ?? [], warm[4]?.list() ?? [], node),
    };
    await writeFileAtomic(endpointsFile, `${JSON.stringify(endpoints, null, 2)}\n`);
    out.write(summary(endpoints, opts.state));
    return { endpoints, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** What runs where, and how to ask for a token as a pod. */
export function summary(e: IdentityEndpoints, stateShown: string): string {
  const lines = [
    `podsec identity up: issuer, controller and NMI on --state ${stateShown} (node ${e.node})`,
    '',
    `  issuer      ${e.issuerBaseUrl}  (HTTPS; CA ${e.caFile})`,
  ];
  for (const t of e.tenants) {
    lines.push(`              tenant ${t.tenant}: iss ${t.issuer}`);
    lines.push(`              JWKS ${t.jwks}`);
  }
  if (e.tenants.length === 0) {
    lines.push('              (no AzureIdentity of type 1 or 2 with a usable Secret: no tenant served yet)');
  }
  lines.push(
    `  controller  AzureAssignedIdentities under ${join(e.state, '.podsec', 'objects')}`,
    `  NMI         ${e.nmiUrl}${e.tokenPath}  (answers pods of node ${e.node}, by source address)`,
    '',
  );
  for (const p of e.pods) {
    lines.push(`  pod         ${p.pod} (${p.ip ?? 'no podIP'}) has ${p.identities.join(', ')}`);
  }
  if (e.pods.length === 0) lines.push(`  no pod on node ${e.node} has an identity yet`);
  const ip = e.pods.find((p) => p.ip !== undefined)?.ip ?? '<podIP>';
  lines.push(
    '',
    'Ask for a token as a pod (bind to the pod IP; the NMI knows callers by source address only):',
    `  curl -s --interface ${ip} -H 'Metadata: true' '${e.nmiUrl}${e.tokenPath}?api-version=2018-02-01&resource=<resource>'`,
    `Endpoints for scripts: ${join(e.state, UP_DIR, 'endpoints.json')}. Stop with Ctrl-C.`,
    '',
  );
  return lines.join('\n');
}

/** The command: serves until SIGTERM or SIGINT, then stops every part. */
export async function runIdentityUp(opts: IdentityUpOptions): Promise<number> {
  return serveUntilSignal(() => startIdentityUp(opts), 10_000);
}
