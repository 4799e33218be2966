/**
 * The one HTTP client the NMI uses to reach the node's real metadata service (IMDS): for type 0
 * identities and for the pass-through of other /metadata paths. Plain HTTP to a fixed `host:port`
 * given by the operator (`--imds-address`), never a URL built from a request, with a bounded
 * timeout and a bounded body, so a slow or hostile upstream cannot hold or bloat the NMI.
 */
import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';

export interface ImdsAddress {
  readonly host: string;
  readonly port: number;
}

export type ParsedAddress = { ok: true; value: ImdsAddress } | { ok: false; message: string };

/** `A:P` (IPv4 or host name) or `[v6]:P`; a port is required so nothing is implied. */
export function parseImdsAddress(text: string): ParsedAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (m === null || host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    return { ok: false, message: `must be HOST:PORT (e.g. 169.254.169.254:80), got '${text}'` };
  }
  if (m[1] !== undefined && isIP(host) !== 6)
    return { ok: false, message: `'${host}' is not an IPv6 address` };
  return { ok: true, value: { host, port } };
}

export function formatImdsAddress(a: ImdsAddress): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export interface ImdsHttpOptions {
  /** Per request, connection included. Default 5000 ms. */
  readonly timeoutMs?: number | undefined;
  /** Larger answers are abandoned. Default 1 MiB. */
  readonly maxBodyBytes?: number | undefined;
}

export interface ImdsHttpResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Why a request got no answer: the value callers turn into 502/503/504. */
export type ImdsFailureKind = 'unreachable' | 'timeout' | 'too-large';

export class ImdsRequestError extends Error {
  constructor(
    readonly kind: ImdsFailureKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ImdsRequestError';
  }
}

export const DEFAULT_IMDS_TIMEOUT_MS = 5000;
export const DEFAULT_IMDS_MAX_BODY = 1024 * 1024;

/** One GET to the metadata service. Rejects only with ImdsRequestError. */
export function imdsGet(
  address: ImdsAddress,
  pathAndQuery: string,
  headers: Readonly<Record<string, string | readonly string[]>>,
  options: ImdsHttpOptions = {},
): Promise<ImdsHttpResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_IMDS_TIMEOUT_MS;
  const maxBody = options.maxBodyBytes ?? DEFAULT_IMDS_MAX_BODY;
  const where = formatImdsAddress(address);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (kind: ImdsFailureKind, message: string, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(new ImdsRequestError(kind, message, cause === undefined ? undefined : { cause }));
    };
    const req = httpRequest(
      {
        host: address.host,
        port: address.port,
        method: 'GET',
        path: pathAndQuery,
        headers: { ...headers, host: where, connection: 'close' },
        // No proxy, no agent pool: one short-lived connection to exactly this address.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBody) {
            fail('too-large', `the metadata service at ${where} sent more than ${maxBody} bytes`);
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
          }
          resolve({
            status: res.statusCode ?? 502,
            headers: out,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', (err) => fail('unreachable', `the metadata service at ${where} failed`, err));
      },
    );
    const timer = setTimeout(
      () => fail('timeout', `the metadata service at ${where} did not answer within ${timeoutMs} ms`),
      timeoutMs,
    );
    req.on('error', (err) => fail('unreachable', `the metadata service at ${where} is unreachable`, err));
    req.end();
  });
}
