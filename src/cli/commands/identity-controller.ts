/**
 * `podsec identity controller`: opens the cluster view, and runs the MIC loop (src/identity/mic)
 * until SIGTERM/SIGINT, under a Lease unless --leader-elect=false so only one replica writes.
 */
import { hostname } from 'node:os';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import { UsageError } from '../../lib/errors.js';
import { createLogger, isLogLevel, type Logger, type LogLevel } from '../../observability/logger.js';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';

export interface IdentityControllerOptions {
  readonly state?: string | undefined;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly allowCrossNamespace?: boolean | undefined;
  /** `true` or `false` (default true). */
  readonly leaderElect?: string | undefined;
  readonly leaseNamespace?: string | undefined;
  /** Seconds between full reconciles. */
  readonly resync?: string | undefined;
  readonly logLevel?: string | undefined;
}

export interface IdentityControllerRuntime {
  readonly logger?: Logger | undefined;
  readonly openSource?:
    ((o: { state?: string; kubeconfig?: string; context?: string }) => Promise<ClusterSource>) | undefined;
  /** Stops the controller (tests); SIGTERM and SIGINT always do. */
  readonly signal?: AbortSignal | undefined;
}

function parseLogLevel(text: string | undefined): LogLevel {
  if (text === undefined) return 'info';
  if (!isLogLevel(text)) {
    throw new UsageError(
      `--log-level must be one of fatal, error, warn, info, debug, trace, silent; got "${text}"`,
    );
  }
  return text;
}

function parseBool(flag: string, text: string | undefined): boolean {
  if (text === undefined || text === 'true') return true;
  if (text === 'false') return false;
  throw new UsageError(`${flag} must be true or false, got "${text}"`);
}

function parseResync(text: string | undefined): number {
  if (text === undefined) return 30_000;
  const s = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !Number.isFinite(s) || s < 1 || s > 86_400) {
    throw new UsageError(`--resync must be a number of seconds from 1 to 86400, got "${text}"`);
  }
  return Math.round(s * 1000);
}

/** Validated settings; UsageError for bad flags. */
export function parseControllerOptions(opts: IdentityControllerOptions): {
  level: LogLevel;
  leaderElect: boolean;
  resyncMs: number;
} {
  if (opts.state !== undefined && opts.kubeconfig !== undefined) {
    throw new UsageError('--state and --kubeconfig cannot be used together');
  }
  return {
    level: parseLogLevel(opts.logLevel),
    leaderElect: parseBool('--leader-elect', opts.leaderElect),
    resyncMs: parseResync(opts.resync),
  };
}

export async function runIdentityController(
  opts: IdentityControllerOptions,
  runtime: IdentityControllerRuntime = {},
): Promise<number> {
  let settings: ReturnType<typeof parseControllerOptions>;
  try {
    settings = parseControllerOptions(opts);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`podsec: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const log = runtime.logger ?? createLogger({ level: settings.level, component: 'identity-controller' });
  const stop = new AbortController();
  const onSignal = (): void => {
    if (!stop.signal.aborted) log.info('stopping');
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (runtime.signal?.aborted === true) stop.abort();
  runtime.signal?.addEventListener('abort', onSignal, { once: true });
  const sourceOptions: { state?: string; kubeconfig?: string; context?: string } = {};
  if (opts.state !== undefined) sourceOptions.state = opts.state;
  if (opts.kubeconfig !== undefined) sourceOptions.kubeconfig = opts.kubeconfig;
  if (opts.context !== undefined) sourceOptions.context = opts.context;
  let source: ClusterSource | undefined;
  try {
    source = await (runtime.openSource ?? defaultOpenSource(log))(sourceOptions);
    log.info({ source: source.description, leaderElect: settings.leaderElect }, 'cluster view opened');
    const { runController } = await import('../../identity/mic/controller.js');
    const run = (signal: AbortSignal, s: ClusterSource): Promise<void> =>
      runController({
        source: s,
        allowCrossNamespace: opts.allowCrossNamespace === true,
        signal,
        log,
        resyncMs: settings.resyncMs,
      });
    if (!settings.leaderElect) {
      await run(stop.signal, source);
    } else {
      const { runWithLease } = await import('../../kube/leader-election.js');
      const s = source;
      await runWithLease({
        source: s,
        namespace: opts.leaseNamespace ?? 'podsec-system',
        name: 'podsec-identity-controller',
        identity: `${hostname()}-${process.pid}`,
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
        onStartedLeading: async (leading) => {
          log.info('leading: reconciling');
          await run(AbortSignal.any([leading, stop.signal]), s);
        },
        onStoppedLeading: () => {
          if (!stop.signal.aborted) log.warn('lost the lease: another replica reconciles now');
        },
        signal: stop.signal,
        onError: (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'lease'),
      });
    }
    return EXIT_OK;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    runtime.signal?.removeEventListener('abort', onSignal);
    await source?.close();
  }
}

function defaultOpenSource(log: Logger): NonNullable<IdentityControllerRuntime['openSource']> {
  return async (o) => {
    const { openClusterSource } = await import('../../kube/cluster-source/index.js');
    return openClusterSource({
      ...o,
      onProblem: (problem) => log.warn({ problem }, 'a manifest in the state directory cannot be used'),
    });
  };
}
