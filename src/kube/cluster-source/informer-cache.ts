/**
 * The cache and fan-out shared by both informers. The I/O loops (API watch, directory re-read)
 * only feed it complete lists or single events; this module turns a new complete list into the
 * ADDED/MODIFIED/DELETED events that differ from the cache, so a relist after 410 Gone or a
 * re-read of a directory reports exactly what changed. Several callers asking for the same kind
 * share one loop; the loop stops when the last of them stops.
 */
import type { KubeObject } from '../types.js';
import { objectKey } from './kinds.js';
import type { Informer, WatchEvent } from './types.js';

type Listener = (event: WatchEvent) => void;

function keyOf(obj: KubeObject): string {
  return objectKey(obj.metadata?.namespace, obj.metadata?.name ?? '');
}

function changed(before: KubeObject, after: KubeObject): boolean {
  const a = before.metadata?.resourceVersion;
  const b = after.metadata?.resourceVersion;
  if (a !== undefined || b !== undefined) return a !== b;
  return JSON.stringify(before) !== JSON.stringify(after);
}

export class InformerCache {
  private readonly objects = new Map<string, KubeObject>();
  private readonly listeners = new Set<Listener>();
  private syncedOnce = false;
  private resolveSynced: () => void = () => undefined;
  private rejectSynced: (e: Error) => void = () => undefined;
  readonly synced: Promise<void>;

  constructor() {
    this.synced = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve;
      this.rejectSynced = reject;
    });
    // Callers that never await `synced` must not see an unhandled rejection when stopped early.
    this.synced.catch(() => undefined);
  }

  get isSynced(): boolean {
    return this.syncedOnce;
  }

  emit(event: WatchEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's own fault must not stop the informer or the other listeners.
      }
    }
  }

  /** Replaces the whole content (initial list, relist, directory re-read), emitting the differences. */
  replace(items: readonly KubeObject[]): void {
    const next = new Map<string, KubeObject>();
    for (const item of items) next.set(keyOf(item), item);
    for (const [key, old] of this.objects) {
      if (!next.has(key)) {
        this.objects.delete(key);
        this.emit({ type: 'DELETED', object: old });
      }
    }
    for (const [key, obj] of next) {
      const old = this.objects.get(key);
      this.objects.set(key, obj);
      if (old === undefined) this.emit({ type: 'ADDED', object: obj });
      else if (changed(old, obj)) this.emit({ type: 'MODIFIED', object: obj });
    }
  }

  /** One watch event. ADDED for a known object counts as MODIFIED and vice versa, as the cache sees it. */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void {
    const key = keyOf(obj);
    if (type === 'DELETED') {
      const old = this.objects.get(key);
      this.objects.delete(key);
      this.emit({ type: 'DELETED', object: old ?? obj });
      return;
    }
    const existed = this.objects.has(key);
    this.objects.set(key, obj);
    this.emit({ type: existed ? 'MODIFIED' : 'ADDED', object: obj });
  }

  markSynced(): void {
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      this.resolveSynced();
    }
    this.emit({ type: 'SYNCED' });
  }

  fail(error: Error): void {
    this.emit({ type: 'ERROR', error });
  }

  list(namespace?: string): readonly KubeObject[] {
    const all = [...this.objects.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(objectKey(namespace, name));
  }

  /** Adds a listener; when the cache is already synced it first sees every cached object as ADDED, then SYNCED. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (this.syncedOnce) {
      for (const obj of this.objects.values()) listener({ type: 'ADDED', object: obj });
      listener({ type: 'SYNCED' });
    }
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.listeners.clear();
    if (!this.syncedOnce) this.rejectSynced(new Error('informer stopped before its first sync'));
  }
}

/** One running loop (watch or re-read) shared by every handle asking for the same view. */
export class SharedInformer {
  readonly cache = new InformerCache();
  private handles = 0;
  private stopped = false;

  constructor(
    private readonly stopLoop: () => void,
    private readonly onStopped: () => void,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Stops the loop whatever the number of handles (close of the source). */
  stopAll(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopLoop();
    this.cache.close();
    this.onStopped();
  }

  handle(): Informer {
    this.handles++;
    const unsubscribers: (() => void)[] = [];
    let released = false;
    const cache = this.cache;
    return {
      synced: cache.synced,
      list: (namespace) => cache.list(namespace),
      get: (namespace, name) => cache.get(namespace, name),
      onEvent: (listener) => {
        const off = cache.subscribe(listener);
        unsubscribers.push(off);
        return off;
      },
      stop: () => {
        if (released) return;
        released = true;
        for (const off of unsubscribers) off();
        this.handles--;
        if (this.handles === 0) this.stopAll();
      },
    };
  }
}
