/**
 * The HTTPS edge against real TLS on loopback, with generated certificates. The admission
 * handler here is a stub (the decision logic is tested with the core); what is under test is
 * routing, limits, error answers, certificate reloads and that the server keeps serving.
 */
import fc from 'fast-check';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  makeCertDir,
  makePodObject,
  makeReview,
  postReview,
  rawTls,
  servedFingerprint,
  waitFor,
  type CertDir,
} from '../../test/integration/webhook-client.js';
import { Health } from '../observability/health.js';
import { silentLogger } from '../observability/logger.js';
import { WebhookMetrics } from '../observability/metrics.js';
import type { TLSSocket } from 'node:tls';
import {
  JsonDepthScanner,
  startWebhookServer,
  type AdmissionHandlerFn,
  type WebhookServer,
  type WebhookServerOptions,
} from './server.js';
import type { AdmissionDecision } from './types.js';

/** Denies pods with a privileged container; throws for the namespace "boom". */
const stubHandler: AdmissionHandlerFn = (request) => {
  if (request.namespace === 'boom') return Promise.reject(new Error('handler fault'));
  const containers = (
    request.object?.['spec'] as { containers?: { securityContext?: { privileged?: boolean } }[] }
  )?.containers;
  const privileged =
    Array.isArray(containers) && containers.some((c) => c?.securityContext?.privileged === true);
  const decision: AdmissionDecision = privileged
    ? {
        response: { allowed: false, status: { code: 403, reason: 'Forbidden', message: 'privileged' } },
        metrics: {
          kind: request.kind.kind,
          namespace: request.namespace,
          decision: 'deny',
          violations: ['privileged'],
        },
      }
    : {
        response: { allowed: true },
        metrics: { kind: request.kind.kind, namespace: request.namespace, decision: 'allow', violations: [] },
      };
  return Promise.resolve(decision);
};

const MAX_BODY = 2 * 1024 * 1024;

let certs: CertDir;
let server: WebhookServer;
let health: Health;
let metrics: WebhookMetrics;
let ca: string;

beforeAll(async () => {
  certs = await makeCertDir();
  ca = certs.certs.caCert;
  health = new Health(['config', 'certificate', 'caches']);
  metrics = new WebhookMetrics();
  server = await startWebhookServer({
    port: 0,
    host: '127.0.0.1',
    tlsCertFile: certs.certFile,
    tlsKeyFile: certs.keyFile,
    maxBodyBytes: MAX_BODY,
    handler: stubHandler,
    metrics,
    health,
    logger: silentLogger(),
    requestTimeoutMs: 1_500,
    headersTimeoutMs: 1_000,
    certificatePollMs: 200,
    shutdownGraceMs: 500,
  });
});

afterAll(async () => {
  await server?.close();
  certs?.remove();
});

