/**
 * The webhook's HTTPS edge: TLS, routes, limits, and nothing else. It decodes an AdmissionReview,
 * hands the request to the pure handler, and encodes the answer. Every failure of the input
 * (size, depth, syntax, shape, slowness) becomes a JSON error with its HTTP status, and every
 * fault of the handler becomes a denial (fail closed), so no request can crash the process.
 * With failurePolicy Fail a dead webhook blocks every pod in the cluster: keeping the server
 * alive and answering is the first duty of this file.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { readKeyPair, watchFiles, type FileWatch, type KeyPair } from '../lib/tls/index.js';
import type { Health } from '../observability/health.js';
import type { WebhookMetrics } from '../observability/metrics.js';
import { decodeReview, encodeResponse } from './review.js';
import type { AdmissionDecision, AdmissionRequest } from './types.js';

export type AdmissionHandlerFn = (request: AdmissionRequest) => Promise<AdmissionDecision>;

export interface WebhookServerOptions {
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Default 0.0.0.0 (every interface, as a Pod needs); tests pass 127.0.0.1. */
  readonly host?: string | undefined;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  /** Largest accepted body; default 8 MiB (an UPDATE carries two objects). */
  readonly maxBodyBytes?: number | undefined;
  /** Deepest accepted JSON nesting; default 100. */
  readonly maxJsonDepth?: number | undefined;
  readonly handler: AdmissionHandlerFn;
  readonly metrics: WebhookMetrics;
  readonly health: Health;
  readonly logger: Logger;
  /** Deadline for a whole request (headers and body); default 10 s (the API server's own timeout). */
  readonly requestTimeoutMs?: number | undefined;
  /** Deadline for the headers; default min(5 s, requestTimeoutMs). */
  readonly headersTimeoutMs?: number | undefined;
  /** TLS handshake deadline; default 5 s. */
  readonly handshakeTimeoutMs?: number | undefined;
  /** How long a connection is kept open after an answer, waiting for the next request; default 5 s. */
  readonly keepAliveTimeoutMs?: number | undefined;
  /**
   * A connection silent this long is closed, whatever state it is in (one that completed its
   * handshake and never sent a request included); default 30 s.
   */
  readonly idleTimeoutMs?: number | undefined;
  /** Connections beyond this many are dropped at once (the API server retries elsewhere); default 2048. */
  readonly maxConnections?: number | undefined;
  /** Certificate polling interval (fs.watch is the fast path); default 10 s. */
  readonly certificatePollMs?: number | undefined;
  /** How long close() waits for requests in flight before cutting connections; default 3 s. */
  readonly shutdownGraceMs?: number | undefined;
  /**
   * How long close() keeps serving, already not ready, before it stops accepting; default 0.
   * Endpoints and kube-proxy learn of a terminating pod a few seconds late, and with
   * failurePolicy Fail a request routed to a closed port fails a pod creation.
   */
  readonly shutdownDelayMs?: number | undefined;
}

export interface WebhookServer {
  readonly port: number;
  /** Re-reads the certificate files now; false when the new pair was refused (the old one stays). */
  reloadCertificate(): Promise<boolean>;
  /**
   * Graceful stop: /readyz answers 503 at once and answers close their connections; after the
   * shutdown delay it stops accepting, lets requests in flight finish (up to the grace period),
   * then closes. Idempotent.
   */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_JSON_DEPTH = 100;
export const DEFAULT_MAX_CONNECTIONS = 2048;

type ErrorName =
  | 'bad_request'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'header_too_large'
  | 'internal_error';

const ERROR_NAMES: Readonly<Record<number, ErrorName>> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  431: 'header_too_large',
  500: 'internal_error',
};

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
};

/** A fault's message without its stack: logs at info level carry no stack traces (debug does). */
function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errorBody(status: number, message: string): string {
  return JSON.stringify({ error: ERROR_NAMES[status] ?? 'error', message });
}

