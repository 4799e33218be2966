/**
 * The default, human form of a scan: one block per resource, worst first within a file,
 * each violation with its position, check, container and fix hint, then the errors and the counts.
 * Colour only when asked (a terminal without NO_COLOR); golden tests render without it.
 */
import type { ResultJson, ScanReport, ViolationJson } from './result-json.js';

interface Palette {
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  cyan(s: string): string;
}

const ansi = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const COLOR: Palette = {
  red: ansi(31, 39),
  yellow: ansi(33, 39),
  green: ansi(32, 39),
  dim: ansi(2, 22),
  bold: ansi(1, 22),
  cyan: ansi(36, 39),
};
const identity = (s: string) => s;
const PLAIN: Palette = {
  red: identity,
  yellow: identity,
  green: identity,
  dim: identity,
  bold: identity,
  cyan: identity,
};

const STATUS_LABEL: Record<ResultJson['status'], string> = {
  denied: 'DENIED',
  warned: 'WARNED',
  audited: 'AUDITED',
  allowed: 'PASS',
  exempt: 'EXEMPT',
  notApplicable: 'N/A',
};

function statusText(r: ResultJson, p: Palette): string {
  const label = STATUS_LABEL[r.status];
  switch (r.status) {
    case 'denied':
      return p.bold(p.red(label));
    case 'warned':
    case 'audited':
      return p.yellow(label);
    case 'allowed':
      return p.green(label);
    default:
      return p.dim(label);
  }
}

function resourceName(r: ResultJson): string {
  const ns = r.namespace === null ? '' : `${r.namespace}/`;
  return `${r.kind ?? '?'} ${ns}${r.name ?? '(unnamed)'}`;
}

function effectText(v: ViolationJson, p: Palette): string {
  if (v.exemptedBy !== null) {
    const until = v.exemptedBy.expires === null ? '' : ` (until ${v.exemptedBy.expires})`;
    return p.dim(`exempt: ${v.exemptedBy.reason}${until}`);
  }
  const effects = [...new Set(v.effects.map((e) => e.effect))];
  const text = effects.join(',');
  return effects.includes('deny') ? p.red(text) : p.yellow(text);
}

function renderResult(r: ResultJson, p: Palette): string {
  const lines: string[] = [];
  const where = r.file === null ? '' : `${r.file}${r.line === null ? '' : `:${r.line}`}`;
  const policy = `${r.policy.level}:${r.policy.version}`;
  const count = r.violations.length;
  const countText = count === 0 ? '' : `  ${count} violation${count === 1 ? '' : 's'}`;
  lines.push(
    `${statusText(r, p)}  ${p.bold(resourceName(r))}  ${p.dim(where)}  ${p.dim(policy)}${countText}`,
  );
  if (r.reason !== undefined) lines.push(`    ${p.dim(r.reason)}`);
  for (const m of r.messages ?? []) lines.push(`    ${p.dim(`${m.assignment} (${m.effect}):`)} ${m.text}`);
  for (const v of r.violations) {
    const pos = v.line === null ? '' : `${v.line}:${v.column ?? 1}`;
    const container = v.container === null ? '' : ` [${v.container}]`;
    lines.push(`    ${p.dim(pos.padEnd(8))}${p.cyan(v.check)}${container}  ${effectText(v, p)}`);
    lines.push(`        ${v.message}`);
    lines.push(`        ${p.dim(`at ${v.path}`)}`);
    if (v.parameter !== null) lines.push(`        ${p.dim(`decided by parameter ${v.parameter}`)}`);
    lines.push(`        ${p.dim(`fix: ${v.hint}`)}`);
  }
  return `${lines.join('\n')}\n`;
}

function renderFooter(report: ScanReport, p: Palette, afterResults: boolean): string {
  const lines: string[] = [];
  if (report.errors.length > 0) {
    if (afterResults) lines.push('');
    lines.push(p.bold(p.red(`${report.errors.length} input error${report.errors.length === 1 ? '' : 's'}:`)));
    for (const e of report.errors) {
      const pos = e.line === null ? '' : `:${e.line}${e.column == null ? '' : `:${e.column}`}`;
      lines.push(`  ${e.file ?? '-'}${pos}: ${e.message}`);
      if (e.hint !== undefined) lines.push(`    ${p.dim(`hint: ${e.hint}`)}`);
    }
  }
  const s = report.summary;
  const exempted = report.results.reduce(
    (n, r) => n + r.violations.filter((v) => v.exemptedBy !== null).length,
    0,
  );
  const parts = [
    `${s.documents} object${s.documents === 1 ? '' : 's'}`,
    s.denied > 0 ? p.red(`${s.denied} denied`) : `${s.denied} denied`,
    `${s.warned} warned`,
    `${s.audited} audited`,
    p.green(`${s.allowed} passed`),
  ];
  if (s.exempt > 0) parts.push(`${s.exempt} exempt`);
  if (exempted > 0) parts.push(`${exempted} violation${exempted === 1 ? '' : 's'} exempted`);
  if (s.notApplicable > 0) parts.push(`${s.notApplicable} not applicable`);
  if (s.skipped > 0) parts.push(`${s.skipped} skipped (not Kubernetes objects)`);
  if (s.errors > 0) parts.push(p.red(`${s.errors} error${s.errors === 1 ? '' : 's'}`));
  if (afterResults || lines.length > 0) lines.push('');
  lines.push(parts.join(', '));
  return `${lines.join('\n')}\n`;
}

/** The table in pieces (one per resource, then the footer), for writing large reports. */
export function* tableChunks(report: ScanReport, opts: { color: boolean }): Generator<string> {
  const p = opts.color ? COLOR : PLAIN;
  let any = false;
  for (const r of report.results) {
    if (r.status === 'notApplicable') continue;
    any = true;
    yield renderResult(r, p);
  }
  yield renderFooter(report, p, any);
}

export function renderTable(report: ScanReport, opts: { color: boolean }): string {
  return [...tableChunks(report, opts)].join('');
}
