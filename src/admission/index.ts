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
