/**
 * ClusterSource over a real API server. @kubernetes/client-node is used for what it is good at,
 * reading kubeconfig (files, contexts, exec plugins, in-cluster service accounts) and producing
 * authenticated request options; the REST calls and the list+watch loop are our own, because
 * the informer must relist on 410 Gone, reconnect with backoff after a dropped connection,
 * report SYNCED after every relist and stop cleanly, and every write must map 404/409 to
 * podsec's errors. client-node is imported lazily so that importing podsec never loads it.
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PodsecError, UsageError } from '../../lib/errors.js';
import type { KubeObject } from '../types.js';
import { AlreadyExistsError, ClusterError, ConflictError, ExpiredError, NotFoundError } from './errors.js';
import { SharedInformer, type InformerCache } from './informer-cache.js';
import { BUILTIN_KINDS, groupVersionPath, kindKey, refOf, type ResourceInfo } from './kinds.js';
import type { ClusterSource, Informer, KindRef, ListOptions, ObjectRef, WriteOptions } from './types.js';

export interface ApiServerSourceOptions {
  /** A kubeconfig file (`--kubeconfig`); otherwise KUBECONFIG, ~/.kube/config, then the service account. */
  readonly kubeconfig?: string | undefined;
  /** A kubeconfig context other than the current one. */
  readonly context?: string | undefined;
  /** Use the pod's service account even when a kubeconfig exists. */
  readonly inCluster?: boolean | undefined;
  /** Server-side timeout of each watch request; the informer re-watches after it. Default 300. */
  readonly watchTimeoutSeconds?: number | undefined;
  /** First and largest wait before reconnecting after a failure. Defaults 500 ms and 30 s. */
  readonly backoffInitialMs?: number | undefined;
  readonly backoffMaxMs?: number | undefined;
  /** Timeout of each non-watch request. Default 30 s. */
  readonly requestTimeoutMs?: number | undefined;
  /** Where the home directory and service account are looked for (tests). */
  readonly homeDir?: string | undefined;
  readonly serviceAccountDir?: string | undefined;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const DEFAULT_PAGE_SIZE = 500;
/** How long authenticated request options (agent, bearer token) are reused before asking client-node again. */
const AUTH_TTL_MS = 30_000;

type KubeConfigLike = {
  getCurrentCluster(): { server: string } | null;
  applyToHTTPSOptions(opts: RequestOptions): Promise<void>;
};

interface Response {
  readonly status: number;
  readonly body: unknown;
}

function messageOf(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') {
    return body.message;
  }
  return typeof body === 'string' ? body.slice(0, 500) : 'no message';
}

function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace === undefined ? '' : `${ref.namespace}/`}${ref.name}`;
}

/** Loads kubeconfig in the documented order; problems are usage errors a person can act on. */
async function loadKubeConfig(
  options: ApiServerSourceOptions,
): Promise<KubeConfigLike & { description: string }> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  const saDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const homeConfig = join(options.homeDir ?? homedir(), '.kube', 'config');
  const env = process.env.KUBECONFIG;
  try {
    if (options.inCluster === true) {
      if (!existsSync(join(saDir, 'token'))) {
        throw new UsageError(`in-cluster configuration requested but ${saDir}/token does not exist`);
      }
      kc.loadFromCluster(saDir === SERVICE_ACCOUNT_DIR ? undefined : saDir);
    } else if (options.kubeconfig !== undefined && options.kubeconfig !== '')
      kc.loadFromFile(options.kubeconfig);
    else if (env !== undefined && env !== '') kc.loadFromDefault();
    else if (existsSync(homeConfig)) kc.loadFromFile(homeConfig);
    else if (existsSync(join(saDir, 'token')))
      kc.loadFromCluster(saDir === SERVICE_ACCOUNT_DIR ? undefined : saDir);
    else {
      throw new UsageError(
        'no cluster configured: no --kubeconfig, KUBECONFIG, ~/.kube/config or in-cluster service account',
        'point --kubeconfig at a kubeconfig file, or use --state DIR to work on a directory of manifests',
      );
    }
  } catch (e) {
    if (e instanceof PodsecError) throw e;
    throw new PodsecError(
      'INPUT_UNREADABLE',
      `cannot load the kubeconfig: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
  if (options.context !== undefined && options.context !== '') {
    if (kc.getContextObject(options.context) === null) {
      throw new UsageError(`kubeconfig has no context named ${JSON.stringify(options.context)}`);
    }
    kc.setCurrentContext(options.context);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null)
    throw new UsageError('the kubeconfig has no current cluster (set current-context or pass --context)');
  return Object.assign(kc, { description: `api-server ${cluster.server}` });
}

