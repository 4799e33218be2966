/** Public surface of the Managed Identity Controller's pure core. */
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