/** The obvious byte-by-byte nesting check, as the oracle for the scanner's string skipping. */
function maxNesting(bytes: Buffer): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  let escaped = false;
  for (const c of bytes) {
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

describe('JsonDepthScanner', () => {
  const scanIn = (bytes: Buffer, cuts: number[], max: number): boolean => {
    const s = new JsonDepthScanner(max);
    let at = 0;
    for (const cut of [...cuts.map((c) => c % (bytes.length + 1))]
      .sort((a, b) => a - b)
      .concat(bytes.length)) {
      if (!s.scan(bytes.subarray(at, cut))) return false;
      at = cut;
    }
    return true;
  };

  it.each([
    { name: 'flat object', text: '{"a":1}', max: 1, ok: true },
    { name: 'one too deep', text: '{"a":[1]}', max: 1, ok: false },
    { name: 'brackets in a string', text: '{"a":"[[[[{{{{"}', max: 1, ok: true },
    { name: 'escaped quote keeps the string open', text: '{"a":"\\"[[["}', max: 1, ok: true },
    { name: 'escaped backslash closes it', text: '{"a":"\\\\","b":[[1]]}', max: 2, ok: false },
    { name: 'utf-8 inside strings', text: '{"é":"😀[","b":[]}', max: 2, ok: true },
  ])('$name', ({ text, max, ok }) => {
    const bytes = Buffer.from(text);
    expect(maxNesting(bytes) <= max).toBe(ok);
    for (let cut = 0; cut <= bytes.length; cut++) expect(scanIn(bytes, [cut], max), `cut at ${cut}`).toBe(ok);
  });

  it('agrees with the byte-by-byte oracle on any text cut into any chunks', () => {
    const text = fc.oneof(
      fc.jsonValue({ maxDepth: 8 }).map((v) => JSON.stringify(v)),
      fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', ':', ',', 'é'), maxLength: 80 }),
    );
    fc.assert(
      fc.property(
        text,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 0, max: 8 }),
        (t, cuts, max) => {
          const bytes = Buffer.from(t);
          expect(scanIn(bytes, cuts, max)).toBe(maxNesting(bytes) <= max);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('readiness', () => {
  it('is 503 naming the failing conditions until every one holds, then 200', async () => {
    const before = await call(server.port, ca, { path: '/readyz' });
    expect(before.status).toBe(503);
    const body = before.json() as { status: string; conditions: { name: string; ok: boolean }[] };
    expect(body.status).toBe('not ready');
    expect(body.conditions.filter((c) => !c.ok).map((c) => c.name)).toEqual(['config', 'caches']);
    health.set('config', true);
    health.set('caches', true);
    const after = await call(server.port, ca, { path: '/readyz' });
    expect(after.status).toBe(200);
    expect((after.json() as { status: string }).status).toBe('ready');
  });
});

describe('routes', () => {
  it.each([
    { name: 'liveness', method: 'GET', path: '/healthz', status: 200 },
    { name: 'liveness with a query', method: 'GET', path: '/healthz?verbose', status: 200 },
    { name: 'metrics', method: 'GET', path: '/metrics', status: 200 },
    { name: 'unknown path', method: 'GET', path: '/mutate', status: 404 },
    { name: 'GET on /validate', method: 'GET', path: '/validate', status: 405 },
    { name: 'POST on /healthz', method: 'POST', path: '/healthz', status: 405 },
    { name: 'DELETE on /metrics', method: 'DELETE', path: '/metrics', status: 405 },
  ])('$name: $method $path -> $status', async ({ method, path, status }) => {
    const r = await call(server.port, ca, { method, path });
    expect(r.status).toBe(status);
    if (status >= 400) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    }
    if (status === 405) expect(r.headers['allow']).toBeDefined();
  });

  it('answers an AdmissionReview with the uid echoed', async () => {
    const r = await postReview(server.port, ca, makeReview('uid-allow', makePodObject()));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.json()).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'uid-allow', allowed: true },
    });
  });

  it('denies with the handler answer', async () => {
    const r = await postReview(
      server.port,
      ca,
      makeReview('uid-deny', makePodObject('p', { privileged: true })),
    );
    expect(r.json()).toMatchObject({ response: { uid: 'uid-deny', allowed: false, status: { code: 403 } } });
  });

  it('fails closed when the handler faults', async () => {
    const r = await postReview(server.port, ca, makeReview('uid-boom', makePodObject(), 'boom'));
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ response: { uid: 'uid-boom', allowed: false, status: { code: 500 } } });
  });

  it('accepts a JSON content type with parameters', async () => {
    const r = await call(server.port, ca, {
      method: 'POST',
      path: '/validate',
      body: JSON.stringify(makeReview('uid-charset', makePodObject())),
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    expect(r.status).toBe(200);
  });
});

describe('bad input', () => {
  const review = makeReview('u1', makePodObject());
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
  it.each([
    { name: 'not JSON', body: '{"apiVersion": ', status: 400, message: /not JSON/ },
    { name: 'empty body', body: '', status: 400, message: /not JSON/ },
    { name: 'a JSON array', body: '[]', status: 400, message: /./ },
    {
      name: 'wrong apiVersion',
      body: { ...review, apiVersion: 'admission.k8s.io/v1beta1' },
      status: 400,
      message: /apiVersion/,
    },
    { name: 'wrong kind', body: { ...review, kind: 'Pod' }, status: 400, message: /kind/ },
    {
      name: 'no request',
      body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' },
      status: 400,
      message: /request/,
    },
    {
      name: 'missing uid',
      body: { ...review, request: { ...(review['request'] as object), uid: undefined } },
      status: 400,
      message: /uid/,
    },
    { name: 'nesting of 101 levels', body: deep(101), status: 400, message: /nested deeper than 100/ },
    { name: 'a 1 MB run of [', body: '['.repeat(1024 * 1024), status: 400, message: /nested deeper/ },
    {
      name: 'brackets inside strings do not count',
      body: JSON.stringify({ a: '['.repeat(500) }),
      status: 400,
      message: /apiVersion|AdmissionReview/,
    },
    { name: 'body over the limit', body: 'x'.repeat(MAX_BODY + 1), status: 413, message: /exceeds/ },
  ])('$name -> $status', async ({ body, status, message }) => {
    const r = await postReview(server.port, ca, body);
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toBe('application/json');
    const parsed = r.json() as { error: string; message: string };
    expect(parsed.error).toMatch(/^[a-z_]+$/);
    expect(parsed.message).toMatch(message);
  });

  it('wrong content type -> 415', async () => {
    const r = await call(server.port, ca, {
      method: 'POST',
      path: '/validate',
      body: JSON.stringify(review),
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(r.status).toBe(415);
  });

  it('refuses an oversized streamed body (no Content-Length) while reading it', async () => {
    const s = await rawTls(server.port, ca);
    const answer = new Promise<string>((resolve) => {
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString('latin1')));
      s.on('close', () => resolve(text));
      s.on('error', () => resolve(text));
    });
    s.write(
      'POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    const chunk = 'a'.repeat(64 * 1024);
    for (let i = 0; i < 40 && !s.destroyed; i++) {
      s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain('"error":"payload_too_large"');
  });

  it('a declared Content-Length over the limit is refused before any body', async () => {
    const s = await rawTls(server.port, ca);
    const answer = new Promise<string>((resolve) => {
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString('latin1')));
      s.on('close', () => resolve(text));
    });
    s.write(
      `POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`,
    );
    expect(await answer).toMatch(/^HTTP\/1\.1 413 /);
  });

  it.each([
    {
      name: 'headers trickled one byte at a time',
      script: 'POST /validate HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(100),
    },
    {
      name: 'a body that never finishes',
      script:
        'POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":' +
        ' '.repeat(100),
    },
  ])('slow client ($name) gets 408 and is cut off', async ({ script }) => {
    const s = await rawTls(server.port, ca);
    let text = '';
    const closed = new Promise<void>((resolve) => {
      s.on('data', (c: Buffer) => (text += c.toString('latin1')));
      s.on('close', () => resolve());
      s.on('error', () => undefined);
    });
    let i = 0;
    const headerEnd = script.indexOf('\r\n\r\n');
    const fast = headerEnd === -1 ? 0 : headerEnd + 4;
    if (fast > 0) s.write(script.slice(0, fast));
    i = fast;
    const trickle = setInterval(() => {
      if (i < script.length && !s.destroyed) s.write(script[i++]!);
    }, 50);
    await closed;
    clearInterval(trickle);
    expect(i).toBeLessThan(script.length); // cut off long before it finished
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    const health = await call(server.port, ca, { path: '/healthz' });
    expect(health.status).toBe(200);
  });
});

describe('TLS', () => {
  it('refuses TLS 1.1 and accepts TLS 1.2', async () => {
    // The client is allowed TLS 1.1 (security level 0), so the refusal is the server's.
    await expect(
      rawTls(server.port, ca, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }),
    ).rejects.toThrow(/version|protocol/i);
    const s = await rawTls(server.port, ca, { maxVersion: 'TLSv1.2' });
    expect(s.getProtocol()).toBe('TLSv1.2');
    s.destroy();
  });
});

