/**
 * Tokens for type 1 and type 2 AzureIdentities (service principals with a client secret or a
 * certificate) through MSAL's ConfidentialClientApplication, the client-credentials flow
 * aad-pod-identity's NMI ran with adal. The credential is read when needed from the Secret the
 * identity names (the same reading, validation and messages as podsec's issuer: sources.ts), so a
 * rotated Secret takes effect on the next token without a restart. One MSAL application per
 * identity, rebuilt when its authority or credential changes, dropped once the AzureIdentity is gone
 * (and bounded, least recently used first); the authority is declared known, so
 * MSAL never asks Microsoft's instance discovery. The NMI caches tokens itself, so MSAL's cache is
 * skipped. Secrets are never logged and never appear in an answer: errors name the identity, the
 * Secret (namespace/name/key) and Azure AD's error code only.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { ConfidentialClientApplication } from '@azure/msal-node';
import type { Configuration, INetworkModule } from '@azure/msal-node';
import type { KubeObject } from '../../../kube/types.js';
import { IDENTITY_TYPES, validateIdentity } from '../../crds/index.js';
import { CERTIFICATE_KEY, CLIENT_SECRET_KEY, mapIdentities, secretValue } from '../../issuer/sources.js';
import type { NmiIdentity, TokenProvider, TokenResult } from '../types.js';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com/';
/** Optional Secret key with the passphrase of an encrypted private key (type 2), as upstream. */
export const CERTIFICATE_PASSWORD_KEY = 'password';
/**
 * The Azure clouds' authority hosts an AzureIdentity's spec.adEndpoint may name. Any other host is
 * refused: the NMI sends the credential to that host, and whoever may write an AzureIdentity must
 * not be able to point a Secret they cannot read (clientPassword may name another namespace) at a
 * server of their choosing. Other authorities are configured by the operator (--authority-host).
 */
export const AZURE_CLOUD_AUTHORITY_HOSTS = [
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.microsoftonline.de',
] as const;

export interface MsalTokenProviderOptions {
  /**
   * Azure AD (or podsec's issuer): `https://host[:port][/]`. An identity's spec.adEndpoint wins,
   * but only when its host is this one or a public Azure cloud's (AZURE_CLOUD_AUTHORITY_HOSTS).
   */
  readonly authorityHost?: string | undefined;
  /** The AzureIdentity `namespace/name` (an informer cache). */
  readonly identity: (namespace: string, name: string) => KubeObject | undefined;
  /** The Secret `namespace/name` (a GET through ClusterSource, or a cache). */
  readonly secret: (namespace: string, name: string) => Promise<KubeObject | undefined>;
  /** MSAL's HTTP client; tests pass one that trusts their CA and talks to loopback only. */
  readonly networkClient?: INetworkModule | undefined;
  /** Bound on one token request. Default 15000 ms. */
  readonly timeoutMs?: number | undefined;
  /**
   * Bound on the cached MSAL applications (one per AzureIdentity); the least recently used is
   * dropped first. Default 1000.
   */
  readonly maxApplications?: number | undefined;
}

export const DEFAULT_MAX_APPLICATIONS = 1000;

interface CachedApp {
  readonly namespace: string;
  readonly name: string;
  readonly fingerprint: string;
  readonly app: ConfidentialClientApplication;
}

/** Azure's v1 resource -> v2 scope mapping: `<resource>/.default` (so `https://x/` -> `https://x//.default`). */
export function scopeForResource(resource: string): string {
  return resource.endsWith('/.default') ? resource : `${resource}/.default`;
}

type Fail = Extract<TokenResult, { ok: false }>;

function misconfigured(description: string): Fail {
  return { ok: false, status: 500, error: 'invalid_identity', description };
}

interface Credential {
  readonly authority: string;
  readonly knownHost: string;
  readonly clientId: string;
  readonly auth:
    | { clientSecret: string }
    | { clientCertificate: { thumbprintSha256: string; privateKey: string; x5c: string } };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

/** The certificate(s) and private key of a PEM bundle (upstream keeps both in key "certificate"). */
export function splitPemBundle(pem: string): { certificates: string[]; key: string | undefined } {
  const certificates: string[] = [];
  let key: string | undefined;
  for (const m of pem.matchAll(PEM_BLOCK)) {
    if (m[1] === 'CERTIFICATE') certificates.push(m[0]);
    else if (m[1]?.endsWith('PRIVATE KEY') === true && key === undefined) key = m[0];
  }
  return { certificates, key };
}

function authorityBase(text: string): URL | undefined {
  try {
    const u = new URL(text);
    return u.protocol === 'https:' && u.search === '' && u.hash === '' ? u : undefined;
  } catch {
    return undefined;
  }
}

/** Duck-typed MSAL errors: the class identity differs across bundled msal-common copies. */
function msalFields(err: unknown): { name: string; code: string; message: string } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    name: str(e['name']),
    code: str(e['errorCode']),
    message: str(e['errorMessage']) || str(e['message']),
  };
}

