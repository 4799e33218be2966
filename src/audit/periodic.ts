/**
 * `--interval`: audit, wait, audit again until SIGTERM (or the caller's signal). Several replicas
 * may run, on the API server or on one --state directory (whose ClusterSource writes with
 * cross-process compare-and-swap under DIR/.podsec/); a Lease makes sure only the leader audits,
 * so reports are not written twice. A failed pass is logged and the loop goes on: the next
 * interval retries.
 */
import { hostname } from 'node:os';
import type { ClusterSource } from '../kube/cluster-source/types.js';

export interface PeriodicOptions {
  readonly source: ClusterSource;
  readonly intervalMs: number;
  readonly useLease: boolean;
  readonly leaseNamespace: string;
  readonly leaseName?: string;
  readonly run: (signal: AbortSignal) => Promise<number>;
  readonly log: (message: string) => void;
  readonly signal?: AbortSignal;
  /** Lease timing (defaults: 15 s lease, 10 s renew deadline, 2 s retry); tests shorten them. */
  readonly lease?: { durationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** Identity in the Lease (default: host name and pid). */
  readonly identity?: string;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Audits every interval while `signal` is live; returns the last pass's exit code. */
export async function loop(
  run: (signal: AbortSignal) => Promise<number>,
  intervalMs: number,
  signal: AbortSignal,
  log: (m: string) => void,
): Promise<number> {
  let last = 0;
  while (!signal.aborted) {
    const started = Date.now();
    try {
      last = await run(signal);
    } catch (err) {
      if (signal.aborted) break;
      log(
        `audit pass failed: ${err instanceof Error ? err.message : String(err)}; retrying in ${intervalMs} ms`,
      );
      last = 2;
    }
    await sleep(Math.max(0, intervalMs - (Date.now() - started)), signal);
  }
  return last;
}

/**
 * Audits every interval until stopped. A requested stop (SIGTERM, SIGINT, the caller's signal) is
 * not a failure: it logs `stopping` and returns 0. Otherwise the last pass's exit code is returned.
 * `lost the lease` is logged only when leadership ends while the loop is still meant to run.
 */
export async function runPeriodically(opts: PeriodicOptions): Promise<number> {
  const controller = new AbortController();
  const stopFor = (why: string) => (): void => {
    if (controller.signal.aborted) return;
    opts.log(`stopping (${why})`);
    controller.abort();
  };
  const onTerm = stopFor('SIGTERM');
  const onInt = stopFor('SIGINT');
  const onAbort = stopFor('asked to stop');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  if (opts.signal?.aborted === true) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const result = (last: number): number => (controller.signal.aborted ? 0 : last);
  try {
    if (!opts.useLease) return result(await loop(opts.run, opts.intervalMs, controller.signal, opts.log));
    const { runWithLease } = await import('../kube/leader-election.js');
    let last = 0;
    await runWithLease({
      source: opts.source,
      namespace: opts.leaseNamespace,
      name: opts.leaseName ?? 'podsec-audit',
      identity: opts.identity ?? `${hostname()}-${process.pid}`,
      leaseDurationMs: opts.lease?.durationMs ?? 15_000,
      renewDeadlineMs: opts.lease?.renewDeadlineMs ?? 10_000,
      retryPeriodMs: opts.lease?.retryPeriodMs ?? 2_000,
      onStartedLeading: async (leading) => {
        opts.log('leading: auditing every interval');
        const both = AbortSignal.any([leading, controller.signal]);
        last = await loop(opts.run, opts.intervalMs, both, opts.log);
      },
      onStoppedLeading: () => {
        // On a requested stop the lease is released on purpose: nothing was lost.
        if (!controller.signal.aborted) opts.log('lost the lease: another replica audits now');
      },
      signal: controller.signal,
      onError: (err) => opts.log(`lease: ${err instanceof Error ? err.message : String(err)}`),
    });
    return result(last);
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
