/**
 * `podsec netpol matrix --format html`: one self-contained page (inline CSS, no script, no
 * fonts or images from anywhere) with the reachability grid coloured by verdict and grouped by
 * namespace. Column headers are written vertically so dozens of pods fit, and both header rows
 * and the row labels stay in view while scrolling. Each cell carries a title (from -> to: verdict)
 * and a symbol besides its colour, so the grid reads without colour too.
 * Every string from the input goes through `esc`.
 */
import { esc } from './html-report.js';
import {
  matrixCounts,
  namespaceGroups,
  NOTE_TEXT,
  podId,
  type MatrixPod,
  type MatrixView,
} from './netpol-matrix.js';

export interface MatrixHtmlOptions {
  readonly source: string;
  readonly generatedAt: Date;
}

const CSS = `
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1f2933;background:#fff}
h1{font-size:20px;margin:0 0 4px}
.meta{color:#616e7c;margin:0 0 16px}
.totals{display:flex;gap:16px;margin:0 0 12px;flex-wrap:wrap}
.totals div{border:1px solid #e4e7eb;border-radius:6px;padding:8px 14px}
.totals b{display:block;font-size:20px}
.legend{display:flex;gap:18px;align-items:center;margin:0 0 16px;color:#3e4c59;flex-wrap:wrap}
.legend span{display:inline-flex;align-items:center;gap:6px}
.sw{display:inline-block;width:16px;height:16px;border-radius:3px;text-align:center;font-size:11px;line-height:16px;color:#fff}
.wrap{overflow:auto;max-height:85vh;border:1px solid #e4e7eb;border-radius:6px;display:inline-block;max-width:100%}
table.grid{border-collapse:separate;border-spacing:0}
.grid th,.grid td{padding:0}
.grid thead th{position:sticky;background:#f5f7fa;z-index:2}
.grid thead tr.ns th{top:0;height:28px;font-size:12px;font-weight:600;text-align:left;padding:0 6px;border-bottom:1px solid #cbd2d9;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.grid thead tr.pods th{top:28px;vertical-align:bottom;font-weight:400;font-size:12px}
.grid thead tr.pods th .v{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;padding:6px 0;display:inline-block;max-height:234px;overflow:hidden;text-overflow:ellipsis}
.grid thead th.corner{left:0;z-index:3;text-align:right;vertical-align:bottom;padding:4px 8px;color:#616e7c;font-size:11px;font-weight:400}
.grid tbody th{position:sticky;left:0;background:#f5f7fa;z-index:1;text-align:left;font-weight:400;font-size:12px;padding:0 8px;white-space:nowrap;height:22px;max-width:280px;overflow:hidden;text-overflow:ellipsis}
.grid tbody th .ns{color:#616e7c}
.grid tbody th .idx,.grid thead .idx{color:#9aa5b1;font-variant-numeric:tabular-nums}
.grid td{width:22px;min-width:22px;height:22px;text-align:center;font-size:11px;border-right:1px solid #fff;border-bottom:1px solid #fff}
.grid td.a{background:#3f9b6b}
.grid td.d{background:#d64545;color:#fff;font-weight:700}
.grid td.s{background:#cbd2d9;color:#52606d}
.grid .gl{border-left:3px solid #1f2933}
.grid tr.gt th,.grid tr.gt td{border-top:3px solid #1f2933}
.note{color:#b44d12}
ul.notes{margin:8px 0 0;padding-left:20px;color:#3e4c59}
.empty{color:#616e7c;font-style:italic}
`;

/** Above this many pods, cells are bare (a 1,000-pod grid with titles is about 100 MB of HTML). */
export const DETAILED_MAX = 200;

function noteMark(p: MatrixPod): string {
  return p.notes.length === 0
    ? ''
    : ' <span class="note" title="' + esc(p.notes.map((n) => NOTE_TEXT[n]).join('; ')) + '">*</span>';
}

