/**
 * One audit pass: objects in (the cluster page by page, or files), attributed results out.
 * Namespaces come first from a cluster, so their PSA labels are known before any pod. A file may
 * list namespaces after pods (`kubectl get pods,ns`): when a late namespace's labels would have
 * changed earlier verdicts, that namespace is dropped and the (re-readable) files are read again
 * for it alone; stdin cannot be re-read, so a warning says to list namespaces first.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { collectInputs } from '../lib/input/index.js';
import { parseManifests } from '../lib/manifests/index.js';
import type { ClusterSource, KindRef } from '../kube/cluster-source/types.js';
import { WORKLOAD_KINDS } from '../kube/workloads.js';
import type { Policy } from '../policy/index.js';
import { PSA_LABEL_PREFIX } from '../policy/index.js';
import { Attribution, type AttributedResult, type Origin } from './attribution.js';
import { ingest, type IngestContext } from './ingest.js';
import { readJsonList } from './json-list-stream.js';
import { VerdictPool } from './verdict.js';

/**
 * Every built-in kind with a pod template (the one list in src/kube/workloads.ts, listed under the
 * apiVersion served today), then pods. Order does not matter: attribution resolves owners at the end.
 */
export const AUDITED_KINDS: readonly KindRef[] = [
  ...WORKLOAD_KINDS.map((w) => ({ apiVersion: w.apiVersions[0]!, kind: w.kind })),
  { apiVersion: 'v1', kind: 'Pod' },
];

export type AuditInput =
  | { readonly type: 'cluster'; readonly source: ClusterSource; readonly pageSize?: number }
  | { readonly type: 'files'; readonly paths: readonly string[]; readonly stdin?: NodeJS.ReadableStream };

export interface AuditProblem {
  readonly file: string | null;
  readonly line: number | null;
  readonly column?: number | null;
  readonly message: string;
  readonly hint?: string;
}

export interface AuditProgress {
  objects: number;
  pods: number;
}

export interface AuditOutcome {
  readonly results: AttributedResult[];
  readonly problems: AuditProblem[];
  /** Objects of kinds without a pod template (Services, ConfigMaps...): counted, not judged. */
  readonly ignored: number;
  readonly pods: number;
  readonly objects: number;
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Where the objects came from, for reports: `api-server ...`, `directory ...`, file names. */
  readonly source: string;
}

export interface AuditOptions {
  readonly policy: Policy;
  readonly onProgress?: (p: Readonly<AuditProgress>) => void;
  readonly signal?: AbortSignal;
}

function hasPsaLabels(labels: Readonly<Record<string, string>>): boolean {
  return Object.keys(labels).some((k) => k.startsWith(PSA_LABEL_PREFIX));
}

class Collector {
  readonly attribution = new Attribution();
  readonly problems: AuditProblem[] = [];
  readonly labels = new Map<string, Readonly<Record<string, string>>>();
  readonly ctx: IngestContext;
  /** Namespaces with objects judged before their Namespace object arrived. */
  private readonly judgedEarly = new Set<string>();
  readonly stale = new Set<string>();
  ignored = 0;
  progress: AuditProgress = { objects: 0, pods: 0 };
  /** When set, only objects of these namespaces are fed (the second pass). */
  only: ReadonlySet<string> | null = null;

  constructor(
    policy: Policy,
    private readonly onProgress: ((p: Readonly<AuditProgress>) => void) | undefined,
  ) {
    this.ctx = { policy, namespaceLabels: this.labels, verdicts: new VerdictPool() };
  }

  feed(obj: unknown, origin: Origin): void {
    const meta = (obj as { metadata?: { namespace?: unknown } } | null)?.metadata;
    const ns = typeof meta?.namespace === 'string' ? meta.namespace : null;
    if (this.only !== null && (ns === null || !this.only.has(ns))) return;
    const got = ingest(obj, origin, this.ctx);
    // The second pass re-judges objects already counted by the first.
    const counting = this.only === null;
    if (counting) this.progress.objects++;
    switch (got.type) {
      case 'namespace':
        if (this.only !== null) break;
        this.labels.set(got.name, got.labels);
        if (this.judgedEarly.has(got.name) && hasPsaLabels(got.labels)) this.stale.add(got.name);
        break;
      case 'pod':
        if (counting) this.progress.pods++;
        this.attribution.addPod(got.record);
        if (ns !== null && !this.labels.has(ns)) this.judgedEarly.add(ns);
        break;
      case 'workload':
        this.attribution.addWorkload(got.record);
        if (ns !== null && !this.labels.has(ns)) this.judgedEarly.add(ns);
        break;
      case 'ignored':
        if (counting) this.ignored++;
        break;
      case 'invalid':
        if (counting) this.problems.push({ file: origin.file, line: origin.line, message: got.message });
        break;
    }
    if (this.onProgress !== undefined && this.progress.objects % 1000 === 0) this.onProgress(this.progress);
  }
}

