/**
 * ClusterSource: the one way every cluster-facing part of podsec sees and changes the cluster
 * (CONTRACTS.md section 5). Two implementations share this interface and one test suite:
 * the API server through @kubernetes/client-node, and a directory of manifests (`--state DIR`)
 * for laptops and CI, which writes only under DIR/.podsec/.
 * Controllers never talk to either directly: they get snapshots and events from here, and return
 * actions that the caller applies through the write side.
 */
import type { KubeObject } from '../types.js';

/** A kind of object, e.g. {apiVersion: 'v1', kind: 'Pod'} or {apiVersion: 'apps/v1', kind: 'Deployment'}. */
export interface KindRef {
  readonly apiVersion: string;
  readonly kind: string;
}

/** One object. `namespace` is absent for cluster-scoped kinds. */
export interface ObjectRef extends KindRef {
  readonly namespace?: string | undefined;
  readonly name: string;
}

export interface ListOptions {
  /** Only this namespace (all namespaces when absent). */
  readonly namespace?: string | undefined;
  /** Kubernetes label selector text, e.g. `app=web,tier!=db`. */
  readonly labelSelector?: string | undefined;
  /** Page size for paginated LISTs (the API server's `limit`); default 500. */
  readonly pageSize?: number | undefined;
}

export type WatchEvent =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: KubeObject }
  /** The cache holds a complete, consistent view (after the initial list or a relist). */
  | { readonly type: 'SYNCED' }
  /** A recoverable problem (connection lost, 410 Gone); the informer relists by itself. */
  | { readonly type: 'ERROR'; readonly error: Error };

/** A cached, continuously updated view of one kind (an informer). */
export interface Informer {
  /** Resolves once the first complete list is in the cache. */
  readonly synced: Promise<void>;
  /** Objects in the cache (optionally one namespace). Returned objects must not be mutated. */
  list(namespace?: string): readonly KubeObject[];
  get(namespace: string | undefined, name: string): KubeObject | undefined;
  /** Subscribes to changes; returns an unsubscribe function. */
  onEvent(listener: (event: WatchEvent) => void): () => void;
  stop(): void;
}

export interface WriteOptions {
  /** Server-side dry run: validated, nothing stored. */
  readonly dryRun?: boolean | undefined;
}

export interface ClusterSource {
  /** A short description for logs and /readyz: `api-server https://...` or `directory ./state`. */
  readonly description: string;
  /** Lists every object of a kind, one page at a time, so memory stays bounded on large clusters. */
  listPages(kind: KindRef, options?: ListOptions): AsyncIterable<readonly KubeObject[]>;
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** Starts (or reuses) an informer for a kind. */
  informer(kind: KindRef, options?: Pick<ListOptions, 'namespace' | 'labelSelector'>): Informer;
  /** Creates an object; AlreadyExistsError when it exists. */
  create(obj: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  /** Replaces an object; ConflictError when metadata.resourceVersion is stale, NotFoundError when absent. */
  update(obj: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  /** Replaces the status subresource (same conflict rules). */
  updateStatus(obj: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  /** Deletes an object; resolves false when it was already gone. Honors a resourceVersion precondition. */
  delete(ref: ObjectRef, options?: WriteOptions & { resourceVersion?: string }): Promise<boolean>;
  /** Stops every informer and watch. */
  close(): Promise<void>;
}
