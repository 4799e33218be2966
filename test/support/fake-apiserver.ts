/**
 * A small in-process Kubernetes list/watch API server for tests, on 127.0.0.1 and a random port.
 * It keeps objects per resource with one global resourceVersion counter and serves what the
 * ClusterSource relies on: LIST with limit/continue, WATCH streams from a resourceVersion,
 * create/update/status/delete with conflicts and dry runs, and discovery. Tests can make it
 * misbehave the way real clusters do: 410 Gone for watches (`expireWatch`), dropped
 * connections (`dropConnections`) and expired continue tokens (`expireContinueTokens`).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_KINDS, objectKey, splitApiVersion } from '../../src/kube/cluster-source/kinds.js';
import { parseLabelSelector } from '../../src/lib/label-selector/index.js';
import type { KubeObject } from '../../src/kube/types.js';

export interface FakeKind {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

interface Resource extends FakeKind {
  readonly objects: Map<string, KubeObject>;
  /** Events after `compactedRV`, oldest first, for watches that start from a resourceVersion. */
  history: { rv: number; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }[];
  compactedRV: number;
  /** Keys in order, rebuilt lazily after a change, so paging a large list does not sort per page. */
  sortedKeys: string[] | undefined;
}

interface Watcher {
  readonly resource: Resource;
  readonly namespace: string | undefined;
  readonly matches: (labels: Record<string, string> | undefined) => boolean;
  readonly res: ServerResponse;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
}

export interface FakeApiServer {
  readonly url: string;
  /** Every request received, in order (for asserting page sizes, dryRun, ...). */
  readonly requests: RequestRecord[];
  /** Stores objects directly (as if another client created them), emitting watch events. */
  seed(objects: readonly KubeObject[]): void;
  /** Deletes an object directly, emitting a watch event; false when absent. */
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean;
  /** The stored object, for assertions. */
  object(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): KubeObject | undefined;
  addKind(kind: FakeKind): void;
  /** Compacts history and ends every open watch with a 410 Gone ERROR event. */
  expireWatch(): void;
  /** Destroys every open watch connection without a word. */
  dropConnections(): void;
  /** Every continue token issued so far answers 410 Expired. */
  expireContinueTokens(): void;
  /** Number of watch connections currently open. */
  readonly openWatches: number;
  /** Writes a kubeconfig pointing at this server; returns its path. */
  writeKubeconfig(options?: { contextName?: string }): Promise<string>;
  close(): Promise<void>;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function status(code: number, reason: string, message: string): KubeObject {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

interface ParsedPath {
  apiVersion: string;
  namespace: string | undefined;
  plural: string;
  name: string | undefined;
  subresource: string | undefined;
}

function parsePath(path: string): ParsedPath | undefined {
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let apiVersion: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    apiVersion = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    apiVersion = `${parts[1]}/${parts[2]}`;
    rest = parts.slice(3);
  } else return undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    return { apiVersion, namespace: rest[1], plural: rest[2] ?? '', name: rest[3], subresource: rest[4] };
  }
  return { apiVersion, namespace: undefined, plural: rest[0] ?? '', name: rest[1], subresource: rest[2] };
}

/** What a TokenReview answers: `status` of authentication.k8s.io/v1 TokenReview. */
export type FakeTokenReview = (spec: { token?: string; audiences?: string[] }) => Record<string, unknown>;

