/**
 * The --state YAML of the NMI tests: a user-assigned AzureIdentity, a running pod with its address
 * and node, and the AzureAssignedIdentity that binds them (status Assigned), so each test file
 * only says which pods, nodes and identities it needs.
 */

/** A user-assigned (type 0) AzureIdentity; its resource id ends in `name`. */
export function managedIdentityYaml(o: {
  name: string;
  clientID: string;
  tenantID: string;
  namespace?: string;
}): string {
  return `apiVersion: aadpodidentity.k8s.io/v1
kind: AzureIdentity
metadata: {name: ${o.name}, namespace: ${o.namespace ?? 'apps'}}
spec: {type: 0, clientID: ${o.clientID}, tenantID: ${o.tenantID}, resourceID: /subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${o.name}}
`;
}

/** A Running pod on `node` at `ip`, labelled `aadpodidbinding: <bindingLabel>` when one is given. */
export function runningPodYaml(o: {
  name: string;
  node: string;
  ip: string;
  namespace?: string;
  bindingLabel?: string;
}): string {
  const labels = o.bindingLabel === undefined ? '' : `, labels: {aadpodidbinding: ${o.bindingLabel}}`;
  return `apiVersion: v1
kind: Pod
metadata: {name: ${o.name}, namespace: ${o.namespace ?? 'apps'}${labels}}
spec: {nodeName: ${o.node}, containers: [{name: c, image: busybox}]}
status: {phase: Running, podIP: ${o.ip}}
`;
}

/**
 * The Assigned AzureAssignedIdentity `<pod>-<namespace>-<identity>` on `node`: identity of `type`
 * (default 0) through binding `binding` (default: the identity's name) whose selector is the pod name.
 */
export function assignedIdentityYaml(o: {
  pod: string;
  identity: string;
  clientID: string;
  node: string;
  namespace?: string;
  type?: number;
  binding?: string;
}): string {
  const ns = o.namespace ?? 'apps';
  return `apiVersion: aadpodidentity.k8s.io/v1
kind: AzureAssignedIdentity
metadata: {name: ${o.pod}-${ns}-${o.identity}, namespace: ${ns}, labels: {nodename: ${o.node}}}
spec:
  pod: ${o.pod}
  podNamespace: ${ns}
  nodename: ${o.node}
  azureIdentityRef:
    apiVersion: aadpodidentity.k8s.io/v1
    kind: AzureIdentity
    metadata: {name: ${o.identity}, namespace: ${ns}}
    spec: {type: ${o.type ?? 0}, clientID: ${o.clientID}}
  azureBindingRef:
    apiVersion: aadpodidentity.k8s.io/v1
    kind: AzureIdentityBinding
    metadata: {name: ${o.binding ?? o.identity}, namespace: ${ns}}
    spec: {azureIdentity: ${o.identity}, selector: ${o.pod}}
status: {status: Assigned}
`;
}
