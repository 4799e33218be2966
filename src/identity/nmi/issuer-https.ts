/**
 * The NMI's HTTPS client of podsec's issuer (`--token-provider issuer=URL`): it calls the mint API
 * with this node's client certificate, so the issuer knows the node from the certificate and mints
 * only identities assigned on it. One keep-alive agent (the cache misses of a busy node reuse a
 * connection), a timeout per attempt, a few retries on connection errors and 5xx only, and the
 * issuer's answers turned into the NMI's own JSON errors: refusals are values, never throws.
 */
import { Agent, request } from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import type { AccessToken } from './types.js';
import { duplicateForPod } from './issuer-provider.js';
import type { IssuerMint, IssuerMintRequest, IssuerRefusal } from './issuer-provider.js';

export const MINT_PATH = '/podsec/v1/mint';
export const WHOAMI_PATH = '/podsec/v1/whoami';
const MAX_RESPONSE_BYTES = 64 * 1024;

/** The TLS material: CA that signed the issuer's serving certificate, this node's client pair. */
export interface IssuerTls {
  readonly ca: string;
  /** Absent when the node is proven by a ServiceAccount token instead. */
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

export interface HttpsIssuerClientOptions {
  /** `https://host:port` (a path prefix is kept). */
  readonly url: URL;
  readonly tls: IssuerTls;
  /** Per attempt (default 5000 ms). */
  readonly timeoutMs?: number | undefined;
  /** Attempts for connection errors and 5xx (default 3). */
  readonly attempts?: number | undefined;
  /** Backoff before attempt n+1 is `backoffMs * 2^(n-1)` (default 100 ms). */
  readonly backoffMs?: number | undefined;
  /** Retry-After (seconds) given to pods when the issuer cannot be reached (default 5). */
  readonly unavailableRetryAfterSeconds?: number | undefined;
  /**
   * The NMI's projected ServiceAccount token (audience of the issuer), sent as a bearer token
   * for the issuer's TokenReview authenticator; read per request since the kubelet rotates it.
   */
  readonly bearerToken?: (() => Promise<string | undefined>) | undefined;
  /** Called after each answered attempt (any HTTP status) and each failed connection. */
  readonly onAttempt?: ((outcome: { status?: number; error?: string }) => void) | undefined;
}

export interface WhoAmI {
  readonly node: string;
  readonly method: string;
}

export interface HttpsIssuerClient {
  readonly mint: IssuerMint;
  /** Which node the issuer sees this NMI as (undefined with the reason when it cannot say). */
  whoami(): Promise<{ ok: true; value: WhoAmI } | { ok: false; reason: string }>;
  /** Swaps the TLS material (new connections use it; idle ones are closed). */
  reload(tls: IssuerTls): void;
  close(): void;
}

/** `issuer=URL`'s URL: https only, no credentials, query or fragment. */
export function parseIssuerUrl(text: string): { ok: true; url: URL } | { ok: false; message: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: `not a URL: '${text}'` };
  }
  if (url.protocol !== 'https:') return { ok: false, message: `must be https://, got '${text}'` };
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return { ok: false, message: `must have no credentials, query or fragment, got '${text}'` };
  }
  return { ok: true, url };
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly retryAfter?: string | undefined;
}

type Attempt = { ok: true; answer: Answer } | { ok: false; error: string };

function makeAgent(tls: IssuerTls): Agent {
  return new Agent({
    keepAlive: true,
    maxSockets: 16,
    maxFreeSockets: 4,
    ca: tls.ca,
    ...(tls.cert !== undefined && tls.key !== undefined ? { cert: tls.cert, key: tls.key } : {}),
  });
}

function issuerError(body: string): { error?: string | undefined; description?: string | undefined } {
  try {
    const o = JSON.parse(body) as Record<string, unknown>;
    const description = typeof o['error_description'] === 'string' ? o['error_description'] : undefined;
    return {
      error: typeof o['error'] === 'string' ? o['error'] : undefined,
      // The AADSTS prefix and trace ids mean nothing to a pod: keep the sentence only.
      description: description
        ?.replace(/^AADSTS\d+:\s*/, '')
        .replace(/\s*Trace ID:.*$/s, '')
        .slice(0, 300),
    };
  } catch {
    return {};
  }
}

/** A usable mint answer: an object (JSON `null`, an array or a scalar is not) with a token and an expiry. */
function isToken(o: unknown): o is Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
  const r = o as Record<string, unknown>;
  return (
    typeof r['access_token'] === 'string' &&
    r['access_token'] !== '' &&
    typeof r['expires_on'] === 'number' &&
    Number.isFinite(r['expires_on'])
  );
}

