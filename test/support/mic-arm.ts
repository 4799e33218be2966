/**
 * Set-up shared by the MIC controller tests that assign identities to nodes through the real Azure
 * assigner and the loopback ARM stand-in: identity ids, a static token, the assigner and the
 * `db` identity with its binding. Nothing here leaves the machine.
 */
import type { TokenCredential } from '@azure/core-auth';
import type { FakeArm } from './fake-arm.js';
import type { KubeObject } from '../../src/kube/types.js';
import { createAzureNodeAssigner } from '../../src/identity/mic/azure-assigner.js';
import type { NodeAssigner } from '../../src/identity/mic/node-assigner.js';

export const AAD_API = 'aadpodidentity.k8s.io/v1';

/** The ARM id of the user-assigned identity `name` in resource group `ids` of `subscription`. */
export function userAssignedId(subscription: string, name: string): string {
  return `/subscriptions/${subscription}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
}

/** An in-memory token good for an hour: the stand-in accepts any bearer token. */
export const staticCredential: TokenCredential = {
  getToken: () => Promise.resolve({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/** The real Azure assigner against the stand-in: one attempt per request, fast polling. */
export function standInAssigner(arm: FakeArm): NodeAssigner {
  return createAzureNodeAssigner({
    credential: staticCredential,
    armEndpoint: arm.url,
    ca: arm.ca,
    maxAttempts: 1,
    pollIntervalMs: 10,
  });
}

/** The user-assigned AzureIdentity `app/db` (client id `db-client`) for `resourceID`. */
export function dbIdentity(resourceID: string): KubeObject {
  return {
    apiVersion: AAD_API,
    kind: 'AzureIdentity',
    metadata: { name: 'db', namespace: 'app' },
    spec: { type: 0, resourceID, clientID: 'db-client' },
  };
}

/** The AzureIdentityBinding `app/db` of identity `db` to pods labelled `aadpodidbinding: db`. */
export const dbBinding: KubeObject = {
  apiVersion: AAD_API,
  kind: 'AzureIdentityBinding',
  metadata: { name: 'db', namespace: 'app' },
  spec: { azureIdentity: 'db', selector: 'db' },
};
