/**
 * `podsec audit`: everything already in a cluster (or in `kubectl get -o json` files) judged by the
 * policy and attributed to workloads. The edge: flags to options, the cluster source, output
 * files, PolicyReport writes, the periodic loop with a Lease, progress on a terminal.
 *
 * Without --config and --level, only namespace labels decide (CONTRACTS.md section 3), as the
 * webhook does; --level stands for one cluster-wide assignment.
 */
import { writeFile } from 'node:fs/promises';
import { UsageError } from '../../lib/errors.js';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import {
  compilePolicy,
  loadConfigFile,
  parseLevel,
  parseVersion,
  policyFromLevel,
  type Policy,
} from '../../policy/index.js';
import { runAudit, type AuditInput, type AuditOutcome } from '../../audit/run.js';
import { toAuditReport, type AuditReport } from '../../audit/report.js';
import { buildPolicyReports, reportBlocker, REPORT_APIS, type ReportApi } from '../../audit/policy-report.js';
import { writeReports, type WriteSummary } from '../../audit/report-writer.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';

export interface AuditCommandOptions {
  state?: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  config?: string | undefined;
  level?: string | undefined;
  pssVersion?: string | undefined;
  format: 'table' | 'json' | 'html';
  output?: string | undefined;
  writeReports: boolean;
  reportApi: string;
  interval?: string | undefined;
  leaseNamespace?: string;
  pageSize?: string;
  color: boolean;
  versionGiven: boolean;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Tests inject a source; otherwise --state / kubeconfig choose one. */
  openSource?: () => Promise<ClusterSource>;
  /** Stops --interval (SIGTERM does the same). */
  signal?: AbortSignal;
  /** Lease identity and timing for --interval (tests run two replicas in one process). */
  lease?: {
    identity: string;
    timing?: { durationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  };
  /** Clock for reports (tests pin it). */
  now?: () => Date;
}

/** `90s`, `10m`, `1h30m` -> milliseconds; null when not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (m === null || text.trim() === '') return null;
  const ms = (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
  return ms > 0 ? ms : null;
}

async function choosePolicy(opts: AuditCommandOptions): Promise<{ policy: Policy; warnings: string[] }> {
  if (opts.config !== undefined) {
    if (opts.level !== undefined || opts.versionGiven) {
      throw new UsageError('--config cannot be combined with --level or --pss-version');
    }
    const loaded = await loadConfigFile(opts.config);
    if ('error' in loaded) throw loaded.error;
    return {
      policy: compilePolicy(loaded.config),
      warnings: loaded.warnings.map((w) => `${w.file ?? '-'}:${w.line}:${w.column}: ${w.path}: ${w.message}`),
    };
  }
  const version = parseVersion(opts.pssVersion ?? 'latest');
  if (!version.ok) {
    throw new UsageError(
      `--pss-version must be v1.N (no leading zeros) or latest, not ${JSON.stringify(opts.pssVersion)}`,
    );
  }
  if (opts.level === undefined) {
    if (opts.versionGiven) throw new UsageError('--pss-version needs --level');
    // No assignments: only the namespaces' pod-security.kubernetes.io labels decide.
    return { policy: policyFromLevel('privileged', { latest: true }), warnings: [] };
  }
  const level = parseLevel(opts.level);
  if (!level.ok || level.value === 'privileged') {
    throw new UsageError(`--level must be baseline or restricted, not ${JSON.stringify(opts.level)}`);
  }
  return { policy: policyFromLevel(level.value, version.value), warnings: [] };
}

async function defaultOpenSource(opts: AuditCommandOptions): Promise<ClusterSource> {
  // Imported lazily: the Kubernetes client costs ~0.8 s to load.
  const { openClusterSource } = await import('../../kube/cluster-source/index.js');
  return openClusterSource({
    ...(opts.state === undefined ? {} : { state: opts.state }),
    ...(opts.kubeconfig === undefined ? {} : { kubeconfig: opts.kubeconfig }),
    ...(opts.context === undefined ? {} : { context: opts.context }),
  });
}

export function exitCodeFor(report: AuditReport): number {
  if (report.errors.length > 0) return EXIT_USAGE;
  return report.results.some((r) => !r.allowed) ? EXIT_FINDINGS : EXIT_OK;
}

async function render(
  outcome: AuditOutcome,
  report: AuditReport,
  opts: AuditCommandOptions,
  color: boolean,
): Promise<string> {
  if (opts.format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (opts.format === 'html') {
    const { renderHtmlReport } = await import('../output/html-report.js');
    return renderHtmlReport(report, {
      source: outcome.source,
      generatedAt: (opts.now ?? (() => new Date()))(),
    });
  }
  const { renderAuditTable } = await import('../../audit/table.js');
  return renderAuditTable(report, { color });
}

export async function runAuditCommand(files: string[], opts: AuditCommandOptions): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  if (files.length > 0 && (opts.state !== undefined || opts.kubeconfig !== undefined)) {
    throw new UsageError('give files or a cluster (--state / --kubeconfig), not both');
  }
  if (opts.state !== undefined && opts.kubeconfig !== undefined) {
    throw new UsageError('--state and --kubeconfig exclude each other');
  }
  if (!(REPORT_APIS as readonly string[]).includes(opts.reportApi)) {
    throw new UsageError(`--report-api must be one of ${REPORT_APIS.join(', ')}`);
  }
  if (opts.writeReports && files.length > 0) {
    throw new UsageError('--write-reports needs a cluster (the API server or --state), not files');
  }
  const pageSize = Number(opts.pageSize ?? '500');
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 10_000) {
    throw new UsageError('--page-size must be a whole number from 1 to 10000');
  }
  const intervalMs = opts.interval === undefined ? null : parseDuration(opts.interval);
  if (opts.interval !== undefined && intervalMs === null) {
    throw new UsageError(
      `--interval must be a duration such as 30s, 10m or 1h, not ${JSON.stringify(opts.interval)}`,
    );
  }
  if (intervalMs !== null && files.length > 0) throw new UsageError('--interval audits a cluster, not files');

  const { policy, warnings } = await choosePolicy(opts);
  for (const w of warnings) stderr.write(`podsec: warning: ${w}\n`);
  const color = opts.color && stdout.isTTY === true && opts.output === undefined && !process.env['NO_COLOR'];
  const showProgress = stderr.isTTY === true;

  let source: ClusterSource | null = null;
  if (files.length === 0) source = await (opts.openSource ?? (() => defaultOpenSource(opts)))();
  const input: AuditInput =
    source === null
      ? { type: 'files', paths: files, ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }) }
      : { type: 'cluster', source, pageSize };

  const once = async (signal?: AbortSignal): Promise<number> => {
    const outcome = await runAudit(input, {
      policy,
      ...(signal === undefined ? {} : { signal }),
      ...(showProgress
        ? { onProgress: (p) => stderr.write(`\raudit: ${p.objects} objects, ${p.pods} pods`) }
        : {}),
    });
    if (showProgress) stderr.write('\r\x1b[K');
    const report = toAuditReport(outcome);
    const text = await render(outcome, report, opts, color);
    if (opts.output === undefined) stdout.write(text);
    else await writeFile(opts.output, text);
    if (opts.writeReports && source !== null) {
      const written = await writePolicyReports(source, outcome, opts.reportApi as ReportApi);
      stderr.write(reportsLine(written));
      for (const f of written.failed) stderr.write(`podsec: report ${f.namespace}/${f.name}: ${f.message}\n`);
    }
    return exitCodeFor(report);
  };

  try {
    if (intervalMs === null || source === null) return await once();
    const { runPeriodically } = await import('../../audit/periodic.js');
    return await runPeriodically({
      source,
      intervalMs,
      // The API server and a --state directory both give cross-process compare-and-swap, so the
      // Lease works on either: two processes on one state directory never both audit.
      useLease: true,
      leaseNamespace: opts.leaseNamespace ?? 'podsec-system',
      ...(opts.lease === undefined ? {} : { identity: opts.lease.identity }),
      ...(opts.lease?.timing === undefined ? {} : { lease: opts.lease.timing }),
      run: once,
      log: (m) => stderr.write(`podsec: ${m}\n`),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
  } finally {
    await source?.close();
  }
}

export interface ReportsWritten extends WriteSummary {
  /** Results that got no report, with why (`Deployment shop/web: no metadata.uid ...`). */
  readonly unreported: string[];
}

