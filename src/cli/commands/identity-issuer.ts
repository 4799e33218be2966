/**
 * `podsec identity issuer`: the token issuer over HTTPS, serving the AzureIdentity objects of the
 * cluster (or a --state directory). Thin I/O edge: flags are checked, the cluster feed, key set and
 * issuer core are wired to a node:https server with /healthz and /readyz, and SIGTERM drains it.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import {
  clientCertificateAuthenticator,
  createIssuer,
  isMintPath,
  issuerListener,
  KeySet,
  mintListener,
} from '../../identity/issuer/index.js';
import type { IdentityRef, IssuerIdentity, NodeAuthenticator } from '../../identity/issuer/index.js';
import {
  anyAuthenticator,
  DEFAULT_MINT_AUDIENCE,
  kubernetesTokenReviewer,
  tokenReviewAuthenticator,
  type TokenReviewer,
} from '../../identity/issuer/token-review.js';
import { AZURE_IDENTITY_KIND, watchIdentities, type IdentityFeed } from '../../identity/issuer/sources.js';
import { createNmiClusterDeps } from '../../identity/nmi/cluster-deps.js';
import { issuerIdentitiesFrom } from '../../identity/nmi/issuer-client.js';
import { UsageError } from '../../lib/errors.js';
import { readKeyPair, watchFiles, type FileWatch } from '../../lib/tls/index.js';
import { Health } from '../../observability/health.js';
import { createLogger, type Logger } from '../../observability/logger.js';
import { serveUntilSignal } from '../serve.js';
import { parseListenPort, parseLogLevelFlag } from '../flags.js';

export interface IdentityIssuerOptions {
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** `8444` or `8444/TCP`. */
  readonly port: string;
  readonly host?: string | undefined;
  readonly baseUrl?: string | undefined;
  readonly keysDir?: string | undefined;
  readonly state?: string | undefined;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  /**
   * `--secret-namespace`: Secrets are watched only in these namespaces (one informer each), so a
   * RoleBinding per namespace replaces the cluster-wide Secret access; absent: every namespace.
   */
  readonly secretNamespaces?: readonly string[] | undefined;
  readonly logLevel?: string | undefined;
  /**
   * PEM CA of the NMI client certificates: enables the mint API (`POST /podsec/v1/mint`) for NMIs
   * in other processes, each proven by a certificate `CN=podsec-nmi:<node>` from this CA.
   */
  readonly clientCa?: string | undefined;
  /**
   * Also (or instead) accept an NMI's projected ServiceAccount token on the mint API, reviewed by
   * the API server (TokenReview); the node is the token's node-name. Needs the API server.
   */
  readonly nmiTokenReview?: boolean | undefined;
  /** `namespace/name` of the NMI ServiceAccounts whose tokens count (default podsec-node/podsec-nmi, as deploy/identity runs it). */
  readonly nmiServiceAccounts?: readonly string[] | undefined;
  /** The audience NMI tokens must carry (default podsec-issuer). */
  readonly nmiTokenAudience?: string | undefined;
}

export interface IdentityIssuerRuntime {
  readonly logger?: Logger | undefined;
  readonly openSource?:
    ((o: { state?: string; kubeconfig?: string; context?: string }) => Promise<ClusterSource>) | undefined;
  /** Tests inject the TokenReview call; otherwise the kubeconfig (or in-cluster) API server. */
  readonly tokenReviewer?: TokenReviewer | undefined;
}

export interface RunningIssuer {
  readonly port: number;
  readonly baseUrl: string;
  readonly health: Health;
  readonly feed: IdentityFeed;
  /** Not ready at once, stops accepting, lets requests in flight finish (bounded), closes the source. */
  stop(): Promise<void>;
}

/** Token lifetime (3599 s) plus clock skew: how long a retired signing key stays published. */
const KEY_RETENTION_SECONDS = 3599 + 300;
const SHUTDOWN_GRACE_MS = 3_000;

/** The issuer URL is in every token's `iss`: https only, no credentials, query or fragment. */
function parseBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--base-url must be an absolute https URL, got "${text}"`);
  }
  if (
    url.protocol !== 'https:' ||
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    throw new UsageError(
      `--base-url must be an https URL without credentials, query or fragment, got "${text}"`,
    );
  }
  return url.href.replace(/\/+$/, '');
}

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `--secret-namespace` values (repeatable, comma-separated accepted): namespace names, deduplicated. */
export function parseSecretNamespaces(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const names = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  for (const ns of names) {
    if (ns.length > 63 || !NAMESPACE_NAME.test(ns)) {
      throw new UsageError(`--secret-namespace must be a namespace name, got "${ns}"`);
    }
  }
  if (names.length === 0) throw new UsageError('--secret-namespace needs at least one namespace');
  return [...new Set(names)].sort();
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function defaultOpenSource(logger: Logger): NonNullable<IdentityIssuerRuntime['openSource']> {
  return async (o) => {
    const { openClusterSource } = await import('../../kube/cluster-source/index.js');
    return openClusterSource({
      ...o,
      onProblem: (problem) => logger.warn({ problem }, 'a manifest in the state directory cannot be used'),
    });
  };
}

/** The client CA file, checked: every PEM block in it must be a CA certificate. */
async function readClientCa(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `--client-ca ${file} cannot be read (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new UsageError(`--client-ca ${file} holds no PEM certificate`);
  for (const pem of blocks) {
    let ca = false;
    try {
      ca = new X509Certificate(pem).ca;
    } catch {
      throw new UsageError(`--client-ca ${file} holds a certificate that does not parse`);
    }
    if (!ca) throw new UsageError(`--client-ca ${file} holds a certificate that is not a CA`);
  }
  return text;
}

