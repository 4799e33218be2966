/**
 * Lease-based leader election (coordination.k8s.io/v1 Lease), so only one replica of a
 * periodic job (the audit) works at a time. The decision is pure: given the lease as read, who
 * I am, the time and what I observed before, `decide` says create, renew, take over or wait.
 * The runner only reads, writes with the lease's resourceVersion (a conflict means another
 * replica wrote first: read again) and calls back.
 *
 * Clock skew: a lease is judged by the local time at which this process first saw its current
 * resourceVersion (as client-go does), so the holder's clock does not matter. Only a lease seen
 * for the first time is judged by its renewTime, with `maxClockSkewMs` of tolerance.
 */
import type { ClusterSource } from './cluster-source/types.js';
import type { KubeObject } from './types.js';

export interface LeaseSpec {
  holderIdentity?: string | undefined;
  leaseDurationSeconds?: number | undefined;
  acquireTime?: string | undefined;
  renewTime?: string | undefined;
  leaseTransitions?: number | undefined;
}

export interface LeaseObject extends KubeObject {
  spec?: LeaseSpec;
}

export interface ElectionConfig {
  readonly leaseDurationMs: number;
  /** How far the holder's clock may be ahead of ours when judging by renewTime. Default 2 s. */
  readonly maxClockSkewMs?: number | undefined;
}

/** The local time at which a resourceVersion of the lease was first seen. */
export interface Observation {
  readonly resourceVersion: string;
  readonly at: number;
}

export type Decision =
  | { readonly action: 'create'; readonly spec: LeaseSpec }
  | { readonly action: 'renew'; readonly spec: LeaseSpec }
  | { readonly action: 'takeover'; readonly spec: LeaseSpec; readonly previousHolder: string }
  | { readonly action: 'wait'; readonly holder: string; readonly retryInMs: number };

export const LEASE_KIND = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' } as const;
const DEFAULT_SKEW_MS = 2000;

/** Kubernetes MicroTime: RFC 3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function durationMs(spec: LeaseSpec | undefined, config: ElectionConfig): number {
  const s = spec?.leaseDurationSeconds;
  return typeof s === 'number' && Number.isFinite(s) && s > 0 ? s * 1000 : config.leaseDurationMs;
}

export function decide(
  lease: LeaseObject | undefined,
  me: string,
  now: number,
  config: ElectionConfig,
  observed?: Observation,
): Decision {
  const seconds = Math.max(1, Math.ceil(config.leaseDurationMs / 1000));
  const fresh: LeaseSpec = {
    holderIdentity: me,
    leaseDurationSeconds: seconds,
    acquireTime: microTime(now),
    renewTime: microTime(now),
  };
  if (lease === undefined) return { action: 'create', spec: { ...fresh, leaseTransitions: 0 } };
  const spec = lease.spec ?? {};
  const transitions = typeof spec.leaseTransitions === 'number' ? spec.leaseTransitions : 0;
  const holder = typeof spec.holderIdentity === 'string' ? spec.holderIdentity : '';
  if (holder === me) {
    return {
      action: 'renew',
      spec: {
        ...spec,
        holderIdentity: me,
        leaseDurationSeconds: seconds,
        renewTime: microTime(now),
        leaseTransitions: transitions,
      },
    };
  }
  const takeover: Decision = {
    action: 'takeover',
    spec: { ...fresh, leaseTransitions: transitions + 1 },
    previousHolder: holder,
  };
  // Released on graceful stop.
  if (holder === '') return takeover;
  const duration = durationMs(spec, config);
  const rv = lease.metadata?.resourceVersion;
  let expiresAt: number;
  if (observed !== undefined && rv !== undefined && observed.resourceVersion === rv) {
    expiresAt = observed.at + duration;
  } else {
    const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '');
    // Without a usable renewTime, give the holder a full duration from now.
    expiresAt = Number.isNaN(renewed)
      ? now + duration
      : renewed + duration + (config.maxClockSkewMs ?? DEFAULT_SKEW_MS);
  }
  if (now >= expiresAt) return takeover;
  return { action: 'wait', holder, retryInMs: expiresAt - now };
}

export interface RunWithLeaseOptions {
  readonly source: ClusterSource;
  readonly namespace: string;
  readonly name: string;
  /** Unique per replica, e.g. `${hostname}-${pid}`. */
  readonly identity: string;
  readonly leaseDurationMs: number;
  /** A leader that could not renew for this long stops leading. Must be below leaseDurationMs. */
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  /** Called when this replica becomes leader; `signal` aborts when it stops leading. */
  readonly onStartedLeading: (signal: AbortSignal) => Promise<void> | void;
  readonly onStoppedLeading: () => void;
  /** Aborting ends the election; a leader releases the lease first. */
  readonly signal: AbortSignal;
  readonly maxClockSkewMs?: number | undefined;
  /** Errors other than write conflicts (API server unreachable, ...), for logs. */
  readonly onError?: ((error: unknown) => void) | undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function isWriteRace(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'status' in e && (e.status === 409 || e.status === 404);
}