export function renderMatrixHtml(view: MatrixView, opts: MatrixHtmlOptions): string {
  const n = view.pods.length;
  const c = matrixCounts(view);
  const groups = namespaceGroups(view.pods);
  const groupStart = new Set(groups.map((g) => g.start).filter((s) => s > 0));
  const detailed = n <= DETAILED_MAX;
  const title = `Reachability on ${view.port}/${view.protocol}`;
  const out: string[] = [];
  out.push(
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${esc(title)}</h1>`,
    `<p class="meta">${esc(opts.source)} &middot; generated ${esc(opts.generatedAt.toISOString())}</p>`,
    '<div class="totals">',
    `<div><b data-count="pods">${n}</b>pods</div>`,
    `<div><b data-count="namespaces">${groups.length}</b>namespaces</div>`,
    `<div><b data-count="allowed">${c.allowed}</b>pairs allowed</div>`,
    `<div><b data-count="denied">${c.denied}</b>pairs denied</div>`,
    '</div>',
    '<div class="legend"><span>row = from, column = to</span>',
    '<span><i class="sw" style="background:#3f9b6b"></i>allowed</span>',
    '<span><i class="sw" style="background:#d64545">&times;</i>denied</span>',
    '<span><i class="sw" style="background:#cbd2d9;color:#52606d">&ndash;</i>the pod to itself (always allowed)</span>',
    '<span><span class="note">*</span>&nbsp;see notes</span></div>',
  );
  if (n === 0) {
    out.push('<p class="empty">No pods in the input.</p></body></html>\n');
    return out.join('\n');
  }
  out.push('<div class="wrap"><table class="grid"><thead><tr class="ns">');
  out.push('<th class="corner" rowspan="2">from &darr; &nbsp; to &rarr;</th>');
  for (const g of groups) {
    out.push(
      `<th colspan="${g.end - g.start}" class="${g.start > 0 ? 'gl' : ''}" title="${esc(g.namespace)}">${esc(g.namespace)}</th>`,
    );
  }
  // Tall enough for the longest name (about 7 px a character at 12 px), within reason.
  const longest = Math.max(...view.pods.map((p) => p.name.length + String(n).length + 3));
  out.push(`</tr><tr class="pods" style="height:${Math.min(240, Math.max(60, longest * 7 + 12))}px">`);
  view.pods.forEach((p, j) => {
    out.push(
      `<th class="${groupStart.has(j) ? 'gl' : ''}" title="${esc(podId(p))}"><span class="v"><span class="idx">${j}</span> ${esc(p.name)}${noteMark(p)}</span></th>`,
    );
  });
  out.push('</tr></thead><tbody>');
  view.pods.forEach((p, i) => {
    const row = view.allowed[i] ?? [];
    const cells: string[] = [];
    for (let j = 0; j < n; j++) {
      const to = view.pods[j]!;
      const gl = groupStart.has(j) ? ' gl' : '';
      const verdict = i === j ? 'self' : row[j] === true ? 'allowed' : 'denied';
      const cls = verdict === 'self' ? 's' : verdict === 'allowed' ? 'a' : 'd';
      const sym = verdict === 'self' ? '&ndash;' : verdict === 'denied' ? '&times;' : '';
      cells.push(
        detailed
          ? `<td class="${cls}${gl}" data-from="${i}" data-to="${j}" title="${esc(`${podId(p)} -> ${podId(to)}: ${verdict}`)}">${sym}</td>`
          : `<td class="${cls}${gl}">${sym}</td>`,
      );
    }
    out.push(
      `<tr${groupStart.has(i) ? ' class="gt"' : ''}><th title="${esc(podId(p))}"><span class="idx">${i}</span> <span class="ns">${esc(p.namespace)}/</span>${esc(p.name)}${noteMark(p)}</th>${cells.join('')}</tr>`,
    );
  });
  out.push('</tbody></table></div>');
  if (!detailed) {
    out.push(
      `<p class="meta">Over ${DETAILED_MAX} pods, cells carry no hover titles (the page stays a manageable size); row and column headers still name every pod.</p>`,
    );
  }
  const notes = view.pods.flatMap((p) =>
    p.notes.map((note) => `<li>${esc(podId(p))}: ${esc(NOTE_TEXT[note])}</li>`),
  );
  if (notes.length > 0)
    out.push(`<h2 style="font-size:15px;margin:20px 0 0">Notes</h2><ul class="notes">${notes.join('')}</ul>`);
  out.push('</body></html>\n');
  return out.join('\n');
}
