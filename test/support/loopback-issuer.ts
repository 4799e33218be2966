/**
 * podsec's issuer served over HTTPS on 127.0.0.1 (a fresh test CA and key set), standing in for
 * Azure AD in the MSAL tests, and the MSAL network module those tests give MSAL: it trusts the
 * test CA, records every URL and refuses any host but the issuer's, so nothing leaves loopback.
 */
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { createIssuer, type IssuerOptions } from '../../src/identity/issuer/issuer.js';
import { KeySet } from '../../src/identity/issuer/keys.js';
import { issuerListener, type ListenerOptions } from '../../src/identity/issuer/node-listener.js';
import { generateCertificates } from '../../src/lib/tls/index.js';

export interface LoopbackIssuer {
  readonly server: Server;
  /** `127.0.0.1:<port>` */
  readonly host: string;
  /** The PEM of the CA that signed the server certificate. */
  readonly ca: string;
  readonly keys: KeySet;
}

/** Starts the issuer on an ephemeral loopback port; the caller closes `server`. */
export async function startLoopbackIssuer(
  identities: IssuerOptions['identities'],
  onRequest?: ListenerOptions['onRequest'],
): Promise<LoopbackIssuer> {
  const tls = await generateCertificates({ service: 'podsec-issuer', namespace: 'podsec', localhost: true });
  const keys = await KeySet.generate({ retentionSeconds: 3900 });
  let host = '';
  const issuer = createIssuer({ baseUrl: () => `https://${host}`, keys, identities });
  const server = createServer({ cert: tls.cert, key: tls.key }, issuerListener(issuer, { onRequest }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, host, ca: tls.caCert, keys };
}

/** MSAL's network module: HTTPS trusting `ca`, only to `host` (both read at each request). */
export function loopbackMsalNetwork(
  ca: () => string,
  host: () => string,
  attempted: string[],
): INetworkModule {
  const send = <T>(
    method: string,
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> => {
    attempted.push(url);
    const u = new URL(url);
    if (u.protocol !== 'https:' || u.host !== host()) {
      return Promise.reject(new Error(`refusing to contact ${u.origin}`));
    }
    return new Promise((resolve, reject) => {
      const req = request(u, { method, headers: options?.headers, ca: ca(), timeout: 5000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
          resolve({
            status: res.statusCode ?? 0,
            headers,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T,
          });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(options?.body);
    });
  };
  return {
    sendGetRequestAsync: <T>(url: string, o?: NetworkRequestOptions) => send<T>('GET', url, o),
    sendPostRequestAsync: <T>(url: string, o?: NetworkRequestOptions) => send<T>('POST', url, o),
  };
}