/** Runs the election until `signal` aborts; resolves after releasing the lease. */
export async function runWithLease(opts: RunWithLeaseOptions): Promise<void> {
  const ref = { ...LEASE_KIND, namespace: opts.namespace, name: opts.name };
  const config: ElectionConfig = {
    leaseDurationMs: opts.leaseDurationMs,
    maxClockSkewMs: opts.maxClockSkewMs,
  };
  let observed: Observation | undefined;
  let held: LeaseObject | undefined;
  let leading: { controller: AbortController; task: Promise<void>; lastRenew: number } | undefined;

  const observe = (lease: KubeObject | undefined, at: number): void => {
    const rv = lease?.metadata?.resourceVersion;
    if (rv !== undefined && observed?.resourceVersion !== rv) observed = { resourceVersion: rv, at };
  };

  const stopLeading = async (): Promise<void> => {
    const current = leading;
    if (current === undefined) return;
    leading = undefined;
    current.controller.abort();
    // The work must have stopped before anyone else may start it.
    await current.task;
    opts.onStoppedLeading();
  };

  while (!opts.signal.aborted) {
    const now = Date.now();
    try {
      const lease = (await opts.source.get(ref)) as LeaseObject | undefined;
      observe(lease, now);
      const d = decide(lease, opts.identity, now, config, observed);
      if (d.action === 'wait') {
        held = undefined;
        await stopLeading();
      } else {
        const body: LeaseObject =
          d.action === 'create' || lease === undefined
            ? { ...LEASE_KIND, metadata: { name: opts.name, namespace: opts.namespace }, spec: d.spec }
            : { ...lease, spec: d.spec };
        const written = (await (d.action === 'create'
          ? opts.source.create(body)
          : opts.source.update(body))) as LeaseObject;
        held = written;
        observe(written, now);
        if (leading === undefined && !opts.signal.aborted) {
          const controller = new AbortController();
          const task = Promise.resolve()
            .then(() => opts.onStartedLeading(controller.signal))
            .catch((e: unknown) => opts.onError?.(e));
          leading = { controller, task, lastRenew: now };
        } else if (leading !== undefined) leading.lastRenew = now;
      }
    } catch (e) {
      // A conflict means another replica wrote first: read again next round.
      if (!isWriteRace(e)) opts.onError?.(e);
    }
    if (leading !== undefined && Date.now() - leading.lastRenew > opts.renewDeadlineMs) {
      held = undefined;
      await stopLeading();
    }
    await sleep(opts.retryPeriodMs, opts.signal);
  }

  if (leading !== undefined) {
    await stopLeading();
    if (held !== undefined) {
      try {
        await opts.source.update({
          ...held,
          spec: {
            ...held.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            renewTime: microTime(Date.now()),
          },
        });
      } catch (e) {
        // Someone else already took it, or the server is gone: the lease expires on its own.
        if (!isWriteRace(e)) opts.onError?.(e);
      }
    }
  }
}
