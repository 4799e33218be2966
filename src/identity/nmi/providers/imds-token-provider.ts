/**
 * Tokens for type 0 AzureIdentities (user-assigned managed identities) from the node's real
 * IMDS, as aad-pod-identity's NMI got them: the NMI runs with host networking, so its own request
 * is not redirected back to itself. The identity is named by `client_id` (or `msi_res_id` when it
 * has no client id). Retries are bounded and follow IMDS's guidance: 404 and 410 (identity being
 * attached), 429 and 5xx are retried, honouring Retry-After up to a cap; anything else is answered
 * at once. IMDS errors reach the caller as IMDS wrote them (they carry no secrets).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { NmiIdentity, TokenProvider, TokenResult } from '../types.js';
import { formatImdsAddress, imdsGet, ImdsRequestError } from './imds-http.js';
import type { ImdsAddress, ImdsHttpOptions } from './imds-http.js';

export const IMDS_TOKEN_PATH = '/metadata/identity/oauth2/token';
export const IMDS_API_VERSION = '2018-02-01';

export interface ImdsTokenProviderOptions extends ImdsHttpOptions {
  readonly address: ImdsAddress;
  /** Attempts in all, the first included. Default 4. */
  readonly maxAttempts?: number | undefined;
  /** First back-off without Retry-After, doubled each time. Default 500 ms. */
  readonly baseDelayMs?: number | undefined;
  /** Cap on any single wait, Retry-After included. Default 5000 ms. */
  readonly maxDelayMs?: number | undefined;
  readonly now?: (() => number) | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
}

const RETRIED = (status: number): boolean =>
  status === 404 || status === 410 || status === 429 || status >= 500;

/** Retry-After as seconds or an HTTP date; undefined when absent or unusable. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

function rec(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** IMDS's own error text, shortened; never the raw body of something that is not IMDS JSON. */
function imdsError(body: string): { error: string; description: string } | undefined {
  try {
    const b = rec(JSON.parse(body));
    const error = b?.['error'];
    const description = b?.['error_description'];
    if (typeof error !== 'string') return undefined;
    return {
      error: error.slice(0, 100),
      description: typeof description === 'string' ? description.slice(0, 500) : error.slice(0, 100),
    };
  } catch {
    return undefined;
  }
}

export class ImdsTokenProvider implements TokenProvider {
  private readonly where: string;
  constructor(private readonly options: ImdsTokenProviderOptions) {
    this.where = formatImdsAddress(options.address);
  }

  /** The query IMDS gets for this identity and resource. */
  static queryFor(identity: NmiIdentity, resource: string): URLSearchParams {
    const q = new URLSearchParams({ 'api-version': IMDS_API_VERSION, resource });
    if (identity.clientID !== '') q.set('client_id', identity.clientID);
    else if (identity.resourceID !== undefined) q.set('msi_res_id', identity.resourceID);
    return q;
  }

  async getToken(identity: NmiIdentity, resource: string): Promise<TokenResult> {
    const o = this.options;
    const now = o.now ?? Date.now;
    const sleep = o.sleep ?? ((ms: number) => delay(ms));
    const attempts = Math.max(1, o.maxAttempts ?? 4);
    const maxDelay = o.maxDelayMs ?? 5000;
    let backoff = o.baseDelayMs ?? 500;
    const path = `${IMDS_TOKEN_PATH}?${ImdsTokenProvider.queryFor(identity, resource).toString()}`;
    const who = `managed identity ${identity.clientID || identity.resourceID || identity.name}`;
    let last: TokenResult = {
      ok: false,
      status: 503,
      error: 'temporarily_unavailable',
      description: `The metadata service at ${this.where} could not be asked for ${who}`,
      retryAfterSeconds: 5,
    };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let wait = backoff;
      try {
        const res = await imdsGet(o.address, path, { metadata: 'true', accept: 'application/json' }, o);
        if (res.status === 200) return this.parse(res.body, who);
        const err = imdsError(res.body);
        last = {
          ok: false,
          status: RETRIED(res.status) ? 503 : res.status,
          error: err?.error ?? 'upstream_error',
          description: `The metadata service at ${this.where} answered ${res.status} for ${who}${
            err === undefined ? '' : `: ${err.description}`
          }`,
          ...(RETRIED(res.status) ? { retryAfterSeconds: 5 } : {}),
        };
        if (!RETRIED(res.status)) return last;
        wait = retryAfterMs(res.headers['retry-after'], now()) ?? backoff;
      } catch (cause) {
        if (!(cause instanceof ImdsRequestError)) throw cause;
        last = {
          ok: false,
          status: 503,
          error: 'temporarily_unavailable',
          description: `${cause.message} (asking for ${who})`,
          retryAfterSeconds: 5,
        };
        if (cause.kind === 'too-large') return last;
      }
      if (attempt < attempts) await sleep(Math.min(wait, maxDelay));
      backoff *= 2;
    }
    return last;
  }

  private parse(body: string, who: string): TokenResult {
    let b: Record<string, unknown> | undefined;
    try {
      b = rec(JSON.parse(body));
    } catch {
      b = undefined;
    }
    const accessToken = b?.['access_token'];
    const expiresOn = num(b?.['expires_on']);
    const expiresIn = num(b?.['expires_in']);
    const notBefore = num(b?.['not_before']);
    const nowMs = (this.options.now ?? Date.now)();
    const expiresOnMs =
      expiresOn !== undefined
        ? expiresOn * 1000
        : expiresIn !== undefined
          ? nowMs + expiresIn * 1000
          : undefined;
    if (typeof accessToken !== 'string' || accessToken === '' || expiresOnMs === undefined) {
      return {
        ok: false,
        status: 502,
        error: 'bad_gateway',
        description: `The metadata service at ${this.where} sent no usable token for ${who}`,
      };
    }
    return {
      ok: true,
      token: {
        accessToken,
        expiresOnMs,
        ...(notBefore === undefined ? {} : { notBeforeMs: notBefore * 1000 }),
      },
    };
  }
}