async function writePolicyReports(
  source: ClusterSource,
  outcome: AuditOutcome,
  api: ReportApi,
): Promise<ReportsWritten> {
  const unreported: string[] = [];
  const desired = outcome.results.flatMap((r) => {
    const blocker = reportBlocker(r);
    if (blocker === null) return buildPolicyReports(r, { api });
    unreported.push(`${r.kind} ${r.namespace === null ? '' : `${r.namespace}/`}${r.name}: ${blocker}`);
    return [];
  });
  // A LIST that failed would make its workloads look deleted: keep their reports then.
  const written = await writeReports(source, desired, { api, deleteStale: outcome.problems.length === 0 });
  return { ...written, unreported };
}

/** The run's summary line; results without a report are counted and the first few named. */
export function reportsLine(w: ReportsWritten): string {
  let line = `podsec: reports: ${w.created} created, ${w.updated} updated, ${w.unchanged} unchanged, ${w.deleted} deleted`;
  if (w.unreported.length > 0) {
    const shown = w.unreported.slice(0, 5).join('; ');
    const more = w.unreported.length > 5 ? `; and ${w.unreported.length - 5} more` : '';
    line += `; ${w.unreported.length} ${w.unreported.length === 1 ? 'result' : 'results'} without a report (${shown}${more})`;
  }
  return `${line}\n`;
}
