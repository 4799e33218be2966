/**
 * The IMDS side of the Azure provider and the pass-through, against a loopback stand-in for IMDS
 * (a node:http server on 127.0.0.1 written here, recording every request). Nothing is sent to
 * 169.254.169.254: every address below is the stand-in's, or a closed loopback port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNmiDeps, startNmiServer } from '../server.js';
import type { NmiIdentity, NmiRequest } from '../types.js';
import { parseImdsAddress } from './imds-http.js';
import type { ImdsAddress } from './imds-http.js';
import { ImdsTokenProvider } from './imds-token-provider.js';
import { createImdsUpstream } from './imds-upstream.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

type Reply = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let address: ImdsAddress;
let seen: Seen[] = [];
let replies: Reply[] = [];
const T0 = 1_800_000_000_000;

const ok =
  (body: unknown, status = 200, headers: Record<string, string> = {}): Reply =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const reply = replies.shift() ?? ok({ error: 'no_reply_scripted' }, 599);
    reply(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  address = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  replies = [];
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<ImdsAddress> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return { host: '127.0.0.1', port };
}

const MSI: NmiIdentity = {
  namespace: 'apps',
  name: 'orders',
  type: 0,
  clientID: '22222222-0000-0000-0000-000000000001',
  resourceID:
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/orders',
};

function provider(extra: Partial<ConstructorParameters<typeof ImdsTokenProvider>[0]> = {}) {
  const slept: number[] = [];
  const p = new ImdsTokenProvider({
    address,
    now: () => T0,
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
    ...extra,
  });
  return { p, slept };
}

const TOKEN = {
  access_token: 'msi-token',
  expires_on: String(T0 / 1000 + 86_399),
  expires_in: '86399',
  not_before: String(T0 / 1000 - 5),
  resource: 'https://vault.azure.net',
  token_type: 'Bearer',
};

describe('parseImdsAddress', () => {
  const cases: [string, string | null][] = [
    ['169.254.169.254:80', '169.254.169.254:80'],
    ['127.0.0.1:8080', '127.0.0.1:8080'],
    ['[::1]:80', '::1:80'],
    ['imds.local:80', 'imds.local:80'],
    ['169.254.169.254', null],
    ['127.0.0.1:0', null],
    ['127.0.0.1:70000', null],
    ['http://127.0.0.1:80', null],
    ['[nope]:80', null],
  ];
  for (const [text, want] of cases) {
    it(`${text} -> ${want ?? 'error'}`, () => {
      const r = parseImdsAddress(text);
      expect(r.ok ? `${r.value.host}:${r.value.port}` : null).toBe(want);
    });
  }
});

describe('ImdsTokenProvider (type 0 through the node IMDS)', () => {
  it('asks with client_id, api-version, resource and Metadata: true; honours expires_on', async () => {
    replies = [ok(TOKEN)];
    const { p } = provider();
    const r = await p.getToken(MSI, 'https://vault.azure.net');
    expect(r).toEqual({
      ok: true,
      token: { accessToken: 'msi-token', expiresOnMs: T0 + 86_399_000, notBeforeMs: T0 - 5000 },
    });
    expect(seen).toHaveLength(1);
    const url = new URL(seen[0]?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/metadata/identity/oauth2/token');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      'api-version': '2018-02-01',
      resource: 'https://vault.azure.net',
      client_id: MSI.clientID,
    });
    expect(seen[0]?.headers['metadata']).toBe('true');
  });

  it('names the identity by msi_res_id when it has no client id', async () => {
    replies = [ok({ access_token: 't', expires_in: 60 })];
    const { p } = provider();
    const r = await p.getToken({ ...MSI, clientID: '' }, 'api://x');
    expect(r.ok && r.token.expiresOnMs).toBe(T0 + 60_000);
    const q = new URL(seen[0]?.url ?? '', 'http://x').searchParams;
    expect(q.get('msi_res_id')).toBe(MSI.resourceID);
    expect(q.has('client_id')).toBe(false);
  });

  interface RetryCase {
    name: string;
    replies: Reply[];
    status: number | 'ok';
    slept: number[];
    description?: RegExp;
  }
  const retryCases: RetryCase[] = [
    {
      name: '429 with Retry-After: 2, then 200',
      replies: [ok({ error: 'throttled' }, 429, { 'retry-after': '2' }), ok(TOKEN)],
      status: 'ok',
      slept: [2000],
    },
    {
      name: 'Retry-After above the cap waits the cap',
      replies: [ok({}, 503, { 'retry-after': '3600' }), ok(TOKEN)],
      status: 'ok',
      slept: [5000],
    },
    {
      name: '410 and 500 back off 500 ms, 1 s',
      replies: [ok({}, 410), ok({}, 500), ok(TOKEN)],
      status: 'ok',
      slept: [500, 1000],
    },
    {
      name: '5xx every time: 4 attempts, then 503 with Retry-After',
      replies: [ok({}, 500), ok({}, 502), ok({}, 503), ok({}, 504)],
      status: 503,
      slept: [500, 1000, 2000],
      description: /answered 504/,
    },
    {
      name: "400 Identity not found: IMDS's answer at once, no retry",
      replies: [ok({ error: 'invalid_request', error_description: 'Identity not found' }, 400)],
      status: 400,
      slept: [],
      description: /answered 400 for managed identity 22222222-.*: Identity not found/,
    },
    { name: '200 without a token: 502', replies: [ok('not json')], status: 502, slept: [] },
  ];
  for (const c of retryCases) {
    it(c.name, async () => {
      replies = [...c.replies];
      const { p, slept } = provider();
      const r = await p.getToken(MSI, 'https://vault.azure.net');
      if (c.status === 'ok') expect(r.ok).toBe(true);
      else {
        expect(r.ok ? 200 : r.status).toBe(c.status);
        if (!r.ok && c.description !== undefined) expect(r.description).toMatch(c.description);
        if (!r.ok && c.status === 503) expect(r.retryAfterSeconds).toBe(5);
      }
      expect(slept).toEqual(c.slept);
      expect(seen).toHaveLength(c.replies.length);
    });
  }

  it('unreachable IMDS: bounded attempts, then 503 with Retry-After', async () => {
    const { p, slept } = provider({ address: await closedPort(), maxAttempts: 2 });
    const r = await p.getToken(MSI, 'https://vault.azure.net');
    expect(r).toMatchObject({
      ok: false,
      status: 503,
      retryAfterSeconds: 5,
      description: expect.stringMatching(/unreachable/) as unknown,
    });
    expect(slept).toEqual([500]);
  });

  it('an IMDS that never answers times out', async () => {
    replies = [() => undefined];
    const { p } = provider({ timeoutMs: 100, maxAttempts: 1 });
    const r = await p.getToken(MSI, 'https://vault.azure.net');
    expect(r).toMatchObject({
      ok: false,
      status: 503,
      description: expect.stringMatching(/did not answer within 100 ms/) as unknown,
    });
  });
});

function nmiRequest(path: string, query: string, headers: NmiRequest['headers'], method = 'GET'): NmiRequest {
  return { method, path, query: new URLSearchParams(query), headers, sourceAddress: '127.0.0.5' };
}

describe('IMDS pass-through (Upstream)', () => {
  it('relays path, query and end-to-end headers; drops hop-by-hop both ways', async () => {
    replies = [
      (_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/json',
          'keep-alive': 'timeout=5',
          'x-ms-version': '1',
        });
        res.end('{"DocumentIncarnation":1,"Events":[]}');
      },
    ];
    const up = createImdsUpstream({ address });
    const res = await up(
      nmiRequest('/metadata/scheduledevents', 'api-version=2020-07-01', {
        metadata: 'true',
        connection: 'keep-alive, x-secret-hop',
        'x-secret-hop': 'drop me',
        'proxy-authorization': 'Basic abc',
        te: 'trailers',
        'accept-encoding': 'gzip',
        'x-custom': 'kept',
      }),
    );
    expect(res).toMatchObject({ status: 200, body: '{"DocumentIncarnation":1,"Events":[]}' });
    expect(res.headers['x-ms-version']).toBe('1');
    expect(res.headers['keep-alive']).toBeUndefined();
    expect(seen[0]?.url).toBe('/metadata/scheduledevents?api-version=2020-07-01');
    const h = seen[0]?.headers ?? {};
    expect(h['metadata']).toBe('true');
    expect(h['x-custom']).toBe('kept');
    for (const dropped of ['x-secret-hop', 'proxy-authorization', 'te', 'accept-encoding']) {
      expect(h[dropped], dropped).toBeUndefined();
    }
    expect(h['host']).toBe(`127.0.0.1:${address.port}`);
  });

  interface FailCase {
    name: string;
    reply?: Reply;
    closed?: boolean;
    method?: string;
    status: number;
    description: RegExp;
  }
  const failCases: FailCase[] = [
    {
      name: 'oversized answer: 502',
      reply: (_q, r) => r.end('x'.repeat(2048)),
      status: 502,
      description: /oversized/,
    },
    {
      name: 'no answer in time: 504',
      reply: () => undefined,
      status: 504,
      description: /did not answer in time/,
    },
    { name: 'unreachable: 502', closed: true, status: 502, description: /unreachable/ },
    { name: 'POST is not relayed: 405', method: 'POST', status: 405, description: /Only GET/ },
  ];
  for (const c of failCases) {
    it(c.name, async () => {
      if (c.reply !== undefined) replies = [c.reply];
      const up = createImdsUpstream({
        address: c.closed === true ? await closedPort() : address,
        maxBodyBytes: 1024,
        timeoutMs: 100,
      });
      const res = await up(nmiRequest('/metadata/scheduledevents', '', { metadata: 'true' }, c.method));
      expect(res.status).toBe(c.status);
      expect((JSON.parse(res.body) as { error_description: string }).error_description).toMatch(
        c.description,
      );
      if (c.method === 'POST') expect(seen).toEqual([]);
    });
  }

  it('through the NMI: Metadata required, /metadata/instance blocked unless allowed', async () => {
    for (const allow of [false, true]) {
      seen = [];
      replies = [ok({ events: [] }), ok({ compute: {} })];
      const deps = createNmiDeps({
        // fetch() connects from 127.0.0.1: a pod there (pass-through serves known pods only).
        podsByIp: (ip) => (ip === '127.0.0.1' ? [{ namespace: 'apps', name: 'web', phase: 'Running' }] : []),
        assignedIdentities: () => [],
        tokenProvider: { getToken: () => Promise.reject(new Error('unused')) },
        upstream: createImdsUpstream({ address }),
        blockInstanceMetadata: !allow,
      });
      const nmi = await startNmiServer({ host: '127.0.0.1', port: 0, deps });
      try {
        const get = (path: string, headers: Record<string, string> = { Metadata: 'true' }) =>
          fetch(`${nmi.url}${path}`, { headers }).then(async (r) => ({
            status: r.status,
            body: await r.text(),
          }));
        expect((await get('/metadata/scheduledevents?api-version=2020-07-01', {})).status).toBe(400);
        expect(await get('/metadata/scheduledevents?api-version=2020-07-01')).toEqual({
          status: 200,
          body: '{"events":[]}',
        });
        const instance = await get('/metadata/instance?api-version=2021-02-01');
        expect(instance.status).toBe(allow ? 200 : 403);
        expect(JSON.parse(instance.body)).toEqual(
          allow ? { compute: {} } : expect.objectContaining({ error: 'forbidden' }),
        );
        expect(seen.map((s) => s.url)).toEqual([
          '/metadata/scheduledevents?api-version=2020-07-01',
          ...(allow ? ['/metadata/instance?api-version=2021-02-01'] : []),
        ]);
      } finally {
        await nmi.close();
      }
    }
  });
});
