/**
 * `podsec identity nmi`: the NMI. It watches pods, AzureAssignedIdentities and AzureIdentities
 * through ClusterSource and serves tokens only for identities assigned on `--node`, from the
 * provider `--token-provider` chooses (identity-nmi-provider.ts; podsec's issuer in this process
 * by default, or in another one over mutual TLS, or Azure AD). Other /metadata paths (and, with --allow-exceptions,
 * exempt pods) go to `--imds-address`, which is unset in local mode: nothing is passed through
 * then (404). Stops on SIGTERM or SIGINT.
 */
import { isIP } from 'node:net';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import type { Issuer, KeySet } from '../../identity/issuer/index.js';
import { createNmiClusterDeps } from '../../identity/nmi/cluster-deps.js';
import { createNmiDeps, startNmiServer } from '../../identity/nmi/index.js';
import { matchException } from '../../identity/nmi/exceptions.js';
import {
  createImdsUpstream,
  formatImdsAddress,
  parseAzureNmiFlags,
} from '../../identity/nmi/providers/index.js';
import {
  guardBridgeCni,
  ImdsRedirect,
  redirectSettingsFromFlags,
  removeRedirect,
  type RedirectSettings,
} from '../../identity/nmi/redirect/index.js';
import { awaitKinds } from '../../identity/served-kinds.js';
import { UsageError } from '../../lib/errors.js';
import { createLogger, isLogLevel, type Logger } from '../../observability/logger.js';
import { serveUntilSignal } from '../serve.js';
import { createTokenProvider, parseTokenProviderChoice } from './identity-nmi-provider.js';
import { parseListenPort } from '../flags.js';

const AAD = 'aadpodidentity.k8s.io/v1';

export interface IdentityNmiOptions {
  readonly node: string;
  readonly port: string;
  readonly listenAddress: string;
  readonly state?: string | undefined;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly tokenProvider: string;
  readonly keysDir?: string | undefined;
  /** --issuer-url (issuer-local only; default https://issuer.podsec.local); undefined when not given. */
  readonly issuerUrl?: string | undefined;
  readonly logLevel: string;
  /** --imds-address HOST:PORT|none: the node's real IMDS (unset in local mode unless given). */
  readonly imdsAddress?: string | undefined;
  /** --authority-host (with --token-provider azure). */
  readonly authorityHost?: string | undefined;
  /** --allow-exceptions: pass AzurePodIdentityException pods to the real IMDS. */
  readonly allowExceptions?: boolean | undefined;
  /** --allow-instance-metadata: pass /metadata/instance through instead of 403. */
  readonly allowInstanceMetadata?: boolean | undefined;
  /** --issuer-ca, --client-cert, --client-key: TLS material for --token-provider issuer=URL. */
  readonly issuerCa?: string | undefined;
  readonly clientCert?: string | undefined;
  readonly clientKey?: string | undefined;
  /** --issuer-token-file: projected ServiceAccount token proving the node (issuer --nmi-token-review). */
  readonly issuerTokenFile?: string | undefined;
  /** --node-address: the node's own addresses; callers from them get 403 (none by default). */
  readonly nodeAddresses?: readonly string[] | undefined;
  /** --redirect: DNAT pod metadata traffic to this NMI (the listen address is the DNAT target). */
  readonly redirect?: boolean | undefined;
  readonly podInterfaces?: readonly string[] | undefined;
  readonly redirectInterval?: string | undefined;
  /** --allow-bridge-cni: --redirect starts (with a warning) although a pod interface is on a Linux bridge. */
  readonly allowBridgeCni?: boolean | undefined;
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
  /** The in-process issuer and its keys (--token-provider issuer-local only). */
  readonly issuer?: Issuer | undefined;
  readonly keys?: KeySet | undefined;
  stop(): Promise<void>;
}

function validate(opts: IdentityNmiOptions): number {
  if (opts.node.trim() === '') throw new UsageError('--node NAME is required');
  if (opts.state !== undefined && opts.kubeconfig !== undefined) {
    throw new UsageError('--state and --kubeconfig exclude each other');
  }
  parseTokenProviderChoice(opts);
  for (const a of opts.nodeAddresses ?? []) {
    if (isIP(a) === 0) throw new UsageError(`--node-address must be IP addresses, got '${a}'`);
  }
  if (!isLogLevel(opts.logLevel)) throw new UsageError(`unknown --log-level '${opts.logLevel}'`);
  checkIssuerUrl(opts);
  if (opts.redirect !== true) {
    const stray = [
      ['--pod-interface', opts.podInterfaces],
      ['--redirect-interval', opts.redirectInterval],
      ['--allow-bridge-cni', opts.allowBridgeCni === true ? true : undefined],
    ]
      .filter(([, v]) => v !== undefined)
      .map(([f]) => f);
    if (stray.length > 0) throw new UsageError(`${stray.join(', ')} only apply with --redirect`);
  }
  return parseListenPort(opts.port);
}

/**
 * --issuer-url names the `iss` of tokens minted in this process, so it belongs to issuer-local
 * alone (a remote issuer or Azure AD sets its own); it is https, as every issuer URL podsec uses.
 */
