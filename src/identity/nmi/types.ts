/**
 * The NMI's view of the cluster, kept structural on purpose: the handler needs only the few
 * fields below, so the CRD types (src/identity/crds) and the pod cache can evolve without the
 * request path depending on them. Everything the handler touches arrives through NmiDeps, which
 * keeps it a testable core: request and dependencies in, response out.
 */
import type { Logger } from 'pino';
import type { NmiMetrics } from './metrics.js';
import type { PodRateLimiter } from './rate-limit.js';
import type { TokenCache } from './token-cache.js';

/** A pod as the NMI's node-scoped pod cache knows it. */
export interface NmiPod {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName?: string | undefined;
  readonly hostNetwork?: boolean | undefined;
  /** Pending, Running, Succeeded, Failed, Unknown; only Pending and Running pods are callers. */
  readonly phase?: string | undefined;
  readonly podIP?: string | undefined;
  /** For AzurePodIdentityException matching. */
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

/** The parts of an AzureIdentity the NMI uses to choose and to ask for a token. */
export interface NmiIdentity {
  readonly namespace: string;
  readonly name: string;
  /** 0 user-assigned MSI, 1 service principal (secret), 2 service principal (certificate). */
  readonly type: 0 | 1 | 2;
  readonly clientID: string;
  readonly resourceID?: string | undefined;
  readonly tenantID?: string | undefined;
  /** Only an identity that declares its object id may be chosen with `object_id`. */
  readonly objectID?: string | undefined;
}

export const ASSIGNMENT_STATES = ['Created', 'Assigned', 'Unassigned', ''] as const;
export type AssignmentState = (typeof ASSIGNMENT_STATES)[number];

/** One AzureAssignedIdentity of a pod: the identity and how far its assignment has got. */
export interface PodAssignment {
  readonly identity: NmiIdentity;
  /** `''` is what MIC < 1.6 wrote and is honoured as usable, like upstream. */
  readonly status: AssignmentState;
}

export interface AccessToken {
  readonly accessToken: string;
  /** Epoch milliseconds. */
  readonly expiresOnMs: number;
  /** Epoch milliseconds; defaults to when it was obtained. */
  readonly notBeforeMs?: number | undefined;
}

export type TokenResult =
  | { readonly ok: true; readonly token: AccessToken }
  | {
      readonly ok: false;
      /** HTTP status for the caller (default 500). */
      readonly status?: number | undefined;
      readonly error: string;
      /** Shown to the caller: must not carry secrets. */
      readonly description: string;
      readonly retryAfterSeconds?: number | undefined;
    };

/** Where tokens come from: Azure AD, real IMDS, or podsec's issuer. */
export interface TokenProvider {
  getToken(identity: NmiIdentity, resource: string): Promise<TokenResult>;
}

export interface NmiRequest {
  readonly method: string;
  /** The path without the query string, as received (the handler canonicalises it). */
  readonly path: string;
  readonly query: URLSearchParams;
  /**
   * The query string as received, without `?`: what the pass-through forwards (default:
   * `query.toString()`).
   */
  readonly rawQuery?: string | undefined;
  /** Lower-case names, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The TCP peer address (the pod's IP after the DNAT). */
  readonly sourceAddress: string;
}

export interface NmiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Pass-through of other /metadata paths to the real IMDS; absent in local mode. */
export type Upstream = (req: NmiRequest) => Promise<NmiResponse>;

export interface NmiTimings {
  /** Pod lookups for an unknown source address (first one included). Default 3. */
  readonly podLookupAttempts: number;
  readonly podLookupIntervalMs: number;
  /** How long to wait for a Created assignment to become Assigned. Default 2000 ms. */
  readonly pendingWaitMs: number;
  readonly pendingIntervalMs: number;
  /** Retry-After (seconds) sent with the 404 for a still-pending assignment. Default 5. */
  readonly pendingRetryAfterSeconds: number;
}

export interface NmiDeps {
  /** Only pods on this node are callers (when set). */
  readonly nodeName?: string | undefined;
  /** The node's own addresses: callers from them are refused (403). */
  readonly nodeAddresses: readonly string[];
  /** Pods (from a cache) whose IP is `ip`. */
  podsByIp(ip: string): readonly NmiPod[];
  /** The pod's AzureAssignedIdentities (from a cache). */
  assignedIdentities(pod: NmiPod): readonly PodAssignment[];
  readonly tokens: TokenCache;
  readonly rateLimiter: PodRateLimiter;
  /** Unset in local mode: other /metadata paths then get 404 and nothing connects anywhere. */
  readonly upstream?: Upstream | undefined;
  /** Block /metadata/instance (default true). */
  readonly blockInstanceMetadata?: boolean | undefined;
  /** The AzurePodIdentityException (namespace/name) that exempts this pod, if any (from a cache). */
  readonly exceptionFor?: ((pod: NmiPod) => { namespace: string; name: string } | undefined) | undefined;
  /**
   * Serve exempt pods by passing their token requests to the real IMDS, i.e. with the node's own
   * identities (default false: refused with 403, since that is exactly the hole exceptions open).
   */
  readonly allowExceptions?: boolean | undefined;
  readonly timings: NmiTimings;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly logger: Logger;
  readonly metrics: NmiMetrics;
  /** Readiness for /healthz (default: always ready). */
  readonly ready?: (() => boolean) | undefined;
}