/**
 * Tracks JSON nesting over a byte stream without parsing it, so a body like `[[[[...` is
 * refused before JSON.parse (and the recursive code after it) ever sees it. Brackets inside
 * strings do not count. Strings, most of a Kubernetes object's bytes, are skipped with
 * Buffer#indexOf (native memchr) instead of byte by byte: this runs on every admission request.
 * 0x22 (") and 0x5c (\\) never occur inside multi-byte UTF-8 sequences, so bytes suffice.
 */
export class JsonDepthScanner {
  private depth = 0;
  private inString = false;
  /** Inside a string, the previous chunk ended with an odd run of backslashes. */
  private escaped = false;
  constructor(private readonly max: number) {}

  /** Feeds the next chunk; false once the nesting exceeds the limit. */
  scan(chunk: Buffer): boolean {
    const n = chunk.length;
    if (n === 0) return true;
    let i = 0;
    if (this.inString) {
      i = this.skipString(chunk, 0);
      if (i < 0) return true;
    }
    let depth = this.depth;
    const max = this.max;
    while (i < n) {
      const c = chunk[i]!;
      if (c === 0x22) {
        this.depth = depth;
        i = this.skipString(chunk, i + 1);
        if (i < 0) return true;
        continue;
      }
      if (c === 0x7b || c === 0x5b) {
        if (++depth > max) return false;
      } else if (c === 0x7d || c === 0x5d) depth--;
      i++;
    }
    this.depth = depth;
    return true;
  }

  /** From inside a string at `from`: the index after its closing quote, or -1 when the chunk ends first. */
  private skipString(chunk: Buffer, from: number): number {
    let j = from;
    if (this.escaped) {
      this.escaped = false;
      j++; // the first byte of this chunk is the escaped character
    }
    for (;;) {
      const q = j >= chunk.length ? -1 : chunk.indexOf(0x22, j);
      if (q === -1) {
        let run = 0;
        for (let k = chunk.length - 1; k >= j && chunk[k] === 0x5c; k--) run++;
        this.inString = true;
        this.escaped = run % 2 === 1;
        return -1;
      }
      let run = 0;
      for (let k = q - 1; k >= j && chunk[k] === 0x5c; k--) run++;
      if (run % 2 === 0) {
        this.inString = false;
        return q + 1;
      }
      j = q + 1; // an escaped quote
    }
  }
}

type BodyResult = { ok: true; body: Buffer } | { ok: false; status: 400 | 408 | 413; message: string };

function readBody(
  req: IncomingMessage,
  maxBytes: number,
  maxDepth: number,
  deadlineMs: number,
): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const depth = new JsonDepthScanner(maxDepth);
    const finish = (r: BodyResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      if (!r.ok) req.pause(); // stop reading; the answer closes the connection
      resolve(r);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        finish({ ok: false, status: 413, message: `the request body exceeds ${maxBytes} bytes` });
        return;
      }
      if (!depth.scan(chunk)) {
        finish({ ok: false, status: 400, message: `the JSON is nested deeper than ${maxDepth} levels` });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void =>
      finish({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          status: 408,
          message: `the request body was not received within ${deadlineMs} ms`,
        }),
      deadlineMs,
    );
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => finish({ ok: false, status: 400, message: 'the request body could not be read' }));
    req.on('aborted', () => finish({ ok: false, status: 400, message: 'the client aborted the request' }));
  });
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const semi = value.indexOf(';');
  const type = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json';
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'application/json',
  close = false,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string | number> = {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  };
  if (close) headers['Connection'] = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/** Reads the certificate pair once, throwing (with the reason) when it cannot serve. */
