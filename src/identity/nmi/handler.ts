/**
 * The NMI's request handler: an IMDS look-alike that serves each pod only the identities
 * assigned to it. It never sees a socket: the server hands it the method, path, query, headers
 * and the TCP source address, and writes back what it returns. Who the caller is comes only
 * from the source address (no header or parameter can claim to be a pod). Every error is JSON
 * `{error, error_description}`, because the Azure SDKs report a plain-text body as "network
 * unreachable". Safe defaults: unknown, ambiguous, host and hostNetwork callers get nothing;
 * /metadata/instance is blocked; without a configured upstream nothing is passed on.
 *
 * Routing runs on the canonical path (path.ts): an escaped, doubled or dotted spelling is refused
 * with 400 or reduced to its one form, so it can neither dodge the token route nor the instance
 * block. Under /metadata/identity only the token path exists (anything else: 404, never passed
 * on); other paths are passed to the real IMDS only for the categories in PASSTHROUGH_CATEGORIES
 * and only for the same callers the token route serves (a pod on this node, not hostNetwork,
 * under the per-pod rate limit), with exactly the canonical path and the query as received.
 */
import type { Route } from './metrics.js';
import { canonicalPath, isForwardableQuery } from './path.js';
import type { NmiDeps, NmiIdentity, NmiPod, NmiRequest, NmiResponse, PodAssignment } from './types.js';

const JSON_TYPE = 'application/json; charset=utf-8';
/** Matched on the canonical path; case-insensitive like IMDS (the SDKs send lower case). */
const TOKEN_PATH = /^\/metadata\/identity\/oauth2\/token\/?$/i;
/**
 * The IMDS categories besides identity and instance (Azure's "endpoint categories"): the only
 * ones passed through. /metadata/instance is passed only when the operator unblocks it.
 */
export const PASSTHROUGH_CATEGORIES = ['attested', 'scheduledevents', 'versions', 'loadbalancer'] as const;
const PASSTHROUGH: ReadonlySet<string> = new Set(PASSTHROUGH_CATEGORIES);
const SELECTORS = ['client_id', 'msi_res_id', 'mi_res_id', 'object_id'] as const;
type Selector = (typeof SELECTORS)[number];

export const DEFAULT_TIMINGS = {
  podLookupAttempts: 3,
  podLookupIntervalMs: 100,
  pendingWaitMs: 2000,
  pendingIntervalMs: 250,
  pendingRetryAfterSeconds: 5,
} as const;

function json(status: number, body: unknown, headers: Record<string, string> = {}): NmiResponse {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(body) };
}

function error(
  status: number,
  code: string,
  description: string,
  headers: Record<string, string> = {},
): NmiResponse {
  return json(status, { error: code, error_description: description }, headers);
}

