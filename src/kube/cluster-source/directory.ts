/**
 * ClusterSource over a directory of manifests (`--state DIR`), for laptops and CI.
 *
 * Reads: every manifest under DIR (List objects expanded), except DIR/.podsec/, overlaid by the
 * objects podsec stored under DIR/.podsec/objects (podsec's own writes win over a user manifest
 * with the same identity) and hidden by tombstones under DIR/.podsec/tombstones (deleting an
 * object that lives in a user file never edits that file). Bad manifests are reported through
 * `onProblem` and skipped; they never stop the source.
 *
 * Writes: only under DIR/.podsec/, each object one JSON file written to a temporary name and
 * renamed into place. Every write (read current, compare resourceVersion, write, bump the
 * counter) runs under one directory-wide lock file created with O_EXCL, because a
 * compare-and-swap between processes needs a lock around the whole step anyway; the
 * resourceVersion counter (DIR/.podsec/resource-version) lives under the same lock, so it is
 * monotonic across every process sharing DIR. A lock whose owner process is gone, or that is
 * older than 30 s, is taken over.
 *
 * Objects from user files get a resourceVersion derived from their content (`f` + hash), so an
 * edit of the file changes it and a stale update conflicts, without ever writing to user files.
 *
 * Informers re-read on change: fs.watch where the platform offers recursive watching, plus
 * polling as the fallback, and emit the difference from the cache.
 */
import { isRecord } from '../../lib/is-record.js';
import { createHash, randomUUID } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { collectInputs } from '../../lib/input/index.js';
import { parseManifests } from '../../lib/manifests/index.js';
import type { KubeObject } from '../types.js';
import { AlreadyExistsError, ClusterError, ConflictError, NotFoundError } from './errors.js';
import { SharedInformer } from './informer-cache.js';
import { BUILTIN_KINDS, kindKey, refKey, refOf, splitApiVersion } from './kinds.js';
import { parseLabelSelector, type LabelPredicate } from '../../lib/label-selector/index.js';
import type { ClusterSource, Informer, KindRef, ObjectRef, WriteOptions } from './types.js';

export interface DirectoryProblem {
  readonly file: string;
  readonly line?: number | undefined;
  readonly message: string;
}

export interface DirectorySourceOptions {
  /** How often informers re-read DIR when fs.watch misses a change. Default 1000 ms. */
  readonly pollIntervalMs?: number | undefined;
  /** Bad manifests and unreadable files, each reported once per change of its file. */
  readonly onProblem?: ((problem: DirectoryProblem) => void) | undefined;
  /** How long a write waits for another process's lock. Default 10 s. */
  readonly lockTimeoutMs?: number | undefined;
}

export const STATE_DIR = '.podsec';
const STALE_LOCK_MS = 30_000;

interface View {
  /** Everything visible, by refKey. */
  readonly objects: Map<string, KubeObject>;
  /** refKeys of objects that come from user files (before tombstones and overlay). */
  readonly userKeys: Set<string>;
}

function errorCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function sortedKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The namespace an object has in the view: defaulted for known namespaced kinds, dropped for cluster-scoped ones. */
function normalizeNamespace(obj: KubeObject): KubeObject {
  const info =
    typeof obj.apiVersion === 'string' && typeof obj.kind === 'string'
      ? BUILTIN_KINDS.get(kindKey({ apiVersion: obj.apiVersion, kind: obj.kind }))
      : undefined;
  if (info === undefined) return obj;
  const meta = { ...obj.metadata };
  if (info.namespaced)
    meta.namespace = meta.namespace === undefined || meta.namespace === '' ? 'default' : meta.namespace;
  else delete meta.namespace;
  return { ...obj, metadata: meta };
}

function relPathOf(ref: ObjectRef): string[] {
  const { group, version } = splitApiVersion(ref.apiVersion);
  const name = ref.name;
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new ClusterError(400, `invalid object name ${JSON.stringify(name)}`);
  }
  return [
    encodeURIComponent(`${group === '' ? 'core' : group}_${version}`),
    encodeURIComponent(ref.kind),
    ref.namespace === undefined ? '_cluster' : encodeURIComponent(ref.namespace),
    `${encodeURIComponent(name)}.json`,
  ];
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

async function walkJson(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return [];
    throw e;
  }
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => sortedKeys(a.name, b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walkJson(path)));
    else if (entry.isFile() && entry.name.endsWith('.json')) out.push(path);
  }
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errorCode(e) === 'EPERM';
  }
}