export async function startFakeApiServer(
  options: {
    kinds?: readonly FakeKind[];
    tokenReview?: FakeTokenReview;
    /** Built-in kinds not served (`apiVersion/kind`), as when a CRD is not installed: 404. */
    without?: readonly string[];
  } = {},
): Promise<FakeApiServer> {
  const resources = new Map<string, Resource>(); // `${apiVersion}|${plural}`
  const byKind = new Map<string, Resource>(); // `${apiVersion}/${kind}`
  const watchers = new Set<Watcher>();
  const sockets = new Set<Socket>();
  const requests: RequestRecord[] = [];
  const tempDirs: string[] = [];
  let rv = 100;
  let continueEpoch = 0;

  function addKind(k: FakeKind): void {
    const r: Resource = { ...k, objects: new Map(), history: [], compactedRV: rv, sortedKeys: undefined };
    resources.set(`${k.apiVersion}|${k.plural}`, r);
    byKind.set(`${k.apiVersion}/${k.kind}`, r);
  }
  for (const [key, info] of BUILTIN_KINDS) {
    if (options.without?.includes(key) === true) continue;
    const slash = key.lastIndexOf('/');
    addKind({ apiVersion: key.slice(0, slash), kind: key.slice(slash + 1), ...info });
  }
  for (const k of options.kinds ?? []) addKind(k);

  function record(r: Resource, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, at: number): void {
    r.history.push({ rv: at, type, object: obj });
    if (r.history.length > 5000) {
      const dropped = r.history.splice(0, r.history.length - 5000);
      r.compactedRV = dropped[dropped.length - 1]?.rv ?? r.compactedRV;
    }
    for (const w of watchers) {
      if (w.resource === r && visible(w, obj)) writeEvent(w.res, type, obj);
    }
  }

  function visible(w: Pick<Watcher, 'namespace' | 'matches'>, obj: KubeObject): boolean {
    return (
      (w.namespace === undefined || obj.metadata?.namespace === w.namespace) &&
      w.matches(obj.metadata?.labels)
    );
  }

  function writeEvent(res: ServerResponse, type: string, object: KubeObject): void {
    res.write(`${JSON.stringify({ type, object })}\n`);
  }

  function store(r: Resource, obj: KubeObject): KubeObject {
    const key = objectKey(obj.metadata?.namespace, obj.metadata?.name ?? '');
    const existed = r.objects.has(key);
    rv++;
    const stored = clone(obj);
    stored.apiVersion = r.apiVersion;
    stored.kind = r.kind;
    stored.metadata = { ...stored.metadata, resourceVersion: String(rv) };
    stored.metadata.uid ??= randomUUID();
    if (!existed) r.sortedKeys = undefined;
    r.objects.set(key, stored);
    record(r, existed ? 'MODIFIED' : 'ADDED', stored, rv);
    return stored;
  }

  function removeStored(r: Resource, key: string): KubeObject | undefined {
    const old = r.objects.get(key);
    if (old === undefined) return undefined;
    r.objects.delete(key);
    r.sortedKeys = undefined;
    rv++;
    const gone = clone(old);
    gone.metadata = { ...gone.metadata, resourceVersion: String(rv) };
    record(r, 'DELETED', gone, rv);
    return gone;
  }

  function resourceFor(apiVersion: string | undefined, kind: string | undefined): Resource {
    const r = byKind.get(`${apiVersion}/${kind}`);
    if (r === undefined) throw new Error(`fake API server: unknown kind ${apiVersion}/${kind}`);
    return r;
  }

  function discovery(path: string, res: ServerResponse): boolean {
    if (path === '/api') {
      send(res, 200, { kind: 'APIVersions', versions: ['v1'] });
      return true;
    }
    const groups = new Map<string, Set<string>>();
    for (const r of resources.values()) {
      const { group, version } = splitApiVersion(r.apiVersion);
      if (group === '') continue;
      const versions = groups.get(group) ?? new Set<string>();
      versions.add(version);
      groups.set(group, versions);
    }
    if (path === '/apis') {
      send(res, 200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...groups].map(([name, versions]) => ({
          name,
          versions: [...versions].map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
          preferredVersion: { groupVersion: `${name}/${[...versions][0]}`, version: [...versions][0] },
        })),
      });
      return true;
    }
    const m = /^\/api\/([^/]+)$|^\/apis\/([^/]+\/[^/]+)$/.exec(path);
    if (m === null) return false;
    const groupVersion = m[1] ?? m[2] ?? '';
    const list = [...resources.values()].filter((r) => r.apiVersion === groupVersion);
    if (list.length === 0) {
      send(res, 404, status(404, 'NotFound', `the server could not find the requested resource`));
      return true;
    }
    const verbs = ['create', 'delete', 'get', 'list', 'update', 'watch'];
    send(res, 200, {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion,
      resources: list.flatMap((r) => [
        { name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs },
        {
          name: `${r.plural}/status`,
          singularName: '',
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ['get', 'update'],
        },
      ]),
    });
    return true;
  }

  function list(r: Resource, p: ParsedPath, q: URLSearchParams, res: ServerResponse): void {
    const matches = parseLabelSelector(q.get('labelSelector') ?? undefined);
    r.sortedKeys ??= [...r.objects.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const keys = r.sortedKeys;
    let start = 0;
    const token = q.get('continue');
    if (token !== null && token !== '') {
      let decoded: { epoch: number; after: string } | undefined;
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
          epoch: number;
          after: string;
        };
      } catch {
        send(res, 400, status(400, 'BadRequest', 'invalid continue token'));
        return;
      }
      if (decoded.epoch !== continueEpoch) {
        const message = 'The provided continue parameter is too old to display a consistent list result.';
        send(res, 410, status(410, 'Expired', message));
        return;
      }
      // First key after the token's (binary search).
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((keys[mid] ?? '') <= decoded.after) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const limit = Number(q.get('limit') ?? '0');
    const page: [string, KubeObject][] = [];
    let i = start;
    for (; i < keys.length && (limit <= 0 || page.length < limit); i++) {
      const key = keys[i] ?? '';
      const o = r.objects.get(key);
      if (o !== undefined && visible({ namespace: p.namespace, matches }, o)) page.push([key, o]);
    }
    let more = false;
    for (let j = i; j < keys.length; j++) {
      const o = r.objects.get(keys[j] ?? '');
      if (o !== undefined && visible({ namespace: p.namespace, matches }, o)) {
        more = true;
        break;
      }
    }
    const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
    if (more) {
      const lastKey = page[page.length - 1]?.[0] ?? '';
      metadata.continue = Buffer.from(JSON.stringify({ epoch: continueEpoch, after: lastKey })).toString(
        'base64url',
      );
    }
    // Like the real server, items carry no apiVersion/kind of their own.
    const stripped = page.map(([, o]) => {
      const { apiVersion: _a, kind: _k, ...rest } = o;
      return rest;
    });
    send(res, 200, { kind: `${r.kind}List`, apiVersion: r.apiVersion, metadata, items: stripped });
  }

  function watch(
    r: Resource,
    p: ParsedPath,
    q: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    const matches = parseLabelSelector(q.get('labelSelector') ?? undefined);
    const from = q.get('resourceVersion');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const w: Watcher = { resource: r, namespace: p.namespace, matches, res };
    if (from === null || from === '' || from === '0') {
      for (const o of r.objects.values()) if (visible(w, o)) writeEvent(res, 'ADDED', o);
    } else {
      const n = Number(from);
      if (!(n >= r.compactedRV)) {
        writeEvent(
          res,
          'ERROR',
          status(410, 'Expired', `too old resource version: ${from} (${r.compactedRV})`),
        );
        res.end();
        return;
      }
      for (const e of r.history) if (e.rv > n && visible(w, e.object)) writeEvent(res, e.type, e.object);
    }
    watchers.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      watchers.delete(w);
    };
    res.on('close', done);
    req.on('close', done);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = url.searchParams;
    requests.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(q) });
    if (req.method === 'GET' && discovery(url.pathname, res)) return;
    if (
      req.method === 'POST' &&
      url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews' &&
      options.tokenReview !== undefined
    ) {
      // create-only: answered from the test's function, never stored
      const review = (await readBody(req)) as { spec?: { token?: string; audiences?: string[] } } | undefined;
      const spec = review?.spec ?? {};
      send(res, 201, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        metadata: { creationTimestamp: null },
        spec,
        status: options.tokenReview(spec),
      });
      return;
    }
    const p = parsePath(url.pathname);
    const r = p === undefined ? undefined : resources.get(`${p.apiVersion}|${p.plural}`);
    if (p === undefined || r === undefined) {
      send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    const dryRun = q.get('dryRun') === 'All';
    const key = (name: string): string => objectKey(r.namespaced ? p.namespace : undefined, name);
    const notFound = (name: string): void =>
      send(res, 404, status(404, 'NotFound', `${r.plural} "${name}" not found`));
    let body: KubeObject | undefined;
    if (req.method === 'POST' || req.method === 'PUT' || req.method === 'DELETE') {
      try {
        body = (await readBody(req)) as KubeObject | undefined;
      } catch {
        send(res, 400, status(400, 'BadRequest', 'body is not JSON'));
        return;
      }
    }
    switch (req.method) {
      case 'GET': {
        if (p.name === undefined) {
          if (q.get('watch') === 'true' || q.get('watch') === '1') watch(r, p, q, req, res);
          else list(r, p, q, res);
          return;
        }
        const o = r.objects.get(key(p.name));
        if (o === undefined) notFound(p.name);
        else send(res, 200, o);
        return;
      }
      case 'POST': {
        const name = body?.metadata?.name;
        if (body === undefined || p.name !== undefined || typeof name !== 'string' || name === '') {
          send(
            res,
            400,
            status(400, 'BadRequest', 'POST needs an object with metadata.name to the collection'),
          );
          return;
        }
        if (r.namespaced) body.metadata = { ...body.metadata, namespace: p.namespace ?? 'default' };
        if (r.objects.has(key(name))) {
          send(res, 409, status(409, 'AlreadyExists', `${r.plural} "${name}" already exists`));
          return;
        }
        if (dryRun) {
          send(res, 201, { ...body, apiVersion: r.apiVersion, kind: r.kind });
          return;
        }
        const created = clone(body);
        (created.metadata as Record<string, unknown>).creationTimestamp = new Date().toISOString();
        send(res, 201, store(r, created));
        return;
      }
      case 'PUT': {
        if (body === undefined || p.name === undefined) {
          send(res, 400, status(400, 'BadRequest', 'PUT needs an object and a name'));
          return;
        }
        const old = r.objects.get(key(p.name));
        if (old === undefined) {
          notFound(p.name);
          return;
        }
        const want = body.metadata?.resourceVersion;
        if (want !== undefined && want !== '' && want !== old.metadata?.resourceVersion) {
          send(
            res,
            409,
            status(
              409,
              'Conflict',
              `Operation cannot be fulfilled on ${r.plural} "${p.name}": the object has been modified`,
            ),
          );
          return;
        }
        let next: KubeObject;
        if (p.subresource === 'status') {
          next = clone(old);
          next.status = clone(body.status);
        } else {
          // The main resource cannot change status, uid, namespace or creationTimestamp.
          next = clone(body);
          const meta = (next.metadata ?? {}) as Record<string, unknown>;
          const oldMeta = (old.metadata ?? {}) as Record<string, unknown>;
          for (const k of ['uid', 'namespace', 'creationTimestamp']) {
            if (oldMeta[k] === undefined) delete meta[k];
            else meta[k] = oldMeta[k];
          }
          next.metadata = meta;
          if (old.status === undefined) delete next.status;
          else next.status = clone(old.status);
        }
        if (dryRun) {
          send(res, 200, { ...next, apiVersion: r.apiVersion, kind: r.kind });
          return;
        }
        send(res, 200, store(r, next));
        return;
      }
      case 'DELETE': {
        if (p.name === undefined) {
          send(res, 405, status(405, 'MethodNotAllowed', 'collection delete is not supported here'));
          return;
        }
        const old = r.objects.get(key(p.name));
        if (old === undefined) {
          notFound(p.name);
          return;
        }
        const pre = (body as { preconditions?: { resourceVersion?: string } } | undefined)?.preconditions
          ?.resourceVersion;
        if (pre !== undefined && pre !== old.metadata?.resourceVersion) {
          send(res, 409, status(409, 'Conflict', `Precondition failed: resourceVersion ${pre} is stale`));
          return;
        }
        const dry = dryRun || ((body as { dryRun?: string[] } | undefined)?.dryRun ?? []).includes('All');
        if (dry) {
          send(res, 200, old);
          return;
        }
        send(res, 200, removeStored(r, key(p.name)));
        return;
      }
      default:
        send(res, 405, status(405, 'MethodNotAllowed', `method ${req.method} not allowed`));
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, status(500, 'InternalError', String(e)));
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    requests,
    seed(objects) {
      for (const o of objects) {
        const r = resourceFor(o.apiVersion, o.kind);
        const obj = clone(o);
        if (r.namespaced) obj.metadata = { ...obj.metadata, namespace: obj.metadata?.namespace ?? 'default' };
        const existing = r.objects.get(objectKey(obj.metadata?.namespace, obj.metadata?.name ?? ''));
        if (existing?.metadata?.uid !== undefined)
          obj.metadata = { ...obj.metadata, uid: existing.metadata.uid };
        store(r, obj);
      }
    },
    remove(apiVersion, kind, namespace, name) {
      return removeStored(resourceFor(apiVersion, kind), objectKey(namespace, name)) !== undefined;
    },
    object(apiVersion, kind, namespace, name) {
      return byKind.get(`${apiVersion}/${kind}`)?.objects.get(objectKey(namespace, name));
    },
    addKind,
    expireWatch() {
      for (const r of resources.values()) {
        r.history = [];
        r.compactedRV = rv + 1;
      }
      for (const w of [...watchers]) {
        writeEvent(w.res, 'ERROR', status(410, 'Expired', 'too old resource version'));
        w.res.end();
        watchers.delete(w);
      }
    },
    dropConnections() {
      for (const w of [...watchers]) {
        watchers.delete(w);
        w.res.socket?.destroy();
      }
    },
    expireContinueTokens() {
      continueEpoch++;
    },
    get openWatches() {
      return watchers.size;
    },
    async writeKubeconfig({ contextName = 'fake' } = {}) {
      const dir = await mkdtemp(join(tmpdir(), 'podsec-kubeconfig-'));
      tempDirs.push(dir);
      const path = join(dir, 'config');
      const text = [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: ${contextName}`,
        '  cluster:',
        `    server: ${url}`,
        '    insecure-skip-tls-verify: true',
        'users:',
        `- name: ${contextName}`,
        '  user:',
        '    token: fake-token',
        'contexts:',
        `- name: ${contextName}`,
        '  context:',
        `    cluster: ${contextName}`,
        `    user: ${contextName}`,
        `current-context: ${contextName}`,
        '',
      ].join('\n');
      await writeFile(path, text, { mode: 0o600 });
      return path;
    },
    async close() {
      for (const w of watchers) w.res.socket?.destroy();
      watchers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const d of tempDirs) await rm(d, { recursive: true, force: true });
    },
  };
}
