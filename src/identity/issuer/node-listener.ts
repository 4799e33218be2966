/**
 * The thin I/O edge: adapts the issuer's request handler to node:http(s) request events,
 * bounding the body size and never letting a fault crash the server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERRORS, errorBody } from './errors.js';
import type { Issuer } from './issuer.js';

export const MAX_BODY_BYTES = 64 * 1024;

export interface ListenerOptions {
  /** Called with each request's method and path (never the body): for logs and tests. */
  readonly onRequest?: ((method: string, path: string, status: number) => void) | undefined;
}

/** The body, or undefined when it exceeds MAX_BODY_BYTES (the rest is drained so the 413 reaches the client). */
export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES * 16) {
      req.destroy(); // past any sane form: stop reading
      return undefined;
    }
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}

export function issuerListener(
  issuer: Issuer,
  opts: ListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      let status = 500;
      try {
        const body = await readBody(req);
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        const out =
          body === undefined
            ? {
                status: 413,
                headers: { 'content-type': 'application/json; charset=utf-8' },
                body: JSON.stringify(errorBody(ERRORS.bodyTooLarge(), new Date(), undefined)),
              }
            : await issuer.handle({ method, url, headers, body });
        status = out.status;
        res.writeHead(out.status, out.headers);
        res.end(method === 'HEAD' ? undefined : out.body);
      } catch {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"invalid_request"}');
      } finally {
        opts.onRequest?.(method, url.split('?')[0] ?? '', status);
      }
    })();
  };
}
