/**
 * `podsec netpol lint`: exit 0 when clean, 1 with findings, 2 when some input could not be read,
 * parsed or validated (reported with file:line; the valid objects are still linted, and when
 * there are none the table is left out: only the errors are printed).
 */
import { lintNetpol } from '../../netpol/index.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { lintJson, renderLintTable } from '../output/netpol-lint.js';
import { nothingUsable, problemJson, readCluster, writeProblems, type Out } from './netpol-input.js';

export interface NetpolLintOptions {
  state: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  podCidr: string | undefined;
  exclude: string[];
  format: 'table' | 'json';
  stdin?: NodeJS.ReadableStream;
  stdout?: Out;
  stderr?: Out;
}

export async function runNetpolLint(paths: string[], opts: NetpolLintOptions): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const loaded = await readCluster(paths, opts);
  if (opts.format !== 'json' && nothingUsable(loaded)) {
    writeProblems(stderr, loaded.problems);
    return EXIT_USAGE;
  }
  const report = lintNetpol(loaded.input);
  if (opts.format === 'json') {
    stdout.write(
      `${JSON.stringify(lintJson(report, loaded.problems.map(problemJson), loaded.summary.ignored), null, 2)}\n`,
    );
  } else {
    writeProblems(stderr, loaded.problems);
    stdout.write(renderLintTable(report, loaded.summary.ignored));
  }
  if (loaded.problems.length > 0) return EXIT_USAGE;
  return report.findings.length > 0 ? EXIT_FINDINGS : EXIT_OK;
}
