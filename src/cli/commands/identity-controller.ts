/**
 * `podsec identity controller`: opens the cluster view, and runs the MIC loop (src/identity/mic)
 * until SIGTERM/SIGINT, under a Lease unless --leader-elect=false so only one replica writes.
 * In standard mode with --cloud-config, user-assigned identities are attached to node VMs and
 * scale sets through Azure Resource Manager (@azure/arm-compute and msal-node, loaded only then);
 * otherwise (managed mode, no cloud config, local mode) they count as attached already.
 * A CRD the API server does not serve (AzureIdentity, AzureIdentityBinding, AzureAssignedIdentity)
 * stops it at once with exit 2 and the CRD's name, instead of waiting for caches that never sync.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { NodeAssigner } from '../../identity/mic/node-assigner.js';
import { KindNotServedError } from '../../identity/served-kinds.js';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import { UsageError } from '../../lib/errors.js';
import { createLogger, type Logger, type LogLevel } from '../../observability/logger.js';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { parseLogLevelFlag } from '../flags.js';

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
  /** `standard` (default) or `managed`. */
  readonly operationMode?: string | undefined;
  /** azure.json for the ARM calls (standard mode). */
  readonly cloudConfig?: string | undefined;
  readonly armEndpoint?: string | undefined;
  readonly authorityHost?: string | undefined;
  /** Comma-separated resource IDs never removed. */
  readonly immutableUserMsis?: string | undefined;
  /** Seconds between re-reads of every VM/scale set. */
  readonly assignmentReconcileInterval?: string | undefined;
}

export const OPERATION_MODES = ['standard', 'managed'] as const;
export type OperationMode = (typeof OPERATION_MODES)[number];

export interface IdentityControllerRuntime {
  readonly logger?: Logger | undefined;
  readonly openSource?:
    ((o: { state?: string; kubeconfig?: string; context?: string }) => Promise<ClusterSource>) | undefined;
  /** Stops the controller (tests); SIGTERM and SIGINT always do. */
  readonly signal?: AbortSignal | undefined;
  /** Replaces the Azure assigner built from --cloud-config (tests). */
  readonly createAssigner?: ((azure: AzureSettings) => Promise<NodeAssigner>) | undefined;
}

export interface AzureSettings {
  readonly cloudConfigFile: string;
  readonly armEndpoint: string;
  readonly authorityHost: string;
}

function parseBool(flag: string, text: string | undefined): boolean {
  if (text === undefined || text === 'true') return true;
  if (text === 'false') return false;
  throw new UsageError(`${flag} must be true or false, got "${text}"`);
}

function parseSeconds(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback * 1000;
  const s = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !Number.isFinite(s) || s < 1 || s > 86_400) {
    throw new UsageError(`${flag} must be a number of seconds from 1 to 86400, got "${text}"`);
  }
  return Math.round(s * 1000);
}

function parseHttpsUrl(flag: string, text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`${flag} must be an https URL, got "${text}"`);
  }
  if (u.protocol !== 'https:' || u.search !== '' || u.hash !== '') {
    throw new UsageError(`${flag} must be an https URL without query, got "${text}"`);
  }
  return u.toString().replace(/\/+$/, '');
}