describe('metrics after requests', () => {
  it('counts decisions, violations and refused requests', async () => {
    await postReview(server.port, ca, makeReview('m1', makePodObject('p', { privileged: true })));
    await postReview(server.port, ca, 'nope');
    const text = (await call(server.port, ca, { path: '/metrics' })).text;
    expect(text).toMatch(/podsec_webhook_requests_total\{decision="deny",kind="Pod",namespace="app"\} [1-9]/);
    expect(text).toMatch(
      /podsec_webhook_requests_total\{decision="allow",kind="Pod",namespace="app"\} [1-9]/,
    );
    expect(text).toMatch(/podsec_webhook_requests_total\{decision="error",kind="Pod",namespace="boom"\} 1/);
    expect(text).toMatch(/podsec_webhook_violations_total\{check="privileged"\} [1-9]/);
    expect(text).toMatch(/podsec_webhook_http_errors_total\{code="400"\} [1-9]/);
    expect(text).toMatch(
      /podsec_webhook_request_duration_seconds_bucket\{le="\+Inf",decision="allow"\} [1-9]/,
    );
  });
});

describe('certificate reload', () => {
  it('serves a rotated pair, and keeps the old one when the new files are invalid', async () => {
    const allCas = [ca];
    const first = await servedFingerprint(server.port, allCas);
    const next = await certs.rotate();
    allCas.push(next.caCert);
    // the file watcher picks it up by itself
    await waitFor(async () => ((await servedFingerprint(server.port, allCas)) !== first ? true : undefined));
    const second = await servedFingerprint(server.port, allCas);
    expect(second).toBe(new X509Certificate(next.cert).fingerprint256);

    writeFileSync(certs.certFile, 'not a certificate');
    expect(await server.reloadCertificate()).toBe(false);
    expect(await servedFingerprint(server.port, allCas)).toBe(second);

    const other = await certs.rotate(); // valid again, then a mismatched key
    allCas.push(other.caCert);
    expect(await server.reloadCertificate()).toBe(true);
    const third = await servedFingerprint(server.port, allCas);
    writeFileSync(certs.keyFile, next.key);
    expect(await server.reloadCertificate()).toBe(false);
    expect(await servedFingerprint(server.port, allCas)).toBe(third);

    const text = (await call(server.port, allCas, { path: '/metrics' })).text;
    expect(text).toMatch(/podsec_certificate_reloads_total\{result="failed"\} [2-9]/);
    expect(text).toMatch(/podsec_certificate_reloads_total\{result="ok"\} [2-9]/);
    writeFileSync(certs.keyFile, other.key);
    ca = other.caCert;
  });
});

