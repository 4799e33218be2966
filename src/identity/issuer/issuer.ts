/**
 * podsec's token issuer: Azure AD v2.0's endpoint layout under `{base}/{tenant}` so MSAL and the
 * Azure SDK can use it as their authority, with the AzureIdentities as its clients. The core is a
 * request handler (request value in, response value out) tested in process; `node-listener.ts`
 * puts it behind node:http(s). `mintForIdentity` is the NMI's path: no client credential, but only
 * for the exact AzureIdentity object (namespace/name) assigned on the calling NMI's node. A client
 * id claimed by more than one AzureIdentity is never minted for, on either path (crds/duplicates.ts).
 */
import { X509Certificate, createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, importX509, jwtVerify } from 'jose';
import { clientIdKey, duplicateClientIdMessage } from '../crds/duplicates.js';
import { ERRORS, errorBody } from './errors.js';
import type { IssuerError } from './errors.js';
import type { KeySet } from './keys.js';

/** An AzureIdentity as the issuer sees it (type 1: `secret`; type 2: `certificatePem`). */
export interface IssuerIdentity {
  /** The AzureIdentity object this comes from (the mint path serves only identities that have one). */
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  readonly clientId: string;
  readonly tenantId: string;
  /** The identity's object id, the token's `oid` and `sub`; defaults to the client id. */
  readonly objectId?: string | undefined;
  readonly secret?: string | undefined;
  /** PEM of the certificate whose key signs client assertions. */
  readonly certificatePem?: string | undefined;
}

/** The AzureIdentity object a mint is for, and the client id the caller expects it to have. */
export interface IdentityRef {
  readonly namespace: string;
  readonly name: string;
  readonly clientId: string;
}

export interface IssuerOptions {
  /** `https://host:port` (no trailing slash); a function when the port is known only after listen. */
  readonly baseUrl: string | (() => string);
  readonly keys: KeySet;
  /** The current identities (later fed from ClusterSource). */
  readonly identities: () => readonly IssuerIdentity[];
  /** Tenants served even without identities in them. */
  readonly tenants?: readonly string[] | undefined;
  /** Token lifetime in seconds (default 3599, as Azure AD). */
  readonly tokenLifetimeSeconds?: number | undefined;
  /**
   * Is this exact AzureIdentity (namespace/name, with this client id) assigned to some pod on
   * `node`? Without it, `mintForIdentity` refuses everything.
   */
  readonly isAssignedOnNode?:
    ((node: string, identity: IdentityRef) => boolean | Promise<boolean>) | undefined;
  readonly now?: (() => Date) | undefined;
}

export interface IssuerRequest {
  readonly method: string;
  /** Path plus optional query, e.g. `/tenant/oauth2/v2.0/token`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export interface IssuerResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface MintedToken {
  readonly accessToken: string;
  readonly expiresIn: number;
  /** Epoch seconds. */
  readonly expiresOn: number;
  readonly notBefore: number;
  readonly resource: string;
  readonly clientId: string;
}

export type MintResult =
  | { readonly ok: true; readonly token: MintedToken }
  | {
      readonly ok: false;
      readonly reason: 'unknown-identity' | 'not-assigned' | 'bad-resource' | 'duplicate-client-id';
      readonly message: string;
    };

export interface Issuer {
  handle(req: IssuerRequest): Promise<IssuerResponse>;
  /**
   * For the NMI on `node`: a token for the AzureIdentity `identity` and `resource`, only if that
   * object is assigned on that node and no other AzureIdentity claims its client id.
   */
  mintForIdentity(
    identity: IdentityRef,
    resource: string,
    caller: { readonly node: string },
  ): Promise<MintResult>;
  /** `{base}/{tenant}/v2.0` */
  issuerFor(tenant: string): string;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const ASSERTION_SKEW_SECONDS = 300;
/** Tenants are GUIDs or domain-like names; anything else never reaches a URL we build. */
const TENANT_RE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,127}$/;

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store, no-cache',
  pragma: 'no-cache',
};

