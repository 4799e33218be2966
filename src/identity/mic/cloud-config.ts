/**
 * The controller's Azure settings from a cloud config file, upstream's azure.json
 * (`--cloud-config`): tenantId, aadClientId, aadClientSecret, subscriptionId, resourceGroup and
 * vmType. Every problem is reported at once by field; a value is never echoed (the file holds a
 * secret). Only client-secret service principals are supported; a managed-identity or
 * certificate configuration is refused with a clear message rather than half-used.
 */

export interface CloudConfig {
  readonly tenantId: string;
  readonly aadClientId: string;
  readonly aadClientSecret: string;
  /** The cluster's subscription; nodes' providerIDs name their own, which wins. */
  readonly subscriptionId: string;
  readonly resourceGroup?: string | undefined;
  /** `standard` (VMs) or `vmss`; informational: the node's providerID decides per node. */
  readonly vmType?: 'standard' | 'vmss' | undefined;
}

export type CloudConfigResult = { ok: true; value: CloudConfig } | { ok: false; problems: string[] };

const REQUIRED = ['tenantId', 'aadClientId', 'aadClientSecret', 'subscriptionId'] as const;

export function parseCloudConfig(text: string): CloudConfigResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, problems: ['not valid JSON'] };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, problems: ['must be a JSON object'] };
  }
  const o = raw as Record<string, unknown>;
  const problems: string[] = [];
  if (o['useManagedIdentityExtension'] === true) {
    problems.push(
      'useManagedIdentityExtension: managed identity for the controller is not supported; use a service principal (aadClientId, aadClientSecret)',
    );
  }
  if (
    typeof o['aadClientCertPath'] === 'string' &&
    o['aadClientCertPath'] !== '' &&
    typeof o['aadClientSecret'] !== 'string'
  ) {
    problems.push('aadClientCertPath: certificate credentials are not supported; use aadClientSecret');
  }
  const text_ = (k: string): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      problems.push(`${k}: must be a string`);
      return undefined;
    }
    return v.trim();
  };
  const values: Record<string, string | undefined> = {};
  for (const k of [...REQUIRED, 'resourceGroup', 'vmType']) values[k] = text_(k);
  for (const k of REQUIRED) {
    if (values[k] === undefined || values[k] === '') problems.push(`${k}: required`);
  }
  const vmType = values['vmType'];
  if (vmType !== undefined && vmType !== '' && vmType !== 'standard' && vmType !== 'vmss') {
    problems.push('vmType: must be "standard" or "vmss"');
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      tenantId: values['tenantId']!,
      aadClientId: values['aadClientId']!,
      aadClientSecret: values['aadClientSecret']!,
      subscriptionId: values['subscriptionId']!,
      ...(values['resourceGroup'] ? { resourceGroup: values['resourceGroup'] } : {}),
      ...(vmType === 'standard' || vmType === 'vmss' ? { vmType } : {}),
    },
  };
}