async function initialKeyPair(certFile: string, keyFile: string): Promise<KeyPair> {
  const r = await readKeyPair(certFile, keyFile);
  if (!r.ok) throw new Error(`cannot use the serving certificate: ${r.message}`);
  return r.pair;
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const { handler, metrics, health, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxDepth = options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const headersTimeoutMs = Math.min(options.headersTimeoutMs ?? 5_000, requestTimeoutMs);
  const graceMs = options.shutdownGraceMs ?? 3_000;
  const keepAliveTimeout = options.keepAliveTimeoutMs ?? 5_000;
  const delayMs = options.shutdownDelayMs ?? 0;
  /** Set once close() starts: every answer then closes its connection, so clients reconnect elsewhere. */
  let draining = false;

  let pair = await initialKeyPair(options.tlsCertFile, options.tlsKeyFile);
  metrics.certificateLoaded(pair.notAfter);
  health.set(
    'certificate',
    true,
    `${pair.subject.replace(/\n/g, ', ')} until ${pair.notAfter.toISOString()}`,
  );
  logger.info(
    { fingerprint: pair.fingerprint, notAfter: pair.notAfter.toISOString() },
    'serving certificate loaded',
  );

  const server: Server = createServer({
    cert: pair.cert,
    key: pair.key,
    minVersion: 'TLSv1.2',
    handshakeTimeout: options.handshakeTimeoutMs ?? 5_000,
    requestTimeout: requestTimeoutMs,
    headersTimeout: headersTimeoutMs,
    keepAliveTimeout,
    // Node checks the request and header deadlines on this interval (30 s by default).
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(headersTimeoutMs / 2))),
    maxHeaderSize: 16 * 1024,
  });
  server.keepAliveTimeout = keepAliveTimeout;
  // The request and header deadlines only start with a request's first byte: without a socket
  // timeout, a connection that never sends one would stay open for ever.
  server.setTimeout(options.idleTimeoutMs ?? 30_000, (socket: Socket) => socket.destroy());
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  let dropped = 0;
  let dropLogged = 0;
  server.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now - dropLogged < 10_000) return;
    dropLogged = now;
    logger.warn(
      { maxConnections: server.maxConnections, droppedSoFar: dropped },
      'connection dropped: the connection limit is reached',
    );
  });

  const fail = (res: ServerResponse, status: number, message: string, close = false): void => {
    metrics.httpError(status);
    logger.debug({ status, message }, 'request refused');
    send(res, status, errorBody(status, message), 'application/json', close);
  };

  const validate = async (req: IncomingMessage, res: ServerResponse, started: bigint): Promise<void> => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      fail(res, 413, `the request body exceeds ${maxBodyBytes} bytes`, true);
      return;
    }
    const body = await readBody(req, maxBodyBytes, maxDepth, requestTimeoutMs);
    if (!body.ok) {
      fail(res, body.status, body.message, true);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(body.body.toString('utf8'));
    } catch {
      fail(res, 400, 'the request body is not JSON');
      return;
    }
    const decoded = decodeReview(value);
    if (!decoded.ok) {
      fail(res, decoded.status, decoded.message);
      return;
    }
    const request = decoded.request;
    let decision: AdmissionDecision;
    try {
      decision = await handler(request);
    } catch (err) {
      // Fail closed: a fault denies (the API server applies failurePolicy only to transport failures).
      logger.error(
        { reason: reasonOf(err), uid: request.uid, kind: request.kind.kind },
        'admission handler failed',
      );
      logger.debug({ err }, 'admission handler fault');
      decision = {
        response: {
          allowed: false,
          status: {
            code: 500,
            reason: 'InternalError',
            message: 'podsec: internal error while evaluating the request',
          },
        },
        metrics: { kind: request.kind.kind, namespace: request.namespace, decision: 'error', violations: [] },
      };
    }
    const answer = JSON.stringify(encodeResponse(request.uid, decision.response));
    send(res, 200, answer);
    const m = decision.metrics;
    metrics.observeRequest({
      kind: m.kind,
      namespace: m.namespace,
      decision: m.decision,
      violations: m.violations,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    });
    if (m.decision === 'deny' || m.decision === 'error') {
      logger.info(
        {
          uid: request.uid,
          kind: m.kind,
          namespace: m.namespace,
          name: request.name,
          operation: request.operation,
          username: request.userInfo.username,
          dryRun: request.dryRun,
          violations: m.violations,
        },
        m.decision === 'deny' ? 'admission denied' : 'admission failed',
      );
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const readOnly = method === 'GET' || method === 'HEAD';
    switch (path) {
      case '/validate':
        if (method !== 'POST') {
          res.setHeader('Allow', 'POST');
          fail(res, 405, `${method} is not allowed on /validate; use POST`);
          return;
        }
        if (!isJsonContentType(req.headers['content-type'])) {
          fail(res, 415, 'the request body must be application/json');
          return;
        }
        await validate(req, res, started);
        return;
      case '/healthz':
      case '/livez':
        if (!readOnly) break;
        send(res, 200, JSON.stringify({ status: 'ok' }));
        return;
      case '/readyz': {
        if (!readOnly) break;
        const r = health.readiness();
        send(
          res,
          r.ready ? 200 : 503,
          JSON.stringify({ status: r.ready ? 'ready' : 'not ready', conditions: r.conditions }),
        );
        return;
      }
      case '/metrics':
        if (!readOnly) break;
        send(res, 200, await metrics.render(), metrics.contentType);
        return;
      default:
        fail(res, 404, `no route for ${path.length > 200 ? `${path.slice(0, 200)}...` : path}`);
        return;
    }
    res.setHeader('Allow', 'GET, HEAD');
    fail(res, 405, `${method} is not allowed on ${path}`);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.setHeader('Connection', 'close');
    route(req, res).catch((err: unknown) => {
      logger.error({ reason: reasonOf(err) }, 'request failed');
      logger.debug({ err }, 'request fault');
      try {
        fail(res, 500, 'internal error', true);
      } catch {
        res.destroy();
      }
    });
  });

  // Malformed HTTP, oversized headers, and the header/request deadlines of slow clients.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    metrics.httpError(code);
    logger.debug({ code: err.code }, 'client error');
    if (socket.writable && !(socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      const body = errorBody(
        code,
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 'the request was not received in time'
          : 'malformed HTTP request',
      );
      socket.end(
        `HTTP/1.1 ${code} ${REASONS[code] ?? 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    logger.debug({ code: err.code, remote: socket.remoteAddress }, 'TLS handshake failed');
    socket.destroy();
  });
  server.on('error', (err) => logger.error({ reason: reasonOf(err) }, 'server error'));

  const reloadCertificate = async (): Promise<boolean> => {
    const r = await readKeyPair(options.tlsCertFile, options.tlsKeyFile);
    if (!r.ok) {
      metrics.certificateReload(false);
      logger.warn({ reason: r.message }, 'new serving certificate refused; the previous one stays in use');
      return false;
    }
    if (r.pair.fingerprint === pair.fingerprint && r.pair.key === pair.key) return true;
    try {
      server.setSecureContext({ cert: r.pair.cert, key: r.pair.key, minVersion: 'TLSv1.2' });
    } catch (err) {
      metrics.certificateReload(false);
      logger.warn(
        { reason: reasonOf(err) },
        'new serving certificate refused by TLS; the previous one stays in use',
      );
      return false;
    }
    pair = r.pair;
    metrics.certificateReload(true, pair.notAfter);
    health.set(
      'certificate',
      true,
      `${pair.subject.replace(/\n/g, ', ')} until ${pair.notAfter.toISOString()}`,
    );
    logger.info(
      { fingerprint: pair.fingerprint, notAfter: pair.notAfter.toISOString() },
      'serving certificate reloaded',
    );
    return true;
  };

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(new Error(`cannot listen on port ${options.port}`, { cause: err }));
    server.once('error', onError);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const port = address !== null && typeof address === 'object' ? address.port : options.port;
  logger.info({ port, host: options.host ?? '0.0.0.0' }, 'webhook listening');

  const watcher: FileWatch = watchFiles(
    [options.tlsCertFile, options.tlsKeyFile],
    async () => {
      await reloadCertificate();
    },
    { intervalMs: options.certificatePollMs ?? 10_000, debounceMs: 200 },
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      health.set('shutdown', false, 'shutting down');
      // Kept-alive idle connections reconnect now, while this replica still accepts them.
      server.closeIdleConnections();
      if (delayMs > 0) {
        logger.info({ delayMs }, 'shutting down: not ready, still serving while endpoints update');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      watcher.close();
      await new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          logger.info('webhook stopped');
          resolve();
        });
        server.closeIdleConnections();
      });
    })();
    return closing;
  };

  return { port, reloadCertificate, close };
}