describe('property: random and mutated reviews', () => {
  const json = fc.jsonValue({ maxDepth: 4 });
  const mutated = fc
    .tuple(
      fc.constantFrom(
        'apiVersion',
        'kind',
        'request',
        'uid',
        'object',
        'kind.kind',
        'namespace',
        'operation',
      ),
      json,
    )
    .map(([field, value]) => {
      const r = structuredClone(makeReview('prop', makePodObject())) as Record<
        string,
        Record<string, unknown>
      >;
      const req = r['request']!;
      if (field === 'apiVersion' || field === 'kind' || field === 'request')
        (r as Record<string, unknown>)[field] = value;
      else if (field === 'kind.kind') (req['kind'] as Record<string, unknown>)['kind'] = value;
      else req[field] = value;
      return JSON.stringify(r);
    });
  const bodies = fc.oneof(
    mutated,
    json.map((v) => JSON.stringify(v)),
    fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
    fc.string({ maxLength: 300 }),
    fc.nat({ max: 300 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  );

  it('every answer is well-formed JSON with a fitting status, and the server keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const r = await call(server.port, ca, {
          method: 'POST',
          path: '/validate',
          body,
          headers: { 'Content-Type': 'application/json' },
        });
        expect([200, 400, 413]).toContain(r.status);
        expect(r.headers['content-type']).toBe('application/json');
        const parsed = r.json() as Record<string, unknown>;
        if (r.status === 200) {
          const response = parsed['response'] as Record<string, unknown>;
          expect(parsed['kind']).toBe('AdmissionReview');
          expect(typeof response['uid']).toBe('string');
          expect(typeof response['allowed']).toBe('boolean');
        } else {
          expect(typeof parsed['error']).toBe('string');
          expect(typeof parsed['message']).toBe('string');
        }
      }),
      { numRuns: 200 },
    );
    expect((await call(server.port, ca, { path: '/healthz' })).status).toBe(200);
    const ok = await postReview(server.port, ca, makeReview('after', makePodObject()));
    expect(ok.json()).toMatchObject({ response: { uid: 'after', allowed: true } });
  });
});

describe('connection limits', () => {
  const servers: WebhookServer[] = [];
  const sockets: TLSSocket[] = [];
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => s.close()));
  });
  const start = async (extra: Partial<WebhookServerOptions>): Promise<WebhookServer> => {
    const s = await startWebhookServer({
      port: 0,
      host: '127.0.0.1',
      tlsCertFile: certs.certFile,
      tlsKeyFile: certs.keyFile,
      handler: stubHandler,
      metrics: new WebhookMetrics(),
      health: new Health([]),
      logger: silentLogger(),
      shutdownGraceMs: 200,
      ...extra,
    });
    servers.push(s);
    return s;
  };
  const open = async (port: number): Promise<TLSSocket> => {
    const s = await rawTls(port, ca);
    sockets.push(s);
    return s;
  };
  const closed = (s: TLSSocket): Promise<void> =>
    new Promise((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())));

  it.each([
    { name: 'a connection that never sends a request', request: false },
    { name: 'a kept-alive connection after its answer', request: true },
  ])('$name is closed once idle; the server keeps serving', async ({ request }) => {
    const s = await start({ idleTimeoutMs: 300, keepAliveTimeoutMs: 200 });
    const socket = await open(s.port);
    if (request) {
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const head = await new Promise<string>((resolve) =>
        socket.once('data', (c: Buffer) => resolve(c.toString('latin1'))),
      );
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      expect(head).toMatch(/keep-alive/i);
    }
    await closed(socket); // the test times out when the server never closes it
    expect((await call(s.port, ca, { path: '/healthz' })).status).toBe(200);
  });

  it('connections beyond --max-connections are dropped; others are served, and room frees up', async () => {
    const s = await start({ maxConnections: 2 });
    const held = [await open(s.port), await open(s.port)];
    await expect(rawTls(s.port, ca)).rejects.toThrow();
    held[0]!.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const head = await new Promise<string>((resolve) =>
      held[0]!.once('data', (c: Buffer) => resolve(c.toString('latin1'))),
    );
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    held[1]!.destroy();
    const ok = await waitFor(async () => {
      const r = await call(s.port, ca, { path: '/healthz' }).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    });
    expect(ok.status).toBe(200);
  });
});

describe('close', () => {
  it('stops within the grace period with an idle keep-alive connection open', async () => {
    const s = await rawTls(server.port, ca);
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => s.once('data', r));
    const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
    await server.close();
    await closed;
    await expect(call(server.port, ca, { path: '/healthz' })).rejects.toThrow();
  });
});
