/** Public surface of the Managed Identity Controller's pure core and its node-assignment seam. */
export { assignedIdentityName, plan, reconcile } from './reconcile.js';
export type {
  Action,
  DeleteReason,
  InvalidResource,
  MicOptions,
  MicPod,
  MicSnapshot,
  ReconcilePlan,
} from './reconcile.js';
export { applyActions } from './apply.js';
export {
  hasSystemAssigned,
  identityType,
  identityUpdate,
  nodeTargetOf,
  normalizeId,
  parseProviderId,
  parseResourceId,
  planNodeAssignments,
  readyPairs,
  targetKey,
  targetResourceId,
} from './node-assignment.js';
export type {
  ArmIdentity,
  IdentityChange,
  IdentityType,
  NodeAssignmentInput,
  NodeAssignmentPlan,
  NodeTarget,
  TargetDecision,
  UnresolvedReason,
} from './node-assignment.js';
export type { AssignOutcome, NodeAssigner, TargetChange } from './node-assigner.js';
export {
  configMapLedger,
  decodeLedger,
  LedgerCorruptError,
  memoryLedger,
  LEDGER_CONFIGMAP,
} from './ledger.js';
export type { AssignmentLedger, LedgerDecode, LedgerEntries } from './ledger.js';
