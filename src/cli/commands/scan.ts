/**
 * `podsec scan`: manifests in, one result per Kubernetes object out.
 * Every input problem is collected and reported with its file and line; the remaining
 * documents are still scanned, and exit code 2 wins only after everything is reported.
 */
import { collectInputs } from '../../lib/input/index.js';
import { parseManifests, type ManifestDocument } from '../../lib/manifests/index.js';
import { formatPath, type PathSegment } from '../../lib/path.js';
import { UsageError } from '../../lib/errors.js';
import { extractPod, isKubernetesObject, type TemplatePath } from '../../kube/workloads.js';
import type { KubeObject } from '../../kube/types.js';
import { podShapeProblems } from '../../kube/pod-shape.js';
import { compilePolicy, evaluateObject, policyFromLevel, type Policy } from '../../policy/engine.js';
import { loadConfigFile } from '../../policy/config/index.js';
import { parseLevel, parseVersion } from '../../policy/pss/index.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import {
  countResult,
  emptySummary,
  type ErrorJson,
  type ResultJson,
  type ScanReport,
} from '../output/result-json.js';

export interface ScanOptions {
  level: string | undefined;
  pssVersion: string | undefined;
  config: string | undefined;
  format: 'table' | 'json' | 'sarif';
  exclude: string[];
  color: boolean;
  levelGiven: boolean;
  versionGiven: boolean;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

interface PolicyChoice {
  policy: Policy;
  templatePaths: readonly TemplatePath[];
  warnings: string[];
}

async function choosePolicy(opts: ScanOptions): Promise<PolicyChoice> {
  if (opts.config !== undefined) {
    if (opts.levelGiven || opts.versionGiven) {
      throw new UsageError(
        '--config cannot be combined with --level or --pss-version',
        'the assignments in the config file choose levels and versions; drop the flags or the config',
      );
    }
    const loaded = await loadConfigFile(opts.config);
    if ('error' in loaded) throw loaded.error;
    return {
      policy: compilePolicy(loaded.config),
      templatePaths: loaded.config.podTemplatePaths ?? [],
      warnings: loaded.warnings.map((w) => `${w.file ?? '-'}:${w.line}:${w.column}: ${w.path}: ${w.message}`),
    };
  }
  const parsedLevel = parseLevel(opts.level ?? 'restricted');
  const level = parsedLevel.ok ? parsedLevel.value : undefined;
  if (level === undefined || level === 'privileged') {
    throw new UsageError(`--level must be baseline or restricted, not ${JSON.stringify(opts.level)}`);
  }
  const version = parseVersion(opts.pssVersion ?? 'latest');
  if (!version.ok) {
    throw new UsageError(
      `--pss-version must be v1.N (no leading zeros) or latest, not ${JSON.stringify(opts.pssVersion)}`,
      'for example --pss-version v1.30',
    );
  }
  return { policy: policyFromLevel(level, version.value), templatePaths: [], warnings: [] };
}

/** Builds the report; pure apart from reading the inputs. */
export async function buildReport(
  paths: readonly string[],
  choice: PolicyChoice,
  opts: Pick<ScanOptions, 'exclude' | 'stdin'> & { onProgress?: (files: number) => void },
): Promise<ScanReport> {
  const inputs = await collectInputs([...paths], {
    exclude: opts.exclude,
    ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }),
  });
  const results: ResultJson[] = [];
  const errors: ErrorJson[] = inputs.problems.map((p) => ({
    file: p.file,
    line: p.line ?? null,
    message: p.message,
    ...(p.hint === undefined ? {} : { hint: p.hint }),
  }));
  const summary = emptySummary();

  let filesDone = 0;
  for (const file of inputs.files) {
    const parsed = parseManifests(file.text);
    for (const p of parsed.problems) {
      errors.push({
        file: file.display,
        line: p.line,
        column: p.column,
        message: p.message,
        ...(p.hint === undefined ? {} : { hint: p.hint }),
      });
    }
    let objects = 0;
    let skipped = 0;
    for (const doc of parsed.documents) {
      if (!isKubernetesObject(doc.value)) {
        skipped++;
        continue;
      }
      objects++;
      scanObject(doc, doc.value, [], file.display, choice, results, errors);
    }
    if (objects === 0 && inputs.explicit.has(file.display) && parsed.problems.length === 0) {
      errors.push({
        file: file.display,
        line: parsed.documents[0]?.line ?? 1,
        message: 'no Kubernetes object in this file (a document needs apiVersion and kind)',
        hint: 'name manifests explicitly, or pass a directory to skip files that are not manifests',
      });
    } else {
      summary.skipped += skipped;
    }
    opts.onProgress?.(++filesDone);
  }
  for (const r of results) countResult(summary, r.status);
  summary.errors = errors.length;
  return { schemaVersion: 1, results, errors, summary };
}

