/**
 * `podsec webhook`: wires the admission core to the cluster view, the HTTPS server, logs,
 * metrics and health. The configuration is held as one immutable snapshot that a reload swaps
 * whole: an invalid new podsec.yaml is refused (logged with every issue, counted) and the last
 * good one stays in force, because a typo in a ConfigMap must not switch enforcement off.
 * AzureIdentity client id claims are cached too (identity-claims.ts), outside readiness: a
 * cluster without the aad-pod-identity CRDs is served as one without identities.
 */
import { createAdmissionHandler } from '../../admission/handler.js';
import { RecentClaims, watchIdentityClaims } from '../../admission/identity-claims.js';
import {
  startWebhookServer,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  type WebhookServer,
} from '../../admission/server.js';
import type { PolicySnapshot } from '../../admission/types.js';
import type { KubeObject } from '../../kube/types.js';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import { ConfigError, UsageError } from '../../lib/errors.js';
import { readKeyPair, watchFiles, type FileWatch } from '../../lib/tls/index.js';
import { Health, WEBHOOK_CONDITIONS } from '../../observability/health.js';
import { createLogger, type Logger } from '../../observability/logger.js';
import { WebhookMetrics } from '../../observability/metrics.js';
import { compilePolicy, loadConfigFile } from '../../policy/index.js';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { parseListenPort, parseLogLevelFlag } from '../flags.js';

export interface WebhookOptions {
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** `8443` or `8443/TCP` (CONTRACTS.md section 2). */
  readonly port: string;
  readonly host?: string | undefined;
  readonly config?: string | undefined;
  readonly state?: string | undefined;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly maxBodyBytes?: string | undefined;
  /** Simultaneous connections accepted; default 2048. */
  readonly maxConnections?: string | undefined;
  /** `5s` (default), `500ms`, `0`: how long a stopping webhook keeps serving while not ready. */
  readonly shutdownDelay?: string | undefined;
  readonly logLevel?: string | undefined;
}

/** What tests and embedders need besides the command line. */
export interface WebhookRuntime {
  readonly logger?: Logger | undefined;
  /** Opens the cluster view (default: the shared ClusterSource opener). */
  readonly openSource?:
    ((o: { state?: string; kubeconfig?: string; context?: string }) => Promise<ClusterSource>) | undefined;
  /** How often podsec.yaml is polled besides fs.watch (default 2 s). */
  readonly configPollMs?: number | undefined;
  /** How often the policy is recompiled so exemptions expire on time (default 60 s). */
  readonly recompileMs?: number | undefined;
}

export interface RunningWebhook {
  readonly port: number;
  readonly health: Health;
  readonly metrics: WebhookMetrics;
  /** Re-reads podsec.yaml now; false when the new file was refused. */
  reloadConfig(): Promise<boolean>;
  /** Graceful: not ready at once, serving through the shutdown delay, then drained and closed. */
  stop(): Promise<void>;
  /** The longest stop() takes when requests in flight do not finish: delay + grace. */
  readonly stopBudgetMs: number;
}

export const DEFAULT_SHUTDOWN_DELAY_MS = 5_000;
/** How long requests in flight may finish once the server stops accepting. */
const SHUTDOWN_GRACE_MS = 3_000;

function parseMaxBody(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MAX_BODY_BYTES;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1024) {
    throw new UsageError(`--max-body-bytes must be a whole number of bytes, at least 1024, got "${text}"`);
  }
  return n;
}

function parseMaxConnections(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MAX_CONNECTIONS;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > 1_000_000) {
    throw new UsageError(`--max-connections must be a whole number from 1 to 1000000, got "${text}"`);
  }
  return n;
}

/** `0`, `500ms`, `5s`, `1m` -> milliseconds, at most 10 minutes. */
export function parseShutdownDelay(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SHUTDOWN_DELAY_MS;
  const m = /^(\d{1,6})(ms|s|m)?$/.exec(text.trim());
  const unit = m?.[2] === 'ms' ? 1 : m?.[2] === 'm' ? 60_000 : 1_000;
  const ms = m === null ? NaN : Number(m[1]) * unit;
  if (!Number.isSafeInteger(ms) || (m?.[2] === undefined && ms !== 0) || ms > 600_000) {
    throw new UsageError(
      `--shutdown-delay must be a duration such as 5s, 500ms or 0 (at most 10m), got "${text}"`,
    );
  }
  return ms;
}