/** Authenticated HTTP(S) calls relative to the cluster's server URL. */
class RestClient {
  private auth: { opts: RequestOptions; at: number } | undefined;
  private readonly base: URL;

  constructor(
    private readonly kc: KubeConfigLike,
    private readonly timeoutMs: number,
  ) {
    this.base = new URL(kc.getCurrentCluster()?.server ?? '');
  }

  private async options(refresh: boolean): Promise<RequestOptions> {
    if (!refresh && this.auth !== undefined && Date.now() - this.auth.at < AUTH_TTL_MS) return this.auth.opts;
    const opts: RequestOptions = { headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    this.auth = { opts, at: Date.now() };
    return opts;
  }

  private url(path: string, query: Record<string, string | undefined>): URL {
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const url = new URL(this.base.origin);
    url.pathname = `${prefix}${path}`;
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    return url;
  }

  /** Starts a request and resolves with the response head; the caller reads the body. */
  async open(
    method: string,
    path: string,
    query: Record<string, string | undefined>,
    body: unknown,
    opts: { signal?: AbortSignal; timeoutMs?: number; refresh?: boolean } = {},
  ): Promise<IncomingMessage> {
    const url = this.url(path, query);
    const base = await this.options(opts.refresh === true);
    const mod = url.protocol === 'http:' ? await import('node:http') : await import('node:https');
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number | string[]> = {
      ...(base.headers as Record<string, string | number | string[]>),
      accept: 'application/json',
    };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = mod.request(
        url,
        { ...base, method, headers, ...(opts.signal === undefined ? {} : { signal: opts.signal }) },
        resolve,
      );
      const timeout = opts.timeoutMs ?? this.timeoutMs;
      if (timeout > 0) {
        req.setTimeout(timeout, () => req.destroy(new Error(`no answer within ${timeout} ms`)));
      }
      req.on('error', (e) =>
        reject(new ClusterError(503, `cannot reach the API server at ${this.base.origin}: ${e.message}`, e)),
      );
      req.end(payload);
    });
  }

  /** A complete call: status and parsed JSON body (or the text when it is not JSON). Retries once on 401. */
  async call(
    method: string,
    path: string,
    query: Record<string, string | undefined> = {},
    body?: unknown,
  ): Promise<Response> {
    let res = await this.open(method, path, query, body);
    if (res.statusCode === 401) {
      res.resume();
      res = await this.open(method, path, query, body, { refresh: true });
    }
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of res) chunks.push(chunk as Buffer);
    } catch (e) {
      throw new ClusterError(503, `the API server connection broke during ${method} ${path}`, e);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page): keep the text for the message.
    }
    return { status: res.statusCode ?? 0, body: parsed };
  }
}

function withKind(obj: KubeObject, kind: KindRef): KubeObject {
  obj.apiVersion ??= kind.apiVersion;
  obj.kind ??= kind.kind;
  return obj;
}

function requireRef(obj: KubeObject): ObjectRef {
  const ref = refOf(obj);
  if (ref === undefined)
    throw new ClusterError(400, 'an object to write needs apiVersion, kind and metadata.name');
  return ref;
}

interface LoopConfig {
  readonly watchTimeoutSeconds: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
}

type WatchOutcome =
  { readonly gone: true } | { readonly gone: false; readonly rv: string; readonly events: number };

/**
 * Authenticated JSON calls to the API server for what is not an object store (create-only APIs such
 * as TokenReview), with the same kubeconfig loading as the source: --kubeconfig, KUBECONFIG,
 * ~/.kube/config, in-cluster; --context checked.
 */
