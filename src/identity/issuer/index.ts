/** Public surface of podsec's token issuer. */
export { createIssuer, resourceFromScope } from './issuer.js';
export type {
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
