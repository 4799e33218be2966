/**
 * `podsec netpol matrix`: every pod pair on one port, from the engine's matrix. Pods are shown
 * ordered by namespace then name (so namespaces form blocks), whatever order the inputs had.
 */
import { writeFile } from 'node:fs/promises';
import { compile, matrix, type CompiledCluster, type Matrix } from '../../netpol/index.js';
import { formatIgnored } from '../../netpol/load.js';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { renderMatrixHtml } from '../output/netpol-matrix-html.js';
import {
  matrixJson,
  renderMatrixTable,
  type MatrixJson,
  type MatrixPod,
  type MatrixPodNote,
  type MatrixView,
} from '../output/netpol-matrix.js';
import { writeChunks } from '../output/stream-write.js';
import {
  nothingUsable,
  parsePortFlag,
  problemJson,
  readCluster,
  writeProblems,
  type Out,
} from './netpol-input.js';

export interface NetpolMatrixOptions {
  state: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  podCidr: string | undefined;
  exclude: string[];
  port: string;
  protocol: string | undefined;
  format: 'table' | 'json' | 'html';
  output: string | undefined;
  color: boolean;
  stdin?: NodeJS.ReadableStream;
  stdout?: Out;
  stderr?: Out;
  now?: Date;
}

/** The engine's matrix reordered by namespace/name, with each pod's notes. */
export function matrixView(compiled: CompiledCluster, m: Matrix): MatrixView {
  const { model } = compiled;
  const order = model.pods
    .map((_, i) => i)
    .sort((a, b) => {
      const pa = model.pods[a]!;
      const pb = model.pods[b]!;
      return pa.namespace === pb.namespace
        ? pa.name < pb.name
          ? -1
          : pa.name > pb.name
            ? 1
            : 0
        : pa.namespace < pb.namespace
          ? -1
          : 1;
    });
  const pods = order.map((i): MatrixPod => {
    const p = model.pods[i]!;
    const notes: MatrixPodNote[] = [];
    if (p.hostNetwork) notes.push('hostNetwork');
    if (p.representative) notes.push('representative');
    if ((model.podAddresses[i]?.length ?? 0) === 0) notes.push('noAddress');
    return { namespace: p.namespace, name: p.name, notes };
  });
  const allowed = order.map((i) => order.map((j) => m.allowed[i]?.[j] === true));
  return { pods, port: m.port, protocol: m.protocol, allowed };
}

const ROWS = '\u0000rows\u0000';

/** The JSON text with one matrix row a line (a 1,000-pod matrix stays 1,000 lines, not a million). */
export function* matrixJsonChunks(json: MatrixJson): Generator<string> {
  const text = JSON.stringify({ ...json, allowed: ROWS }, null, 2);
  const marker = `"allowed": ${JSON.stringify(ROWS)}`;
  const at = text.indexOf(marker);
  yield `${text.slice(0, at)}"allowed": [`;
  let first = true;
  for (const row of json.allowed) {
    yield `${first ? '' : ','}\n    ${JSON.stringify(row)}`;
    first = false;
  }
  yield `${first ? '' : '\n  '}]${text.slice(at + marker.length)}\n`;
}

export async function runNetpolMatrix(paths: string[], opts: NetpolMatrixOptions): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const { port, protocol } = parsePortFlag(opts.port, opts.protocol);
  const loaded = await readCluster(paths, opts);
  if (opts.format !== 'json' && nothingUsable(loaded)) {
    writeProblems(stderr, loaded.problems);
    return EXIT_USAGE;
  }
  const compiled = compile(loaded.input);
  const view = matrixView(compiled, matrix(compiled, port, protocol));

  let text: Iterable<string>;
  if (opts.format === 'json') {
    text = matrixJsonChunks(matrixJson(view, loaded.problems.map(problemJson), loaded.summary.ignored));
  } else {
    writeProblems(stderr, loaded.problems);
    text =
      opts.format === 'html'
        ? [
            renderMatrixHtml(view, {
              source:
                [...paths, ...(opts.state === undefined ? [] : [`--state ${opts.state}`])].join(' ') ||
                'stdin',
              generatedAt: opts.now ?? new Date(),
            }),
          ]
        : [
            renderMatrixTable(view, {
              color: opts.color && stdout.isTTY === true && process.env['NO_COLOR'] === undefined,
            }),
            ...[formatIgnored(loaded.summary.ignored)].flatMap((l) => (l === null ? [] : [`${l}\n`])),
          ];
  }
  if (opts.output !== undefined) await writeFile(opts.output, [...text].join(''));
  else await writeChunks(stdout, text);
  return loaded.problems.length > 0 ? EXIT_USAGE : EXIT_OK;
}