export function createHttpsIssuerClient(opts: HttpsIssuerClientOptions): HttpsIssuerClient {
  let agent = makeAgent(opts.tls);
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const attempts = Math.max(1, opts.attempts ?? 3);
  const backoffMs = opts.backoffMs ?? 100;
  const unavailableAfter = opts.unavailableRetryAfterSeconds ?? 5;
  const base = opts.url.href.replace(/\/+$/, '');

  async function once(method: 'GET' | 'POST', path: string, body?: string): Promise<Attempt> {
    let token: string | undefined;
    try {
      token = await opts.bearerToken?.();
    } catch {
      return { ok: false, error: 'the ServiceAccount token cannot be read' };
    }
    return new Promise((resolve) => {
      const target = new URL(base + path);
      const req = request(
        target,
        {
          method,
          agent,
          timeout: timeoutMs,
          headers: {
            accept: 'application/json',
            ...(token === undefined || token === '' ? {} : { authorization: `Bearer ${token}` }),
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) {
              res.destroy();
              resolve({ ok: false, error: 'the issuer answer is too large' });
              return;
            }
            chunks.push(c);
          });
          res.on('error', (e) => resolve({ ok: false, error: e.message }));
          res.on('end', () =>
            resolve({
              ok: true,
              answer: {
                status: res.statusCode ?? 0,
                body: Buffer.concat(chunks).toString('utf8'),
                retryAfter: res.headers['retry-after'],
              },
            }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message }));
      req.end(body);
    });
  }

  async function call(method: 'GET' | 'POST', path: string, body?: string): Promise<Attempt> {
    let last: Attempt = { ok: false, error: 'not attempted' };
    for (let n = 1; n <= attempts; n++) {
      last = await once(method, path, body);
      opts.onAttempt?.(last.ok ? { status: last.answer.status } : { error: last.error });
      const retryable = !last.ok || last.answer.status >= 500;
      if (!retryable || n === attempts) return last;
      await delay(backoffMs * 2 ** (n - 1));
    }
    return last;
  }

  const unavailable = (clientId: string): IssuerRefusal => ({
    refused: true,
    status: 503,
    error: 'temporarily_unavailable',
    description: `The token issuer could not be reached to issue a token for client ${clientId}`,
    retryAfterSeconds: unavailableAfter,
  });

  async function mint(req: IssuerMintRequest): Promise<AccessToken | IssuerRefusal> {
    const got = await call(
      'POST',
      MINT_PATH,
      JSON.stringify({ clientId: req.clientId, resource: req.resource, identity: req.identity }),
    );
    if (!got.ok) return unavailable(req.clientId);
    const { status, body } = got.answer;
    if (status === 200) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return unavailable(req.clientId);
      }
      if (!isToken(o)) return unavailable(req.clientId);
      const notBefore = typeof o['not_before'] === 'number' ? o['not_before'] * 1000 : undefined;
      return {
        accessToken: String(o['access_token']),
        expiresOnMs: Number(o['expires_on']) * 1000,
        notBeforeMs: notBefore,
      };
    }
    const e = issuerError(body);
    switch (status) {
      case 403:
        return {
          refused: true,
          status: 403,
          error: 'forbidden',
          description: `Identity ${req.identity.namespace}/${req.identity.name} (${req.clientId}) is not assigned on this node`,
        };
      case 409:
        // A client id claimed by several AzureIdentities. The pod is told only about its own
        // identity: the other claimants live in namespaces it may not see (the controller's log
        // and the issuer's name them for the operator).
        return {
          refused: true,
          status: 403,
          error: 'forbidden',
          description: duplicateForPod(req.identity, req.clientId),
        };
      case 404:
        return {
          refused: true,
          status: 400,
          error: 'invalid_request',
          description: `Identity ${req.clientId} is not known to the token issuer`,
        };
      case 400:
        return {
          refused: true,
          status: 400,
          error: 'invalid_resource',
          description: e.description ?? 'The token issuer refused the request',
        };
      default:
        // 401 (this node's certificate refused), 5xx after retries, anything unexpected: the pod
        // cannot fix it, so it is told to come back; the NMI's logs say why.
        return unavailable(req.clientId);
    }
  }

  return {
    mint,
    async whoami() {
      const got = await call('GET', WHOAMI_PATH);
      if (!got.ok) return { ok: false, reason: `the issuer cannot be reached (${got.error})` };
      if (got.answer.status !== 200) {
        const e = issuerError(got.answer.body);
        return {
          ok: false,
          reason: `the issuer answered ${got.answer.status}${e.description === undefined ? '' : `: ${e.description}`}`,
        };
      }
      try {
        const o = JSON.parse(got.answer.body) as Record<string, unknown>;
        if (typeof o['node'] === 'string') {
          return {
            ok: true,
            value: { node: o['node'], method: typeof o['method'] === 'string' ? o['method'] : '' },
          };
        }
      } catch {
        // fall through
      }
      return { ok: false, reason: 'the issuer answer is not understood' };
    },
    reload(tls) {
      const old = agent;
      agent = makeAgent(tls);
      old.destroy();
    },
    close() {
      agent.destroy();
    },
  };
}
