/** Public surface of the aad-pod-identity resources: types, upstream constants and validation. */
export * from './types.js';
export {
  validateAssignedIdentity,
  validateBinding,
  validateException,
  validateIdentity,
} from './validate.js';
export {
  claimedClientId,
  clientIdKey,
  duplicateClientIdMessage,
  duplicateClientIds,
  type IdentityObjectRef,
} from './duplicates.js';