function header(req: NmiRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : v?.[0];
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
export function normalizeAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

/** The route of a canonical path; `identity` is anything under /metadata/identity but the token path. */
function routeOf(path: string): Route | 'identity' {
  // One readiness answer on both paths (CONTRACTS.md section 2 names /readyz for every server).
  if (path === '/healthz' || path === '/readyz') return 'healthz';
  if (path === '/metrics') return 'metrics';
  const segments = path.toLowerCase().split('/');
  if (segments[1] !== 'metadata') return 'other';
  const category = segments[2] ?? '';
  if (category === 'identity') return TOKEN_PATH.test(path) ? 'token' : 'identity';
  if (category === 'instance') return 'instance';
  if (PASSTHROUGH.has(category)) return 'passthrough';
  return 'other';
}

export async function handleMetadataRequest(req: NmiRequest, deps: NmiDeps): Promise<NmiResponse> {
  const started = deps.now();
  let route: Route = 'other';
  let response: NmiResponse;
  try {
    const canonical = canonicalPath(req.path);
    if (!canonical.ok) {
      deps.logger.info(
        {
          source: normalizeAddress(req.sourceAddress),
          path: req.path.slice(0, 200),
          reason: canonical.reason,
        },
        'nmi: request path refused',
      );
      response = error(400, 'invalid_request', canonical.reason);
    } else {
      const creq = canonical.path === req.path ? req : { ...req, path: canonical.path };
      const routed = routeOf(creq.path);
      route = routed === 'identity' ? 'token' : routed;
      response =
        routed === 'identity'
          ? error(
              404,
              'not_found',
              'No such identity endpoint: only /metadata/identity/oauth2/token is served',
            )
          : await route_(routed, creq, deps);
    }
  } catch (cause) {
    deps.logger.error({ err: cause, path: req.path.slice(0, 200) }, 'nmi: request failed');
    response = error(500, 'internal_error', 'The request could not be processed');
  }
  deps.metrics.observe(route, response.status, (deps.now() - started) / 1000);
  return response;
}

async function route_(route: Route, req: NmiRequest, deps: NmiDeps): Promise<NmiResponse> {
  switch (route) {
    case 'healthz': {
      const ok = deps.ready?.() ?? true;
      return {
        status: ok ? 200 : 503,
        headers: { 'content-type': 'text/plain' },
        body: ok ? 'ok\n' : 'not ready\n',
      };
    }
    case 'metrics':
      return {
        status: 200,
        headers: { 'content-type': deps.metrics.registry.contentType },
        body: await deps.metrics.text(),
      };
    case 'other':
      return error(404, 'not_found', 'No such endpoint');
    default:
      break;
  }
  // IMDS's own wording; the header is what stops server-side request forgery from reaching it.
  if (header(req, 'metadata')?.trim().toLowerCase() !== 'true') {
    return error(400, 'invalid_request', 'Required metadata header not specified');
  }
  if (route === 'instance' && deps.blockInstanceMetadata !== false) {
    return error(403, 'forbidden', 'Instance metadata is blocked by podsec NMI');
  }
  if (route === 'instance' || route === 'passthrough') return passThrough(req, deps);
  if (req.method !== 'GET') {
    return error(405, 'invalid_request', 'Only GET is supported', { allow: 'GET' });
  }
  return token(req, deps);
}

/**
 * Another IMDS category for a known pod: the same caller checks as the token route (so an
 * unknown, host or hostNetwork source reaches nothing), then the upstream with the canonical
 * path and the query exactly as received. A pod with an AzurePodIdentityException is a pod like
 * any other here: exceptions concern token requests only.
 */
async function passThrough(req: NmiRequest, deps: NmiDeps): Promise<NmiResponse> {
  if (deps.upstream === undefined) {
    return error(404, 'not_found', 'No upstream metadata service is configured');
  }
  if (req.method !== 'GET') {
    return error(405, 'invalid_request', 'Only GET is passed to the metadata service', { allow: 'GET' });
  }
  const rawQuery = req.rawQuery ?? req.query.toString();
  if (!isForwardableQuery(rawQuery)) {
    return error(400, 'invalid_request', 'The query string has characters that are not passed on');
  }
  const source = normalizeAddress(req.sourceAddress);
  const caller = await findCaller(source, deps);
  if (!caller.ok) {
    deps.logger.info(
      { source, status: caller.response.status, path: req.path },
      'nmi: pass-through caller refused',
    );
    return caller.response;
  }
  const pod = caller.pod;
  const limited = rateLimited(pod, deps);
  if (limited !== undefined) return limited;
  deps.logger.debug({ pod: podKey(pod), path: req.path }, 'nmi: passed to the metadata service');
  return deps.upstream({ ...req, rawQuery });
}

function rateLimited(pod: NmiPod, deps: NmiDeps): NmiResponse | undefined {
  const rate = deps.rateLimiter.take(podKey(pod), deps.now());
  if (rate.allowed) return undefined;
  deps.metrics.rateLimited();
  return error(429, 'too_many_requests', `Too many requests from pod ${podKey(pod)}`, {
    'retry-after': String(rate.retryAfterSeconds),
  });
}

type Parsed =
  | { readonly ok: true; readonly resource: string; readonly selector?: { name: Selector; value: string } }
  | { readonly ok: false; readonly response: NmiResponse };

function parseQuery(query: URLSearchParams): Parsed {
  for (const name of ['resource', 'api-version', ...SELECTORS]) {
    if (query.getAll(name).length > 1) {
      return {
        ok: false,
        response: error(400, 'invalid_request', `Parameter ${name} is given more than once`),
      };
    }
  }
  const resource = query.get('resource') ?? '';
  if (resource.trim() === '') {
    return {
      ok: false,
      response: error(400, 'invalid_request', 'Required audience parameter not specified'),
    };
  }
  const given = SELECTORS.filter((s) => (query.get(s) ?? '') !== '');
  if (given.length > 1) {
    return {
      ok: false,
      response: error(
        400,
        'invalid_request',
        `Give at most one of ${SELECTORS.join(', ')} (got ${given.join(', ')})`,
      ),
    };
  }
  const name = given[0];
  return name === undefined
    ? { ok: true, resource }
    : { ok: true, resource, selector: { name, value: query.get(name) ?? '' } };
}

type Caller =
  { readonly ok: true; readonly pod: NmiPod } | { readonly ok: false; readonly response: NmiResponse };

function podKey(pod: NmiPod): string {
  return `${pod.namespace}/${pod.name}`;
}

async function findCaller(source: string, deps: NmiDeps): Promise<Caller> {
  if (deps.nodeAddresses.some((a) => normalizeAddress(a) === source)) {
    return { ok: false, response: error(403, 'forbidden', 'Requests from the node itself are not served') };
  }
  const attempts = Math.max(1, deps.timings.podLookupAttempts);
  for (let attempt = 1; ; attempt++) {
    const pods = deps
      .podsByIp(source)
      .filter(
        (p) =>
          (deps.nodeName === undefined || p.nodeName === deps.nodeName) &&
          (p.phase === undefined || p.phase === 'Pending' || p.phase === 'Running'),
      );
    // hostNetwork pods share the node's address: refuse them before counting, or every node
    // (which runs several of them) would answer 500 instead of 403.
    if (pods.some((p) => p.hostNetwork === true)) {
      return { ok: false, response: error(403, 'forbidden', 'Pods with hostNetwork are not served') };
    }
    if (pods.length > 1) {
      deps.logger.warn({ source, pods: pods.map(podKey) }, 'nmi: several pods share one address');
      return {
        ok: false,
        response: error(500, 'internal_error', `Several pods on this node have the address ${source}`),
      };
    }
    const pod = pods[0];
    if (pod !== undefined) return { ok: true, pod };
    if (attempt >= attempts) break;
    await deps.sleep(deps.timings.podLookupIntervalMs);
  }
  return { ok: false, response: error(404, 'not_found', `No pod on this node has the address ${source}`) };
}

function matches(identity: NmiIdentity, name: Selector, value: string): boolean {
  const v = value.toLowerCase();
  switch (name) {
    case 'client_id':
      return identity.clientID.toLowerCase() === v;
    case 'msi_res_id':
    case 'mi_res_id':
      return identity.resourceID?.toLowerCase() === v;
    case 'object_id':
      return identity.objectID?.toLowerCase() === v;
  }
}

type Choice =
  | { readonly kind: 'use'; readonly identity: NmiIdentity }
  | { readonly kind: 'pending' }
  | { readonly kind: 'refuse'; readonly response: NmiResponse };

function choose(assignments: readonly PodAssignment[], parsed: Parsed & { ok: true }, pod: NmiPod): Choice {
  const live = assignments.filter((a) => a.status !== 'Unassigned');
  const selector = parsed.selector;
  let candidates: readonly PodAssignment[];
  if (selector === undefined) {
    if (live.length === 0) {
      return {
        kind: 'refuse',
        response: error(403, 'forbidden', `No identity is assigned to pod ${podKey(pod)}`),
      };
    }
    if (live.length > 1) {
      return {
        kind: 'refuse',
        response: error(
          400,
          'invalid_request',
          'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
        ),
      };
    }
    candidates = live;
  } else {
    candidates = live.filter((a) => matches(a.identity, selector.name, selector.value));
    if (candidates.length === 0) {
      if (selector.name === 'object_id') {
        return {
          kind: 'refuse',
          response: error(
            400,
            'invalid_request',
            'object_id is not supported unless an assigned identity declares it',
          ),
        };
      }
      return {
        kind: 'refuse',
        response: error(403, 'forbidden', `The requested identity is not assigned to pod ${podKey(pod)}`),
      };
    }
  }
  const usable = candidates.find((a) => a.status === 'Assigned' || a.status === '');
  return usable === undefined ? { kind: 'pending' } : { kind: 'use', identity: usable.identity };
}

async function resolveIdentity(pod: NmiPod, parsed: Parsed & { ok: true }, deps: NmiDeps): Promise<Choice> {
  const deadline = deps.now() + deps.timings.pendingWaitMs;
  for (;;) {
    const choice = choose(deps.assignedIdentities(pod), parsed, pod);
    if (choice.kind !== 'pending') return choice;
    const left = deadline - deps.now();
    if (left <= 0) return choice;
    await deps.sleep(Math.min(deps.timings.pendingIntervalMs, left));
  }
}

async function token(req: NmiRequest, deps: NmiDeps): Promise<NmiResponse> {
  const parsed = parseQuery(req.query);
  if (!parsed.ok) return parsed.response;
  const source = normalizeAddress(req.sourceAddress);
  const caller = await findCaller(source, deps);
  if (!caller.ok) {
    deps.logger.info({ source, status: caller.response.status }, 'nmi: caller refused');
    return caller.response;
  }
  const pod = caller.pod;
  const limited = rateLimited(pod, deps);
  if (limited !== undefined) return limited;
  const exception = deps.exceptionFor?.(pod);
  if (exception !== undefined) return exempt(req, pod, exception, deps);
  const choice = await resolveIdentity(pod, parsed, deps);
  if (choice.kind === 'pending') {
    return error(
      404,
      'not_found',
      `The identity for pod ${podKey(pod)} is still being assigned; retry later`,
      { 'retry-after': String(deps.timings.pendingRetryAfterSeconds) },
    );
  }
  if (choice.kind === 'refuse') {
    deps.logger.info(
      { pod: podKey(pod), status: choice.response.status, selector: parsed.selector?.name },
      'nmi: identity refused',
    );
    return choice.response;
  }
  const identity = choice.identity;
  const { result, outcome } = await deps.tokens.get(identity, parsed.resource);
  deps.metrics.cacheOutcome(outcome);
  if (!result.ok) {
    deps.logger.warn(
      { pod: podKey(pod), clientID: identity.clientID, resource: parsed.resource, error: result.error },
      'nmi: token provider refused',
    );
    const headers: Record<string, string> =
      result.retryAfterSeconds === undefined ? {} : { 'retry-after': String(result.retryAfterSeconds) };
    return error(result.status ?? 500, result.error, result.description, headers);
  }
  const now = deps.now();
  const t = result.token;
  deps.logger.debug(
    { pod: podKey(pod), clientID: identity.clientID, resource: parsed.resource, cache: outcome },
    'nmi: token served',
  );
  // IMDS sends these numbers as strings of integer seconds; every Azure SDK parses that form.
  return json(200, {
    access_token: t.accessToken,
    refresh_token: '',
    expires_in: String(Math.max(0, Math.floor((t.expiresOnMs - now) / 1000))),
    expires_on: String(Math.floor(t.expiresOnMs / 1000)),
    not_before: String(Math.floor((t.notBeforeMs ?? now) / 1000)),
    resource: parsed.resource,
    token_type: 'Bearer',
    client_id: identity.clientID,
  });
}

/**
 * A pod exempted by an AzurePodIdentityException: upstream hands its request to the real IMDS,
 * which answers with the node's identities. That is opt-in here: by default the pod is refused
 * and told why, so an exception written for aad-pod-identity cannot silently widen access.
 */
async function exempt(
  req: NmiRequest,
  pod: NmiPod,
  exception: { namespace: string; name: string },
  deps: NmiDeps,
): Promise<NmiResponse> {
  const which = `AzurePodIdentityException ${exception.namespace}/${exception.name}`;
  if (deps.allowExceptions !== true) {
    deps.logger.info({ pod: podKey(pod), exception: which }, 'nmi: exception ignored');
    return error(
      403,
      'forbidden',
      `Pod ${podKey(pod)} matches ${which}, which is ignored: exempt pods are passed to the node's metadata service only when the NMI runs with --allow-exceptions`,
    );
  }
  if (deps.upstream === undefined) {
    return error(
      404,
      'not_found',
      `Pod ${podKey(pod)} matches ${which}, but no upstream metadata service is configured`,
    );
  }
  const rawQuery = req.rawQuery ?? req.query.toString();
  if (!isForwardableQuery(rawQuery)) {
    return error(400, 'invalid_request', 'The query string has characters that are not passed on');
  }
  deps.logger.info({ pod: podKey(pod), exception: which }, 'nmi: exempt pod passed to the metadata service');
  return deps.upstream({ ...req, rawQuery });
}
