/** Public surface of the NMI: the IMDS-compatible token endpoint core and its server. */
export {
  handleMetadataRequest,
  normalizeAddress,
  DEFAULT_TIMINGS,
  PASSTHROUGH_CATEGORIES,
} from './handler.js';
export { canonicalPath, isForwardableQuery } from './path.js';
export type { CanonicalPath } from './path.js';
export { startNmiServer, createNmiDeps } from './server.js';
export type { NmiServer, StartNmiServerOptions, NmiDepsInput } from './server.js';
export { TokenCache, identityKey } from './token-cache.js';
export type { TokenCacheOptions, CacheOutcome, CachedTokenResult } from './token-cache.js';
export { PodRateLimiter } from './rate-limit.js';
export type { RateLimitOptions, RateDecision } from './rate-limit.js';
export { NmiMetrics, ROUTES } from './metrics.js';
export type { Route } from './metrics.js';
export { IssuerTokenProvider } from './issuer-provider.js';
export type {
  IssuerMint,
  IssuerMintRequest,
  IssuerRefusal,
  IssuerTokenProviderOptions,
} from './issuer-provider.js';
export { createHttpsIssuerClient, parseIssuerUrl } from './issuer-https.js';
export type { HttpsIssuerClient, HttpsIssuerClientOptions, IssuerTls, WhoAmI } from './issuer-https.js';
export { ASSIGNMENT_STATES } from './types.js';
export type {
  AccessToken,
  AssignmentState,
  NmiDeps,
  NmiIdentity,
  NmiPod,
  NmiRequest,
  NmiResponse,
  NmiTimings,
  PodAssignment,
  TokenProvider,
  TokenResult,
  Upstream,
} from './types.js';