function checkIssuerUrl(opts: IdentityNmiOptions): void {
  if (opts.issuerUrl === undefined) return;
  const provider = opts.tokenProvider.trim();
  if (provider !== 'issuer-local') {
    const mode = provider === 'azure' ? 'azure' : 'issuer=URL';
    throw new UsageError(
      `--issuer-url does not apply to --token-provider ${mode}: only the in-process issuer (issuer-local) uses it`,
      mode === 'azure'
        ? 'drop --issuer-url'
        : "drop --issuer-url: the remote issuer's --base-url sets the iss claim",
    );
  }
  let url: URL;
  try {
    url = new URL(opts.issuerUrl);
  } catch {
    throw new UsageError(`--issuer-url must be an https:// URL, got '${opts.issuerUrl}'`);
  }
  if (url.protocol !== 'https:' || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new UsageError(
      `--issuer-url must be an https:// URL without credentials, query or fragment, got '${opts.issuerUrl}'`,
    );
  }
}

export async function startIdentityNmi(
  opts: IdentityNmiOptions,
  runtime: IdentityNmiRuntime = {},
): Promise<RunningNmi> {
  const port = validate(opts);
  // No default IMDS address in local mode, nor when a test injects the cluster view.
  const azure = parseAzureNmiFlags({
    imdsAddress: opts.imdsAddress,
    authorityHost: opts.authorityHost,
    local: opts.state !== undefined || runtime.openSource !== undefined,
  });
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
  let closeProvider = (): void => undefined;
  try {
    const pods = source.informer({ apiVersion: 'v1', kind: 'Pod' });
    const assigned = source.informer({
      apiVersion: 'aadpodidentity.k8s.io/v1',
      kind: 'AzureAssignedIdentity',
    });
    const identities = source.informer({ apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentity' });
    const exceptions = source.informer({
      apiVersion: 'aadpodidentity.k8s.io/v1',
      kind: 'AzurePodIdentityException',
    });
    // A CRD the API server does not serve: exceptions count as empty (one warning), the others
    // fail at once (exit 2) instead of waiting for the sync timeout.
    await awaitKinds(
      [
        { kind: { apiVersion: 'v1', kind: 'Pod' }, informer: pods, need: 'required' },
        { kind: { apiVersion: AAD, kind: 'AzureAssignedIdentity' }, informer: assigned, need: 'required' },
        { kind: { apiVersion: AAD, kind: 'AzureIdentity' }, informer: identities, need: 'required' },
        {
          kind: { apiVersion: AAD, kind: 'AzurePodIdentityException' },
          informer: exceptions,
          need: 'optional',
        },
      ],
      { log: logger, timeoutMs: runtime.syncTimeoutMs ?? 60_000, what: 'the pod and identity caches' },
    );
    const cluster = createNmiClusterDeps(
      {
        pods: () => pods.list(),
        assignedIdentities: () => assigned.list(),
        identity: (namespace, name) => identities.get(namespace, name),
      },
      opts.node,
    );
    const chosen = await createTokenProvider(opts, {
      node: opts.node,
      logger,
      azureIdentities: () => identities.list(),
      isAssignedOnNode: (node, identity) => cluster.isAssignedOnNode(node, identity),
      azure: {
        settings: azure,
        identity: (namespace, name) => identities.get(namespace, name),
        // A GET per token miss (the NMI caches tokens): no cluster-wide Secret watch on every node.
        secret: (namespace, name) => source.get({ apiVersion: 'v1', kind: 'Secret', namespace, name }),
      },
    });
    closeProvider = () => chosen.close();
    const deps = createNmiDeps({
      nodeName: opts.node,
      nodeAddresses: opts.nodeAddresses ?? [],
      podsByIp: (ip) => cluster.podsByIp(ip),
      assignedIdentities: (pod) => cluster.assignedIdentities(pod),
      tokenProvider: chosen.provider,
      // Caches are synced before the server starts; a remote issuer must have answered once.
      ready: () => chosen.ready(),
      // Without --imds-address (always so in local mode) nothing is passed to a metadata service.
      upstream: azure.imds === undefined ? undefined : createImdsUpstream({ address: azure.imds }),
      blockInstanceMetadata: opts.allowInstanceMetadata !== true,
      exceptionFor: (pod) => matchException(exceptions.list(), pod),
      allowExceptions: opts.allowExceptions === true,
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
      {
        node: opts.node,
        source: source.description,
        tokenProvider: chosen.description,
        imds: azure.imds === undefined ? 'none' : formatImdsAddress(azure.imds),
      },
      'nmi: serving',
    );
    return {
      url: server.url,
      port: server.port,
      issuer: chosen.issuer,
      keys: chosen.keys,
      async stop() {
        try {
          await stopRedirect(redirect, logger);
          await server.close();
        } finally {
          closeProvider();
          await source.close();
        }
      },
    };
  } catch (err) {
    closeProvider();
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
    nodeAddresses: opts.nodeAddresses,
    port,
  });
}

async function startRedirect(opts: IdentityNmiOptions, port: number, logger: Logger): Promise<ImdsRedirect> {
  const settings = redirectSettings(opts, port);
  // Bridge CNIs let a pod spoof another pod's source address: refused unless --allow-bridge-cni.
  await guardBridgeCni({
    podInterfaces: settings.config.podInterfaces,
    allow: opts.allowBridgeCni === true,
    logger,
  });
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