/** The identities claiming `clientId` (compared without case), and what to say when they are several. */
function claimantsOf(
  identities: readonly IssuerIdentity[],
  clientId: string,
): { claimants: IssuerIdentity[]; duplicate?: string | undefined } {
  const key = clientIdKey(clientId);
  const claimants = identities.filter((i) => clientIdKey(i.clientId) === key);
  if (claimants.length < 2) return { claimants };
  const refs = claimants
    .map((i) => ({ namespace: i.namespace ?? '?', name: i.name ?? '?' }))
    .sort((a, b) => {
      const x = `${a.namespace}/${a.name}`;
      const y = `${b.namespace}/${b.name}`;
      return x < y ? -1 : x > y ? 1 : 0;
    });
  return { claimants, duplicate: duplicateClientIdMessage(clientId, refs) };
}

function json(status: number, body: unknown, extra: Record<string, string> = {}): IssuerResponse {
  return { status, headers: { ...JSON_HEADERS, ...extra }, body: JSON.stringify(body) };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time comparison of two secrets of any length. */
function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

type Parsed<T> = { ok: true; value: T } | { ok: false; error: IssuerError };

/** `<resource>/.default` (OIDC scopes ignored) -> the resource, as Azure AD reads client credentials scopes. */
export function resourceFromScope(scope: string): Parsed<string> {
  const scopes = scope.split(' ').filter((s) => s !== '' && !OIDC_SCOPES.has(s));
  if (scopes.length === 0) return { ok: false, error: ERRORS.badScope(scope) };
  if (scopes.length > 1) return { ok: false, error: ERRORS.multipleResources() };
  const only = scopes[0] ?? '';
  if (!only.endsWith('/.default')) return { ok: false, error: ERRORS.badScope(only) };
  const resource = only.slice(0, -'/.default'.length);
  if (resource === '') return { ok: false, error: ERRORS.badScope(only) };
  return { ok: true, value: resource };
}

function base64url(buf: Buffer): string {
  return buf.toString('base64url');
}

interface CertInfo {
  readonly x5t: string;
  readonly x5tS256: string;
  readonly algorithms: string[];
  readonly notBefore: number;
  readonly notAfter: number;
}

const certCache = new Map<string, CertInfo | undefined>();

function certInfo(pem: string): CertInfo | undefined {
  if (certCache.has(pem)) return certCache.get(pem);
  let info: CertInfo | undefined;
  try {
    const cert = new X509Certificate(pem);
    const type = cert.publicKey.asymmetricKeyType;
    const algorithms = type === 'rsa' ? ['RS256', 'PS256'] : type === 'ec' ? ['ES256'] : [];
    info = {
      x5t: base64url(createHash('sha1').update(cert.raw).digest()),
      x5tS256: base64url(createHash('sha256').update(cert.raw).digest()),
      algorithms,
      notBefore: Date.parse(cert.validFrom) / 1000,
      notAfter: Date.parse(cert.validTo) / 1000,
    };
  } catch {
    info = undefined;
  }
  if (certCache.size > 1000) certCache.clear();
  certCache.set(pem, info);
  return info;
}

export function createIssuer(opts: IssuerOptions): Issuer {
  const lifetime = opts.tokenLifetimeSeconds ?? 3599;
  const now = (): Date => (opts.now ? opts.now() : new Date());
  const base = (): string =>
    (typeof opts.baseUrl === 'function' ? opts.baseUrl() : opts.baseUrl).replace(/\/+$/, '');
  const issuerFor = (tenant: string): string => `${base()}/${tenant}/v2.0`;
  const tokenEndpoint = (tenant: string): string => `${base()}/${tenant}/oauth2/v2.0/token`;

  const tenantKnown = (tenant: string): boolean =>
    (opts.tenants ?? []).includes(tenant) || opts.identities().some((i) => i.tenantId === tenant);

  function discovery(tenant: string): unknown {
    const b = `${base()}/${tenant}`;
    return {
      token_endpoint: `${b}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${b}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: [opts.keys.active().alg],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${b}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${b}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${b}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${b}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'nbf',
        'oid',
        'tid',
        'azp',
        'appid',
        'jti',
        'ver',
      ],
      grant_types_supported: ['client_credentials'],
      tenant_region_scope: null,
      cloud_instance_name: new URL(base()).host,
      cloud_graph_host_name: new URL(base()).host,
      msgraph_host: new URL(base()).host,
    };
  }

  async function sign(
    identity: IssuerIdentity,
    resource: string,
    azpacr: '0' | '1' | '2',
  ): Promise<MintedToken> {
    const key = opts.keys.active();
    const iat = Math.floor(now().getTime() / 1000);
    const exp = iat + lifetime;
    const oid = identity.objectId ?? identity.clientId;
    const jti = randomUUID();
    const accessToken = await new SignJWT({
      oid,
      tid: identity.tenantId,
      azp: identity.clientId,
      appid: identity.clientId,
      azpacr,
      idtyp: 'app',
      ver: '2.0',
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(issuerFor(identity.tenantId))
      .setSubject(oid)
      .setAudience(resource)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(key.privateKey);
    return {
      accessToken,
      expiresIn: lifetime,
      expiresOn: exp,
      notBefore: iat,
      resource,
      clientId: identity.clientId,
    };
  }

  async function verifyAssertion(
    identity: IssuerIdentity,
    assertion: string,
    tenant: string,
  ): Promise<IssuerError | undefined> {
    if (!identity.certificatePem)
      return ERRORS.badAssertion('no certificate is registered for this application');
    const info = certInfo(identity.certificatePem);
    if (!info) return ERRORS.badAssertion('the registered certificate cannot be read');
    const t = now().getTime() / 1000;
    if (t < info.notBefore || t > info.notAfter)
      return ERRORS.badAssertion('the registered certificate is not valid now');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      return ERRORS.badAssertion('the assertion is not a JWT');
    }
    const alg = header.alg ?? '';
    if (!info.algorithms.includes(alg))
      return ERRORS.badAssertion(`algorithm '${alg}' does not fit the certificate`);
    const thumbS256 = header['x5t#S256'];
    if (thumbS256 !== undefined && thumbS256 !== info.x5tS256) {
      return ERRORS.badAssertion('the certificate thumbprint (x5t#S256) does not match');
    }
    if (header.x5t !== undefined && header.x5t !== info.x5t) {
      return ERRORS.badAssertion('the certificate thumbprint (x5t) does not match');
    }
    try {
      const key = await importX509(identity.certificatePem, alg);
      await jwtVerify(assertion, key, {
        algorithms: [alg],
        audience: [tokenEndpoint(tenant), `${base()}/${tenant}/oauth2/token`],
        issuer: identity.clientId,
        subject: identity.clientId,
        clockTolerance: ASSERTION_SKEW_SECONDS,
        currentDate: now(),
        requiredClaims: ['exp', 'iss', 'sub', 'aud'],
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      return ERRORS.badAssertion(
        code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
          ? 'signature validation failed'
          : code === 'ERR_JWT_EXPIRED'
            ? 'the assertion has expired'
            : 'the assertion claims are not valid (iss and sub must be the client id, aud the token endpoint)',
      );
    }
    return undefined;
  }

  async function token(tenant: string, req: IssuerRequest): Promise<IssuerResponse | IssuerError> {
    if (req.method !== 'POST') return ERRORS.methodNotAllowed();
    const ctype = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (ctype !== 'application/x-www-form-urlencoded') return ERRORS.badContentType();
    const form = new URLSearchParams(req.body);
    const grant = form.get('grant_type');
    if (!grant) return ERRORS.missingParameter('grant_type');
    if (grant !== 'client_credentials') return ERRORS.unsupportedGrant(grant);

    let clientId = form.get('client_id') ?? undefined;
    let secret = form.get('client_secret') ?? undefined;
    const auth = req.headers.authorization;
    if (auth?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        clientId ??= decodeURIComponent(decoded.slice(0, colon));
        secret ??= decodeURIComponent(decoded.slice(colon + 1));
      }
    }
    if (!clientId) return ERRORS.missingParameter('client_id');
    const scope = form.get('scope');
    if (!scope) return ERRORS.missingParameter('scope');
    const resource = resourceFromScope(scope);
    if (!resource.ok) return resource.error;

    const { claimants, duplicate } = claimantsOf(opts.identities(), clientId);
    // The caller is not authenticated yet: it is not told which objects claim the client id.
    if (duplicate !== undefined) {
      return ERRORS.duplicateClientId(
        `Application '${clientId}' is claimed by more than one AzureIdentity in the cluster; no token is issued for it until only one remains`,
      );
    }
    const identity = claimants.find((i) => i.clientId === clientId && i.tenantId === tenant);
    if (!identity) return ERRORS.clientNotFound(clientId, tenant);

    const assertion = form.get('client_assertion');
    let azpacr: '1' | '2';
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== ASSERTION_TYPE) return ERRORS.badAssertionType();
      const bad = await verifyAssertion(identity, assertion, tenant);
      if (bad) return bad;
      azpacr = '2';
    } else if (secret !== undefined) {
      if (!identity.secret || !secretsEqual(secret, identity.secret)) return ERRORS.badSecret(clientId);
      azpacr = '1';
    } else {
      return ERRORS.noCredential();
    }
    const minted = await sign(identity, resource.value, azpacr);
    return json(200, {
      token_type: 'Bearer',
      expires_in: minted.expiresIn,
      ext_expires_in: minted.expiresIn,
      access_token: minted.accessToken,
    });
  }

  async function route(req: IssuerRequest): Promise<IssuerResponse | IssuerError> {
    const path = req.url.split('?')[0] ?? '';
    const m =
      /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|oauth2\/v2\.0\/token)$/.exec(
        path,
      );
    if (!m) return ERRORS.notFound();
    const tenant = decodeURIComponent(m[1] ?? '');
    const what = m[2];
    if (!TENANT_RE.test(tenant) || !tenantKnown(tenant)) return ERRORS.tenantNotFound(tenant.slice(0, 128));
    if (what === 'oauth2/v2.0/token') return token(tenant, req);
    if (req.method !== 'GET' && req.method !== 'HEAD') return ERRORS.methodNotAllowed();
    if (what === 'discovery/v2.0/keys') {
      await opts.keys.prune();
      return json(200, opts.keys.jwks(), { 'cache-control': 'public, max-age=300' });
    }
    return json(200, discovery(tenant), { 'cache-control': 'public, max-age=300' });
  }

  return {
    issuerFor,
    async handle(req) {
      let out: IssuerResponse | IssuerError;
      try {
        out = await route(req);
      } catch {
        // a fault in the issuer never crashes the server nor leaks a stack trace
        out = {
          status: 500,
          error: 'invalid_request',
          code: 90033,
          message: 'A transient error has occurred.',
        };
      }
      if ('body' in out) return out;
      return json(out.status, errorBody(out, now(), req.headers['client-request-id']));
    },
    async mintForIdentity(ref, resource, caller) {
      const { clientId } = ref;
      const where = `${ref.namespace}/${ref.name}`;
      const { claimants, duplicate } = claimantsOf(opts.identities(), clientId);
      if (duplicate !== undefined) return { ok: false, reason: 'duplicate-client-id', message: duplicate };
      const identity = claimants.find(
        (i) => i.namespace === ref.namespace && i.name === ref.name && i.clientId === clientId,
      );
      if (!identity) {
        return {
          ok: false,
          reason: 'unknown-identity',
          message: `no AzureIdentity ${where} with client id ${clientId}`,
        };
      }
      if (resource === '' || resource.length > 2048 || /\s/.test(resource)) {
        return {
          ok: false,
          reason: 'bad-resource',
          message: 'resource must be a non-empty identifier without spaces',
        };
      }
      const assigned = opts.isAssignedOnNode ? await opts.isAssignedOnNode(caller.node, ref) : false;
      if (!assigned) {
        return {
          ok: false,
          reason: 'not-assigned',
          message: `AzureIdentity ${where} (client id ${clientId}) is not assigned on node ${caller.node}`,
        };
      }
      return { ok: true, token: await sign(identity, resource, '2') };
    },
  };
}
