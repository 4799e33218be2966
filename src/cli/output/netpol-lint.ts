/**
 * `podsec netpol lint` as a table (grouped: policy findings with the field's file:line:column, then the
 * pods no policy isolates, which can be many and so are listed compactly per direction) and as JSON.
 */
import type { LintCode, LintFinding, LintReport } from '../../netpol/lint.js';
import { formatIgnored } from '../../netpol/load.js';

export interface ProblemJson {
  file: string | null;
  line: number;
  column?: number;
  path?: string;
  message: string;
}

export interface LintFindingJson {
  code: LintCode;
  message: string;
  policy: string | null;
  pod: string | null;
  direction: 'ingress' | 'egress' | null;
  path: string | null;
  file: string | null;
  line: number | null;
  column: number | null;
}

export interface LintJson {
  findings: LintFindingJson[];
  /** Findings per code and their total; `ignored`: objects of kinds the engine has no use for, by kind. */
  summary: Record<LintCode, number> & { total: number; ignored: Record<string, number> };
  /** Checks skipped and why (not findings). */
  notes: string[];
  errors: ProblemJson[];
}

export function findingJson(f: LintFinding): LintFindingJson {
  return {
    code: f.code,
    message: f.message,
    policy: f.policy === null ? null : `${f.policy.namespace}/${f.policy.name}`,
    pod: f.pod,
    direction: f.direction,
    path: f.path,
    file: f.location?.file ?? null,
    line: f.location?.line ?? null,
    column: f.location?.column ?? null,
  };
}

export function lintJson(
  report: LintReport,
  errors: ProblemJson[] = [],
  ignored: Readonly<Record<string, number>> = {},
): LintJson {
  return {
    findings: report.findings.map(findingJson),
    summary: { ...report.counts, total: report.findings.length, ignored: { ...ignored } },
    notes: [...report.notes],
    errors,
  };
}

function where(f: LintFinding): string {
  const at = f.location;
  if (at === null) return '';
  return `${at.file ?? '(cluster)'}:${at.line}${at.column === null ? '' : `:${at.column}`}`;
}

export function renderLintTable(report: LintReport, ignored: Readonly<Record<string, number>> = {}): string {
  const lines: string[] = [];
  const policyFindings = report.findings.filter((f) => f.policy !== null);
  if (policyFindings.length > 0) {
    const rows = policyFindings.map((f) => [
      where(f),
      `${f.policy!.namespace}/${f.policy!.name}`,
      f.code,
      `${f.path === null ? '' : `${f.path}: `}${f.message}`,
    ]);
    const head = ['WHERE', 'POLICY', 'PROBLEM', 'DETAIL'];
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    const fmt = (r: string[]) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd();
    lines.push(fmt(head), ...rows.map(fmt), '');
  }
  for (const dir of ['ingress', 'egress'] as const) {
    const pods = report.findings.filter((f) => f.code === 'pod-not-isolated' && f.direction === dir);
    if (pods.length === 0) continue;
    const what = dir === 'ingress' ? 'every pod may reach them' : 'they may reach every pod and address';
    lines.push(`${pods.length} pod${pods.length === 1 ? '' : 's'} not isolated for ${dir} (${what}):`);
    for (const f of pods) lines.push(`  ${f.pod ?? ''}`);
    lines.push('');
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  const ignoredLine = formatIgnored(ignored);
  if (ignoredLine !== null) lines.push(ignoredLine);
  const total = report.findings.length;
  if (total === 0) lines.push('no problems found');
  else {
    const parts = Object.entries(report.counts)
      .filter(([, n]) => n > 0)
      .map(([code, n]) => `${n} ${code}`);
    lines.push(`${total} problem${total === 1 ? '' : 's'}: ${parts.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
