/**
 * For resource servers: checks a bearer token from podsec's issuer (or Azure AD) against the
 * issuer's JWKS, the expected issuer and audience. Expected outcomes are values, not throws.
 */
import { createLocalJWKSet, createRemoteJWKSet, customFetch, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';

export interface VerifyOptions {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  /** The JWKS URL (fetched and cached by jose) or the key set itself. */
  readonly jwks: string | URL | JSONWebKeySet;
  readonly clockToleranceSeconds?: number | undefined;
  readonly algorithms?: readonly string[] | undefined;
  /** A fetch to use for a JWKS URL (e.g. one that trusts a private CA). */
  readonly fetch?: typeof globalThis.fetch | undefined;
  readonly now?: Date | undefined;
}

export interface VerifiedToken {
  readonly claims: JWTPayload & { oid?: string; tid?: string; azp?: string; appid?: string };
  readonly kid: string | undefined;
}

export type VerifyResult =
  | { readonly ok: true; readonly token: VerifiedToken }
  | { readonly ok: false; readonly reason: string; readonly code: string };

const remoteSets = new Map<string, JWTVerifyGetKey>();

function keyResolver(opts: VerifyOptions): JWTVerifyGetKey {
  if (typeof opts.jwks !== 'string' && !(opts.jwks instanceof URL)) return createLocalJWKSet(opts.jwks);
  const url = new URL(opts.jwks.toString());
  const cacheKey = url.href;
  const cached = opts.fetch ? undefined : remoteSets.get(cacheKey);
  if (cached) return cached;
  const made = createRemoteJWKSet(url, opts.fetch ? { [customFetch]: opts.fetch } : {});
  if (!opts.fetch) remoteSets.set(cacheKey, made);
  return made;
}

export async function verifyToken(token: string, opts: VerifyOptions): Promise<VerifyResult> {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keyResolver(opts), {
      issuer: opts.issuer,
      audience: typeof opts.audience === 'string' ? opts.audience : [...opts.audience],
      algorithms: [...(opts.algorithms ?? ['RS256', 'ES256'])],
      clockTolerance: opts.clockToleranceSeconds ?? 60,
      requiredClaims: ['iss', 'aud', 'exp', 'iat', 'sub'],
      ...(opts.now ? { currentDate: opts.now } : {}),
    });
    return { ok: true, token: { claims: payload, kid: protectedHeader.kid } };
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'ERR_UNKNOWN';
    const reason = err instanceof Error ? err.message : 'invalid token';
    return { ok: false, reason, code };
  }
}
