/** Table-driven tests of the NMI handler: every rule of the token endpoint, without a socket. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../observability/index.js';
import { handleMetadataRequest } from './handler.js';
import { createNmiDeps, type NmiDepsInput } from './server.js';
import type {
  NmiIdentity,
  NmiPod,
  NmiRequest,
  NmiResponse,
  PodAssignment,
  TokenProvider,
  TokenResult,
} from './types.js';

const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;

function identity(name: string, extra: Partial<NmiIdentity> = {}): NmiIdentity {
  return {
    namespace: 'apps',
    name,
    type: 0,
    clientID: `${name}-client-id`,
    resourceID: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`,
    ...extra,
  };
}

function pod(name: string, ip: string, extra: Partial<NmiPod> = {}): NmiPod {
  return { namespace: 'apps', name, nodeName: 'node-1', phase: 'Running', podIP: ip, ...extra };
}

const ID_A = identity('id-a');
const ID_B = identity('id-b');
const ID_OBJ = identity('id-obj', { objectID: 'OBJ-1' });

/** A fake cluster: pods by IP and assignments by pod name, mutable per test. */
interface World {
  pods: NmiPod[];
  assignments: Record<string, PodAssignment[]>;
}

function baseWorld(): World {
  return {
    pods: [
      pod('web', '10.0.0.5'),
      pod('other', '10.0.0.6'),
      pod('multi', '10.0.0.7'),
      pod('pending', '10.0.0.8'),
      pod('unbound', '10.0.0.9'),
      pod('host', '10.0.0.10', { hostNetwork: true }),
      pod('twin-1', '10.0.0.11'),
      pod('twin-2', '10.0.0.11'),
      pod('done', '10.0.0.12', { phase: 'Succeeded' }),
      pod('elsewhere', '10.0.0.13', { nodeName: 'node-2' }),
      pod('objpod', '10.0.0.14'),
      pod('gone', '10.0.0.15'),
      // Host-network pods share their node's address (here without --node-address).
      pod('kube-proxy', '10.0.0.20', { hostNetwork: true }),
      pod('node-exporter', '10.0.0.20', { hostNetwork: true }),
      pod('mixed-host', '10.0.0.21', { hostNetwork: true }),
      pod('mixed-pod', '10.0.0.21'),
    ],
    assignments: {
      web: [{ identity: ID_A, status: 'Assigned' }],
      other: [{ identity: ID_B, status: 'Assigned' }],
      multi: [
        { identity: ID_A, status: 'Assigned' },
        { identity: ID_B, status: 'Assigned' },
      ],
      pending: [{ identity: ID_A, status: 'Created' }],
      objpod: [{ identity: ID_OBJ, status: 'Assigned' }],
      gone: [{ identity: ID_A, status: 'Unassigned' }],
      host: [{ identity: ID_A, status: 'Assigned' }],
    },
  };
}

class FakeProvider implements TokenProvider {
  calls: { clientID: string; resource: string }[] = [];
  next: TokenResult | undefined;
  constructor(private readonly clock: { now: number }) {}
  getToken(id: NmiIdentity, resource: string): Promise<TokenResult> {
    this.calls.push({ clientID: id.clientID, resource });
    if (this.next !== undefined) return Promise.resolve(this.next);
    return Promise.resolve({
      ok: true,
      token: {
        accessToken: `tok:${id.clientID}:${resource}:${this.calls.length}`,
        expiresOnMs: this.clock.now + HOUR,
      },
    });
  }
}

function setup(overrides: Partial<NmiDepsInput> = {}, world = baseWorld()) {
  const clock = { now: T0, slept: [] as number[] };
  const provider = new FakeProvider(clock);
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const deps = createNmiDeps({
    nodeName: 'node-1',
    nodeAddresses: ['10.0.0.1'],
    podsByIp: (ip) => world.pods.filter((p) => p.podIP === ip),
    assignedIdentities: (p) => world.assignments[p.name] ?? [],
    tokenProvider: provider,
    now: () => clock.now,
    sleep: (ms) => {
      clock.slept.push(ms);
      clock.now += ms;
      return Promise.resolve();
    },
    logger: createLogger({ level: 'debug', destination }),
    ...overrides,
  });
  return { deps, clock, provider, world, lines };
}