/** Runs one audit pass. Listing failures and unreadable input are problems, never exceptions. */
export async function runAudit(input: AuditInput, opts: AuditOptions): Promise<AuditOutcome> {
  const c = new Collector(opts.policy, opts.onProgress);
  let source: string;
  if (input.type === 'cluster') {
    source = input.source.description;
    await auditCluster(input.source, input.pageSize ?? 500, c, opts.signal);
  } else {
    source = input.paths.join(', ');
    await auditFiles(input.paths, input.stdin, c, opts.signal);
    if (c.stale.size > 0) {
      if (input.paths.includes('-')) {
        for (const ns of [...c.stale].sort()) {
          c.problems.push({
            file: '-',
            line: null,
            message: `namespace "${ns}" came after objects in it: its pod-security labels were not applied to them`,
            hint: 'list namespaces first, e.g. kubectl get namespaces,pods,deployments -A -o json',
          });
        }
      } else {
        for (const ns of c.stale) c.attribution.dropNamespace(ns);
        c.only = new Set(c.stale);
        await auditFiles(input.paths, undefined, c, opts.signal);
      }
    }
  }
  opts.onProgress?.(c.progress);
  return {
    results: c.attribution.results(),
    problems: c.problems,
    ignored: c.ignored,
    pods: c.progress.pods,
    objects: c.progress.objects,
    namespaceLabels: c.labels,
    source,
  };
}

async function auditCluster(
  src: ClusterSource,
  pageSize: number,
  c: Collector,
  signal: AbortSignal | undefined,
): Promise<void> {
  const origin: Origin = { file: null, line: null };
  const kinds: KindRef[] = [{ apiVersion: 'v1', kind: 'Namespace' }, ...AUDITED_KINDS];
  for (const t of c.ctx.policy.podTemplatePaths) {
    if (!t.apiVersion.endsWith('/*')) kinds.push({ apiVersion: t.apiVersion, kind: t.kind });
  }
  for (const kind of kinds) {
    try {
      for await (const page of src.listPages(kind, { pageSize })) {
        signal?.throwIfAborted();
        for (const obj of page) c.feed(obj, origin);
      }
    } catch (err) {
      if (signal?.aborted === true) throw err;
      c.problems.push({
        file: null,
        line: null,
        message: `listing ${kind.apiVersion} ${kind.kind} failed: ${err instanceof Error ? err.message : String(err)}`,
        hint: 'check that podsec may list this kind (RBAC) and that the API server is reachable',
      });
    }
  }
}

async function startsAsJson(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    const first = /\S/.exec(text)?.[0];
    return first === '{' || first === '[';
  } finally {
    await fh.close();
  }
}

async function feedJson(chunks: AsyncIterable<Buffer | string>, file: string, c: Collector): Promise<void> {
  for await (const e of readJsonList(chunks)) {
    if (e.type === 'item') c.feed(e.value, { file, line: e.line });
    else if (c.only === null) c.problems.push({ file, line: e.line, column: e.column, message: e.message });
  }
}

function feedManifests(text: string, file: string, c: Collector): void {
  const parsed = parseManifests(text);
  for (const p of c.only === null ? parsed.problems : []) {
    c.problems.push({
      file,
      line: p.line,
      column: p.column,
      message: p.message,
      ...(p.hint === undefined ? {} : { hint: p.hint }),
    });
  }
  for (const doc of parsed.documents) {
    const v = doc.value as { kind?: unknown; items?: unknown } | null;
    if (typeof v?.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) {
      (v.items as unknown[]).forEach((item, i) =>
        c.feed(item, { file, line: doc.locate(['items', i]).line }),
      );
    } else if (v !== null && typeof v === 'object') {
      c.feed(v, { file, line: doc.line });
    }
  }
}

async function* once(buf: Buffer): AsyncGenerator<Buffer> {
  yield await Promise.resolve(buf);
}

async function* chain(first: Buffer, rest: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer | string> {
  yield first;
  yield* rest;
}

async function auditFiles(
  paths: readonly string[],
  stdin: NodeJS.ReadableStream | undefined,
  c: Collector,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const path of paths) {
    signal?.throwIfAborted();
    if (path === '-') {
      const stream = (stdin ?? process.stdin) as AsyncIterable<Buffer | string>;
      const it = stream[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done === true) continue;
      const head = typeof first.value === 'string' ? Buffer.from(first.value) : first.value;
      const rest: AsyncIterable<Buffer | string> = { [Symbol.asyncIterator]: () => it };
      const firstChar = /\S/.exec(
        head
          .subarray(0, 4096)
          .toString('utf8')
          .replace(/^\uFEFF/, ''),
      )?.[0];
      if (firstChar === '{' || firstChar === '[') await feedJson(chain(head, rest), '-', c);
      else {
        const parts: Buffer[] = [head];
        for await (const chunk of rest) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        feedManifests(Buffer.concat(parts).toString('utf8'), '-', c);
      }
      continue;
    }
    let isFile = false;
    try {
      isFile = (await stat(path)).isFile();
    } catch {
      // collectInputs reports missing and unreadable paths with their reason
    }
    if (isFile && (await startsAsJson(path))) {
      try {
        await feedJson(createReadStream(path, { highWaterMark: 1 << 20 }), path, c);
      } catch (err) {
        c.problems.push({ file: path, line: null, message: `cannot read: ${(err as Error).message}` });
      }
      continue;
    }
    const inputs = await collectInputs([path], {});
    for (const p of c.only === null ? inputs.problems : []) {
      c.problems.push({
        file: p.file,
        line: p.line ?? null,
        message: p.message,
        ...(p.hint === undefined ? {} : { hint: p.hint }),
      });
    }
    for (const f of inputs.files) {
      const first = /\S/.exec(f.text.slice(0, 4096))?.[0];
      if (first === '{' || first === '[') await feedJson(once(Buffer.from(f.text)), f.display, c);
      else feedManifests(f.text, f.display, c);
    }
  }
}
