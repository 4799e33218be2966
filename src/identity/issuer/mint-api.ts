/**
 * The issuer's mint API for NMIs running in other processes: `POST /podsec/v1/mint` with JSON
 * `{clientId, resource, identity: {namespace, name}}` answers a token for that AzureIdentity object
 * only if that exact object is assigned on the caller's node (and no other one claims its client id), and `GET /podsec/v1/whoami` tells an NMI which node the issuer sees it as. The node is
 * PROVEN by an authenticator (a client certificate from the CA given with `--client-ca`, whose
 * subject is `CN=podsec-nmi:<node>`), never taken from the request: a compromised pod cannot claim
 * a node, and an NMI can only mint what is assigned on its own node. The core (`handleMint`) is a
 * function of the authentication result and the request; `mintListener` is its node:https edge.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { isNodeName, NMI_CLIENT_CN_PREFIX } from '../../lib/tls/index.js';
import { ERRORS, errorBody } from './errors.js';
import type { IssuerError } from './errors.js';
import type { Issuer, IssuerResponse } from './issuer.js';
import { readBody } from './node-listener.js';

export const MINT_PATH = '/podsec/v1/mint';
export const WHOAMI_PATH = '/podsec/v1/whoami';
const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';

export const NODE_AUTH_METHODS = ['client-certificate', 'token-review'] as const;
export type NodeAuthMethod = (typeof NODE_AUTH_METHODS)[number];

export type NodeAuthentication =
  | { readonly ok: true; readonly node: string; readonly method: NodeAuthMethod }
  | {
      readonly ok: false;
      readonly reason: string;
      /** No credential of this authenticator's kind was presented (another one may apply). */
      readonly absent?: boolean | undefined;
    };

/** Proves which node a mint request comes from. Refusals are values. */
export interface NodeAuthenticator {
  authenticate(req: IncomingMessage): Promise<NodeAuthentication>;
}

/** The JSON body of a successful mint (IMDS-like field names, integer epoch seconds). */
export interface MintResponseBody {
  readonly token_type: 'Bearer';
  readonly access_token: string;
  readonly expires_in: number;
  readonly expires_on: number;
  readonly not_before: number;
  readonly resource: string;
  readonly client_id: string;
}

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store, no-cache',
  pragma: 'no-cache',
};

function fail(err: IssuerError, now: Date): IssuerResponse {
  // A 401 closes the connection: the peer's certificate was judged at the handshake, so a retry
  // (after the NMI's certificate or the issuer's client CA was replaced) needs a new one.
  const extra: Record<string, string> =
    err.status === 401 ? { 'www-authenticate': 'Mutual TLS realm="podsec-nmi"', connection: 'close' } : {};
  return {
    status: err.status,
    headers: { ...JSON_HEADERS, ...extra },
    body: JSON.stringify(errorBody(err, now, undefined)),
  };
}

/** The node named by an NMI client certificate's subject, or why the certificate names none. */
export function nodeFromCertificate(
  cert: Pick<PeerCertificate, 'subject' | 'subjectaltname'> & { ext_key_usage?: string[] | undefined },
): { ok: true; node: string } | { ok: false; reason: string } {
  const cn = cert.subject?.CN;
  const names = Array.isArray(cn) ? cn : cn === undefined ? [] : [cn];
  if (names.length !== 1 || !names[0]?.startsWith(NMI_CLIENT_CN_PREFIX)) {
    return { ok: false, reason: `the certificate subject is not CN=${NMI_CLIENT_CN_PREFIX}<node>` };
  }
  const node = names[0].slice(NMI_CLIENT_CN_PREFIX.length);
  if (!isNodeName(node)) return { ok: false, reason: 'the certificate does not name a valid node' };
  const uris = (cert.subjectaltname ?? '')
    .split(', ')
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
  const nmiUris = uris.filter((u) => u.startsWith(NMI_CLIENT_CN_PREFIX));
  if (nmiUris.some((u) => u !== `${NMI_CLIENT_CN_PREFIX}${node}`)) {
    return { ok: false, reason: 'the certificate names two different nodes' };
  }
  if (cert.ext_key_usage !== undefined && !cert.ext_key_usage.includes(CLIENT_AUTH_EKU)) {
    return { ok: false, reason: 'the certificate is not for client authentication' };
  }
  return { ok: true, node };
}

/**
 * Mutual TLS: the server asks for a client certificate and verifies it against the client CA
 * (`requestCert: true, rejectUnauthorized: false, ca: <client CA>`, so MSAL clients without a
 * certificate still reach the other endpoints); here only verified certificates count.
 */
export function clientCertificateAuthenticator(): NodeAuthenticator {
  return {
    authenticate(req) {
      const socket = req.socket as Partial<TLSSocket>;
      if (typeof socket.getPeerCertificate !== 'function') {
        return Promise.resolve({ ok: false, reason: 'the connection is not TLS', absent: true });
      }
      const peer = socket.getPeerCertificate();
      if (peer === null || peer === undefined || Object.keys(peer).length === 0) {
        return Promise.resolve({ ok: false, reason: 'no client certificate was presented', absent: true });
      }
      if (socket.authorized !== true) {
        const why = String(socket.authorizationError ?? 'not trusted');
        return Promise.resolve({
          ok: false,
          reason: `the client certificate is not valid (${why.replace(/[^A-Za-z0-9_ -]/g, '')})`,
        });
      }
      const named = nodeFromCertificate(peer);
      return Promise.resolve(named.ok ? { ok: true, node: named.node, method: 'client-certificate' } : named);
    },
  };
}