function request(source: string, query: string, extra: Partial<NmiRequest> = {}): NmiRequest {
  return {
    method: 'GET',
    path: '/metadata/identity/oauth2/token',
    query: new URLSearchParams(query),
    headers: { metadata: 'true' },
    sourceAddress: source,
    ...extra,
  };
}

function body(res: NmiResponse): Record<string, unknown> {
  return JSON.parse(res.body) as Record<string, unknown>;
}

const R = 'resource=https://vault.azure.net';

interface Case {
  readonly name: string;
  readonly req: NmiRequest;
  readonly status: number;
  readonly error?: string;
  readonly description?: RegExp;
  readonly clientId?: string;
  readonly retryAfter?: string;
  readonly slept?: number[];
}

const cases: Case[] = [
  { name: 'bound pod, no selector', req: request('10.0.0.5', R), status: 200, clientId: 'id-a-client-id' },
  {
    name: 'trailing slash as MSAL sends it',
    req: request('10.0.0.5', `api-version=2018-02-01&${R}`, { path: '/metadata/identity/oauth2/token/' }),
    status: 200,
    clientId: 'id-a-client-id',
  },
  {
    name: '"metadata" is case-insensitive',
    req: request('10.0.0.5', R, { path: '/Metadata/identity/oauth2/token' }),
    status: 200,
  },
  { name: 'IPv4-mapped source address', req: request('::ffff:10.0.0.5', R), status: 200 },
  {
    name: 'missing Metadata header',
    req: request('10.0.0.5', R, { headers: {} }),
    status: 400,
    error: 'invalid_request',
    description: /^Required metadata header not specified$/,
  },
  {
    name: 'Metadata: false',
    req: request('10.0.0.5', R, { headers: { metadata: 'false' } }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'missing resource',
    req: request('10.0.0.5', 'api-version=2018-02-01'),
    status: 400,
    description: /audience parameter not specified/,
  },
  {
    name: 'resource given twice',
    req: request('10.0.0.5', `${R}&${R}`),
    status: 400,
    description: /more than once/,
  },
  {
    name: 'client_id and msi_res_id together',
    req: request('10.0.0.5', `${R}&client_id=id-a-client-id&msi_res_id=x`),
    status: 400,
    description: /at most one/,
  },
  {
    name: 'client_id of own identity (case-insensitive)',
    req: request('10.0.0.7', `${R}&client_id=ID-B-CLIENT-ID`),
    status: 200,
    clientId: 'id-b-client-id',
  },
  {
    name: 'msi_res_id selects',
    req: request('10.0.0.7', `${R}&msi_res_id=${encodeURIComponent(ID_B.resourceID!)}`),
    status: 200,
    clientId: 'id-b-client-id',
  },
  {
    name: 'mi_res_id selects',
    req: request('10.0.0.7', `${R}&mi_res_id=${encodeURIComponent(ID_A.resourceID!)}`),
    status: 200,
    clientId: 'id-a-client-id',
  },
  {
    name: "another pod's identity",
    req: request('10.0.0.5', `${R}&client_id=id-b-client-id`),
    status: 403,
    error: 'forbidden',
  },
  {
    name: 'several identities, none chosen',
    req: request('10.0.0.7', R),
    status: 400,
    description: /Multiple user assigned identities/,
  },
  {
    name: 'object_id no identity declares',
    req: request('10.0.0.5', `${R}&object_id=whatever`),
    status: 400,
    description: /object_id is not supported/,
  },
  {
    name: 'object_id an assigned identity declares',
    req: request('10.0.0.14', `${R}&object_id=obj-1`),
    status: 200,
    clientId: 'id-obj-client-id',
  },
  {
    name: 'api-version accepted and ignored',
    req: request('10.0.0.5', `api-version=2099-01-01&${R}`),
    status: 200,
  },
  {
    name: 'unknown source: 3 lookups 100 ms apart, then 404',
    req: request('10.0.0.99', R),
    status: 404,
    error: 'not_found',
    slept: [100, 100],
  },
  { name: 'finished pod is not a caller', req: request('10.0.0.12', R), status: 404, slept: [100, 100] },
  {
    name: 'pod of another node is not a caller',
    req: request('10.0.0.13', R),
    status: 404,
    slept: [100, 100],
  },
  { name: 'two pods on one address', req: request('10.0.0.11', R), status: 500, description: /Several pods/ },
  { name: "the node's own address", req: request('10.0.0.1', R), status: 403, description: /node itself/ },
  { name: 'hostNetwork pod', req: request('10.0.0.10', R), status: 403, description: /hostNetwork/ },
  { name: 'pod without identities', req: request('10.0.0.9', R), status: 403, description: /No identity/ },
  { name: 'only an Unassigned identity', req: request('10.0.0.15', R), status: 403 },
  {
    name: 'assignment pending: bounded wait, then 404 with Retry-After',
    req: request('10.0.0.8', R),
    status: 404,
    retryAfter: '5',
    slept: [250, 250, 250, 250, 250, 250, 250, 250],
  },
  {
    name: '/metadata/instance blocked',
    req: request('10.0.0.5', 'api-version=2021-02-01', { path: '/metadata/instance/compute' }),
    status: 403,
  },
  {
    name: 'other /metadata path without upstream',
    req: request('10.0.0.5', '', { path: '/metadata/scheduledevents' }),
    status: 404,
    description: /No upstream/,
  },
  {
    name: 'several hostNetwork pods on one address: 403, not 500',
    req: request('10.0.0.20', R),
    status: 403,
    description: /hostNetwork/,
  },
  {
    name: 'a hostNetwork pod among pods on one address: 403 before counting',
    req: request('10.0.0.21', R),
    status: 403,
    description: /hostNetwork/,
  },
  {
    name: 'odd token path under /metadata/identity: 404, not passed on',
    req: request('10.0.0.5', R, { path: '/metadata/identity/x/oauth2/token' }),
    status: 404,
    error: 'not_found',
  },
  { name: 'POST on the token path', req: request('10.0.0.5', R, { method: 'POST' }), status: 405 },
  { name: 'unknown path', req: request('10.0.0.5', R, { path: '/nope' }), status: 404 },
];

describe('handleMetadataRequest', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { deps, clock } = setup();
      const res = await handleMetadataRequest(c.req, deps);
      expect(res.status).toBe(c.status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const b = body(res);
      if (c.status === 200) {
        expect(b.client_id).toBe(c.clientId ?? b.client_id);
        expect(b.token_type).toBe('Bearer');
      } else {
        expect(typeof b.error).toBe('string');
        expect(typeof b.error_description).toBe('string');
        if (c.error !== undefined) expect(b.error).toBe(c.error);
        if (c.description !== undefined) expect(b.error_description).toMatch(c.description);
      }
      if (c.retryAfter !== undefined) expect(res.headers['retry-after']).toBe(c.retryAfter);
      expect(clock.slept).toEqual(c.slept ?? []);
    });
  }

  it('success body: IMDS fields, integer epoch seconds, resource echoed exactly', async () => {
    const { deps } = setup();
    const resource = 'https://Storage.azure.com/ with space';
    const res = await handleMetadataRequest(
      request('10.0.0.5', new URLSearchParams({ resource }).toString()),
      deps,
    );
    expect(body(res)).toEqual({
      access_token: `tok:id-a-client-id:${resource}:1`,
      refresh_token: '',
      expires_in: '3600',
      expires_on: String((T0 + HOUR) / 1000),
      not_before: String(T0 / 1000),
      resource,
      token_type: 'Bearer',
      client_id: 'id-a-client-id',
    });
  });

  it('pending assignment that becomes Assigned during the wait is served', async () => {
    const { deps, world, clock } = setup();
    const sleep = deps.sleep;
    const patched = {
      ...deps,
      sleep: async (ms: number) => {
        await sleep(ms);
        if (clock.slept.length === 2) world.assignments.pending = [{ identity: ID_A, status: 'Assigned' }];
      },
    };
    const res = await handleMetadataRequest(request('10.0.0.8', R), patched);
    expect(res.status).toBe(200);
    expect(clock.slept).toEqual([250, 250]);
  });

  it('source that appears during the short retry is served', async () => {
    const { deps, world, clock } = setup();
    const patched = {
      ...deps,
      sleep: async (ms: number) => {
        await deps.sleep(ms);
        world.pods.push(pod('late', '10.0.0.50'));
        world.assignments.late = [{ identity: ID_A, status: 'Assigned' }];
      },
    };
    const res = await handleMetadataRequest(request('10.0.0.50', R), patched);
    expect(res.status).toBe(200);
    expect(clock.slept).toEqual([100]);
  });

  it('pass-through goes to the configured upstream only', async () => {
    const seen: string[] = [];
    const { deps } = setup({
      upstream: (req) => {
        seen.push(req.path);
        return Promise.resolve({ status: 200, headers: { 'content-type': 'application/json' }, body: '{}' });
      },
    });
    expect(
      (await handleMetadataRequest(request('10.0.0.5', '', { path: '/metadata/scheduledevents' }), deps))
        .status,
    ).toBe(200);
    expect(
      (await handleMetadataRequest(request('10.0.0.5', '', { path: '/metadata/instance' }), deps)).status,
    ).toBe(403);
    expect(
      (
        await handleMetadataRequest(
          request('10.0.0.5', '', { path: '/metadata/scheduledevents', headers: {} }),
          deps,
        )
      ).status,
    ).toBe(400);
    expect(seen).toEqual(['/metadata/scheduledevents']);
  });

  it('instance metadata passes when unblocked and an upstream exists', async () => {
    const { deps } = setup({
      blockInstanceMetadata: false,
      upstream: () => Promise.resolve({ status: 200, headers: {}, body: '{"compute":{}}' }),
    });
    expect(
      (await handleMetadataRequest(request('10.0.0.5', '', { path: '/metadata/instance' }), deps)).status,
    ).toBe(200);
  });

  it('token cache: one provider call per (identity, resource) while fresh; refreshed after 80% of the lifetime', async () => {
    const { deps, provider, clock } = setup();
    const tokens: string[] = [];
    const get = async (query: string) => {
      const res = await handleMetadataRequest(request('10.0.0.7', query), deps);
      tokens.push(String(body(res).access_token));
      return body(res);
    };
    await get(`${R}&client_id=id-a-client-id`);
    await get(`${R}&client_id=id-a-client-id`);
    await get(`${R}&client_id=id-b-client-id`);
    await get('resource=https://other&client_id=id-a-client-id');
    expect(provider.calls).toHaveLength(3);
    clock.now += 30 * 60_000;
    const half = await get(`${R}&client_id=id-a-client-id`);
    expect(half.expires_in).toBe('1800');
    expect(provider.calls).toHaveLength(3);
    // 50 min into a 60 min token: past both refresh points, still valid: served, refreshed behind.
    clock.now += 20 * 60_000;
    const stale = await get(`${R}&client_id=id-a-client-id`);
    expect(stale.access_token).toBe(tokens[0]);
    await Promise.resolve();
    expect(provider.calls).toHaveLength(4);
    await new Promise((r) => setImmediate(r));
    const fresh = await get(`${R}&client_id=id-a-client-id`);
    expect(fresh.access_token).not.toBe(tokens[0]);
    expect(fresh.expires_in).toBe('3600');
    expect(provider.calls).toHaveLength(4);
  });

  it('expired cached token is never served', async () => {
    const { deps, provider, clock } = setup();
    await handleMetadataRequest(request('10.0.0.5', R), deps);
    clock.now += HOUR;
    const res = await handleMetadataRequest(request('10.0.0.5', R), deps);
    expect(provider.calls).toHaveLength(2);
    expect(body(res).expires_on).toBe(String((clock.now + HOUR) / 1000));
  });

  it('provider refusal becomes a JSON error with its status and Retry-After', async () => {
    const { deps, provider } = setup();
    provider.next = {
      ok: false,
      status: 503,
      error: 'temporarily_unavailable',
      description: 'try later',
      retryAfterSeconds: 2,
    };
    const res = await handleMetadataRequest(request('10.0.0.5', R), deps);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(body(res)).toEqual({ error: 'temporarily_unavailable', error_description: 'try later' });
  });

  it('provider fault becomes a generic 500', async () => {
    const { deps } = setup({
      tokenProvider: { getToken: () => Promise.reject(new Error('secret=hunter2 leaked in message')) },
    });
    const res = await handleMetadataRequest(request('10.0.0.5', R), deps);
    expect(res.status).toBe(500);
    expect(res.body).not.toContain('hunter2');
  });

  it('per-pod rate limit: 429 with Retry-After, other pods unaffected, refills over time', async () => {
    const { deps, clock } = setup({ rateLimit: { ratePerSecond: 2, burst: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await handleMetadataRequest(request('10.0.0.5', R), deps)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await handleMetadataRequest(request('10.0.0.5', R), deps);
    expect(limited.headers['retry-after']).toBe('1');
    expect(body(limited).error).toBe('too_many_requests');
    expect((await handleMetadataRequest(request('10.0.0.6', R), deps)).status).toBe(200);
    clock.now += 1000;
    expect((await handleMetadataRequest(request('10.0.0.5', R), deps)).status).toBe(200);
  });

  it('tokens never reach the log, even at debug level', async () => {
    const { deps, lines } = setup();
    const res = await handleMetadataRequest(request('10.0.0.5', R), deps);
    await handleMetadataRequest(request('10.0.0.5', `${R}&client_id=id-b-client-id`), deps);
    const token = String(body(res).access_token);
    expect(lines.join('')).toContain('token served');
    expect(lines.join('')).not.toContain(token);
  });

  it('/healthz and /metrics', async () => {
    let ready = false;
    const { deps } = setup({ ready: () => ready });
    expect(
      (await handleMetadataRequest(request('10.0.0.5', '', { path: '/healthz', headers: {} }), deps)).status,
    ).toBe(503);
    expect(
      (await handleMetadataRequest(request('10.0.0.5', '', { path: '/readyz', headers: {} }), deps)).status,
    ).toBe(503);
    ready = true;
    expect(
      (await handleMetadataRequest(request('10.0.0.5', '', { path: '/healthz', headers: {} }), deps)).status,
    ).toBe(200);
    expect(
      (await handleMetadataRequest(request('10.0.0.5', '', { path: '/readyz', headers: {} }), deps)).status,
    ).toBe(200);
    await handleMetadataRequest(request('10.0.0.5', R), deps);
    const metrics = await handleMetadataRequest(
      request('10.0.0.5', '', { path: '/metrics', headers: {} }),
      deps,
    );
    expect(metrics.body).toContain('podsec_nmi_requests_total{route="token",code="200"} 1');
    expect(metrics.body).toContain('podsec_nmi_token_cache_total{outcome="miss"} 1');
  });
});

describe('AzurePodIdentityException pods', () => {
  interface ExceptionCase {
    readonly name: string;
    readonly allowExceptions?: boolean;
    readonly withUpstream?: boolean;
    readonly source: string;
    readonly status: number;
    readonly description?: RegExp;
    /** Whether the request reached the upstream (the real IMDS stand-in). */
    readonly passed: boolean;
  }
  const exempted = new Set(['web', 'unbound']);
  const exceptionCases: ExceptionCase[] = [
    {
      name: 'exempt pod refused by default, told which flag enables it',
      source: '10.0.0.9',
      withUpstream: true,
      status: 403,
      description: /apps\/mic-exception.*ignored.*--allow-exceptions/,
      passed: false,
    },
    {
      name: 'exempt pod with assignments is refused too (no silent fallback)',
      source: '10.0.0.5',
      withUpstream: true,
      status: 403,
      passed: false,
    },
    {
      name: '--allow-exceptions: exempt pod passed to the upstream',
      allowExceptions: true,
      withUpstream: true,
      source: '10.0.0.9',
      status: 200,
      passed: true,
    },
    {
      name: '--allow-exceptions without an upstream (local mode): 404, nothing passed',
      allowExceptions: true,
      source: '10.0.0.9',
      status: 404,
      description: /no upstream/,
      passed: false,
    },
    {
      name: '--allow-exceptions: a pod without an exception still gets only its own identity',
      allowExceptions: true,
      withUpstream: true,
      source: '10.0.0.6',
      status: 403,
      description: /not assigned to pod apps\/other/,
      passed: false,
    },
  ];
  for (const c of exceptionCases) {
    it(c.name, async () => {
      const seen: NmiRequest[] = [];
      const { deps, provider } = setup({
        allowExceptions: c.allowExceptions,
        exceptionFor: (p) =>
          exempted.has(p.name) ? { namespace: 'apps', name: 'mic-exception' } : undefined,
        upstream:
          c.withUpstream === true
            ? (req) => {
                seen.push(req);
                return Promise.resolve({
                  status: 200,
                  headers: { 'content-type': 'application/json' },
                  body: JSON.stringify({ access_token: 'node-token', resource: 'r' }),
                });
              }
            : undefined,
      });
      const res = await handleMetadataRequest(request(c.source, `${R}&client_id=x`), deps);
      expect(res.status).toBe(c.status);
      if (c.description !== undefined) expect(body(res).error_description).toMatch(c.description);
      expect(seen.length).toBe(c.passed ? 1 : 0);
      if (c.passed) {
        expect(seen[0]?.query.get('client_id')).toBe('x');
        expect(provider.calls).toEqual([]);
      }
    });
  }
});

/** The upstream stand-in: records what would have reached the real IMDS. */
function recordingUpstream(seen: NmiRequest[]) {
  return (req: NmiRequest): Promise<NmiResponse> => {
    seen.push(req);
    return Promise.resolve({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"upstream":true}',
    });
  };
}

