/**
 * `podsec audit --format html`: a self-contained compliance report (inline CSS and SVG, no
 * scripts, fonts or images from anywhere) that can be mailed, attached to a ticket or opened
 * offline. It leads with the picture (compliance ring, status bar, totals), then answers the
 * questions people ask in order: which namespaces, which checks, which assignments, which
 * workloads are worst, what is exempted, and finally every finding.
 * Every string that came from the cluster or the user goes through `esc`.
 */
import type { AuditReport, AuditResultJson } from '../../audit/report.js';

export interface HtmlReportOptions {
  readonly source: string;
  readonly generatedAt: Date;
  readonly title?: string;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and attribute values. */
export function esc(text: string | number | null | undefined): string {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Bucket = 'denied' | 'warned' | 'audited' | 'allowed' | 'exempt';
const BUCKETS: readonly Bucket[] = ['denied', 'warned', 'audited', 'exempt', 'allowed'];
const BUCKET_LABEL: Record<Bucket, string> = {
  denied: 'Denied',
  warned: 'Warned',
  audited: 'Audited',
  exempt: 'Exempt',
  allowed: 'Compliant',
};
const BUCKET_COLOR: Record<Bucket, string> = {
  denied: '#d64545',
  warned: '#e8a33d',
  audited: '#7b8cde',
  exempt: '#9aa5b1',
  allowed: '#3f9b6b',
};

function bucketOf(r: AuditResultJson): Bucket | null {
  return r.status === 'notApplicable' ? null : r.status;
}

function counts(results: readonly AuditResultJson[]): Record<Bucket, number> {
  const c: Record<Bucket, number> = { denied: 0, warned: 0, audited: 0, exempt: 0, allowed: 0 };
  for (const r of results) {
    const b = bucketOf(r);
    if (b !== null) c[b]++;
  }
  return c;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

function ring(percent: number, label: string): string {
  const r = 52;
  const circ = 2 * Math.PI * r;
  const filled = (Math.max(0, Math.min(100, percent)) / 100) * circ;
  const color = percent >= 90 ? '#3f9b6b' : percent >= 60 ? '#e8a33d' : '#d64545';
  return `<svg class="ring" viewBox="0 0 128 128" role="img" aria-label="${esc(label)}">
<circle cx="64" cy="64" r="${r}" fill="none" stroke="#e6e9ee" stroke-width="14"/>
<circle cx="64" cy="64" r="${r}" fill="none" stroke="${color}" stroke-width="14" stroke-linecap="round"
 stroke-dasharray="${filled.toFixed(2)} ${circ.toFixed(2)}" transform="rotate(-90 64 64)"/>
<text x="64" y="62" text-anchor="middle" class="ring-value">${Math.round(percent)}%</text>
<text x="64" y="82" text-anchor="middle" class="ring-label">compliant</text></svg>`;
}

function stackedBar(c: Record<Bucket, number>, height = 14): string {
  const total = BUCKETS.reduce((s, b) => s + c[b], 0);
  if (total === 0) return `<svg class="bar" viewBox="0 0 100 ${height}" preserveAspectRatio="none"></svg>`;
  let x = 0;
  const rects = BUCKETS.filter((b) => c[b] > 0).map((b) => {
    const w = (c[b] / total) * 100;
    const rect = `<rect x="${x.toFixed(3)}" y="0" width="${w.toFixed(3)}" height="${height}" fill="${BUCKET_COLOR[b]}"><title>${esc(`${BUCKET_LABEL[b]}: ${c[b]}`)}</title></rect>`;
    x += w;
    return rect;
  });
  return `<svg class="bar" viewBox="0 0 100 ${height}" preserveAspectRatio="none" role="img">${rects.join('')}</svg>`;
}

function meter(value: number, max: number, color: string): string {
  const w = max === 0 ? 0 : (value / max) * 100;
  return `<svg class="meter" viewBox="0 0 100 10" preserveAspectRatio="none"><rect x="0" y="0" width="100" height="10" fill="#eef0f4"/><rect x="0" y="0" width="${w.toFixed(2)}" height="10" fill="${color}"/></svg>`;
}

function badge(r: AuditResultJson): string {
  const b = bucketOf(r);
  if (b === null) return '<span class="badge na">n/a</span>';
  return `<span class="badge ${b}">${BUCKET_LABEL[b]}</span>`;
}

function workloadName(r: AuditResultJson): string {
  return `<span class="kind">${esc(r.kind)}</span> ${esc(r.name)}`;
}

function isFinding(r: AuditResultJson): boolean {
  return r.status === 'denied' || r.status === 'warned' || r.status === 'audited';
}

interface CheckRow {
  check: string;
  workloads: number;
  pods: number;
  denied: number;
  hint: string;
}

interface AssignmentRow {
  name: string;
  effects: Set<string>;
  violations: number;
  workloads: Set<string>;
  exempted: number;
}

export function renderHtmlReport(report: AuditReport, opts: HtmlReportOptions): string {
  const results = report.results.filter((r) => r.status !== 'notApplicable');
  const c = counts(results);
  const judged = BUCKETS.reduce((s, b) => s + c[b], 0);
  const compliant = c.allowed + c.exempt;
  const percent = judged === 0 ? 100 : (compliant / judged) * 100;
  const podsAffected = results.filter(isFinding).reduce((s, r) => s + Math.max(r.pods, 0), 0);

  // Per namespace
  const byNs = new Map<string, AuditResultJson[]>();
  for (const r of results) {
    const ns = r.namespace ?? '(cluster-scoped)';
    const list = byNs.get(ns);
    if (list === undefined) byNs.set(ns, [r]);
    else list.push(r);
  }
  const nsRows = [...byNs.entries()]
    .map(([ns, list]) => ({ ns, list, c: counts(list), pods: list.reduce((s, r) => s + r.pods, 0) }))
    .sort(
      (a, b) =>
        b.c.denied - a.c.denied ||
        b.c.warned + b.c.audited - (a.c.warned + a.c.audited) ||
        a.ns.localeCompare(b.ns),
    );

  // Per check and per assignment
  const checks = new Map<string, CheckRow>();
  const assignments = new Map<string, AssignmentRow>();
  const exemptions: {
    r: AuditResultJson;
    check: string;
    container: string | null;
    by: NonNullable<AuditResultJson['violations'][number]['exemptedBy']>;
  }[] = [];
  for (const r of results) {
    const seen = new Set<string>();
    for (const v of r.violations) {
      for (const e of v.effects) {
        let a = assignments.get(e.assignment);
        if (a === undefined) {
          a = { name: e.assignment, effects: new Set(), violations: 0, workloads: new Set(), exempted: 0 };
          assignments.set(e.assignment, a);
        }
        a.effects.add(e.effect);
        if (v.exemptedBy === null) {
          a.violations++;
          a.workloads.add(`${r.namespace ?? ''}/${r.kind}/${r.name}`);
        } else a.exempted++;
      }
      if (v.exemptedBy !== null) {
        exemptions.push({ r, check: v.check, container: v.container, by: v.exemptedBy });
        continue;
      }
      if (seen.has(v.check)) continue;
      seen.add(v.check);
      let row = checks.get(v.check);
      if (row === undefined) {
        row = { check: v.check, workloads: 0, pods: 0, denied: 0, hint: v.hint };
        checks.set(v.check, row);
      }
      row.workloads++;
      row.pods += r.pods;
      if (v.effects.some((e) => e.effect === 'deny')) row.denied++;
    }
  }
  const checkRows = [...checks.values()].sort(
    (a, b) => b.workloads - a.workloads || a.check.localeCompare(b.check),
  );
  const maxCheck = checkRows[0]?.workloads ?? 0;
  const assignmentRows = [...assignments.values()].sort(
    (a, b) => b.violations - a.violations || a.name.localeCompare(b.name),
  );

  const score = (r: AuditResultJson): number => {
    const counted = r.violations.filter((v) => v.exemptedBy === null).length;
    const weight = r.status === 'denied' ? 3 : r.status === 'warned' ? 2 : r.status === 'audited' ? 1 : 0;
    return weight * 1_000_000 + counted * Math.max(1, r.pods) * 100 + r.pods;
  };
  const worst = results
    .filter(isFinding)
    .sort((a, b) => score(b) - score(a) || (a.name ?? '').localeCompare(b.name ?? ''))
    .slice(0, 10);
  const exemptResults = results.filter((r) => r.status === 'exempt');

  const title = opts.title ?? 'Pod security audit';
  const html: string[] = [];
  html.push(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style></head><body>
<header><div><h1>${esc(title)}</h1>
<p class="meta">Source <b>${esc(opts.source)}</b> · generated ${esc(opts.generatedAt.toISOString().replace('T', ' ').slice(0, 19))} UTC · podsec</p></div></header>
<main>
<section class="overview">
<div class="card ring-card">${ring(percent, `${Math.round(percent)}% of workloads compliant`)}</div>
<div class="card totals">
<div class="headline">${plural(judged, 'workload')} <span>· ${plural(report.summary.pods, 'pod')}</span></div>
${stackedBar(c, 18)}
<ul class="legend">${BUCKETS.map((b) => `<li><i style="background:${BUCKET_COLOR[b]}"></i><b data-count="${b}">${c[b].toLocaleString('en-US')}</b> ${BUCKET_LABEL[b]}</li>`).join('')}</ul>
<div class="kpis">
<div class="kpi ${c.denied > 0 ? 'bad' : 'good'}"><b>${c.denied.toLocaleString('en-US')}</b><span>workloads a deny effect would refuse</span></div>
<div class="kpi ${podsAffected > 0 ? 'warn' : 'good'}"><b>${podsAffected.toLocaleString('en-US')}</b><span>pods with findings</span></div>
<div class="kpi"><b>${checkRows.length}</b><span>checks failing</span></div>
<div class="kpi"><b>${exemptions.length + exemptResults.length}</b><span>exemptions in use</span></div>
</div></div></section>`);

  if (report.errors.length > 0) {
    html.push(
      `<section class="card errors"><h2>${plural(report.errors.length, 'problem')} while reading the cluster</h2><ul>${report.errors
        .map(
          (e) =>
            `<li><code>${esc(e.file ?? 'cluster')}${e.line === null ? '' : `:${e.line}`}${e.column == null ? '' : `:${e.column}`}</code> ${esc(e.message)}${e.hint === undefined ? '' : `<br><small>${esc(e.hint)}</small>`}</li>`,
        )
        .join('')}</ul></section>`,
    );
  }

  html.push(`<div class="grid">
<section class="card"><h2>Namespaces</h2><table class="ns">
<thead><tr><th>Namespace</th><th class="wide">Workloads by status</th><th class="num">Denied</th><th class="num">Warn/audit</th><th class="num">OK</th><th class="num">Pods</th></tr></thead><tbody>
${nsRows
  .map(
    (n) =>
      `<tr><td><b>${esc(n.ns)}</b></td><td>${stackedBar(n.c)}</td><td class="num ${n.c.denied > 0 ? 'red' : ''}">${n.c.denied}</td><td class="num">${n.c.warned + n.c.audited}</td><td class="num">${n.c.allowed + n.c.exempt}</td><td class="num">${n.pods.toLocaleString('en-US')}</td></tr>`,
  )
  .join('\n')}
</tbody></table></section>
<section class="card"><h2>Checks failing</h2>${
    checkRows.length === 0
      ? '<p class="empty">No check fails. ✓</p>'
      : `<table class="checks"><thead><tr><th>Check</th><th class="wide">Workloads</th><th class="num">Workloads</th><th class="num">Pods</th></tr></thead><tbody>
${checkRows
  .map(
    (r) =>
      `<tr title="${esc(r.hint)}"><td><code>${esc(r.check)}</code></td><td>${meter(r.workloads, maxCheck, r.denied > 0 ? BUCKET_COLOR.denied : BUCKET_COLOR.warned)}</td><td class="num">${r.workloads}</td><td class="num">${r.pods.toLocaleString('en-US')}</td></tr>`,
  )
  .join('\n')}</tbody></table>`
  }</section>
</div>
<div class="grid">
<section class="card"><h2>Worst offenders</h2>${
    worst.length === 0
      ? '<p class="empty">Nothing to fix. ✓</p>'
      : `<ol class="worst">${worst
          .map((r) => {
            const checksFailing = [
              ...new Set(r.violations.filter((v) => v.exemptedBy === null).map((v) => v.check)),
            ];
            return `<li>${badge(r)} <span class="ns-tag">${esc(r.namespace ?? '')}</span> ${workloadName(r)} <span class="muted">· ${plural(r.pods, 'pod')}</span><div class="chips">${checksFailing.map((ch) => `<code>${esc(ch)}</code>`).join(' ')}</div></li>`;
          })
          .join('')}</ol>`
  }</section>
<section class="card"><h2>Assignments</h2>${
    assignmentRows.length === 0
      ? '<p class="empty">No assignment found a violation.</p>'
      : `<table><thead><tr><th>Assignment</th><th>Effect</th><th class="num">Workloads</th><th class="num">Violations</th><th class="num">Exempted</th></tr></thead><tbody>${assignmentRows
          .map(
            (a) =>
              `<tr><td><code>${esc(a.name)}</code></td><td>${[...a.effects]
                .sort()
                .map((e) => `<span class="effect ${esc(e)}">${esc(e)}</span>`)
                .join(
                  ' ',
                )}</td><td class="num">${a.workloads.size}</td><td class="num">${a.violations}</td><td class="num">${a.exempted}</td></tr>`,
          )
          .join('')}</tbody></table>`
  }</section>
</div>
<section class="card"><h2>Exemptions</h2>${
    exemptions.length + exemptResults.length === 0
      ? '<p class="empty">No exemption was used.</p>'
      : `<table><thead><tr><th>Workload</th><th>Check</th><th>Exempted by</th><th>Reason</th><th>Expires</th></tr></thead><tbody>${[
          ...exemptResults.map(
            (r) =>
              `<tr><td><span class="ns-tag">${esc(r.namespace ?? '')}</span> ${workloadName(r)}</td><td><i>all</i></td><td>cluster exemption</td><td>${esc(r.reason ?? '')}</td><td>–</td></tr>`,
          ),
          ...exemptions.map(
            (x) =>
              `<tr><td><span class="ns-tag">${esc(x.r.namespace ?? '')}</span> ${workloadName(x.r)}${x.container === null ? '' : ` <span class="muted">[${esc(x.container)}]</span>`}</td><td><code>${esc(x.check)}</code></td><td><code>${esc(x.by.assignment)}</code></td><td>${esc(x.by.reason)}</td><td>${esc(x.by.expires ?? 'never')}</td></tr>`,
          ),
        ].join('')}</tbody></table>`
  }</section>
<section class="card"><h2>All findings</h2>
${nsRows
  .map((n) => {
    const withFindings = n.list.filter((r) => r.violations.length > 0 || r.status === 'exempt');
    const ok = n.list.length - withFindings.length;
    return `<details${n.c.denied > 0 ? ' open' : ''}><summary><b>${esc(n.ns)}</b> <span class="muted">${plural(n.list.length, 'workload')}, ${withFindings.length} with findings, ${ok} clean</span></summary>
${withFindings
  .map(
    (
      r,
    ) => `<div class="result"><div class="rhead">${badge(r)} ${workloadName(r)} <span class="muted">· ${plural(r.pods, 'pod')} · ${esc(r.policy.level)}:${esc(r.policy.version)}${r.owner === null ? '' : ` · differs from ${esc(r.owner.kind)} ${esc(r.owner.name)}`}</span></div>
${r.reason !== undefined && r.violations.length === 0 ? `<p class="muted">${esc(r.reason)}</p>` : ''}<ul class="violations">${r.violations
      .map(
        (v) =>
          `<li class="${v.exemptedBy === null ? '' : 'exempted'}"><code>${esc(v.check)}</code>${v.container === null ? '' : ` <span class="muted">[${esc(v.container)}]</span>`} ${esc(v.message)}<br><small><code>${esc(v.path)}</code> · ${v.exemptedBy === null ? esc([...new Set(v.effects.map((e) => e.effect))].join(', ')) : `exempt: ${esc(v.exemptedBy.reason)}`} · fix: ${esc(v.hint)}</small></li>`,
      )
      .join('')}</ul></div>`,
  )
  .join('\n')}</details>`;
  })
  .join('\n')}
</section>
</main>
<footer>${report.summary.notApplicable > 0 ? `${plural(report.summary.notApplicable, 'other object')} without pod templates were counted but not judged · ` : ''}podsec result schemaVersion ${report.schemaVersion}</footer>
</body></html>
`);
  return html.join('\n');
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2933;background:#f4f6f9}
header{background:#1f2a44;color:#fff;padding:22px 32px}
header h1{margin:0;font-size:22px;font-weight:600;letter-spacing:.2px}
header .meta{margin:4px 0 0;color:#b8c2d6;font-size:13px}
main{max-width:1240px;margin:0 auto;padding:20px 24px 8px}
.card{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(16,24,40,.08);padding:16px 20px;margin-bottom:18px}
h2{font-size:15px;margin:0 0 12px;color:#323f4b;text-transform:uppercase;letter-spacing:.6px}
.overview{display:grid;grid-template-columns:190px 1fr;gap:18px}
.ring-card{display:flex;align-items:center;justify-content:center;margin:0}
.ring{width:150px;height:150px}
.ring-value{font-size:28px;font-weight:700;fill:#1f2933}
.ring-label{font-size:11px;fill:#7b8794;text-transform:uppercase;letter-spacing:1px}
.totals{margin:0}
.headline{font-size:22px;font-weight:700;margin-bottom:10px}
.headline span{font-weight:400;color:#616e7c;font-size:16px}
svg.bar{width:100%;height:14px;border-radius:4px;overflow:hidden;display:block;background:#eef0f4}
.totals svg.bar{height:18px}
.legend{list-style:none;padding:0;margin:10px 0 0;display:flex;flex-wrap:wrap;gap:16px;font-size:13px;color:#52606d}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.legend b{color:#1f2933}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin-top:14px}
.kpi{border:1px solid #e4e7eb;border-radius:8px;padding:10px 12px}
.kpi b{display:block;font-size:24px}
.kpi span{font-size:12px;color:#616e7c}
.kpi.bad b{color:#d64545}.kpi.warn b{color:#c77c0e}.kpi.good b{color:#3f9b6b}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.grid>.card{min-width:0}
table{width:100%;border-collapse:collapse;font-size:13px}
th{text-align:left;font-weight:600;color:#616e7c;border-bottom:1px solid #e4e7eb;padding:6px 8px;font-size:12px}
td{padding:6px 8px;border-bottom:1px solid #f0f2f5;vertical-align:middle}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th.wide{width:40%}
td.red{color:#d64545;font-weight:700}
svg.meter{width:100%;height:10px;display:block;border-radius:3px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f0f2f5;border-radius:4px;padding:1px 5px}
.badge{display:inline-block;font-size:11px;font-weight:700;border-radius:10px;padding:1px 8px;color:#fff;text-transform:uppercase;letter-spacing:.4px}
.badge.denied{background:#d64545}.badge.warned{background:#e8a33d}.badge.audited{background:#7b8cde}.badge.exempt{background:#9aa5b1}.badge.allowed{background:#3f9b6b}.badge.na{background:#cbd2d9}
.kind{color:#7b8794;font-size:12px}
.ns-tag{font-size:11px;color:#3e4c59;background:#e4e7eb;border-radius:4px;padding:1px 6px}
.muted{color:#7b8794}
.empty{color:#3f9b6b;font-weight:600}
ol.worst{margin:0;padding-left:22px}
ol.worst li{padding:6px 0;border-bottom:1px solid #f0f2f5}
.chips{margin-top:3px;display:flex;flex-wrap:wrap;gap:4px}
.effect{font-size:11px;border-radius:4px;padding:1px 6px;background:#eef0f4}
.effect.deny{background:#fde8e8;color:#b42318}.effect.warn{background:#fef3e2;color:#9a5b00}.effect.audit{background:#eceffd;color:#3b4aa8}
details{border-top:1px solid #f0f2f5;padding:8px 0}
summary{cursor:pointer;font-size:14px}
.result{margin:10px 0 4px 14px}
.rhead{font-size:14px}
ul.violations{margin:6px 0 0;padding-left:18px}
ul.violations li{margin:4px 0}
ul.violations li.exempted{opacity:.6}
.errors{border-left:4px solid #d64545}
footer{max-width:1240px;margin:0 auto;padding:4px 24px 28px;color:#9aa5b1;font-size:12px}
@media (max-width:900px){.grid,.overview{grid-template-columns:1fr}.kpis{grid-template-columns:repeat(2,1fr)}}
@media print{body{background:#fff}.card{box-shadow:none;border:1px solid #e4e7eb}details{display:block}}
`;