export interface MintRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** Kubernetes object names and namespaces: DNS subdomain characters, at most 253. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

interface MintBody {
  readonly ok: true;
  readonly clientId: string;
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
}

function parseMintBody(body: string): MintBody | IssuerError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return ERRORS.badMintRequest('the body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return ERRORS.badMintRequest('the body is not a JSON object');
  }
  const o = parsed as Record<string, unknown>;
  const clientId = o['clientId'];
  const resource = o['resource'];
  if (typeof clientId !== 'string' || clientId === '' || clientId.length > 256) {
    return ERRORS.badMintRequest('clientId must be a non-empty string');
  }
  if (typeof resource !== 'string') return ERRORS.badMintRequest('resource must be a string');
  const identity = o['identity'];
  const ref =
    typeof identity === 'object' && identity !== null && !Array.isArray(identity)
      ? (identity as Record<string, unknown>)
      : undefined;
  const namespace = ref?.['namespace'];
  const name = ref?.['name'];
  if (
    typeof namespace !== 'string' ||
    typeof name !== 'string' ||
    !OBJECT_NAME.test(namespace) ||
    !OBJECT_NAME.test(name)
  ) {
    return ERRORS.badMintRequest('identity must name the AzureIdentity object ({namespace, name})');
  }
  return { ok: true, clientId, resource, namespace, name };
}

/** The mint API's core: authentication result and request in, response out. Never throws. */
export async function handleMint(
  issuer: Pick<Issuer, 'mintForIdentity'>,
  auth: NodeAuthentication,
  req: MintRequest,
  now: () => Date = () => new Date(),
): Promise<IssuerResponse> {
  if (!auth.ok) return fail(ERRORS.nodeNotAuthenticated(auth.reason), now());
  if (req.path === WHOAMI_PATH) {
    if (req.method !== 'GET') return fail(ERRORS.methodNotAllowed(), now());
    return {
      status: 200,
      headers: JSON_HEADERS,
      body: JSON.stringify({ node: auth.node, method: auth.method }),
    };
  }
  if (req.method !== 'POST') return fail(ERRORS.methodNotAllowed(), now());
  const ctype = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  if (ctype !== 'application/json') return fail(ERRORS.badMintRequest('the body must be JSON'), now());
  const body = parseMintBody(req.body);
  if (!('ok' in body)) return fail(body, now());
  try {
    const minted = await issuer.mintForIdentity(
      { namespace: body.namespace, name: body.name, clientId: body.clientId },
      body.resource,
      { node: auth.node },
    );
    if (!minted.ok) {
      switch (minted.reason) {
        case 'unknown-identity':
          return fail(ERRORS.identityNotFound(`${body.namespace}/${body.name}`, body.clientId), now());
        case 'not-assigned':
          return fail(
            ERRORS.notAssignedOnNode(`${body.namespace}/${body.name}`, body.clientId, auth.node),
            now(),
          );
        case 'duplicate-client-id':
          return fail(ERRORS.duplicateClientId(minted.message), now());
        case 'bad-resource':
          return fail(ERRORS.badResource(minted.message), now());
      }
    }
    const t = minted.token;
    const out: MintResponseBody = {
      token_type: 'Bearer',
      access_token: t.accessToken,
      expires_in: t.expiresIn,
      expires_on: t.expiresOn,
      not_before: t.notBefore,
      resource: t.resource,
      client_id: t.clientId,
    };
    return { status: 200, headers: JSON_HEADERS, body: JSON.stringify(out) };
  } catch {
    return fail(
      { status: 500, error: 'invalid_request', code: 90033, message: 'A transient error has occurred.' },
      now(),
    );
  }
}

export interface MintListenerOptions {
  /** Called per request with the authenticated node (if any) and the status: for logs and metrics. */
  readonly onRequest?:
    | ((info: {
        path: string;
        status: number;
        node?: string | undefined;
        reason?: string | undefined;
      }) => void)
    | undefined;
}

export function isMintPath(path: string): boolean {
  return path === MINT_PATH || path === WHOAMI_PATH;
}

/** node:https edge of the mint API: body bounded, faults answered as JSON 500, never thrown. */
export function mintListener(
  issuer: Pick<Issuer, 'mintForIdentity'>,
  authenticator: NodeAuthenticator,
  opts: MintListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      let status = 500;
      let auth: NodeAuthentication | undefined;
      try {
        auth = await authenticator.authenticate(req);
        const body = await readBody(req);
        const out =
          body === undefined
            ? fail(ERRORS.bodyTooLarge(), new Date())
            : await handleMint(issuer, auth, {
                method: req.method ?? 'GET',
                path,
                headers: req.headers,
                body,
              });
        status = out.status;
        res.writeHead(out.status, out.headers);
        res.end(out.body);
      } catch {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end('{"error":"invalid_request"}');
      } finally {
        opts.onRequest?.({
          path,
          status,
          node: auth?.ok === true ? auth.node : undefined,
          reason: auth?.ok === false ? auth.reason : undefined,
        });
      }
    })();
  };
}
