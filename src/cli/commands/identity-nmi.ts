/**
 * `podsec identity nmi`: the NMI in local mode with podsec's issuer in the same process. It
 * watches pods, AzureAssignedIdentities and AzureIdentities through ClusterSource, mints tokens
 * only for identities assigned on `--node`, and passes nothing through to a real metadata service
 * (no upstream: other /metadata paths get 404). Stops on SIGTERM or SIGINT.
 */
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import { createIssuer, KeySet } from '../../identity/issuer/index.js';
import type { Issuer } from '../../identity/issuer/index.js';
import { createNmiClusterDeps } from '../../identity/nmi/cluster-deps.js';
import { issuerIdentitiesFrom, LocalIssuerTokenProvider } from '../../identity/nmi/issuer-client.js';
import { createNmiDeps, startNmiServer } from '../../identity/nmi/index.js';
import {
  ImdsRedirect,
  redirectSettingsFromFlags,
  removeRedirect,
  type RedirectSettings,
} from '../../identity/nmi/redirect/index.js';
import { UsageError } from '../../lib/errors.js';
import { createLogger, isLogLevel, type Logger } from '../../observability/logger.js';
import { serveUntilSignal } from '../serve.js';

export interface IdentityNmiOptions {
  readonly node: string;
  readonly port: string;
  readonly listenAddress: string;
  readonly state?: string | undefined;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly tokenProvider: string;
  readonly keysDir?: string | undefined;
  readonly issuerUrl: string;
  readonly logLevel: string;
  /** --redirect: DNAT pod metadata traffic to this NMI (the listen address is the DNAT target). */
  readonly redirect?: boolean | undefined;
  readonly podInterfaces?: readonly string[] | undefined;
  readonly redirectInterval?: string | undefined;
  /** --cleanup: remove the redirect table and exit. */
  readonly cleanup?: boolean | undefined;
}

export interface IdentityNmiRuntime {
  readonly logger?: Logger | undefined;
  /** Tests inject a source; otherwise --state / --kubeconfig choose one. */
  readonly openSource?: (() => Promise<ClusterSource>) | undefined;
  /** How long to wait for the first complete view of the caches (default 60 s). */
  readonly syncTimeoutMs?: number | undefined;
}

export interface RunningNmi {
  readonly url: string;
  readonly port: number;
  readonly issuer: Issuer;
  readonly keys: KeySet;
  stop(): Promise<void>;
}

/** Key retention: the issuer's default token lifetime plus clock skew. */
const KEY_RETENTION_SECONDS = 3599 + 300;

function parsePort(text: string): number {
  const m = /^(\d{1,5})(?:\/tcp)?$/i.exec(text.trim());
  const port = m ? Number(m[1]) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be a TCP port (0-65535), got '${text}'`);
  }
  return port;
}

function validate(opts: IdentityNmiOptions): number {
  if (opts.node.trim() === '') throw new UsageError('--node NAME is required');
  if (opts.state !== undefined && opts.kubeconfig !== undefined) {
    throw new UsageError('--state and --kubeconfig exclude each other');
  }
  if (opts.tokenProvider !== 'issuer-local') {
    throw new UsageError(`--token-provider must be issuer-local, got '${opts.tokenProvider}'`);
  }
  if (!isLogLevel(opts.logLevel)) throw new UsageError(`unknown --log-level '${opts.logLevel}'`);
  let url: URL;
  try {
    url = new URL(opts.issuerUrl);
  } catch {
    throw new UsageError(`--issuer-url must be a URL, got '${opts.issuerUrl}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError('--issuer-url must be an https:// URL');
  }
  return parsePort(opts.port);
}