export interface ApiServerClient {
  /** `api-server https://...`, for logs. */
  readonly description: string;
  /** One call; resolves with any HTTP status, rejects (ClusterError 503) when the server cannot be reached. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

export async function createApiServerClient(options: ApiServerSourceOptions = {}): Promise<ApiServerClient> {
  const kc = await loadKubeConfig(options);
  const client = new RestClient(kc, options.requestTimeoutMs ?? 30_000);
  return { description: kc.description, call: (method, path, body) => client.call(method, path, {}, body) };
}

export async function createApiServerSource(options: ApiServerSourceOptions = {}): Promise<ClusterSource> {
  const kc = await loadKubeConfig(options);
  const client = new RestClient(kc, options.requestTimeoutMs ?? 30_000);
  const loop: LoopConfig = {
    watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
    backoffInitialMs: options.backoffInitialMs ?? 500,
    backoffMaxMs: options.backoffMaxMs ?? 30_000,
  };
  const discovered = new Map<string, Promise<ReadonlyMap<string, ResourceInfo>>>();
  const informers = new Map<string, SharedInformer>();
  let closed = false;

  async function discover(apiVersion: string): Promise<ReadonlyMap<string, ResourceInfo>> {
    const res = await client.call('GET', groupVersionPath(apiVersion));
    const found = new Map<string, ResourceInfo>();
    if (res.status === 404) return found;
    if (res.status !== 200)
      throw new ClusterError(res.status, `discovery of ${apiVersion} failed: ${messageOf(res.body)}`);
    const resources = (res.body as { resources?: { name?: string; kind?: string; namespaced?: boolean }[] })
      .resources;
    for (const r of resources ?? []) {
      if (typeof r.name === 'string' && !r.name.includes('/') && typeof r.kind === 'string') {
        found.set(r.kind, { plural: r.name, namespaced: r.namespaced === true });
      }
    }
    return found;
  }

  async function resolve(kind: KindRef): Promise<ResourceInfo> {
    const builtin = BUILTIN_KINDS.get(kindKey(kind));
    if (builtin !== undefined) return builtin;
    let pending = discovered.get(kind.apiVersion);
    if (pending === undefined) {
      pending = discover(kind.apiVersion);
      discovered.set(kind.apiVersion, pending);
      // A failed discovery is retried by the next caller.
      pending.catch(() => discovered.delete(kind.apiVersion));
    }
    const info = (await pending).get(kind.kind);
    if (info === undefined) {
      throw new ClusterError(
        404,
        `the API server does not serve ${kind.kind} in ${kind.apiVersion} (CRD not installed?)`,
      );
    }
    return info;
  }

  function collectionPath(kind: KindRef, info: ResourceInfo, namespace: string | undefined): string {
    const ns =
      info.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${groupVersionPath(kind.apiVersion)}${ns}/${info.plural}`;
  }

  async function objectPath(ref: ObjectRef): Promise<string> {
    const info = await resolve(ref);
    const namespace = info.namespaced ? (ref.namespace ?? 'default') : undefined;
    return `${collectionPath(ref, info, namespace)}/${encodeURIComponent(ref.name)}`;
  }

  function writeError(res: Response, ref: ObjectRef, op: string): ClusterError {
    const cause = new Error(messageOf(res.body));
    if (res.status === 404) return new NotFoundError(ref, cause);
    if (res.status === 409)
      return op === 'create' ? new AlreadyExistsError(ref, cause) : new ConflictError(ref, cause);
    return new ClusterError(
      res.status,
      `${op} of ${describeRef(ref)} failed (HTTP ${res.status}): ${messageOf(res.body)}`,
    );
  }

  async function* pages(
    kind: KindRef,
    info: ResourceInfo,
    opts: ListOptions | undefined,
    onFirstPage?: (resourceVersion: string) => void,
  ): AsyncGenerator<KubeObject[]> {
    let cont: string | undefined;
    let read = 0;
    const limit = String(Math.max(1, opts?.pageSize ?? DEFAULT_PAGE_SIZE));
    do {
      const res = await client.call('GET', collectionPath(kind, info, opts?.namespace), {
        limit,
        continue: cont,
        labelSelector: opts?.labelSelector,
      });
      if (res.status === 410 && cont !== undefined) {
        throw new ExpiredError(`${kind.kind} (${kind.apiVersion})`, read, new Error(messageOf(res.body)));
      }
      if (res.status !== 200) {
        throw new ClusterError(
          res.status,
          `list of ${kind.kind} (${kind.apiVersion}) failed: ${messageOf(res.body)}`,
        );
      }
      const body = res.body as {
        metadata?: { continue?: string; resourceVersion?: string };
        items?: KubeObject[];
      };
      if (read === 0) onFirstPage?.(body.metadata?.resourceVersion ?? '');
      read++;
      yield (body.items ?? []).map((o) => withKind(o, kind));
      cont = body.metadata?.continue === '' ? undefined : body.metadata?.continue;
    } while (cont !== undefined);
  }

  /** The list+watch loop of one informer; returns its stop function. */
  function runLoop(
    kind: KindRef,
    opts: Pick<ListOptions, 'namespace' | 'labelSelector'>,
    cache: InformerCache,
  ): () => void {
    let stopped = false;
    let abort: AbortController | undefined;
    let wake: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;

    const sleep = (ms: number): Promise<void> =>
      new Promise((done) => {
        wake = done;
        timer = setTimeout(done, ms);
      });

    async function relist(info: ResourceInfo): Promise<string> {
      // An expired continue token in the middle of a relist just means: list again from the start.
      for (let attempt = 0; ; attempt++) {
        const items: KubeObject[] = [];
        let rv = '';
        try {
          for await (const page of pages(kind, info, opts, (v) => (rv = v))) {
            if (stopped) return rv;
            items.push(...page);
          }
        } catch (e) {
          if (e instanceof ExpiredError && attempt < 3) continue;
          throw e;
        }
        if (!stopped) {
          cache.replace(items);
          cache.markSynced();
        }
        return rv;
      }
    }

    async function watchOnce(info: ResourceInfo, rv: string): Promise<WatchOutcome> {
      abort = new AbortController();
      const res = await client.open(
        'GET',
        collectionPath(kind, info, opts.namespace),
        {
          watch: 'true',
          resourceVersion: rv,
          allowWatchBookmarks: 'true',
          timeoutSeconds: String(loop.watchTimeoutSeconds),
          labelSelector: opts.labelSelector,
        },
        undefined,
        // The client-side limit catches half-open connections that the server's timeout cannot.
        { signal: abort.signal, timeoutMs: loop.watchTimeoutSeconds * 1000 + 30_000 },
      );
      if (res.statusCode === 410) {
        res.resume();
        return { gone: true };
      }
      if (res.statusCode !== 200) {
        res.resume();
        throw new ClusterError(res.statusCode ?? 0, `watch of ${kind.kind} answered HTTP ${res.statusCode}`);
      }
      let buffered = '';
      let events = 0;
      let current = rv;
      const handleLine = (line: string): WatchOutcome | undefined => {
        if (line.trim() === '') return undefined;
        let event: { type?: string; object?: KubeObject & { code?: number; message?: string } };
        try {
          event = JSON.parse(line) as typeof event;
        } catch (e) {
          throw new ClusterError(502, `watch of ${kind.kind} sent a line that is not JSON`, e);
        }
        const obj = event.object;
        if (event.type === 'ERROR') {
          if (obj?.code === 410) return { gone: true };
          throw new ClusterError(
            obj?.code ?? 500,
            `watch of ${kind.kind} failed: ${obj?.message ?? 'no message'}`,
          );
        }
        if (obj === undefined) return undefined;
        const next = obj.metadata?.resourceVersion;
        if (next !== undefined && next !== '') current = next;
        if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') {
          events++;
          cache.apply(event.type, withKind(obj, kind));
        }
        return undefined;
      };
      try {
        for await (const chunk of res) {
          buffered += (chunk as Buffer).toString('utf8');
          let nl = buffered.indexOf('\n');
          while (nl >= 0) {
            const outcome = handleLine(buffered.slice(0, nl));
            buffered = buffered.slice(nl + 1);
            if (outcome !== undefined) {
              res.destroy();
              return outcome;
            }
            nl = buffered.indexOf('\n');
          }
        }
      } catch (e) {
        if (e instanceof ClusterError) throw e;
        throw new ClusterError(503, `watch of ${kind.kind} lost its connection`, e);
      }
      if (!res.complete) throw new ClusterError(503, `watch of ${kind.kind} lost its connection`);
      const last = handleLine(buffered);
      return last ?? { gone: false, rv: current, events };
    }

