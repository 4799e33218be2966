/**
 * The human form of an audit: one block per namespace, one line per workload with its pod count
 * and status, the violations under it (check, container, effect, message), then errors and totals.
 * Passing workloads are listed compactly: on a large cluster the reader is looking for the failures.
 */
import type { AuditReport, AuditResultJson } from './report.js';

const ansi = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const identity = (s: string) => s;

export function renderAuditTable(report: AuditReport, opts: { color: boolean }): string {
  const red = opts.color ? ansi(31, 39) : identity;
  const yellow = opts.color ? ansi(33, 39) : identity;
  const green = opts.color ? ansi(32, 39) : identity;
  const dim = opts.color ? ansi(2, 22) : identity;
  const bold = opts.color ? ansi(1, 22) : identity;
  const cyan = opts.color ? ansi(36, 39) : identity;

  const status = (r: AuditResultJson): string => {
    switch (r.status) {
      case 'denied':
        return bold(red('DENIED '));
      case 'warned':
        return yellow('WARNED ');
      case 'audited':
        return yellow('AUDITED');
      case 'allowed':
        return green('PASS   ');
      case 'exempt':
        return dim('EXEMPT ');
      default:
        return dim('N/A    ');
    }
  };

  const lines: string[] = [];
  const byNs = new Map<string, AuditResultJson[]>();
  for (const r of report.results) {
    const ns = r.namespace ?? '(cluster)';
    const list = byNs.get(ns);
    if (list === undefined) byNs.set(ns, [r]);
    else list.push(r);
  }
  for (const [ns, results] of byNs) {
    const failing = results.filter(
      (r) => !r.allowed || r.status === 'warned' || r.status === 'audited',
    ).length;
    lines.push(bold(`namespace ${ns}`) + dim(`  ${results.length} workloads, ${failing} with findings`));
    for (const r of results) {
      const pods = r.pods === 1 && r.kind === 'Pod' ? '' : dim(`  ${r.pods} pod${r.pods === 1 ? '' : 's'}`);
      const owner = r.owner === null ? '' : dim(`  differs from ${r.owner.kind} ${r.owner.name}`);
      const policy = dim(`  ${r.policy.level}:${r.policy.version}`);
      lines.push(`  ${status(r)}  ${bold(`${r.kind} ${r.name}`)}${pods}${owner}${policy}`);
      if (r.reason !== undefined && r.violations.length === 0) lines.push(`      ${dim(r.reason)}`);
      for (const v of r.violations) {
        const container = v.container === null ? '' : ` [${v.container}]`;
        const effect =
          v.exemptedBy !== null
            ? dim(`exempt: ${v.exemptedBy.reason}`)
            : [...new Set(v.effects.map((e) => e.effect))].join(',');
        lines.push(`      ${cyan(v.check)}${container}  ${effect}`);
        lines.push(`          ${v.message}`);
      }
    }
    lines.push('');
  }
  if (report.errors.length > 0) {
    lines.push(bold(red(`${report.errors.length} error${report.errors.length === 1 ? '' : 's'}:`)));
    for (const e of report.errors) {
      const pos = e.line === null ? '' : `:${e.line}${e.column == null ? '' : `:${e.column}`}`;
      lines.push(`  ${e.file ?? 'cluster'}${pos}: ${e.message}`);
      if (e.hint !== undefined) lines.push(`    ${dim(`hint: ${e.hint}`)}`);
    }
    lines.push('');
  }
  const s = report.summary;
  const parts = [
    `${s.documents} workload${s.documents === 1 ? '' : 's'} (${s.pods} pods)`,
    s.denied > 0 ? red(`${s.denied} denied`) : '0 denied',
    `${s.warned} warned`,
    `${s.audited} audited`,
    green(`${s.allowed} passed`),
  ];
  if (s.exempt > 0) parts.push(`${s.exempt} exempt`);
  if (s.notApplicable > 0) parts.push(`${s.notApplicable} other objects`);
  if (s.errors > 0) parts.push(red(`${s.errors} error${s.errors === 1 ? '' : 's'}`));
  lines.push(parts.join(', '));
  return `${lines.join('\n')}\n`;
}