/** Validated settings; UsageError for bad flags. */
export function parseControllerOptions(opts: IdentityControllerOptions): {
  level: LogLevel;
  leaderElect: boolean;
  resyncMs: number;
  operationMode: OperationMode;
  /** Set when user-assigned identities are attached through ARM (standard mode with a cloud config). */
  azure: AzureSettings | undefined;
  immutable: string[];
  driftCheckMs: number;
} {
  if (opts.state !== undefined && opts.kubeconfig !== undefined) {
    throw new UsageError('--state and --kubeconfig cannot be used together');
  }
  const mode = opts.operationMode ?? 'standard';
  if (!(OPERATION_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`--operation-mode must be standard or managed, got "${mode}"`);
  }
  const operationMode = mode as OperationMode;
  if (operationMode === 'managed' && opts.cloudConfig !== undefined) {
    throw new UsageError(
      '--cloud-config is for standard mode: in managed mode the controller makes no ARM calls',
    );
  }
  const armEndpoint = parseHttpsUrl('--arm-endpoint', opts.armEndpoint ?? 'https://management.azure.com');
  const authorityHost = parseHttpsUrl(
    '--authority-host',
    opts.authorityHost ?? 'https://login.microsoftonline.com',
  );
  const immutable = (opts.immutableUserMsis ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  const driftCheckMs = parseSeconds(
    '--identity-assignment-reconcile-interval',
    opts.assignmentReconcileInterval,
    180,
  );
  const armConfigured = operationMode === 'standard' && opts.cloudConfig !== undefined;
  if (!armConfigured) refuseArmOnlyFlags(opts, operationMode);
  return {
    level: parseLogLevelFlag(opts.logLevel),
    leaderElect: parseBool('--leader-elect', opts.leaderElect),
    resyncMs: parseSeconds('--resync', opts.resync, 30),
    operationMode,
    azure:
      armConfigured && opts.cloudConfig !== undefined
        ? { cloudConfigFile: opts.cloudConfig, armEndpoint, authorityHost }
        : undefined,
    immutable,
    driftCheckMs,
  };
}

/**
 * The ARM flags act only in standard mode with --cloud-config; anywhere else they would be
 * silently ignored, so a given one is a usage error naming it and the mode. The command passes
 * them only when typed (commander's defaults are left out).
 */
function refuseArmOnlyFlags(opts: IdentityControllerOptions, mode: OperationMode): void {
  const given = [
    ['--arm-endpoint', opts.armEndpoint],
    ['--authority-host', opts.authorityHost],
    ['--immutable-user-msis', opts.immutableUserMsis],
    ['--identity-assignment-reconcile-interval', opts.assignmentReconcileInterval],
  ]
    .filter(([, v]) => v !== undefined)
    .map(([f]) => f);
  if (given.length === 0) return;
  const where =
    mode === 'managed'
      ? 'in managed mode (--operation-mode managed makes no ARM calls)'
      : 'in standard mode without --cloud-config (no ARM is configured)';
  throw new UsageError(
    `${given.join(', ')} ${given.length === 1 ? 'has' : 'have'} no effect ${where}`,
    'give --cloud-config (standard mode) for the ARM calls, or drop the flag',
  );
}

/** The Azure assigner from a cloud config file; UsageError (by field, no values) when it is unusable. */
export async function azureAssignerFrom(azure: AzureSettings): Promise<NodeAssigner> {
  let text: string;
  try {
    text = await readFile(azure.cloudConfigFile, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new UsageError(
      `--cloud-config ${azure.cloudConfigFile}: cannot read (${typeof code === 'string' ? code : 'error'})`,
    );
  }
  const { parseCloudConfig } = await import('../../identity/mic/cloud-config.js');
  const parsed = parseCloudConfig(text);
  if (!parsed.ok) {
    throw new UsageError(`--cloud-config ${azure.cloudConfigFile}: ${parsed.problems.join('; ')}`);
  }
  const { createClientSecretCredential } = await import('../../identity/mic/msal-credential.js');
  const { createAzureNodeAssigner } = await import('../../identity/mic/azure-assigner.js');
  return createAzureNodeAssigner({
    credential: createClientSecretCredential({
      tenantId: parsed.value.tenantId,
      clientId: parsed.value.aadClientId,
      clientSecret: parsed.value.aadClientSecret,
      authorityHost: azure.authorityHost,
    }),
    armEndpoint: azure.armEndpoint,
  });
}

export async function runIdentityController(
  opts: IdentityControllerOptions,
  runtime: IdentityControllerRuntime = {},
): Promise<number> {
  let settings: ReturnType<typeof parseControllerOptions>;
  let assigner: NodeAssigner | undefined;
  try {
    settings = parseControllerOptions(opts);
    if (settings.azure !== undefined) {
      assigner = await (runtime.createAssigner ?? azureAssignerFrom)(settings.azure);
    }
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
    log.info(
      {
        source: source.description,
        leaderElect: settings.leaderElect,
        operationMode: settings.operationMode,
        nodeAssignment: assigner === undefined ? 'none' : settings.azure?.armEndpoint,
      },
      'cluster view opened',
    );
    if (settings.operationMode === 'standard' && assigner === undefined) {
      log.warn(
        'no --cloud-config: user-assigned identities (type 0) are treated as attached to every node already',
      );
    }
    const { runController } = await import('../../identity/mic/controller.js');
    const { configMapLedger } = await import('../../identity/mic/ledger.js');
    const leaseNamespace = opts.leaseNamespace ?? 'podsec-system';
    // A CRD the API server does not serve stops the controller (exit 2), leader or not.
    let notServed: KindNotServedError | undefined;
    const run = (signal: AbortSignal, s: ClusterSource): Promise<void> =>
      runController({
        source: s,
        allowCrossNamespace: opts.allowCrossNamespace === true,
        signal,
        log,
        resyncMs: settings.resyncMs,
        nodeAssignment:
          assigner === undefined
            ? undefined
            : {
                assigner,
                ledger: configMapLedger(s, leaseNamespace),
                immutable: settings.immutable,
                driftCheckMs: settings.driftCheckMs,
              },
      }).catch((err: unknown) => {
        if (!(err instanceof KindNotServedError)) throw err;
        notServed = err;
        stop.abort();
      });
    if (!settings.leaderElect) {
      await run(stop.signal, source);
    } else {
      const { runWithLease } = await import('../../kube/leader-election.js');
      const s = source;
      await runWithLease({
        source: s,
        namespace: leaseNamespace,
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
    if (notServed !== undefined) {
      process.stderr.write(`podsec: ${notServed.message}\n`);
      return EXIT_USAGE;
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