type SourceOptions = { state?: string; kubeconfig?: string; context?: string };

function defaultOpenSource(logger: Logger): (o: SourceOptions) => Promise<ClusterSource> {
  return async (o) => {
    const { openClusterSource } = await import('../../kube/cluster-source/index.js');
    return openClusterSource({
      ...o,
      onProblem: (problem) => logger.warn({ problem }, 'a manifest in the state directory cannot be used'),
    });
  };
}

type ConfigLoad =
  { ok: true; snapshot: PolicySnapshot; warnings: string[] } | { ok: false; error: ConfigError };

async function loadSnapshot(file: string | undefined): Promise<ConfigLoad> {
  if (file === undefined) return { ok: true, snapshot: { policy: null, config: null }, warnings: [] };
  const loaded = await loadConfigFile(file);
  const warnings = loaded.warnings.map(
    (w) => `${w.file ?? '-'}:${w.line}:${w.column}: ${w.path}: ${w.message}`,
  );
  if ('error' in loaded) return { ok: false, error: loaded.error };
  return { ok: true, snapshot: { policy: compilePolicy(loaded.config), config: loaded.config }, warnings };
}

/** Starts everything; throws UsageError/ConfigError for what the user must fix. */
export async function startWebhook(
  opts: WebhookOptions,
  runtime: WebhookRuntime = {},
): Promise<RunningWebhook> {
  const port = parseListenPort(opts.port);
  const maxBodyBytes = parseMaxBody(opts.maxBodyBytes);
  const shutdownDelayMs = parseShutdownDelay(opts.shutdownDelay);
  const maxConnections = parseMaxConnections(opts.maxConnections);
  const logger =
    runtime.logger ?? createLogger({ level: parseLogLevelFlag(opts.logLevel), component: 'webhook' });
  if (opts.state !== undefined && opts.kubeconfig !== undefined) {
    throw new UsageError(
      '--state and --kubeconfig cannot be combined',
      'a --state directory is the whole cluster view',
    );
  }

  const first = await loadSnapshot(opts.config);
  if (!first.ok) throw first.error;
  for (const w of first.warnings) logger.warn({ file: opts.config }, `configuration warning: ${w}`);
  let snapshot = first.snapshot;

  // The certificate is checked before the cluster view is opened, so a wrong path fails fast.
  const pair = await readKeyPair(opts.tlsCert, opts.tlsKey);
  if (!pair.ok) {
    throw new UsageError(
      `cannot use the serving certificate: ${pair.message}`,
      'check --tls-cert and --tls-key',
    );
  }

  const health = new Health(WEBHOOK_CONDITIONS);
  const metrics = new WebhookMetrics();
  health.set(
    'config',
    true,
    opts.config === undefined ? 'no --config: namespace labels alone decide' : opts.config,
  );

  const sourceOptions: SourceOptions = {};
  if (opts.state !== undefined) sourceOptions.state = opts.state;
  if (opts.kubeconfig !== undefined) sourceOptions.kubeconfig = opts.kubeconfig;
  if (opts.context !== undefined) sourceOptions.context = opts.context;
  const source = await (runtime.openSource ?? defaultOpenSource(logger))(sourceOptions);
  logger.info({ source: source.description }, 'cluster view opened');

  let stopped = false;
  const namespaces = source.informer({ apiVersion: 'v1', kind: 'Namespace' });
  const pods = source.informer({ apiVersion: 'v1', kind: 'Pod' });
  Promise.all([namespaces.synced, pods.synced]).then(
    () => {
      health.set('caches', true, 'namespaces and pods synced');
      logger.info('caches synced');
    },
    (err: unknown) => {
      if (stopped) return;
      health.set('caches', false, 'the first list failed');
      logger.error({ reason: err instanceof Error ? err.message : String(err) }, 'caches failed to sync');
    },
  );

  const identities = watchIdentityClaims(source, logger);

  const handler = createAdmissionHandler({
    policy: () => snapshot,
    namespaceLabels: (ns: string) => namespaceLabelsOf(ns, namespaces, source),
    podsInNamespace: (ns: string): readonly KubeObject[] => pods.list(ns),
    now: () => Date.now(),
    identityClaims: () => identities.claims(),
    recentIdentityClaims: new RecentClaims(),
  });

  let server: WebhookServer;
  try {
    server = await startWebhookServer({
      port,
      host: opts.host,
      tlsCertFile: opts.tlsCert,
      tlsKeyFile: opts.tlsKey,
      maxBodyBytes,
      maxConnections,
      shutdownDelayMs,
      shutdownGraceMs: SHUTDOWN_GRACE_MS,
      handler,
      metrics,
      health,
      logger,
    });
  } catch (err) {
    stopped = true;
    identities.stop();
    await source.close();
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(message, 'check --tls-cert, --tls-key and --port');
  }

  const reloadConfig = async (): Promise<boolean> => {
    const next = await loadSnapshot(opts.config);
    if (!next.ok) {
      metrics.configReload(false);
      logger.warn(
        {
          file: opts.config,
          issues: next.error.issues.map((i) => `${i.line}:${i.column}: ${i.path}: ${i.message}`),
        },
        'new configuration refused; the last good one stays in force',
      );
      return false;
    }
    snapshot = next.snapshot;
    metrics.configReload(true);
    for (const w of next.warnings) logger.warn({ file: opts.config }, `configuration warning: ${w}`);
    logger.info(
      { file: opts.config, assignments: next.snapshot.config?.assignments.length ?? 0 },
      'configuration reloaded',
    );
    return true;
  };

  let configWatch: FileWatch | undefined;
  let recompile: NodeJS.Timeout | undefined;
  if (opts.config !== undefined) {
    configWatch = watchFiles(
      [opts.config],
      async () => {
        await reloadConfig();
      },
      { intervalMs: runtime.configPollMs ?? 2_000 },
    );
    // Exemptions carry expiry dates that the compiled policy evaluates against its compile time.
    recompile = setInterval(() => {
      const config = snapshot.config;
      if (config !== null) snapshot = { policy: compilePolicy(config), config };
    }, runtime.recompileMs ?? 60_000);
    recompile.unref();
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopped = true;
      // The configuration and the caches stay live while the server still answers (the delay).
      await server.close();
      configWatch?.close();
      if (recompile !== undefined) clearInterval(recompile);
      identities.stop();
      await source.close();
    })();
    return stopping;
  };

  return {
    port: server.port,
    health,
    metrics,
    reloadConfig,
    stop,
    stopBudgetMs: shutdownDelayMs + SHUTDOWN_GRACE_MS,
  };
}