    async function run(): Promise<void> {
      let backoff = loop.backoffInitialMs;
      let rv: string | undefined;
      const info = await resolveForLoop();
      if (info === undefined) return;
      while (!stopped) {
        try {
          if (rv === undefined) {
            rv = await relist(info);
            backoff = loop.backoffInitialMs;
          }
          if (stopped) break;
          const started = Date.now();
          const outcome = await watchOnce(info, rv);
          if (outcome.gone) {
            cache.fail(new ClusterError(410, `watch of ${kind.kind} expired (410 Gone); relisting`));
            rv = undefined;
            continue;
          }
          rv = outcome.rv;
          if (outcome.events > 0) backoff = loop.backoffInitialMs;
          // A server that ends watches at once must not turn this into a busy loop.
          else if (Date.now() - started < 1000) await sleep(backoff);
        } catch (e) {
          if (stopped) break;
          cache.fail(e instanceof Error ? e : new Error(String(e)));
          await sleep(backoff);
          backoff = Math.min(backoff * 2, loop.backoffMaxMs);
        }
      }
    }

    async function resolveForLoop(): Promise<ResourceInfo | undefined> {
      let backoff = loop.backoffInitialMs;
      while (!stopped) {
        try {
          return await resolve(kind);
        } catch (e) {
          cache.fail(e instanceof Error ? e : new Error(String(e)));
          await sleep(backoff);
          backoff = Math.min(backoff * 2, loop.backoffMaxMs);
        }
      }
      return undefined;
    }