describe('canonical path routing (review finding 2)', () => {
  interface PathCase {
    readonly name: string;
    readonly path: string;
    readonly status: number;
    readonly error?: string;
    /** The path the upstream received, when the request is passed on. */
    readonly forwarded?: string;
    readonly clientId?: string;
    readonly allowInstance?: boolean;
  }
  const pathCases: PathCase[] = [
    // The reviewer's attack paths: none reaches the upstream.
    {
      name: 'escaped letter in "token" is the token path (served by the NMI, own identity only)',
      path: '/metadata/identity/oauth2/%74oken',
      status: 200,
      clientId: 'id-a-client-id',
    },
    {
      name: 'escaped letter in "identity" is the token path',
      path: '/metadata/%69dentity/oauth2/token',
      status: 200,
      clientId: 'id-a-client-id',
    },
    {
      name: 'doubled slash',
      path: '/metadata//identity/oauth2/token',
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'escaped letter in "instance" is still blocked',
      path: '/metadata/%69nstance/compute',
      status: 403,
    },
    { name: 'dot segment', path: '/metadata/./instance', status: 400, error: 'invalid_request' },
    {
      name: 'dot-dot segment',
      path: '/metadata/identity/../instance',
      status: 400,
      error: 'invalid_request',
    },
    // Other spellings.
    { name: 'escaped dots', path: '/metadata/identity/%2e%2E/instance', status: 400 },
    { name: 'escaped slash', path: '/metadata/identity%2Foauth2/token', status: 400 },
    { name: 'escaped backslash', path: '/metadata/identity/oauth2%5Ctoken', status: 400 },
    { name: 'backslash', path: '/metadata\\identity/oauth2/token', status: 400 },
    { name: 'escaped percent', path: '/metadata/%2569nstance', status: 400 },
    { name: 'malformed escape', path: '/metadata/%zzinstance', status: 400 },
    { name: 'escaped NUL', path: '/metadata/instance%00/compute', status: 400 },
    { name: 'escaped UTF-8', path: '/metadata/instance/compute/%C3%A9', status: 400 },
    { name: 'raw non-ASCII', path: '/metadata/instanc\u00e9', status: 400 },
    { name: 'triple-dot segment', path: '/metadata/.../instance', status: 400 },
    { name: 'semicolon parameter', path: '/metadata/scheduledevents;/../instance', status: 400 },
    { name: 'two trailing slashes', path: '/metadata/identity/oauth2/token//', status: 400 },
    { name: 'not origin-form', path: 'http://169.254.169.254/metadata/instance', status: 400 },
    // Routes on the canonical path.
    { name: 'upper-case token path', path: '/METADATA/Identity/OAuth2/Token', status: 200 },
    { name: 'token path with trailing slash', path: '/metadata/identity/oauth2/token/', status: 200 },
    {
      name: 'other identity endpoint: 404',
      path: '/metadata/identity/info',
      status: 404,
      error: 'not_found',
    },
    { name: 'below the token path: 404', path: '/metadata/identity/oauth2/token/x', status: 404 },
    { name: '/metadata/identity itself: 404', path: '/metadata/identity', status: 404 },
    { name: 'upper-case instance still blocked', path: '/metadata/INSTANCE/compute', status: 403 },
    { name: 'unknown category: 404, not passed', path: '/metadata/secrets', status: 404, error: 'not_found' },
    { name: '/metadata itself: 404', path: '/metadata', status: 404 },
    {
      name: 'allowed category passed with its canonical path',
      path: '/metadata/%73cheduledevents',
      status: 200,
      forwarded: '/metadata/scheduledevents',
    },
    {
      name: 'allowed category, trailing slash kept',
      path: '/metadata/attested/document/',
      status: 200,
      forwarded: '/metadata/attested/document/',
    },
    { name: 'versions', path: '/metadata/versions', status: 200, forwarded: '/metadata/versions' },
    {
      name: 'loadbalancer',
      path: '/metadata/loadbalancer',
      status: 200,
      forwarded: '/metadata/loadbalancer',
    },
    {
      name: 'unblocked instance: canonical path, case kept',
      path: '/metadata/%69nstance/compute/vmId',
      allowInstance: true,
      status: 200,
      forwarded: '/metadata/instance/compute/vmId',
    },
    {
      name: 'unblocked instance: dot-dot still refused',
      path: '/metadata/scheduledevents/../instance',
      allowInstance: true,
      status: 400,
    },
  ];
  for (const c of pathCases) {
    it(c.name, async () => {
      const seen: NmiRequest[] = [];
      const { deps, provider } = setup({
        upstream: recordingUpstream(seen),
        blockInstanceMetadata: c.allowInstance !== true,
      });
      const res = await handleMetadataRequest(request('10.0.0.5', R, { path: c.path }), deps);
      expect(res.status).toBe(c.status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const b = body(res);
      if (c.error !== undefined) expect(b.error).toBe(c.error);
      if (c.status >= 400) expect(typeof b.error_description).toBe('string');
      if (c.clientId !== undefined) expect(b.client_id).toBe(c.clientId);
      expect(seen.map((r) => r.path)).toEqual(c.forwarded === undefined ? [] : [c.forwarded]);
      if (c.forwarded === undefined && c.status !== 200) expect(provider.calls).toEqual([]);
    });
  }
});

describe('pass-through callers (review finding 2)', () => {
  interface CallerCase {
    readonly name: string;
    readonly source: string;
    readonly status: number;
    readonly description?: RegExp;
    readonly path?: string;
    readonly method?: string;
    readonly passed: boolean;
    readonly slept?: number[];
    readonly allowInstance?: boolean;
  }
  const callerCases: CallerCase[] = [
    { name: 'pod on this node', source: '10.0.0.5', status: 200, passed: true },
    { name: 'pod without identities (still a known pod)', source: '10.0.0.9', status: 200, passed: true },
    {
      name: 'unknown source: short retry, then 404',
      source: '10.0.0.99',
      status: 404,
      passed: false,
      slept: [100, 100],
    },
    { name: 'pod of another node', source: '10.0.0.13', status: 404, passed: false, slept: [100, 100] },
    { name: 'finished pod', source: '10.0.0.12', status: 404, passed: false, slept: [100, 100] },
    { name: 'hostNetwork pod', source: '10.0.0.10', status: 403, description: /hostNetwork/, passed: false },
    { name: 'several hostNetwork pods', source: '10.0.0.20', status: 403, passed: false },
    {
      name: "the node's own address",
      source: '10.0.0.1',
      status: 403,
      description: /node itself/,
      passed: false,
    },
    { name: 'two pods on one address', source: '10.0.0.11', status: 500, passed: false },
    { name: 'POST', source: '10.0.0.5', method: 'POST', status: 405, passed: false },
    {
      name: 'unblocked instance, hostNetwork caller',
      source: '10.0.0.10',
      path: '/metadata/instance/compute',
      allowInstance: true,
      status: 403,
      passed: false,
    },
    {
      name: 'unblocked instance, unknown caller',
      source: '10.0.0.99',
      path: '/metadata/instance/compute',
      allowInstance: true,
      status: 404,
      passed: false,
      slept: [100, 100],
    },
    {
      name: 'unblocked instance, pod on this node',
      source: '10.0.0.5',
      path: '/metadata/instance/compute',
      allowInstance: true,
      status: 200,
      passed: true,
    },
  ];
  for (const c of callerCases) {
    it(c.name, async () => {
      const seen: NmiRequest[] = [];
      const { deps, clock } = setup({
        upstream: recordingUpstream(seen),
        blockInstanceMetadata: c.allowInstance !== true,
      });
      const res = await handleMetadataRequest(
        request(c.source, 'api-version=2020-07-01', {
          path: c.path ?? '/metadata/scheduledevents',
          method: c.method ?? 'GET',
        }),
        deps,
      );
      expect(res.status).toBe(c.status);
      if (c.description !== undefined) expect(body(res).error_description).toMatch(c.description);
      expect(seen.length).toBe(c.passed ? 1 : 0);
      expect(clock.slept).toEqual(c.slept ?? []);
    });
  }

  it('forwards exactly the canonical path and the query as received', async () => {
    const seen: NmiRequest[] = [];
    const { deps } = setup({ upstream: recordingUpstream(seen) });
    const rawQuery = 'api-version=2020-07-01&x=a%20b+c&y=%2F';
    const res = await handleMetadataRequest(
      request('10.0.0.5', '', {
        path: '/metadata/%73cheduledevents',
        query: new URLSearchParams(rawQuery),
        rawQuery,
      }),
      deps,
    );
    expect(res.status).toBe(200);
    expect(seen.map((r) => [r.path, r.rawQuery])).toEqual([['/metadata/scheduledevents', rawQuery]]);
  });

  it('a query with characters that cannot be relayed is refused', async () => {
    const seen: NmiRequest[] = [];
    const { deps } = setup({ upstream: recordingUpstream(seen) });
    for (const rawQuery of ['a=\u00e9', 'a=b c', 'a=b#frag', 'a=\r\nX-Injected: 1']) {
      const res = await handleMetadataRequest(
        request('10.0.0.5', '', { path: '/metadata/scheduledevents', rawQuery }),
        deps,
      );
      expect(res.status, rawQuery).toBe(400);
    }
    expect(seen).toEqual([]);
  });

  it('per-pod rate limit applies to the pass-through', async () => {
    const seen: NmiRequest[] = [];
    const { deps } = setup({ upstream: recordingUpstream(seen), rateLimit: { ratePerSecond: 1, burst: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await handleMetadataRequest(
        request('10.0.0.5', '', { path: '/metadata/scheduledevents' }),
        deps,
      );
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(seen).toHaveLength(2);
    // The bucket is the pod's, shared with its token requests.
    expect((await handleMetadataRequest(request('10.0.0.5', R), deps)).status).toBe(429);
  });
});
