/**
 * Scan benchmark: how fast manifests load, with and without source positions, against the `yaml`
 * package's document model; with --cli, the whole `podsec scan` process. Prints one line per figure.
 *
 * Usage: tsx bench/scan.ts [--file F] [--count N] [--runs R] [--cli]
 * The file defaults to bench/out/deployments.yaml, generated (N Deployments, default 10,000) when absent.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseManifests } from '../src/lib/manifests/index.js';
import { generate } from './gen-deployments.js';

interface Args {
  file: string;
  count: number;
  runs: number;
  cli: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { file: 'bench/out/deployments.yaml', count: 10_000, runs: 3, cli: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--file') args.file = argv[++i] ?? args.file;
    else if (a === '--count') args.count = Number(argv[++i]);
    else if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--cli') args.cli = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

/** Best wall time of `runs` runs, in milliseconds. */
function best(runs: number, fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

function line(label: string, docs: number, ms: number, note = ''): void {
  const rate = Math.round((docs / ms) * 1000).toLocaleString('en-US');
  console.log(`${label.padEnd(34)} ${rate.padStart(8)} docs/s  (${docs} docs in ${ms.toFixed(0)} ms${note})`);
}

// The paths a scanner asks for on a failing Deployment: two present fields and one absent one.
const PATHS = [
  ['spec', 'template', 'spec', 'containers', 2, 'securityContext', 'privileged'],
  ['spec', 'template', 'spec', 'containers', 0, 'ports', 0, 'hostPort'],
  ['spec', 'template', 'spec', 'containers', 1, 'securityContext', 'allowPrivilegeEscalation'],
] as const;

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(args.file)) {
    mkdirSync(dirname(args.file), { recursive: true });
    writeFileSync(args.file, generate(args.count));
  }
  const text = readFileSync(args.file, 'utf8');
  const kib = (text.length / 1024).toFixed(0);
  console.log(`input: ${args.file}, ${kib} KiB, node ${process.version}, best of ${args.runs} runs`);

  let docs = 0;
  const parseMs = best(args.runs, () => {
    const r = parseManifests(text);
    docs = r.documents.length;
    if (r.problems.length > 0) throw new Error(`unexpected problems: ${JSON.stringify(r.problems[0])}`);
  });
  line('parseManifests', docs, parseMs);

  let located = 0;
  const locateMs = best(args.runs, () => {
    located = 0;
    for (const doc of parseManifests(text).documents) {
      for (const p of PATHS) if (doc.locate(p).exact) located++;
    }
  });
  line('parseManifests + 3 locate()/doc', docs, locateMs, `, ${located} exact`);

  let baseDocs = 0;
  const baseMs = best(1, () => {
    const all = parseAllDocuments(text);
    const list = Array.isArray(all) ? all : [];
    for (const d of list) d.toJS();
    baseDocs = list.length;
  });
  line('yaml parseAllDocuments + toJS', baseDocs, baseMs, ', 1 run');

  if (args.cli) {
    const main = 'dist/cli/main.js';
    if (!existsSync(main)) {
      console.log(`cli: ${main} not found; run npm run build first`);
      return;
    }
    let reported = -1;
    const cliMs = best(args.runs, () => {
      const r = spawnSync(process.execPath, [main, 'scan', args.file, '--format', 'json'], {
        maxBuffer: 1 << 30,
        encoding: 'utf8',
      });
      if (r.status !== 0 && r.status !== 1) throw new Error(`podsec scan exited ${r.status}: ${r.stderr}`);
      try {
        reported = (JSON.parse(r.stdout) as { summary?: { documents?: number } }).summary?.documents ?? -1;
      } catch {
        reported = -1;
      }
    });
    if (reported !== docs) {
      console.log(
        `cli: output is not a report of ${docs} documents (is dist/ built from the current source?)`,
      );
      return;
    }
    line('podsec scan --format json (process)', docs, cliMs);
  }
}

main();