    run().catch((e: unknown) => cache.fail(e instanceof Error ? e : new Error(String(e))));
    return () => {
      stopped = true;
      abort?.abort();
      if (timer !== undefined) clearTimeout(timer);
      wake?.();
    };
  }

  const source: ClusterSource = {
    description: kc.description,

    async *listPages(kind, opts) {
      const info = await resolve(kind);
      yield* pages(kind, info, opts);
    },

    async get(ref) {
      const res = await client.call('GET', await objectPath(ref));
      if (res.status === 404) return undefined;
      if (res.status !== 200) {
        throw new ClusterError(res.status, `get of ${describeRef(ref)} failed: ${messageOf(res.body)}`);
      }
      return withKind(res.body as KubeObject, ref);
    },

    informer(kind, opts = {}): Informer {
      if (closed) throw new ClusterError(500, 'the cluster source is closed');
      const key = `${kindKey(kind)}|${opts.namespace ?? ''}|${opts.labelSelector ?? ''}`;
      let shared = informers.get(key);
      if (shared === undefined || shared.isStopped) {
        let stopLoop: () => void = () => undefined;
        const created = new SharedInformer(
          () => stopLoop(),
          () => {
            if (informers.get(key) === created) informers.delete(key);
          },
        );
        informers.set(key, created);
        stopLoop = runLoop(kind, opts, created.cache);
        shared = created;
      }
      return shared.handle();
    },

    async create(obj, opts?: WriteOptions) {
      const ref = requireRef(obj);
      const info = await resolve(ref);
      const namespace = info.namespaced ? (ref.namespace ?? 'default') : undefined;
      const res = await client.call(
        'POST',
        collectionPath(ref, info, namespace),
        { dryRun: opts?.dryRun === true ? 'All' : undefined },
        obj,
      );
      if (res.status !== 200 && res.status !== 201 && res.status !== 202)
        throw writeError(res, ref, 'create');
      return withKind(res.body as KubeObject, ref);
    },

    async update(obj, opts) {
      const ref = requireRef(obj);
      const res = await client.call(
        'PUT',
        await objectPath(ref),
        { dryRun: opts?.dryRun === true ? 'All' : undefined },
        obj,
      );
      if (res.status !== 200 && res.status !== 201) throw writeError(res, ref, 'update');
      return withKind(res.body as KubeObject, ref);
    },

    async updateStatus(obj, opts) {
      const ref = requireRef(obj);
      const res = await client.call(
        'PUT',
        `${await objectPath(ref)}/status`,
        { dryRun: opts?.dryRun === true ? 'All' : undefined },
        obj,
      );
      if (res.status !== 200 && res.status !== 201) throw writeError(res, ref, 'status update');
      return withKind(res.body as KubeObject, ref);
    },

    async delete(ref, opts) {
      const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
      if (opts?.resourceVersion !== undefined) body.preconditions = { resourceVersion: opts.resourceVersion };
      if (opts?.dryRun === true) body.dryRun = ['All'];
      const res = await client.call(
        'DELETE',
        await objectPath(ref),
        { dryRun: opts?.dryRun === true ? 'All' : undefined },
        body,
      );
      if (res.status === 404) return false;
      if (res.status !== 200 && res.status !== 202) throw writeError(res, ref, 'delete');
      return true;
    },

    close() {
      closed = true;
      for (const shared of [...informers.values()]) shared.stopAll();
      informers.clear();
      return Promise.resolve();
    },
  };
  return source;
}