/**
 * MSAL reports the expiry as its own clock plus `expires_in`, which can be a second past the
 * token's real `exp`; when the token is a readable JWT the earlier of the two is used, so the NMI
 * never announces a token as valid after it has expired.
 */
export function expiryOf(accessToken: string, msalExpiresOn: Date | null | undefined): number {
  const msal = msalExpiresOn?.getTime() ?? Date.now() + 3_600_000;
  const payload = accessToken.split('.')[1];
  if (payload === undefined) return msal;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? Math.min(msal, exp * 1000) : msal;
  } catch {
    return msal;
  }
}

const CLIENT_REFUSED = new Set(['invalid_client', 'unauthorized_client']);
const TIMED_OUT = Symbol('timeout');

export class MsalTokenProvider implements TokenProvider {
  /** By `namespace/name`, in least-recently-used order (a Map keeps insertion order). */
  private readonly apps = new Map<string, CachedApp>();
  private readonly defaultBase: URL;

  constructor(private readonly options: MsalTokenProviderOptions) {
    const base = authorityBase(options.authorityHost ?? DEFAULT_AUTHORITY_HOST);
    if (base === undefined) {
      throw new Error(`the authority host must be an https:// URL, got '${options.authorityHost ?? ''}'`);
    }
    this.defaultBase = base;
  }

  /** The `namespace/name` of the AzureIdentities with a cached MSAL application, oldest use first. */
  cachedApplications(): string[] {
    return [...this.apps.keys()];
  }

  /**
   * Drops the applications (and the credentials they hold) of AzureIdentities that are gone.
   * Run before each token request, which the NMI's own cache makes rare; a lookup is a cache read.
   */
  prune(): void {
    for (const [key, cached] of this.apps) {
      if (this.options.identity(cached.namespace, cached.name) === undefined) this.apps.delete(key);
    }
  }

