/**
 * The redirect's life cycle for the NMI process: fail closed before serving (reject form),
 * switch to the DNAT once the server listens, flush stale conntrack entries, re-assert the table
 * periodically (someone or something may delete or edit it: a CNI restart, an admin's `nft flush
 * ruleset`), and fall back to the reject form on exit so pods are refused, never passed to the
 * real IMDS, while the NMI is down. Drift is detected by comparing `nft list table` with the text
 * the kernel gave back right after podsec's own install.
 */
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { applyNftScript, flushMetadataConntrack, listNftTable, spawnExec, type Exec } from './runner.js';
import {
  buildCleanupScript,
  buildRulesetScript,
  DEFAULT_TABLE,
  type RedirectConfig,
  type RulesetMode,
} from './rules.js';

export const DEFAULT_REDIRECT_INTERVAL_MS = 10_000;

export type ReassertOutcome = 'ok' | 'restored';

export interface ImdsRedirectOptions {
  readonly config: RedirectConfig;
  readonly logger: Logger;
  readonly exec?: Exec | undefined;
  /** How often the table is checked; 0 disables the timer (tests call reassert()). */
  readonly intervalMs?: number | undefined;
  /** The NMI's metrics registry: `podsec_nmi_redirect_restored_total` is registered there. */
  readonly registry?: Registry | undefined;
}

export class ImdsRedirect {
  private readonly config: RedirectConfig;
  private readonly logger: Logger;
  private readonly exec: Exec;
  private readonly intervalMs: number;
  private restored: Counter | undefined;
  private desired: RulesetMode | undefined;
  private snapshot: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Operations run one at a time, so a periodic check never races a mode switch. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: ImdsRedirectOptions) {
    this.config = opts.config;
    this.logger = opts.logger;
    this.exec = opts.exec ?? spawnExec;
    this.intervalMs = opts.intervalMs ?? DEFAULT_REDIRECT_INTERVAL_MS;
    if (opts.registry !== undefined) this.registerMetrics(opts.registry);
  }

  /** Registers `podsec_nmi_redirect_restored_total` (once) in the NMI's registry. */
  registerMetrics(registry: Registry): void {
    if (this.restored !== undefined) return;
    this.restored = new Counter({
      name: 'podsec_nmi_redirect_restored_total',
      help: 'Times the periodic check found the redirect table missing or changed and reinstalled it',
      registers: [registry],
    });
  }

  /** The mode currently asserted, if any. */
  get mode(): RulesetMode | undefined {
    return this.desired;
  }

  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async apply(mode: RulesetMode): Promise<void> {
    await applyNftScript(
      this.exec,
      buildRulesetScript(this.config, mode),
      `installing the ${mode} rules in table ip ${this.config.table}`,
    );
    this.desired = mode;
    this.snapshot = await listNftTable(this.exec, this.config.table);
    if (mode === 'redirect') {
      const ct = await flushMetadataConntrack(this.exec);
      if (ct.kind === 'flushed') {
        this.logger.debug(
          { deleted: ct.deleted },
          'nmi redirect: conntrack entries for the metadata address flushed',
        );
      } else {
        this.logger.warn({ reason: ct.reason }, 'nmi redirect: stale conntrack entries not flushed');
      }
    }
  }

  /** Installs the reject form: pods are refused until install() (call before serving). */
  failClosed(): Promise<void> {
    return this.serialize(async () => {
      this.stopTimer();
      await this.apply('reject');
      this.logger.info({ table: this.config.table }, 'nmi redirect: metadata traffic from pods is rejected');
    });
  }

  /** Installs the DNAT to the NMI and starts the periodic check. */
  install(): Promise<void> {
    return this.serialize(async () => {
      await this.apply('redirect');
      this.logger.info(
        {
          table: this.config.table,
          target: `${this.config.targetAddress}:${this.config.targetPort}`,
          podInterfaces: this.config.podInterfaces,
        },
        'nmi redirect: pod traffic for 169.254.169.254:80 goes to the NMI',
      );
      this.startTimer();
    });
  }

  /** Checks the table against what was installed and reinstalls it when missing or different. */
  reassert(): Promise<ReassertOutcome> {
    return this.serialize(async () => {
      const mode = this.desired;
      if (mode === undefined) return 'ok';
      const now = await listNftTable(this.exec, this.config.table);
      if (now !== undefined && now === this.snapshot) return 'ok';
      await this.apply(mode);
      this.restored?.inc();
      this.logger.warn(
        { table: this.config.table, mode, found: now === undefined ? 'missing' : 'changed' },
        'nmi redirect: table was missing or changed; reinstalled',
      );
      return 'restored';
    });
  }

  private startTimer(): void {
    if (this.timer !== undefined || this.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.reassert().catch((err: unknown) =>
        this.logger.error({ err }, 'nmi redirect: periodic check failed; will retry'),
      );
    }, this.intervalMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops the periodic check and leaves the rules as they are. */
  close(): void {
    this.stopTimer();
  }
}

/** `podsec identity nmi --cleanup`: deletes podsec's table (only it); an absent table is fine. */
export async function removeRedirect(
  exec: Exec = spawnExec,
  table: string = DEFAULT_TABLE,
): Promise<'removed' | 'absent'> {
  const before = await listNftTable(exec, table);
  await applyNftScript(exec, buildCleanupScript(table), `deleting table ip ${table}`);
  return before === undefined ? 'absent' : 'removed';
}