export function createDirectorySource(dir: string, options: DirectorySourceOptions = {}): ClusterSource {
  const stateDir = join(dir, STATE_DIR);
  const objectsDir = join(stateDir, 'objects');
  const tombstonesDir = join(stateDir, 'tombstones');
  const counterFile = join(stateDir, 'resource-version');
  const lockFile = join(stateDir, 'write.lock');
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  const onProblem = options.onProblem ?? (() => undefined);
  /** Parsed user files by path, reused while the text is unchanged. */
  const parsed = new Map<string, { text: string; objects: KubeObject[] }>();
  const reportedInputProblems = new Set<string>();
  let closed = false;
  let writeQueue: Promise<unknown> = Promise.resolve();

  function problem(file: string, message: string, line?: number): void {
    onProblem(line === undefined ? { file, message } : { file, line, message });
  }

  function objectsOfFile(file: string, text: string): KubeObject[] {
    const cached = parsed.get(file);
    if (cached?.text === text) return cached.objects;
    const result = parseManifests(text);
    for (const p of result.problems) problem(file, p.message, p.line);
    const objects: KubeObject[] = [];
    const take = (value: unknown, line: number): void => {
      if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') return;
      if (value.kind.endsWith('List') && Array.isArray(value.items)) {
        for (const item of value.items) take(item, line);
        return;
      }
      const obj = normalizeNamespace(structuredClone(value));
      const name = obj.metadata?.name;
      if (typeof name !== 'string' || name === '') {
        problem(file, `${value.kind} without metadata.name is ignored`, line);
        return;
      }
      const hash = createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 16);
      obj.metadata = { ...obj.metadata, resourceVersion: `f${hash}` };
      objects.push(obj);
    };
    for (const doc of result.documents) take(doc.value, doc.line);
    parsed.set(file, { text, objects });
    return objects;
  }

  async function readJsonObjects(root: string): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const path of await walkJson(root)) {
      try {
        const value: unknown = JSON.parse(await readFile(path, 'utf8'));
        if (isRecord(value)) out.push(value);
      } catch (e) {
        // Vanished between readdir and read (a concurrent delete), or a foreign file: skip it.
        if (errorCode(e) !== 'ENOENT')
          problem(path, `unreadable podsec state file: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return out;
  }

  async function readView(): Promise<View> {
    const inputs = await collectInputs([dir], { exclude: [STATE_DIR] });
    for (const p of inputs.problems) {
      const key = `${p.file}\0${p.message}`;
      if (!reportedInputProblems.has(key)) {
        reportedInputProblems.add(key);
        problem(p.file, p.message, p.line);
      }
    }
    const objects = new Map<string, KubeObject>();
    const seenFiles = new Set<string>();
    for (const file of inputs.files) {
      seenFiles.add(file.display);
      for (const obj of objectsOfFile(file.display, file.text)) {
        const ref = refOf(obj);
        if (ref !== undefined) objects.set(refKey(ref), obj);
      }
    }
    for (const file of parsed.keys()) if (!seenFiles.has(file)) parsed.delete(file);
    const userKeys = new Set(objects.keys());
    for (const t of await readJsonObjects(tombstonesDir)) {
      const ref = refOf(t);
      if (ref !== undefined) objects.delete(refKey(ref));
    }
    for (const o of await readJsonObjects(objectsDir)) {
      const ref = refOf(o);
      if (ref !== undefined) objects.set(refKey(ref), o);
    }
    return { objects, userKeys };
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }

  async function acquireLock(): Promise<void> {
    await mkdir(stateDir, { recursive: true });
    const deadline = Date.now() + lockTimeoutMs;
    for (;;) {
      try {
        const fh = await open(lockFile, 'wx');
        await fh.writeFile(JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
        await fh.close();
        return;
      } catch (e) {
        if (errorCode(e) !== 'EEXIST') throw new ClusterError(500, `cannot create the lock ${lockFile}`, e);
      }
      if (await lockIsStale()) {
        await rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new ClusterError(
          503,
          `another podsec process holds ${lockFile} for too long; remove it if no podsec runs`,
        );
      }
      await sleep(5 + Math.random() * 20);
    }
  }

  async function lockIsStale(): Promise<boolean> {
    try {
      const [text, info] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]);
      if (Date.now() - info.mtimeMs > STALE_LOCK_MS) return true;
      const holder = JSON.parse(text) as { pid?: unknown };
      return typeof holder.pid === 'number' && !isAlive(holder.pid);
    } catch {
      // Released meanwhile, or caught half-written: not stale, just retry.
      return false;
    }
  }

  /** Runs one write step under the directory lock, one at a time within this process. */
  function locked<T>(step: () => Promise<T>): Promise<T> {
    const run = writeQueue.then(async () => {
      await acquireLock();
      try {
        return await step();
      } finally {
        await rm(lockFile, { force: true });
      }
    });
    writeQueue = run.catch(() => undefined);
    return run;
  }

  async function nextResourceVersion(): Promise<string> {
    let current = 0;
    try {
      current = Number((await readFile(counterFile, 'utf8')).trim()) || 0;
    } catch (e) {
      if (errorCode(e) !== 'ENOENT') throw e;
    }
    const next = current + 1;
    await writeAtomically(counterFile, `${next}\n`);
    return String(next);
  }

  async function storeObject(ref: ObjectRef, obj: KubeObject): Promise<void> {
    const parts = relPathOf(ref);
    const target = join(objectsDir, ...parts);
    await mkdir(join(objectsDir, ...parts.slice(0, -1)), { recursive: true });
    await writeAtomically(target, `${JSON.stringify(obj, null, 2)}\n`);
    await rm(join(tombstonesDir, ...parts), { force: true });
  }

  function normalizedRef(obj: KubeObject): { ref: ObjectRef; obj: KubeObject } {
    const normalized = normalizeNamespace(obj);
    const ref = refOf(normalized);
    if (ref === undefined)
      throw new ClusterError(400, 'an object to write needs apiVersion, kind and metadata.name');
    relPathOf(ref);
    return { ref, obj: normalized };
  }

  function normalizeRef(ref: ObjectRef): ObjectRef {
    const info = BUILTIN_KINDS.get(kindKey(ref));
    if (info === undefined) return ref;
    if (info.namespaced) return { ...ref, namespace: ref.namespace ?? 'default' };
    return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name };
  }

  // ---- informers ----
  interface Entry {
    readonly shared: SharedInformer;
    readonly kind: KindRef;
    readonly namespace: string | undefined;
    readonly matches: LabelPredicate;
  }
  const informers = new Map<string, Entry>();
  let watcher: FSWatcher | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> | undefined;
  let again = false;

  function feed(entry: Entry, view: View): void {
    if (entry.shared.isStopped) return;
    const items = [...view.objects.values()].filter(
      (o) =>
        o.apiVersion === entry.kind.apiVersion &&
        o.kind === entry.kind.kind &&
        (entry.namespace === undefined || o.metadata?.namespace === entry.namespace) &&
        entry.matches(o.metadata?.labels),
    );
    entry.shared.cache.replace(items);
    if (!entry.shared.cache.isSynced) entry.shared.cache.markSynced();
  }

  function refresh(): void {
    if (refreshing !== undefined) {
      again = true;
      return;
    }
    refreshing = (async () => {
      do {
        again = false;
        if (informers.size === 0 || closed) return;
        try {
          const view = await readView();
          for (const entry of [...informers.values()]) feed(entry, view);
        } catch (e) {
          for (const entry of informers.values()) {
            entry.shared.cache.fail(new ClusterError(500, `cannot read ${dir}`, e));
          }
        }
      } while (again);
    })().finally(() => {
      refreshing = undefined;
    });
  }

  function startWatching(): void {
    if (pollTimer !== undefined) return;
    pollTimer = setInterval(refresh, pollIntervalMs);
    pollTimer.unref();
    try {
      watcher = watch(dir, { recursive: true, persistent: false }, (_event, file) => {
        // Our own temp files and the lock come and go on every write; the rename that follows is what counts.
        if (typeof file === 'string' && (file.endsWith('.tmp') || file.endsWith('write.lock'))) return;
        if (debounce !== undefined) clearTimeout(debounce);
        debounce = setTimeout(refresh, 15);
      });
      watcher.on('error', () => {
        // Too many watches or the directory vanished: polling carries on.
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined;
    }
  }

  function stopWatching(): void {
    if (pollTimer !== undefined) clearInterval(pollTimer);
    if (debounce !== undefined) clearTimeout(debounce);
    pollTimer = undefined;
    debounce = undefined;
    watcher?.close();
    watcher = undefined;
  }

  function afterWrite(): void {
    if (informers.size > 0) refresh();
  }

  /**
   * update and updateStatus: under the write lock, the stored object must exist and match the
   * caller's resourceVersion (when given); `build` makes the next version from it, which is
   * stored with a new resourceVersion (not on a dry run).
   */
  function replaceExisting(
    input: KubeObject,
    opts: WriteOptions | undefined,
    build: (current: KubeObject, obj: KubeObject) => KubeObject,
  ): Promise<KubeObject> {
    const { ref, obj } = normalizedRef(input);
    return locked(async () => {
      const current = (await readView()).objects.get(refKey(ref));
      if (current === undefined) throw new NotFoundError(ref);
      const want = obj.metadata?.resourceVersion;
      if (want !== undefined && want !== '' && want !== current.metadata?.resourceVersion)
        throw new ConflictError(ref);
      const next = build(current, obj);
      if (opts?.dryRun === true) return next;
      next.metadata = { ...next.metadata, resourceVersion: await nextResourceVersion() };
      await storeObject(ref, next);
      afterWrite();
      return next;
    });
  }

  const source: ClusterSource = {
    description: `directory ${dir}`,

    async *listPages(kind, opts) {
      const view = await readView();
      const matches = parseLabelSelector(opts?.labelSelector);
      const items = [...view.objects.entries()]
        .filter(
          ([, o]) =>
            o.apiVersion === kind.apiVersion &&
            o.kind === kind.kind &&
            (opts?.namespace === undefined || o.metadata?.namespace === opts.namespace) &&
            matches(o.metadata?.labels),
        )
        .sort(([a], [b]) => sortedKeys(a, b))
        .map(([, o]) => o);
      const size = Math.max(1, opts?.pageSize ?? 500);
      for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
    },

    async get(ref) {
      const view = await readView();
      return view.objects.get(refKey(normalizeRef(ref)));
    },

    informer(kind, opts = {}): Informer {
      if (closed) throw new ClusterError(500, 'the cluster source is closed');
      const key = `${kindKey(kind)}|${opts.namespace ?? ''}|${opts.labelSelector ?? ''}`;
      let entry = informers.get(key);
      if (entry === undefined || entry.shared.isStopped) {
        const shared: SharedInformer = new SharedInformer(
          () => undefined,
          () => {
            if (informers.get(key)?.shared === shared) informers.delete(key);
            if (informers.size === 0) stopWatching();
          },
        );
        entry = { shared, kind, namespace: opts.namespace, matches: parseLabelSelector(opts.labelSelector) };
        informers.set(key, entry);
        startWatching();
        refresh();
      }
      return entry.shared.handle();
    },

    create(input, opts?: WriteOptions) {
      const { ref, obj } = normalizedRef(input);
      return locked(async () => {
        const view = await readView();
        if (view.objects.has(refKey(ref))) throw new AlreadyExistsError(ref);
        const created = structuredClone(obj);
        const meta = { ...created.metadata } as Record<string, unknown>;
        meta.uid = randomUUID();
        meta.creationTimestamp = new Date().toISOString();
        delete meta.resourceVersion;
        created.metadata = meta;
        if (opts?.dryRun === true) return created;
        meta.resourceVersion = await nextResourceVersion();
        await storeObject(ref, created);
        afterWrite();
        return created;
      });
    },

    update(input, opts) {
      return replaceExisting(input, opts, (current, obj) => {
        const next = structuredClone(obj);
        const meta = { ...next.metadata } as Record<string, unknown>;
        const old = (current.metadata ?? {}) as Record<string, unknown>;
        for (const k of ['uid', 'creationTimestamp']) {
          if (old[k] === undefined) delete meta[k];
          else meta[k] = old[k];
        }
        next.metadata = meta;
        // As on the API server, the main resource cannot change status.
        if (current.status === undefined) delete next.status;
        else next.status = structuredClone(current.status);
        return next;
      });
    },

    updateStatus(input, opts) {
      return replaceExisting(input, opts, (current, obj) => {
        const next = structuredClone(current);
        next.status = structuredClone(obj.status);
        return next;
      });
    },

    delete(input, opts) {
      const ref = normalizeRef(input);
      const parts = relPathOf(ref);
      return locked(async () => {
        const view = await readView();
        const key = refKey(ref);
        const current = view.objects.get(key);
        if (current === undefined) return false;
        if (
          opts?.resourceVersion !== undefined &&
          opts.resourceVersion !== current.metadata?.resourceVersion
        ) {
          throw new ConflictError(ref);
        }
        if (opts?.dryRun === true) return true;
        const rv = await nextResourceVersion();
        await rm(join(objectsDir, ...parts), { force: true });
        if (view.userKeys.has(key)) {
          // The object lives in a user file: hide it with a tombstone instead of editing the file.
          const tombstone: KubeObject = {
            apiVersion: ref.apiVersion,
            kind: ref.kind,
            metadata: {
              name: ref.name,
              ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
              resourceVersion: rv,
            },
          };
          await mkdir(join(tombstonesDir, ...parts.slice(0, -1)), { recursive: true });
          await writeAtomically(join(tombstonesDir, ...parts), `${JSON.stringify(tombstone)}\n`);
        }
        afterWrite();
        return true;
      });
    },

    async close() {
      closed = true;
      for (const entry of [...informers.values()]) entry.shared.stopAll();
      informers.clear();
      stopWatching();
      await refreshing;
      await writeQueue;
    },
  };
  return source;
}

/** Where podsec keeps an object's state file, relative to DIR (for documentation and tests). */
export function stateFileOf(ref: ObjectRef): string {
  return relative('.', join(STATE_DIR, 'objects', ...relPathOf(ref)));
}
