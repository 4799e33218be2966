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
import { jsonChunks, writeChunks } from '../output/stream-write.js';
import { podsecVersion } from '../version.js';
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

interface ParsedFile {
  display: string;
  explicit: boolean;
  documents: ManifestDocument[];
  problems: number;
}

/** Namespace labels declared by Namespace objects among the inputs (PSA labels act as extra assignments). */
function namespaceLabelsOf(files: readonly ParsedFile[]): Map<string, Record<string, string>> {
  const labels = new Map<string, Record<string, string>>();
  const visit = (obj: unknown): void => {
    if (!isKubernetesObject(obj)) return;
    if (obj.kind === 'Namespace' && obj.apiVersion === 'v1') {
      const name = obj.metadata?.name;
      const l = obj.metadata?.labels;
      if (typeof name === 'string' && typeof l === 'object' && l !== null) labels.set(name, l);
    } else if (obj.kind === 'List' || obj.kind === 'NamespaceList') {
      const items = (obj as { items?: unknown }).items;
      if (Array.isArray(items)) {
        for (const item of items) visit(obj.kind === 'NamespaceList' ? typedItem(obj, item) : item);
      }
    }
  };
  for (const f of files) for (const d of f.documents) visit(d.value);
  return labels;
}

/**
 * Items of a typed list (`PodList` from `kubectl get --raw`) carry no apiVersion and kind:
 * they take them from the list, as the API server's decoder does.
 */
function typedItem(list: KubeObject, item: unknown): unknown {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
  const listKind = list.kind ?? '';
  if (listKind === 'List' || !listKind.endsWith('List')) return item;
  const rec = item as Record<string, unknown>;
  if (typeof rec['kind'] === 'string' && typeof rec['apiVersion'] === 'string') return item;
  return {
    ...rec,
    apiVersion: rec['apiVersion'] ?? list.apiVersion,
    kind: rec['kind'] ?? listKind.slice(0, -4),
  };
}

function noObjectError(file: ParsedFile): ErrorJson {
  const first = file.documents[0];
  const isSequence =
    Array.isArray(first?.value) && (first.value as unknown[]).some((v) => isKubernetesObject(v));
  return {
    file: file.display,
    line: first?.line ?? 1,
    message: isSequence
      ? 'the file is a plain list of objects, not a Kubernetes object'
      : 'no Kubernetes object in this file (a document needs apiVersion and kind)',
    hint: isSequence
      ? 'wrap the items in a List: apiVersion: v1, kind: List, items: [...]'
      : 'values files and kustomizations are not manifests: leave this file out, or scan its directory (a walk skips such files)',
  };
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
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
  });
  const results: ResultJson[] = [];
  const errors: ErrorJson[] = inputs.problems.map((p) => ({
    file: p.file,
    line: p.line ?? null,
    message: p.message,
    ...(p.hint === undefined ? {} : { hint: p.hint }),
  }));
  const summary = emptySummary();

  // Pass 1: parse everything, so Namespace objects anywhere in the input can lend their labels.
  const parsed: ParsedFile[] = inputs.files.map((file) => {
    const { documents, problems } = parseManifests(file.text);
    for (const p of problems) {
      errors.push({
        file: file.display,
        line: p.line,
        column: p.column,
        message: p.message,
        ...(p.hint === undefined ? {} : { hint: p.hint }),
      });
    }
    return {
      display: file.display,
      explicit: inputs.explicit.has(file.display),
      documents,
      problems: problems.length,
    };
  });
  const scan: ScanContext = { choice, results, errors, namespaceLabels: namespaceLabelsOf(parsed) };

  // Pass 2: evaluate.
  for (const file of parsed) {
    let objects = 0;
    let skipped = 0;
    for (const doc of file.documents) {
      if (!isKubernetesObject(doc.value)) {
        skipped++;
        continue;
      }
      objects++;
      scanObject(scan, doc, doc.value, [], file.display);
    }
    if (objects === 0 && file.explicit && file.problems === 0) errors.push(noObjectError(file));
    else summary.skipped += skipped;
  }
  for (const r of results) countResult(summary, r.status);
  summary.errors = errors.length;
  return { schemaVersion: 1, results, errors, summary };
}

