/**
 * The NMI's pass-through of other /metadata paths (scheduled events, attested data, ...) to the
 * node's real IMDS, as aad-pod-identity's reverse proxy did, but narrower: GET only (the request
 * body is not carried), hop-by-hop headers dropped both ways, no compression negotiated (the
 * answer is relayed as text), a bounded body and timeout, and upstream failures answered as JSON
 * errors. The handler has already required `Metadata: true` and blocked /metadata/instance
 * unless the operator allowed it; this module only relays.
 */
import type { NmiRequest, NmiResponse, Upstream } from '../types.js';
import { formatImdsAddress, imdsGet, ImdsRequestError } from './imds-http.js';
import type { ImdsAddress, ImdsHttpOptions } from './imds-http.js';

/** RFC 9110 section 7.6.1, plus what this relay sets itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'accept-encoding',
  'content-encoding',
]);

function connectionNamed(value: string | readonly string[] | undefined): Set<string> {
  const text = typeof value === 'string' ? value : (value ?? []).join(',');
  return new Set(
    text
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== ''),
  );
}

/** Headers to forward: end-to-end ones only. */
export function forwardHeaders(headers: NmiRequest['headers']): Record<string, string | readonly string[]> {
  const named = connectionNamed(headers['connection']);
  const out: Record<string, string | readonly string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (v === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = v;
  }
  return out;
}

function responseHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const named = connectionNamed(headers['connection']);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  return out;
}

function jsonError(status: number, code: string, description: string): NmiResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ error: code, error_description: description }),
  };
}

export interface ImdsUpstreamOptions extends ImdsHttpOptions {
  readonly address: ImdsAddress;
}

export function createImdsUpstream(options: ImdsUpstreamOptions): Upstream {
  const where = formatImdsAddress(options.address);
  return async (req: NmiRequest): Promise<NmiResponse> => {
    if (req.method !== 'GET') {
      return {
        ...jsonError(405, 'invalid_request', 'Only GET is passed to the metadata service'),
        headers: { 'content-type': 'application/json; charset=utf-8', allow: 'GET' },
      };
    }
    // The handler passes the canonical path and the query exactly as the caller sent it.
    const query = req.rawQuery ?? req.query.toString();
    try {
      const res = await imdsGet(
        options.address,
        query === '' ? req.path : `${req.path}?${query}`,
        forwardHeaders(req.headers),
        options,
      );
      return { status: res.status, headers: responseHeaders(res.headers), body: res.body };
    } catch (err) {
      if (!(err instanceof ImdsRequestError)) throw err;
      switch (err.kind) {
        case 'timeout':
          return jsonError(504, 'gateway_timeout', `The metadata service at ${where} did not answer in time`);
        case 'too-large':
          return jsonError(502, 'bad_gateway', `The metadata service at ${where} sent an oversized answer`);
        case 'unreachable':
          return jsonError(502, 'bad_gateway', `The metadata service at ${where} is unreachable`);
      }
    }
  };
}
