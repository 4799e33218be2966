/**
 * The seam between the MIC and whatever attaches user-assigned identities to nodes: one call per
 * target (a VM or a whole scale set) carrying every addition and removal for it, so N pods on one
 * node, or nodes of one scale set, cost one update. Outcomes are values; a failed update says
 * how long the target asked us to wait (429 Retry-After) so the controller backs off.
 */
import type { NodeTarget } from './node-assignment.js';

export interface TargetChange {
  readonly target: NodeTarget;
  /** Resource IDs that must be present afterwards. */
  readonly add: readonly string[];
  /** Resource IDs (any casing) to take away, if present. */
  readonly remove: readonly string[];
}

export type AssignOutcome =
  | {
      readonly ok: true;
      /** Normalized user-assigned IDs on the target afterwards. */
      readonly present: ReadonlySet<string>;
      /** IDs this call attached (they were absent): podsec may remove these later. */
      readonly added: readonly string[];
      /** Normalized IDs this call removed. */
      readonly removed: readonly string[];
      /** Whether an update was sent (false: the target already matched). */
      readonly updated: boolean;
      /** IDs ARM refused (a 400 naming them: deleted or mistyped identities); left out of the update. */
      readonly rejected?: readonly string[] | undefined;
    }
  | {
      readonly ok: false;
      /** Short, secret-free description for logs. */
      readonly error: string;
      /** HTTP status of the last failed call, when there was one. */
      readonly status?: number | undefined;
      /** The target asked to wait this long (429/503 Retry-After) before the next attempt. */
      readonly retryAfterMs?: number | undefined;
      /**
       * Normalized user-assigned IDs the target was read with before the update failed: those
       * already there are usable (upstream re-read the VM and marked Assigned what was present).
       */
      readonly present?: ReadonlySet<string> | undefined;
    };

export interface NodeAssigner {
  /** Reads the target's identities and updates them when `add`/`remove` change anything. */
  apply(change: TargetChange, signal?: AbortSignal): Promise<AssignOutcome>;
}
