/**
 * A second way for an NMI to prove its node to the mint API: its projected ServiceAccount token,
 * checked by the API server (TokenReview). Kubernetes binds such a token to the pod and, since
 * 1.30, names the pod's node in `user.extra["authentication.kubernetes.io/node-name"]`. Every pod's
 * token carries that, so the token must ALSO belong to the NMI's own ServiceAccount
 * (`--nmi-service-account`): otherwise any pod on a node could mint that node's identities. The
 * audience is asked of the API server (`spec.audiences`) AND checked in its answer: Kubernetes says
 * a client setting spec.audiences must find a compatible audience in `status.audiences`, since an
 * audience-unaware authenticator accepts any token it can verify (an API-server-audience token
 * would pass). So a token minted for another service cannot be replayed here. Reviews are cached
 * briefly per token hash to spare the API server.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isNodeName } from '../../lib/tls/index.js';
import type { NodeAuthentication, NodeAuthenticator } from './mint-api.js';

export const NODE_NAME_EXTRA = 'authentication.kubernetes.io/node-name';
/** The audience NMIs request for their projected token (serviceAccountToken.audience). */
export const DEFAULT_MINT_AUDIENCE = 'podsec-issuer';

export interface TokenReviewOutcome {
  readonly authenticated: boolean;
  readonly username?: string | undefined;
  readonly extra?: Readonly<Record<string, readonly string[]>> | undefined;
  /** status.audiences: the audiences the authenticator found the token valid for. */
  readonly audiences?: readonly string[] | undefined;
  /** The API server's status.error, or why the review could not be made. */
  readonly error?: string | undefined;
}

/** Asks the API server about a token; throws only when the API server cannot be asked. */
export type TokenReviewer = (token: string, audiences: readonly string[]) => Promise<TokenReviewOutcome>;

export interface TokenReviewAuthenticatorOptions {
  readonly review: TokenReviewer;
  /** `namespace/name` of the ServiceAccounts NMIs run as. */
  readonly serviceAccounts: readonly string[];
  readonly audiences?: readonly string[] | undefined;
  /** How long a review is reused (default 30 s; 0 disables). */
  readonly cacheSeconds?: number | undefined;
  readonly now?: (() => number) | undefined;
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]{1,8192})\s*$/i.exec(h);
  return m?.[1];
}

/**
 * Judges a review: one of the requested `audiences` confirmed in status.audiences, the NMI's
 * ServiceAccount, and exactly one valid node name. Pure.
 */
export function nodeFromReview(
  outcome: TokenReviewOutcome,
  serviceAccounts: readonly string[],
  audiences: readonly string[],
): NodeAuthentication {
  if (!outcome.authenticated) {
    return {
      ok: false,
      reason: `the token was not accepted by the API server${outcome.error ? ` (${outcome.error.slice(0, 200)})` : ''}`,
    };
  }
  if (!(outcome.audiences ?? []).some((a) => audiences.includes(a))) {
    return {
      ok: false,
      reason: `the API server did not confirm the token's audience (${audiences.join(', ')}) in status.audiences`,
    };
  }
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(outcome.username ?? '');
  if (m === null || !serviceAccounts.includes(`${m[1]}/${m[2]}`)) {
    return { ok: false, reason: 'the token does not belong to an NMI service account' };
  }
  const nodes = outcome.extra?.[NODE_NAME_EXTRA] ?? [];
  if (nodes.length !== 1 || !isNodeName(nodes[0] ?? '')) {
    return {
      ok: false,
      reason: `the token names no node (${NODE_NAME_EXTRA}): a pod-bound projected token is needed`,
    };
  }
  return { ok: true, node: nodes[0] ?? '', method: 'token-review' };
}

export function tokenReviewAuthenticator(opts: TokenReviewAuthenticatorOptions): NodeAuthenticator {
  const audiences = opts.audiences ?? [DEFAULT_MINT_AUDIENCE];
  const ttlMs = (opts.cacheSeconds ?? 30) * 1000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { at: number; result: NodeAuthentication }>();
  return {
    async authenticate(req) {
      const token = bearer(req);
      if (token === undefined) return { ok: false, reason: 'no bearer token was presented', absent: true };
      const key = createHash('sha256').update(token).digest('base64url');
      const hit = cache.get(key);
      if (hit !== undefined && now() - hit.at < ttlMs) return hit.result;
      let result: NodeAuthentication;
      try {
        result = nodeFromReview(await opts.review(token, audiences), opts.serviceAccounts, audiences);
      } catch {
        // not cached: the next request asks again
        return { ok: false, reason: 'the token could not be reviewed (API server unavailable)' };
      }
      if (ttlMs > 0) {
        if (cache.size >= 1000) cache.clear();
        cache.set(key, { at: now(), result });
      }
      return result;
    },
  };
}

/**
 * The first authenticator that accepts wins; a presented client certificate is judged by the
 * certificate authenticator alone (a bad certificate is not rescued by a token).
 */
export function anyAuthenticator(authenticators: readonly NodeAuthenticator[]): NodeAuthenticator {
  return {
    async authenticate(req) {
      const reasons: string[] = [];
      for (const a of authenticators) {
        const r = await a.authenticate(req);
        if (r.ok) return r;
        reasons.push(r.reason);
        if (r.absent !== true) break;
      }
      return { ok: false, reason: reasons.join('; ') };
    },
  };
}

const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

function recordOf(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Reads a TokenReview answer defensively: anything malformed is "not authenticated". Pure. */
export function outcomeFromReview(status: number, body: unknown): TokenReviewOutcome {
  if (status !== 200 && status !== 201) {
    const message = recordOf(body)['message'];
    return {
      authenticated: false,
      error: `TokenReview answered ${status}${typeof message === 'string' ? `: ${message.slice(0, 200)}` : ''}`,
    };
  }
  const s = recordOf(recordOf(body)['status']);
  const user = recordOf(s['user']);
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(recordOf(user['extra']))) {
    const values = strings(v);
    if (values !== undefined) extra[k] = values;
  }
  return {
    authenticated: s['authenticated'] === true,
    username: typeof user['username'] === 'string' ? user['username'] : undefined,
    extra,
    audiences: strings(s['audiences']),
    error: typeof s['error'] === 'string' ? s['error'] : undefined,
  };
}

/**
 * TokenReview through the API server, loading the kubeconfig as every other podsec command does
 * (--kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster service account; --context checked).
 * Configuration problems surface here, at start-up, as usage errors.
 */
export async function kubernetesTokenReviewer(
  opts: { kubeconfig?: string | undefined; context?: string | undefined } = {},
): Promise<TokenReviewer> {
  const { createApiServerClient } = await import('../../kube/cluster-source/index.js');
  const api = await createApiServerClient({ kubeconfig: opts.kubeconfig, context: opts.context });
  return async (token, audiences) => {
    const res = await api.call('POST', TOKEN_REVIEW_PATH, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, audiences: [...audiences] },
    });
    // 5xx and 429: the API server could not answer; the authenticator reports "unavailable" and asks again.
    if (res.status >= 500 || res.status === 429) {
      throw new Error(`TokenReview answered ${res.status}`);
    }
    return outcomeFromReview(res.status, res.body);
  };
}