function scanObject(
  doc: ManifestDocument,
  obj: KubeObject,
  prefix: readonly PathSegment[],
  file: string,
  choice: PolicyChoice,
  out: ResultJson[],
  errors: ErrorJson[],
): void {
  const extraction = extractPod(obj, choice.templatePaths);
  if (extraction.kind === 'list') {
    for (const item of extraction.items) {
      if (!isKubernetesObject(item.value)) continue;
      scanObject(doc, item.value, [...prefix, 'items', item.index], file, choice, out, errors);
    }
    return;
  }
  if (extraction.kind !== 'notApplicable') {
    const base = extraction.target.basePath;
    for (const problem of podShapeProblems(valueAt(obj, base), base)) {
      const pos = doc.locate([...prefix, ...problem.path]);
      errors.push({
        file,
        line: pos.line,
        column: pos.column,
        message: `${formatPath(problem.path)} ${problem.message}`,
        hint: 'the API server would reject this object; the value was not trusted by any check',
      });
    }
  }
  const evaluation = evaluateObject(choice.policy, obj);
  const at = doc.locate(prefix);
  const meta = obj.metadata;
  out.push({
    file,
    line: at.line,
    apiVersion: typeof obj.apiVersion === 'string' ? obj.apiVersion : null,
    kind: typeof obj.kind === 'string' ? obj.kind : null,
    namespace: typeof meta?.namespace === 'string' ? meta.namespace : null,
    name:
      typeof meta?.name === 'string'
        ? meta.name
        : typeof meta?.generateName === 'string'
          ? meta.generateName
          : null,
    allowed: evaluation.allowed,
    status: evaluation.status,
    policy: evaluation.policy,
    ...(evaluation.reason === undefined ? {} : { reason: evaluation.reason }),
    violations: evaluation.violations.map((v) => {
      const pos = doc.locate([...prefix, ...v.path]);
      return {
        check: v.check,
        message: v.message,
        container: v.container,
        path: formatPath(v.path),
        line: pos.line,
        column: pos.column,
        hint: v.hint,
        parameter: v.parameter,
        effects: v.effects,
        exemptedBy: v.exemptedBy,
      };
    }),
  });
}

function valueAt(obj: unknown, path: readonly PathSegment[]): unknown {
  let cur: unknown = obj;
  for (const seg of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

export function exitCodeFor(report: ScanReport): number {
  if (report.errors.length > 0) return EXIT_USAGE;
  return report.results.some((r) => !r.allowed) ? EXIT_FINDINGS : EXIT_OK;
}

export async function runScan(paths: string[], opts: ScanOptions): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const choice = await choosePolicy(opts);
  for (const w of choice.warnings) stderr.write(`podsec: warning: ${w}\n`);

  let effectivePaths = paths;
  if (effectivePaths.length === 0) {
    const stdin = opts.stdin ?? process.stdin;
    if ((stdin as { isTTY?: boolean }).isTTY === true) {
      throw new UsageError('nothing to scan', 'give files or directories, or - to read manifests from stdin');
    }
    effectivePaths = ['-'];
  }

  const showProgress = stderr.isTTY === true && opts.format === 'table';
  const report = await buildReport(effectivePaths, choice, {
    exclude: opts.exclude,
    ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }),
    ...(showProgress ? { onProgress: (n: number) => stderr.write(`\rscanned ${n} files`) } : {}),
  });
  if (showProgress) stderr.write('\r\x1b[K');

  if (opts.format === 'json') {
    stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else if (opts.format === 'sarif') {
    const { toSarif } = await import('../output/sarif.js');
    stdout.write(`${JSON.stringify(toSarif(report, { cwd: process.cwd() }), null, 2)}\n`);
  } else {
    const { renderTable } = await import('../output/table.js');
    stdout.write(
      renderTable(report, { color: opts.color && stdout.isTTY === true && !process.env['NO_COLOR'] }),
    );
  }
  return exitCodeFor(report);
}
