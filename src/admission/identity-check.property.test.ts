/**
 * Property: whatever sequence of AzureIdentity creates, client id changes and deletes reaches the
 * webhook (client ids drawn from a few values in mixed case, names from a few namespaces), when
 * each decision is made against what was admitted before, the stored AzureIdentities never share
 * a client id, and a write is refused only when its new client id is held by another object.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientIdKey } from '../identity/crds/duplicates.js';
import type { KubeObject } from '../kube/types.js';
import { reviewIdentity } from './identity-check.js';
import type { AdmissionRequest, IdentityClaim } from './types.js';

const GROUP = 'aadpodidentity.k8s.io';
const RESOURCE_ID =
  '/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x';

const object = (namespace: string, name: string, clientID: string): KubeObject => ({
  apiVersion: `${GROUP}/v1`,
  kind: 'AzureIdentity',
  metadata: { name, namespace },
  spec: { type: 0, clientID, resourceID: RESOURCE_ID },
});

function request(op: 'CREATE' | 'UPDATE', obj: KubeObject, old: KubeObject | null): AdmissionRequest {
  return {
    uid: 'u',
    kind: { group: GROUP, version: 'v1', kind: 'AzureIdentity' },
    resource: { group: GROUP, version: 'v1', resource: 'azureidentities' },
    subResource: '',
    name: String(obj.metadata?.name),
    namespace: String(obj.metadata?.namespace),
    operation: op,
    userInfo: {},
    object: obj,
    oldObject: old,
    dryRun: false,
  };
}

const step = fc.record({
  write: fc.boolean(),
  namespace: fc.constantFrom('a', 'b', 'c'),
  name: fc.constantFrom('x', 'y'),
  client: fc.constantFrom('aa', 'AA', 'bb', 'Bb', 'cc'),
});

describe('identity admission keeps client ids unique', () => {
  it('stored AzureIdentities never share a client id; refusals only for a client id held elsewhere', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const stored = new Map<string, IdentityClaim>();
        for (const s of steps) {
          const key = `${s.namespace}/${s.name}`;
          const old = stored.get(key);
          if (!s.write) {
            stored.delete(key);
            continue;
          }
          const obj = object(s.namespace, s.name, s.client);
          const req =
            old === undefined
              ? request('CREATE', obj, null)
              : request('UPDATE', obj, object(old.namespace, old.name, old.clientID));
          const d = reviewIdentity(req, { ok: true, claims: [...stored.values()] });
          const heldElsewhere = [...stored.entries()].some(
            ([k, c]) => k !== key && clientIdKey(c.clientID) === clientIdKey(s.client),
          );
          const kept = old !== undefined && clientIdKey(old.clientID) === clientIdKey(s.client);
          expect(d.response.allowed).toBe(!heldElsewhere || kept);
          if (d.response.allowed)
            stored.set(key, { namespace: s.namespace, name: s.name, clientID: s.client });
        }
        const keys = [...stored.values()].map((c) => clientIdKey(c.clientID));
        expect(new Set(keys).size).toBe(keys.length);
      }),
      { numRuns: 300 },
    );
  });
});
