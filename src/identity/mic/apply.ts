/**
 * Applies reconcile actions to an in-memory list of AzureAssignedIdentities: the reference semantics
 * of each action (what the ClusterSource edge must achieve), used by tests and local simulations.
 * Returns a new list; throws on an action that does not fit the store, which is a reconcile fault.
 */
import type { AzureAssignedIdentity } from '../crds/types.js';
import type { Action } from './reconcile.js';

export function applyActions(
  store: readonly AzureAssignedIdentity[],
  actions: readonly Action[],
): AzureAssignedIdentity[] {
  const byId = new Map<string, AzureAssignedIdentity>();
  for (const a of store) byId.set(`${a.metadata.namespace}/${a.metadata.name}`, a);
  for (const action of actions) {
    switch (action.type) {
      case 'create': {
        const id = `${action.object.metadata.namespace}/${action.object.metadata.name}`;
        if (byId.has(id)) throw new Error(`create of ${id}: already exists`);
        byId.set(id, structuredClone(action.object));
        break;
      }
      case 'update': {
        const id = `${action.object.metadata.namespace}/${action.object.metadata.name}`;
        if (!byId.has(id)) throw new Error(`update of ${id}: not found`);
        byId.set(id, structuredClone(action.object));
        break;
      }
      case 'update-status': {
        const id = `${action.namespace}/${action.name}`;
        const cur = byId.get(id);
        if (!cur) throw new Error(`status update of ${id}: not found`);
        byId.set(id, { ...cur, status: { ...cur.status, status: action.status } });
        break;
      }
      case 'delete': {
        const id = `${action.namespace}/${action.name}`;
        if (!byId.delete(id)) throw new Error(`delete of ${id}: not found`);
        break;
      }
    }
  }
  return [...byId.values()];
}
