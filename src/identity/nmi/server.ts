/**
 * The thin node:http edge of the NMI: it turns a request into NmiRequest (the peer address
 * from the socket, never from a header), calls the handler and writes the answer. The token
 * endpoint, /healthz and /metrics share one listener. The handler gets the request target's path
 * and query exactly as received. Bad input never crashes it: a path that is not canonical is a
 * JSON 400 (from the handler), a handler fault a JSON 500 without details.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { silentLogger } from '../../observability/index.js';
import { DEFAULT_TIMINGS, handleMetadataRequest } from './handler.js';
import { NmiMetrics } from './metrics.js';
import { PodRateLimiter, type RateLimitOptions } from './rate-limit.js';
import { TokenCache, type TokenCacheOptions } from './token-cache.js';
import type { NmiDeps, NmiPod, NmiTimings, PodAssignment, TokenProvider, Upstream } from './types.js';

export interface NmiDepsInput {
  readonly nodeName?: string | undefined;
  readonly nodeAddresses?: readonly string[] | undefined;
  readonly podsByIp: (ip: string) => readonly NmiPod[];
  readonly assignedIdentities: (pod: NmiPod) => readonly PodAssignment[];
  readonly tokenProvider: TokenProvider;
  readonly upstream?: Upstream | undefined;
  readonly blockInstanceMetadata?: boolean | undefined;
  readonly exceptionFor?: NmiDeps['exceptionFor'];
  readonly allowExceptions?: boolean | undefined;
  readonly timings?: Partial<NmiTimings> | undefined;
  readonly rateLimit?: RateLimitOptions | undefined;
  readonly cache?: Omit<TokenCacheOptions, 'provider' | 'now'> | undefined;
  readonly now?: (() => number) | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly logger?: Logger | undefined;
  readonly ready?: (() => boolean) | undefined;
}

/** Fills in the defaults: real clock, a fresh cache, rate limiter and metrics registry. */
export function createNmiDeps(input: NmiDepsInput): NmiDeps {
  const now = input.now ?? Date.now;
  const logger = input.logger ?? silentLogger();
  return {
    nodeName: input.nodeName,
    nodeAddresses: input.nodeAddresses ?? [],
    podsByIp: input.podsByIp,
    assignedIdentities: input.assignedIdentities,
    tokens: new TokenCache({
      ...input.cache,
      provider: input.tokenProvider,
      now,
      onRefreshError: (identity, resource, err) =>
        logger.warn({ clientID: identity.clientID, resource, err }, 'nmi: background token refresh failed'),
    }),
    rateLimiter: new PodRateLimiter(input.rateLimit),
    upstream: input.upstream,
    blockInstanceMetadata: input.blockInstanceMetadata,
    exceptionFor: input.exceptionFor,
    allowExceptions: input.allowExceptions,
    timings: { ...DEFAULT_TIMINGS, ...input.timings },
    now,
    sleep: input.sleep ?? ((ms: number) => delay(ms)),
    logger,
    metrics: new NmiMetrics(),
    ready: input.ready,
  };
}

export interface NmiServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, what AZURE_POD_IDENTITY_AUTHORITY_HOST takes. */
  readonly url: string;
  close(): Promise<void>;
}

export interface StartNmiServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly deps: NmiDeps;
}

async function serve(req: IncomingMessage, res: ServerResponse, deps: NmiDeps): Promise<void> {
  // The raw request target, not a WHATWG URL: URL parsing would already resolve `..` and backslashes
  // and hide from the handler what the client really asked for (it refuses those spellings).
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const rawQuery = q === -1 ? '' : target.slice(q + 1);
  const answer = await handleMetadataRequest(
    {
      method: req.method ?? 'GET',
      path,
      query: new URLSearchParams(rawQuery),
      rawQuery,
      headers: req.headers,
      sourceAddress: req.socket.remoteAddress ?? '',
    },
    deps,
  );
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

export async function startNmiServer(options: StartNmiServerOptions): Promise<NmiServer> {
  const { deps } = options;
  const server = createServer((req, res) => {
    serve(req, res, deps).catch((err: unknown) => {
      deps.logger.error({ err }, 'nmi: could not answer');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify({ error: 'internal_error', error_description: 'The request could not be processed' }),
      );
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  deps.logger.info({ host: address.address, port: address.port }, 'nmi: listening');
  return {
    server,
    host: address.address,
    port: address.port,
    url: `http://${hostForUrl}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