async function withTimeout(p: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      p,
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not sync within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startIdentityNmi(
  opts: IdentityNmiOptions,
  runtime: IdentityNmiRuntime = {},
): Promise<RunningNmi> {
  const port = validate(opts);
  const logger =
    runtime.logger ??
    createLogger({ level: isLogLevel(opts.logLevel) ? opts.logLevel : 'info', component: 'nmi' });
  // --redirect: pods are rejected (fail closed) from here until the server listens, then DNATed.
  const redirect = opts.redirect === true ? await startRedirect(opts, port, logger) : undefined;
  const open =
    runtime.openSource ??
    (async (): Promise<ClusterSource> => {
      const { openClusterSource } = await import('../../kube/cluster-source/index.js');
      return openClusterSource({ state: opts.state, kubeconfig: opts.kubeconfig, context: opts.context });
    });
  const source = await open();
  try {
    const pods = source.informer({ apiVersion: 'v1', kind: 'Pod' });
    const assigned = source.informer({
      apiVersion: 'aadpodidentity.k8s.io/v1',
      kind: 'AzureAssignedIdentity',
    });
    const identities = source.informer({ apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentity' });
    await withTimeout(
      Promise.all([pods.synced, assigned.synced, identities.synced]),
      runtime.syncTimeoutMs ?? 60_000,
      'the pod and identity caches',
    );
    const keys =
      opts.keysDir === undefined
        ? await KeySet.generate({ retentionSeconds: KEY_RETENTION_SECONDS })
        : await KeySet.loadOrCreate({ retentionSeconds: KEY_RETENTION_SECONDS, dir: opts.keysDir });
    const cluster = createNmiClusterDeps(
      {
        pods: () => pods.list(),
        assignedIdentities: () => assigned.list(),
        identity: (namespace, name) => identities.get(namespace, name),
      },
      opts.node,
    );
    const issuer = createIssuer({
      baseUrl: opts.issuerUrl,
      keys,
      identities: () => issuerIdentitiesFrom(identities.list()),
      isAssignedOnNode: (node, clientId) => cluster.isAssignedOnNode(node, clientId),
    });
    const deps = createNmiDeps({
      nodeName: opts.node,
      podsByIp: (ip) => cluster.podsByIp(ip),
      assignedIdentities: (pod) => cluster.assignedIdentities(pod),
      tokenProvider: new LocalIssuerTokenProvider({ issuer, nodeName: opts.node }),
      // Local mode: no upstream, so nothing is ever passed to a real metadata address.
      upstream: undefined,
      logger,
    });
    const server = await startNmiServer({ host: opts.listenAddress, port, deps });
    if (redirect !== undefined) {
      redirect.registerMetrics(deps.metrics.registry);
      try {
        await redirect.install();
      } catch (err) {
        await server.close();
        throw err;
      }
    }
    logger.info(
      { node: opts.node, source: source.description },
      'nmi: ready (local mode, in-process issuer)',
    );
    return {
      url: server.url,
      port: server.port,
      issuer,
      keys,
      async stop() {
        try {
          await stopRedirect(redirect, logger);
          await server.close();
        } finally {
          await source.close();
        }
      },
    };
  } catch (err) {
    await source.close();
    throw err;
  }
}

function redirectSettings(opts: IdentityNmiOptions, port: number): RedirectSettings {
  return redirectSettingsFromFlags({
    podInterfaces: opts.podInterfaces,
    redirectInterval: opts.redirectInterval,
    listenAddress: opts.listenAddress,
    // With a wildcard listener, the first IPv4 --node-address is the DNAT target.
    nodeAddresses: (opts as { readonly nodeAddresses?: readonly string[] | undefined }).nodeAddresses,
    port,
  });
}

async function startRedirect(opts: IdentityNmiOptions, port: number, logger: Logger): Promise<ImdsRedirect> {
  const settings = redirectSettings(opts, port);
  const redirect = new ImdsRedirect({ config: settings.config, intervalMs: settings.intervalMs, logger });
  await redirect.failClosed();
  return redirect;
}

/** On exit pods are rejected, never passed to the real IMDS; a failure here is logged, not fatal. */
async function stopRedirect(redirect: ImdsRedirect | undefined, logger: Logger): Promise<void> {
  if (redirect === undefined) return;
  redirect.close();
  try {
    await redirect.failClosed();
  } catch (err) {
    logger.error({ err }, 'nmi redirect: could not switch to the reject rules on exit');
  }
}

/** `--cleanup`: deletes the redirect table (only podsec's) and exits 0, also when it is absent. */
async function cleanupRedirect(): Promise<number> {
  const outcome = await removeRedirect();
  process.stdout.write(
    outcome === 'removed'
      ? 'removed nftables table ip podsec-nmi\n'
      : 'nftables table ip podsec-nmi: absent\n',
  );
  return 0;
}

/** The command: serves until SIGTERM or SIGINT, then stops. */
export async function runIdentityNmi(opts: IdentityNmiOptions): Promise<number> {
  if (opts.cleanup === true) return cleanupRedirect();
  return serveUntilSignal(() => startIdentityNmi(opts), 5_000);
}
