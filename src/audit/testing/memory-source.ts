/**
 * A tiny in-memory ClusterSource for audit tests: pages, get, create/update with resourceVersion
 * conflicts, delete. Counts writes so tests can prove that an unchanged report is not rewritten.
 * Not an informer implementation (the audit never uses one).
 */
import type { KubeObject } from '../../kube/types.js';
import type {
  ClusterSource,
  Informer,
  KindRef,
  ListOptions,
  ObjectRef,
} from '../../kube/cluster-source/types.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../kube/cluster-source/errors.js';

function refKey(r: ObjectRef): string {
  return `${r.apiVersion}\0${r.kind}\0${r.namespace ?? ''}\0${r.name}`;
}

function refOf(obj: KubeObject): ObjectRef {
  return {
    apiVersion: obj.apiVersion ?? '',
    kind: obj.kind ?? '',
    namespace: obj.metadata?.namespace,
    name: obj.metadata?.name ?? '',
  };
}

function matchesSelector(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (selector === undefined || selector === '') return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return k !== undefined && labels?.[k] === v;
  });
}

export class MemorySource implements ClusterSource {
  readonly description = 'memory';
  private readonly objects = new Map<string, KubeObject>();
  private version = 1;
  writes = { create: 0, update: 0, delete: 0 };
  /** When set, the next update of this name fails with a conflict once (to test retries). */
  conflictOnce = new Set<string>();

  constructor(objects: readonly KubeObject[] = []) {
    for (const o of objects) this.put(structuredClone(o));
  }

  private put(o: KubeObject): KubeObject {
    const stored = structuredClone(o);
    stored.metadata = { ...stored.metadata, resourceVersion: String(this.version++) };
    this.objects.set(refKey(refOf(stored)), stored);
    return structuredClone(stored);
  }

  all(kind?: KindRef): KubeObject[] {
    return [...this.objects.values()]
      .filter((o) => kind === undefined || (o.apiVersion === kind.apiVersion && o.kind === kind.kind))
      .map((o) => structuredClone(o));
  }

  async *listPages(kind: KindRef, options: ListOptions = {}): AsyncIterable<readonly KubeObject[]> {
    const size = options.pageSize ?? 500;
    const matching = this.all(kind).filter(
      (o) =>
        (options.namespace === undefined || o.metadata?.namespace === options.namespace) &&
        matchesSelector(o.metadata?.labels, options.labelSelector),
    );
    for (let i = 0; i < matching.length; i += size) {
      await Promise.resolve();
      yield matching.slice(i, i + size);
    }
  }

  get(ref: ObjectRef): Promise<KubeObject | undefined> {
    const o = this.objects.get(refKey(ref));
    return Promise.resolve(o === undefined ? undefined : structuredClone(o));
  }

  informer(): Informer {
    throw new Error('MemorySource has no informers');
  }

  create(obj: KubeObject): Promise<KubeObject> {
    const ref = refOf(obj);
    if (this.objects.has(refKey(ref))) return Promise.reject(new AlreadyExistsError(ref));
    this.writes.create++;
    return Promise.resolve(this.put(obj));
  }

  update(obj: KubeObject): Promise<KubeObject> {
    const ref = refOf(obj);
    const cur = this.objects.get(refKey(ref));
    if (cur === undefined) return Promise.reject(new NotFoundError(ref));
    if (
      this.conflictOnce.delete(ref.name) ||
      cur.metadata?.resourceVersion !== obj.metadata?.resourceVersion
    ) {
      this.put(cur); // someone else wrote in between
      return Promise.reject(new ConflictError(ref));
    }
    this.writes.update++;
    return Promise.resolve(this.put(obj));
  }

  updateStatus(obj: KubeObject): Promise<KubeObject> {
    return this.update(obj);
  }

  delete(ref: ObjectRef): Promise<boolean> {
    const existed = this.objects.delete(refKey(ref));
    if (existed) this.writes.delete++;
    return Promise.resolve(existed);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
