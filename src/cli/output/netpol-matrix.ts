/**
 * `podsec netpol matrix` as text and JSON. The JSON keeps the contract's shape
 * (`pods`, `port`, `protocol`, `allowed[from][to]`) first so scripts can index it directly; notes
 * about pods whose answer means something else (node traffic, representative, no address) follow.
 * The table has to read at a glance for dozens of pods: rows are named once, columns carry only
 * the row's index, namespaces are blocks separated by a gap, and a cell is one character.
 */

export type MatrixProtocol = 'TCP' | 'UDP' | 'SCTP';

/** Why a pod's row or column means something other than "this pod's address". */
export type MatrixPodNote = 'hostNetwork' | 'representative' | 'noAddress';

export interface MatrixPod {
  readonly namespace: string;
  readonly name: string;
  readonly notes: readonly MatrixPodNote[];
}

/** What every matrix renderer draws: `allowed[i][j]` is pods[i] -> pods[j]. */
export interface MatrixView {
  readonly pods: readonly MatrixPod[];
  readonly port: number;
  readonly protocol: MatrixProtocol;
  readonly allowed: readonly (readonly boolean[])[];
}

export interface MatrixJson {
  pods: string[];
  port: number;
  protocol: MatrixProtocol;
  allowed: boolean[][];
  /** Pods with notes, by `ns/name`; absent pods have none. */
  notes: Record<string, MatrixPodNote[]>;
  /** `ignored`: objects of kinds the engine has no use for, by kind. */
  summary: { pods: number; pairs: number; allowed: number; denied: number; ignored?: Record<string, number> };
  errors: { file: string | null; line: number; column?: number; message: string }[];
}

export const NOTE_TEXT: Record<MatrixPodNote, string> = {
  hostNetwork: 'hostNetwork: node traffic, never selected by a policy',
  representative: 'representative pod of a workload without running pods',
  noAddress: 'no address: matches no ipBlock',
};

const NOTE_SHORT: Record<MatrixPodNote, string> = {
  hostNetwork: 'host',
  representative: 'rep',
  noAddress: 'no-ip',
};

export function podId(p: MatrixPod): string {
  return `${p.namespace}/${p.name}`;
}

/** Pairs between distinct pods (loopback is always allowed and not counted). */
export function matrixCounts(view: MatrixView): MatrixJson['summary'] {
  let allowed = 0;
  let denied = 0;
  view.allowed.forEach((row, i) =>
    row.forEach((ok, j) => {
      if (i === j) return;
      if (ok) allowed++;
      else denied++;
    }),
  );
  return { pods: view.pods.length, pairs: allowed + denied, allowed, denied };
}

export function matrixJson(
  view: MatrixView,
  errors: MatrixJson['errors'] = [],
  ignored: Readonly<Record<string, number>> = {},
): MatrixJson {
  const notes: Record<string, MatrixPodNote[]> = {};
  for (const p of view.pods) if (p.notes.length > 0) notes[podId(p)] = [...p.notes];
  return {
    pods: view.pods.map(podId),
    port: view.port,
    protocol: view.protocol,
    allowed: view.allowed.map((r) => [...r]),
    notes,
    summary: { ...matrixCounts(view), ignored: { ...ignored } },
    errors,
  };
}

/** Consecutive runs of the same namespace (the caller orders pods by namespace). */
export function namespaceGroups(
  pods: readonly MatrixPod[],
): { namespace: string; start: number; end: number }[] {
  const groups: { namespace: string; start: number; end: number }[] = [];
  pods.forEach((p, i) => {
    const last = groups.at(-1);
    if (last !== undefined && last.namespace === p.namespace) last.end = i + 1;
    else groups.push({ namespace: p.namespace, start: i, end: i + 1 });
  });
  return groups;
}

export interface MatrixTableOptions {
  readonly color?: boolean;
}

const ansi = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const red = ansi(31, 39);
const dim = ansi(2, 22);

/**
 * ```
 * 80/TCP  row = from, column = to   '.' allowed  'X' denied  '-' self (always allowed)
 *
 *              0 1 2   3
 * x   0 a      - . X   .
 * ...
 * ```
 * A gap of two spaces separates namespaces both ways; notes follow the row's pod name.
 */
export function renderMatrixTable(view: MatrixView, opts: MatrixTableOptions = {}): string {
  const color = opts.color === true;
  const n = view.pods.length;
  const counts = matrixCounts(view);
  const head =
    `${view.port}/${view.protocol}: ${n} pod${n === 1 ? '' : 's'}, ` +
    `${counts.denied} of ${counts.pairs} pairs denied\n` +
    `row = from, column = to; '.' allowed, 'X' denied, '-' the pod to itself (always allowed)\n`;
  if (n === 0) return `${head}\nno pods in the input\n`;
  const groups = namespaceGroups(view.pods);
  const groupOf: number[] = [];
  groups.forEach((g, gi) => {
    for (let i = g.start; i < g.end; i++) groupOf[i] = gi;
  });
  const w = String(n - 1).length;
  const nsWidth = Math.max(...groups.map((g) => g.namespace.length));
  const label = (p: MatrixPod): string =>
    p.notes.length === 0 ? p.name : `${p.name} (${p.notes.map((x) => NOTE_SHORT[x]).join(',')})`;
  const nameWidth = Math.max(...view.pods.map((p) => label(p).length));
  const rowLabelWidth = nsWidth + 1 + w + 1 + nameWidth;
  // Blocks only help when some namespace holds several pods; one pod per namespace reads best dense.
  const blocks = groups.some((g) => g.end - g.start > 1);
  const gap = (j: number): string => (blocks && j > 0 && groupOf[j] !== groupOf[j - 1] ? '  ' : '');

  const lines: string[] = [];
  // Namespace names above their column blocks where they fit (blank where not): row labels name them anyway.
  let nsLine = ' '.repeat(rowLabelWidth + 2);
  groups.forEach((g, gi) => {
    const blockWidth = (g.end - g.start) * (w + 1) - 1;
    const text = g.namespace.length <= blockWidth ? g.namespace : '';
    nsLine += (blocks && gi > 0 ? '  ' : '') + text.padEnd(blockWidth) + ' ';
  });
  if (nsLine.trim() !== '') lines.push(nsLine.trimEnd());
  let idxLine = ' '.repeat(rowLabelWidth + 2);
  for (let j = 0; j < n; j++) idxLine += `${gap(j)}${String(j).padStart(w)} `;
  lines.push(idxLine.trimEnd());

  for (let i = 0; i < n; i++) {
    const p = view.pods[i]!;
    if (blocks && i > 0 && groupOf[i] !== groupOf[i - 1]) lines.push('');
    const first = i === groups[groupOf[i]!]!.start;
    let line = `${(first ? p.namespace : '').padEnd(nsWidth)} ${String(i).padStart(w)} ${label(p).padEnd(nameWidth)}  `;
    const row = view.allowed[i] ?? [];
    for (let j = 0; j < n; j++) {
      let cell = i === j ? '-' : row[j] === true ? '.' : 'X';
      if (color) cell = cell === 'X' ? red(cell) : dim(cell);
      line += `${gap(j)}${' '.repeat(w - 1)}${cell} `;
    }
    lines.push(line.trimEnd());
  }
  const notes = view.pods.flatMap((p, i) =>
    p.notes.length === 0 ? [] : [`  ${i} ${podId(p)}: ${p.notes.map((note) => NOTE_TEXT[note]).join('; ')}`],
  );
  const tail = notes.length === 0 ? '' : `\nnotes:\n${notes.join('\n')}\n`;
  return `${head}\n${lines.join('\n')}\n${tail}`;
}