interface ScanContext {
  choice: PolicyChoice;
  results: ResultJson[];
  errors: ErrorJson[];
  namespaceLabels: ReadonlyMap<string, Record<string, string>>;
}

function scanObject(
  scan: ScanContext,
  doc: ManifestDocument,
  obj: KubeObject,
  prefix: readonly PathSegment[],
  file: string,
): void {
  const extraction = extractPod(obj, scan.choice.templatePaths);
  if (extraction.kind === 'list') {
    for (const item of extraction.items) {
      const itemPath = [...prefix, 'items', item.index];
      const value = typedItem(obj, item.value);
      if (!isKubernetesObject(value)) {
        const pos = doc.locate(itemPath);
        scan.errors.push({
          file,
          line: pos.line,
          column: pos.column,
          message: `${formatPath(itemPath)} is not a Kubernetes object (no apiVersion and kind)`,
          hint: 'give every item of a List its apiVersion and kind',
        });
        continue;
      }
      scanObject(scan, doc, value, itemPath, file);
    }
    return;
  }
  let invalid = 0;
  if (extraction.kind !== 'notApplicable') {
    const { basePath, specMissing } = extraction.target;
    const problems = specMissing
      ? [{ path: [...basePath, 'spec'], message: 'is required: there is no pod spec to check' }]
      : podShapeProblems(valueAt(obj, basePath), basePath);
    for (const problem of problems) {
      const pos = doc.locate([...prefix, ...problem.path]);
      invalid++;
      scan.errors.push({
        file,
        line: pos.line,
        column: pos.column,
        message: `${formatPath(problem.path)} ${problem.message}`,
        hint: 'the API server would reject this object; fix it, then scan again',
      });
    }
  }
  const meta = obj.metadata;
  const namespace = typeof meta?.namespace === 'string' ? meta.namespace : null;
  const nsLabels = namespace === null ? undefined : scan.namespaceLabels.get(namespace);
  const evaluation = evaluateObject(
    scan.choice.policy,
    obj,
    nsLabels === undefined ? {} : { namespaceLabels: nsLabels },
  );
  const at = doc.locate(prefix);
  const result: ResultJson = {
    file,
    line: at.line,
    apiVersion: typeof obj.apiVersion === 'string' ? obj.apiVersion : null,
    kind: typeof obj.kind === 'string' ? obj.kind : null,
    namespace,
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
    ...(evaluation.messages.length === 0 ? {} : { messages: evaluation.messages.map((m) => ({ ...m })) }),
    violations: evaluation.violations.map((v) => {
      const pos = doc.locate([...prefix, ...v.path]);
      return {
        check: v.check,
        reason: v.reason,
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
  };
  if (invalid > 0) {
    // An object the API server would refuse is never reported as allowed.
    result.allowed = false;
    result.status = 'denied';
    result.reason = `invalid object: ${invalid} field${invalid === 1 ? '' : 's'} the API server would reject (see errors)`;
  }
  scan.results.push(result);
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
    ...(showProgress
      ? { onProgress: (n: number) => stderr.write(`\rread ${n} file${n === 1 ? '' : 's'}`) }
      : {}),
  });
  if (showProgress) stderr.write('\r\x1b[K');

  if (opts.format === 'json') {
    await writeChunks(
      stdout,
      jsonChunks(report, report as unknown as Record<string, unknown>, 'results', report.results),
    );
  } else if (opts.format === 'sarif') {
    const { sarifParts } = await import('../output/sarif.js');
    const parts = sarifParts(report, { cwd: process.cwd(), version: podsecVersion() });
    await writeChunks(stdout, jsonChunks(parts.log, parts.run, 'results', parts.results));
  } else {
    const { tableChunks } = await import('../output/table.js');
    const color = opts.color && stdout.isTTY === true && !process.env['NO_COLOR'];
    await writeChunks(stdout, tableChunks(report, { color }));
  }
  return exitCodeFor(report);
}