  async getToken(identity: NmiIdentity, resource: string): Promise<TokenResult> {
    this.prune();
    const cred = await this.credential(identity);
    if (!cred.ok) return cred.fail;
    const c = cred.value;
    const where = `AzureIdentity ${identity.namespace}/${identity.name} (client ${c.clientId})`;
    const app = this.app(identity, c);
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        app.acquireTokenByClientCredential({ scopes: [scopeForResource(resource)], skipCache: true }),
        new Promise<typeof TIMED_OUT>((resolve) => {
          timer = setTimeout(() => resolve(TIMED_OUT), this.options.timeoutMs ?? 15_000);
        }),
      ]);
      if (result === TIMED_OUT) {
        return {
          ok: false,
          status: 503,
          error: 'temporarily_unavailable',
          description: `Azure AD at ${c.knownHost} did not answer in time for ${where}`,
          retryAfterSeconds: 5,
        };
      }
      if (result === null || result.accessToken === '') {
        return {
          ok: false,
          status: 502,
          error: 'bad_gateway',
          description: `Azure AD sent no token for ${where}`,
        };
      }
      return {
        ok: true,
        token: {
          accessToken: result.accessToken,
          expiresOnMs: expiryOf(result.accessToken, result.expiresOn),
        },
      };
    } catch (err) {
      return this.failure(err, where, c.knownHost);
    } finally {
      clearTimeout(timer);
    }
  }

  private failure(err: unknown, where: string, host: string): Fail {
    const { name, code, message } = msalFields(err);
    // Only the AADSTS code is quoted: it identifies the problem and cannot carry a credential.
    const aadsts = /AADSTS\d+/.exec(message)?.[0];
    const codeText = [code, aadsts].filter((s) => s !== undefined && s !== '').join(' ');
    if (name === 'ServerError' || CLIENT_REFUSED.has(code)) {
      if (CLIENT_REFUSED.has(code)) {
        return {
          ok: false,
          status: 401,
          error: 'invalid_client',
          description: `Azure AD at ${host} refused the credentials of ${where}: ${codeText}`,
        };
      }
      return {
        ok: false,
        status: 400,
        error: code === '' ? 'invalid_request' : code,
        description: `Azure AD at ${host} refused the token request of ${where}: ${codeText}`,
      };
    }
    return {
      ok: false,
      status: 503,
      error: 'temporarily_unavailable',
      description: `Azure AD at ${host} could not be reached for ${where}${codeText === '' ? '' : ` (${codeText})`}`,
      retryAfterSeconds: 5,
    };
  }

  private app(identity: NmiIdentity, c: Credential): ConfidentialClientApplication {
    const key = `${identity.namespace}/${identity.name}`;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([c.authority, c.clientId, c.auth]))
      .digest('hex');
    const cached = this.apps.get(key);
    this.apps.delete(key);
    if (cached?.fingerprint === fingerprint) {
      this.apps.set(key, cached);
      return cached.app;
    }
    const config: Configuration = {
      auth: { clientId: c.clientId, authority: c.authority, knownAuthorities: [c.knownHost], ...c.auth },
      ...(this.options.networkClient === undefined
        ? {}
        : { system: { networkClient: this.options.networkClient } }),
    };
    const app = new ConfidentialClientApplication(config);
    const max = Math.max(1, this.options.maxApplications ?? DEFAULT_MAX_APPLICATIONS);
    for (const oldest of this.apps.keys()) {
      if (this.apps.size < max) break;
      this.apps.delete(oldest);
    }
    this.apps.set(key, { namespace: identity.namespace, name: identity.name, fingerprint, app });
    return app;
  }

  private async credential(
    identity: NmiIdentity,
  ): Promise<{ ok: true; value: Credential } | { ok: false; fail: Fail }> {
    const at = `${identity.namespace}/${identity.name}`;
    const bad = (d: string): { ok: false; fail: Fail } => ({ ok: false, fail: misconfigured(d) });
    const obj = this.options.identity(identity.namespace, identity.name);
    if (obj === undefined) return bad(`AzureIdentity ${at} is not known`);
    const v = validateIdentity(obj);
    if (!v.ok) {
      return bad(
        `AzureIdentity ${at} is invalid: ${v.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
      );
    }
    const spec = v.value.spec;
    if (spec.type === IDENTITY_TYPES.userAssignedMSI)
      return bad(`AzureIdentity ${at} is a managed identity (type 0)`);
    const ref = spec.clientPassword;
    const key = spec.type === IDENTITY_TYPES.servicePrincipal ? CLIENT_SECRET_KEY : CERTIFICATE_KEY;
    if (ref === undefined) return bad(`AzureIdentity ${at}: spec.clientPassword is required`);
    let secret: KubeObject | undefined;
    try {
      // Bounded like the token request: a hung API server must not hold the caller.
      let timer: NodeJS.Timeout | undefined;
      secret = await Promise.race([
        this.options.secret(ref.namespace, ref.name),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), this.options.timeoutMs ?? 15_000);
        }),
      ]).finally(() => clearTimeout(timer));
    } catch {
      return {
        ok: false,
        fail: {
          ok: false,
          status: 503,
          error: 'temporarily_unavailable',
          description: `Secret ${ref.namespace}/${ref.name} (key "${key}") of AzureIdentity ${at} could not be read`,
          retryAfterSeconds: 5,
        },
      };
    }
    const mapping = mapIdentities([obj], () => secret);
    const served = mapping.identities[0];
    if (served === undefined) {
      const problems = mapping.refused.flatMap((r) => r.problems.map((p) => `${p.path}: ${p.message}`));
      const text = problems.join('; ') || 'not usable';
      return bad(`AzureIdentity ${at}: ${text}${text.includes(`"${key}"`) ? '' : ` (key "${key}")`}`);
    }
    const base = spec.adEndpoint === undefined ? this.defaultBase : authorityBase(spec.adEndpoint);
    if (base === undefined) return bad(`AzureIdentity ${at}: spec.adEndpoint must be an https:// URL`);
    const allowed = [this.defaultBase.host, ...AZURE_CLOUD_AUTHORITY_HOSTS];
    if (!allowed.includes(base.host.toLowerCase())) {
      return bad(
        `AzureIdentity ${at}: spec.adEndpoint host ${base.host} is neither --authority-host nor an Azure cloud's; refused so the credential is not sent there`,
      );
    }
    const authority = `${base.origin}${base.pathname.replace(/\/+$/, '')}/${served.tenantId}`;
    const common = { authority, knownHost: base.host, clientId: served.clientId };
    if (served.secret !== undefined)
      return { ok: true, value: { ...common, auth: { clientSecret: served.secret } } };
    const bundle = splitPemBundle(served.certificatePem ?? '');
    const first = bundle.certificates[0];
    const where = `Secret ${ref.namespace}/${ref.name} key "${CERTIFICATE_KEY}"`;
    if (first === undefined) return bad(`AzureIdentity ${at}: ${where} holds no PEM certificate`);
    if (bundle.key === undefined) return bad(`AzureIdentity ${at}: ${where} holds no PEM private key`);
    const password = secretValue(secret ?? {}, CERTIFICATE_PASSWORD_KEY);
    let privateKey: string;
    try {
      privateKey = createPrivateKey({
        key: bundle.key,
        format: 'pem',
        ...(password.ok ? { passphrase: password.value } : {}),
      })
        .export({ format: 'pem', type: 'pkcs8' })
        .toString();
    } catch {
      return bad(
        `AzureIdentity ${at}: the private key in ${where} cannot be read (wrong or missing "password"?)`,
      );
    }
    const thumbprintSha256 = createHash('sha256').update(new X509Certificate(first).raw).digest('hex');
    return {
      ok: true,
      value: {
        ...common,
        auth: { clientCertificate: { thumbprintSha256, privateKey, x5c: bundle.certificates.join('\n') } },
      },
    };
  }
}
