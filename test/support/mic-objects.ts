/**
 * Cluster objects the MIC controller tests feed their sources: a Running pod in namespace `app`
 * and the service-principal AzureIdentity `app/sp` with its binding `app/b` (selector `x`).
 */
import type { KubeObject } from '../../src/kube/types.js';

const AAD_API = 'aadpodidentity.k8s.io/v1';

/** A Running pod `app/<name>` on `nodeName`, labelled `aadpodidbinding: <label>`. */
export function appPod(name: string, nodeName: string, label: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'app', labels: { aadpodidbinding: label } },
    spec: { nodeName, containers: [{ name: 'c', image: 'nginx' }] },
    status: { phase: 'Running' },
  };
}

/** The service-principal (type 1) AzureIdentity `app/sp`, its password in Secret `app/<secretName>`. */
export function spIdentity(secretName: string): KubeObject {
  return {
    apiVersion: AAD_API,
    kind: 'AzureIdentity',
    metadata: { name: 'sp', namespace: 'app' },
    spec: {
      type: 1,
      clientID: 'sp-client',
      tenantID: 'tenant',
      clientPassword: { name: secretName, namespace: 'app' },
    },
  };
}

/** The AzureIdentityBinding `app/b` of identity `sp` to pods labelled `aadpodidbinding: x`. */
export const spBinding: KubeObject = {
  apiVersion: AAD_API,
  kind: 'AzureIdentityBinding',
  metadata: { name: 'b', namespace: 'app' },
  spec: { azureIdentity: 'sp', selector: 'x' },
};
