/**
 * Public surface of the admission core: decode an AdmissionReview, decide, encode the answer.
 * The HTTPS server, metrics and the CLI command import from here and nowhere deeper.
 */
export * from './types.js';
export {
  AUDIT_KEY_MAX_LENGTH,
  decodeReview,
  encodeResponse,
  isValidAuditAnnotationKey,
  limitWarnings,
  WARNING_ITEM_LIMIT,
  WARNINGS_TOTAL_LIMIT,
} from './review.js';
export type { DecodeResult } from './review.js';
export {
  AUDIT_ANNOTATIONS,
  createAdmissionHandler,
  IGNORED_POD_SUBRESOURCES,
  isSignificantPodUpdate,
} from './handler.js';
export type { AdmissionHandler } from './handler.js';
export {
  checkPodsInNamespace,
  enforceBecameStricter,
  exemptNamespaceWarning,
  formatLevelVersion,
  labelsOf,
  NAMESPACE_MAX_PODS_TO_CHECK,
  NAMESPACE_POD_CHECK_TIMEOUT_MS,
  namespacePolicy,
  reviewNamespace,
} from './namespace-check.js';
export type { LevelVersion, NamespacePolicy, PodCheckOptions } from './namespace-check.js';
export {
  admittedClaim,
  claimOf,
  DUPLICATE_AUDIT_ANNOTATION,
  IDENTITY_CHECKS,
  IDENTITY_RESOURCES,
  identityKindOf,
  needsClaims,
  reviewIdentity,
} from './identity-check.js';
export type { ClaimsLookup, IdentityKind } from './identity-check.js';
export { RECENT_CLAIM_TTL_MS, RecentClaims, watchIdentityClaims } from './identity-claims.js';
export type { ClaimState, IdentityClaims } from './identity-claims.js';