const ASSIGNED_IDENTITY_KIND = {
  apiVersion: 'aadpodidentity.k8s.io/v1',
  kind: 'AzureAssignedIdentity',
} as const;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function startIdentityIssuer(
  opts: IdentityIssuerOptions,
  runtime: IdentityIssuerRuntime = {},
): Promise<RunningIssuer> {
  const logger =
    runtime.logger ?? createLogger({ level: parseLogLevelFlag(opts.logLevel), component: 'identity-issuer' });
  const port = parseListenPort(opts.port);
  const host = opts.host ?? '127.0.0.1';
  const fixedBase = opts.baseUrl === undefined ? undefined : parseBaseUrl(opts.baseUrl);
  if (opts.state !== undefined && opts.kubeconfig !== undefined) {
    throw new UsageError('--state and --kubeconfig cannot be used together');
  }
  const pair = await readKeyPair(opts.tlsCert, opts.tlsKey);
  if (!pair.ok) throw new UsageError(`the TLS key pair cannot be used: ${pair.message}`);
  const clientCa = opts.clientCa === undefined ? undefined : await readClientCa(opts.clientCa);
  const tokenReview = opts.nmiTokenReview === true;
  if (tokenReview && opts.state !== undefined && runtime.tokenReviewer === undefined) {
    throw new UsageError('--nmi-token-review needs the API server (TokenReview), not --state');
  }
  if (!tokenReview && (opts.nmiServiceAccounts !== undefined || opts.nmiTokenAudience !== undefined)) {
    throw new UsageError('--nmi-service-account and --nmi-token-audience only apply with --nmi-token-review');
  }
  const nmiServiceAccounts = opts.nmiServiceAccounts ?? ['podsec-node/podsec-nmi'];
  for (const sa of nmiServiceAccounts) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(sa)) {
      throw new UsageError(`--nmi-service-account must be NAMESPACE/NAME, got "${sa}"`);
    }
  }
  const mintEnabled = clientCa !== undefined || tokenReview;
  const secretNamespaces = parseSecretNamespaces(opts.secretNamespaces);

  const keys =
    opts.keysDir === undefined
      ? await KeySet.generate({ retentionSeconds: KEY_RETENTION_SECONDS })
      : await KeySet.loadOrCreate({ dir: opts.keysDir, retentionSeconds: KEY_RETENTION_SECONDS });

  const sourceOptions: { state?: string; kubeconfig?: string; context?: string } = {};
  if (opts.state !== undefined) sourceOptions.state = opts.state;
  if (opts.kubeconfig !== undefined) sourceOptions.kubeconfig = opts.kubeconfig;
  if (opts.context !== undefined) sourceOptions.context = opts.context;
  const source = await (runtime.openSource ?? defaultOpenSource(logger))(sourceOptions);
  logger.info({ source: source.description }, 'cluster view opened');

  const health = new Health(mintEnabled ? ['caches', 'assignments'] : ['caches']);
  let stopping = false;
  if (secretNamespaces !== undefined) {
    logger.info({ secretNamespaces }, 'reading Secrets only in these namespaces (--secret-namespace)');
  }
  const feed = watchIdentities(source, {
    secretNamespaces,
    onError: ({ kind, namespace, error }) =>
      logger.warn(
        { kind, namespace, reason: error.message },
        namespace === undefined
          ? 'cannot list or watch; retrying'
          : 'cannot list or watch in this --secret-namespace (does the issuer have its RoleBinding there?); retrying',
      ),
    onRefused: (r) =>
      logger.warn(
        { identity: `${r.namespace}/${r.name}`, problems: r.problems },
        'AzureIdentity refused: not served',
      ),
    onChange: (m) =>
      logger.debug({ served: m.identities.length, refused: m.refused.length }, 'identities updated'),
  });
  feed.synced.then(
    () => {
      health.set('caches', true);
      logger.info({ served: feed.identities().length }, 'caches synced');
    },
    (err: unknown) => {
      health.set('caches', false, 'caches failed to sync');
      logger.error({ reason: err instanceof Error ? err.message : String(err) }, 'caches failed to sync');
    },
  );

  let boundPort = port;
  const baseUrl = (): string => fixedBase ?? `https://${hostForUrl(host)}:${boundPort}`;
  // The mint API needs what the in-process NMI sees: every AzureIdentity (type 0 included, with no
  // credential: those can never pass the token endpoint) and the assignments per node.
  let identitiesFor: () => readonly IssuerIdentity[] = () => feed.identities();
  let isAssignedOnNode: ((node: string, identity: IdentityRef) => boolean) | undefined;
  if (mintEnabled) {
    const assigned = source.informer(ASSIGNED_IDENTITY_KIND);
    const azureIdentities = source.informer(AZURE_IDENTITY_KIND);
    const cluster = createNmiClusterDeps({
      pods: () => [],
      assignedIdentities: () => assigned.list(),
      identity: (namespace, name) => azureIdentities.get(namespace, name),
    });
    isAssignedOnNode = (node, identity) => cluster.isAssignedOnNode(node, identity);
    // Every AzureIdentity object once (served ones with their credential): the issuer must see all
    // claimants of a client id to refuse one claimed twice, never pick the first.
    identitiesFor = () => {
      const served = feed.identities();
      const known = new Set(served.map((i) => `${i.namespace ?? ''}/${i.name ?? ''}`));
      return [
        ...served,
        ...issuerIdentitiesFrom(azureIdentities.list()).filter(
          (i) => !known.has(`${i.namespace ?? ''}/${i.name ?? ''}`),
        ),
      ];
    };
    Promise.all([assigned.synced, azureIdentities.synced]).then(
      () => health.set('assignments', true),
      () => health.set('assignments', false, 'assignments failed to sync'),
    );
  }
  const issuer = createIssuer({
    baseUrl,
    keys,
    identities: () => identitiesFor(),
    isAssignedOnNode,
  });
  const authenticators: NodeAuthenticator[] = [];
  if (clientCa !== undefined) authenticators.push(clientCertificateAuthenticator());
  if (tokenReview) {
    const review =
      runtime.tokenReviewer ??
      (await kubernetesTokenReviewer({ kubeconfig: opts.kubeconfig, context: opts.context }));
    authenticators.push(
      tokenReviewAuthenticator({
        review,
        serviceAccounts: nmiServiceAccounts,
        audiences: [opts.nmiTokenAudience ?? DEFAULT_MINT_AUDIENCE],
      }),
    );
  }
  const mint = !mintEnabled
    ? undefined
    : mintListener(issuer, anyAuthenticator(authenticators), {
        onRequest: ({ path, status, node, reason }) =>
          (status >= 400 ? logger.warn.bind(logger) : logger.debug.bind(logger))(
            { path, status, node, reason },
            'mint request',
          ),
      });
  const listener = issuerListener(issuer, {
    onRequest: (method, path, status) => logger.debug({ method, path, status }, 'request'),
  });

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const r = health.readiness();
      const ready = r.ready && !stopping;
      return sendJson(res, ready ? 200 : 503, {
        status: ready ? 'ready' : 'not ready',
        conditions: stopping ? [{ name: 'shutdown', ok: false, message: 'stopping' }] : r.conditions,
      });
    }
    if (mint !== undefined && path !== undefined && isMintPath(path)) return mint(req, res);
    listener(req, res);
  };

  const tlsOptions = (ca: string | undefined): { cert: string; key: string; ca?: string } =>
    ca === undefined
      ? { cert: pair.pair.cert, key: pair.pair.key }
      : { cert: pair.pair.cert, key: pair.pair.key, ca };
  // With a client CA the server asks every client for a certificate but admits those without one:
  // MSAL clients use the token endpoint without; only the mint API insists on a verified one.
  const server: Server = createServer(
    clientCa === undefined
      ? tlsOptions(undefined)
      : { ...tlsOptions(clientCa), requestCert: true, rejectUnauthorized: false },
    handle,
  );
  let caWatch: FileWatch | undefined;
  if (opts.clientCa !== undefined) {
    const caFile = opts.clientCa;
    caWatch = watchFiles([caFile], async () => {
      try {
        server.setSecureContext(tlsOptions(await readClientCa(caFile)));
        logger.info({ file: caFile }, 'client CA reloaded');
      } catch (err) {
        logger.warn(
          { file: caFile, reason: err instanceof Error ? err.message : String(err) },
          'client CA not reloaded: kept the one in use',
        );
      }
    });
  }
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    caWatch?.close();
    feed.stop();
    await source.close();
    throw new UsageError(
      `cannot listen on ${host}:${port} (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const address = server.address();
  if (address !== null && typeof address === 'object') boundPort = address.port;
  logger.info(
    { host, port: boundPort, baseUrl: baseUrl(), signingKey: keys.active().kid },
    'issuer listening',
  );

  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    caWatch?.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const grace = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    grace.unref();
    await closed;
    clearTimeout(grace);
    feed.stop();
    await source.close();
    logger.info('issuer stopped');
  };

  return { port: boundPort, baseUrl: baseUrl(), health, feed, stop };
}

/** The command: serves until SIGTERM or SIGINT, then stops gracefully. */
export async function runIdentityIssuer(opts: IdentityIssuerOptions): Promise<number> {
  return serveUntilSignal(() => startIdentityIssuer(opts), SHUTDOWN_GRACE_MS + 2_000);
}
