/** Public surface of podsec's token issuer. */
export { createIssuer, resourceFromScope } from './issuer.js';
export type {
  IdentityRef,
  Issuer,
  IssuerIdentity,
  IssuerOptions,
  IssuerRequest,
  IssuerResponse,
  MintResult,
  MintedToken,
} from './issuer.js';
export { KeySet, SIGNING_ALGORITHMS } from './keys.js';
export type { KeySetOptions, SigningAlgorithm, SigningKey } from './keys.js';
export { issuerListener, MAX_BODY_BYTES } from './node-listener.js';
export type { ListenerOptions } from './node-listener.js';
export { verifyToken } from './verify.js';
export type { VerifiedToken, VerifyOptions, VerifyResult } from './verify.js';
export { ERRORS, OAUTH_ERRORS, errorBody } from './errors.js';
export type { AzureErrorBody, IssuerError, OAuthError } from './errors.js';
export {
  clientCertificateAuthenticator,
  handleMint,
  isMintPath,
  mintListener,
  nodeFromCertificate,
  MINT_PATH,
  NODE_AUTH_METHODS,
  WHOAMI_PATH,
} from './mint-api.js';
export type {
  MintListenerOptions,
  MintRequest,
  MintResponseBody,
  NodeAuthentication,
  NodeAuthenticator,
  NodeAuthMethod,
} from './mint-api.js';
export {
  anyAuthenticator,
  DEFAULT_MINT_AUDIENCE,
  kubernetesTokenReviewer,
  nodeFromReview,
  NODE_NAME_EXTRA,
  tokenReviewAuthenticator,
} from './token-review.js';
export type { TokenReviewAuthenticatorOptions, TokenReviewer, TokenReviewOutcome } from './token-review.js';