/** The command: serves until SIGTERM or SIGINT, then stops gracefully. */
export async function runWebhook(opts: WebhookOptions): Promise<number> {
  let running: RunningWebhook;
  try {
    running = await startWebhook(opts);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`podsec: ${err.message}\n`);
      if (err.hint !== undefined) process.stderr.write(`hint: ${err.hint}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      // A second signal now ends the process at once (Node's default), e.g. Ctrl-C twice.
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  // Whatever still holds the event loop (a stuck watch) cannot keep a stopped webhook alive.
  const force = setTimeout(() => process.exit(EXIT_OK), running.stopBudgetMs + 2_000);
  force.unref();
  await running.stop();
  return EXIT_OK;
}

/**
 * The labels of a namespace as the API server reports them: a namespace without labels has `{}`
 * (it exists: PSA's defaults apply), never "unknown", and every namespace carries
 * `kubernetes.io/metadata.name` (the API server sets it; a --state directory may not have it).
 * A namespace created a moment ago may not be in the informer's cache yet, so a miss is checked
 * with a live read before it counts as unknown (which denies pods: fail closed).
 */
export async function namespaceLabelsOf(
  name: string,
  cache: { get(namespace: undefined, name: string): KubeObject | undefined },
  source: Pick<ClusterSource, 'get'>,
): Promise<Record<string, string> | undefined> {
  const ns =
    cache.get(undefined, name) ??
    (await source.get({ apiVersion: 'v1', kind: 'Namespace', name }).catch(() => undefined));
  if (ns === undefined) return undefined;
  return { ...(ns.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': name };
}
