/**
 * Validation of the aad-pod-identity resources. Every problem is reported at once with its field
 * path and the reason, and a resource is either accepted whole (normalised into its typed form) or
 * refused whole: the controller never acts on part of an invalid resource.
 */
import { labelKeyProblem, labelValueProblem } from '../../lib/label-selector/index.js';
import { isRecord } from '../../lib/is-record.js';
import {
  AAD_POD_IDENTITY_API_VERSION,
  ASSIGNED_STATUSES,
  type AssignedStatus,
  type AzureAssignedIdentity,
  type AzureIdentity,
  type AzureIdentityBinding,
  type AzureIdentitySpec,
  type AzurePodIdentityException,
  type CrdMetadata,
  type FieldProblem,
  type IdentityType,
  type SecretReference,
  type Validation,
} from './types.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A client id is a GUID in Azure AD; podsec's issuer also accepts plain names, so only the alphabet is fixed. */
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** A tenant is a GUID or a domain (contoso.onmicrosoft.com). */
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;
const USER_ASSIGNED_ID =
  /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.managedidentity\/userassignedidentities\/[^/]+$/i;

class Problems {
  readonly list: FieldProblem[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

function requireString(
  p: Problems,
  obj: Record<string, unknown>,
  key: string,
  path: string,
): string | undefined {
  const v = obj[key];
  if (typeof v !== 'string' || v === '') {
    p.add(path, v === '' ? 'must not be empty' : `must be a non-empty string (is ${describe(v)})`);
    return undefined;
  }
  return v;
}

function optionalString(
  p: Problems,
  obj: Record<string, unknown>,
  key: string,
  path: string,
): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    p.add(path, `must be a string (is ${describe(v)})`);
    return undefined;
  }
  return v === '' ? undefined : v;
}

function dnsName(p: Problems, value: string | undefined, path: string, label: boolean): string | undefined {
  if (value === undefined) return undefined;
  const max = label ? 63 : 253;
  if (value.length > max || !(label ? DNS_LABEL : DNS_SUBDOMAIN).test(value)) {
    p.add(
      path,
      `"${value}" must be a DNS ${label ? 'label' : 'subdomain'}: at most ${max} lower-case letters, digits, '-'${label ? '' : " or '.'"}, starting and ending with a letter or digit`,
    );
    return undefined;
  }
  return value;
}

function stringMap(p: Problems, v: unknown, path: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) {
    p.add(path, `must be a map of strings (is ${describe(v)})`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string')
      p.add(`${path}[${JSON.stringify(k)}]`, `must be a string (is ${describe(val)})`);
    else out[k] = val;
  }
  return out;
}

function header(
  p: Problems,
  obj: unknown,
  kind: string,
): { obj: Record<string, unknown>; metadata?: CrdMetadata } | null {
  if (!isRecord(obj)) {
    p.add('', `a ${kind} must be an object (is ${describe(obj)})`);
    return null;
  }
  if (obj['apiVersion'] !== AAD_POD_IDENTITY_API_VERSION) {
    p.add(
      'apiVersion',
      `must be "${AAD_POD_IDENTITY_API_VERSION}" (is ${JSON.stringify(obj['apiVersion']) ?? 'missing'})`,
    );
  }
  if (obj['kind'] !== kind)
    p.add('kind', `must be "${kind}" (is ${JSON.stringify(obj['kind']) ?? 'missing'})`);
  const meta = obj['metadata'];
  if (!isRecord(meta)) {
    p.add('metadata', `must be an object (is ${describe(meta)})`);
    return { obj };
  }
  const name = dnsName(p, requireString(p, meta, 'name', 'metadata.name'), 'metadata.name', false);
  // A manifest without a namespace lands in `default`, as kubectl applies it.
  const rawNs = optionalString(p, meta, 'namespace', 'metadata.namespace') ?? 'default';
  const namespace = dnsName(p, rawNs, 'metadata.namespace', true);
  if (name === undefined || namespace === undefined) return { obj };
  const metadata: CrdMetadata = { name, namespace };
  const labels = stringMap(p, meta['labels'], 'metadata.labels');
  if (labels) metadata.labels = labels;
  const annotations = stringMap(p, meta['annotations'], 'metadata.annotations');
  if (annotations) metadata.annotations = annotations;
  for (const key of ['resourceVersion', 'uid', 'deletionTimestamp'] as const) {
    const v = meta[key];
    if (typeof v === 'string' && v !== '') metadata[key] = v;
  }
  const fin = meta['finalizers'];
  if (Array.isArray(fin)) metadata.finalizers = fin.filter((f): f is string => typeof f === 'string');
  return { obj, metadata };
}

function specOf(p: Problems, obj: Record<string, unknown>): Record<string, unknown> | null {
  const spec = obj['spec'];
  if (!isRecord(spec)) {
    p.add('spec', `must be an object (is ${describe(spec)})`);
    return null;
  }
  return spec;
}

function done<T>(p: Problems, value: NoInfer<T> | null): Validation<T> {
  if (p.list.length > 0 || value === null) return { ok: false, problems: p.list };
  return { ok: true, value };
}

function identitySpec(p: Problems, spec: Record<string, unknown>): AzureIdentitySpec | null {
  const rawType = spec['type'];
  let type: IdentityType | undefined;
  // Go's zero value: upstream reads a missing type as 0 (user-assigned identity).
  if (rawType === undefined) type = 0;
  else if (rawType === 0 || rawType === 1 || rawType === 2) type = rawType;
  else {
    p.add(
      'spec.type',
      `must be 0 (user-assigned managed identity), 1 (service principal) or 2 (service principal with certificate); is ${JSON.stringify(rawType)}`,
    );
  }
  const clientID = requireString(p, spec, 'clientID', 'spec.clientID');
  if (clientID !== undefined && !CLIENT_ID.test(clientID)) {
    p.add(
      'spec.clientID',
      `"${clientID}" must be a client id (a GUID or at most 128 letters, digits, '.', '_' or '-')`,
    );
  }
  const out: AzureIdentitySpec = { type: type ?? 0 };
  if (clientID !== undefined) out.clientID = clientID;

  const resourceID = optionalString(p, spec, 'resourceID', 'spec.resourceID');
  if (type === 0) {
    if (resourceID === undefined) {
      p.add(
        'spec.resourceID',
        'is required for type 0 (user-assigned managed identity): the ARM id of the identity',
      );
    } else if (!USER_ASSIGNED_ID.test(resourceID)) {
      p.add(
        'spec.resourceID',
        `"${resourceID}" is not a user-assigned identity id (/subscriptions/<id>/resourcegroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>)`,
      );
    }
  }
  if (resourceID !== undefined) out.resourceID = resourceID;

  const tenantPath = 'spec.tenantID';
  const tenantID =
    type === 1 || type === 2
      ? requireString(p, spec, 'tenantID', tenantPath)
      : optionalString(p, spec, 'tenantID', tenantPath);
  if (tenantID !== undefined) {
    if (!TENANT_ID.test(tenantID))
      p.add(tenantPath, `"${tenantID}" must be a tenant id (a GUID or a domain name)`);
    out.tenantID = tenantID;
  }
  const aux = spec['auxiliaryTenantIDs'];
  if (aux !== undefined && aux !== null) {
    if (!Array.isArray(aux))
      p.add('spec.auxiliaryTenantIDs', `must be a list of tenant ids (is ${describe(aux)})`);
    else {
      aux.forEach((t, i) => {
        if (typeof t !== 'string' || !TENANT_ID.test(t)) {
          p.add(
            `spec.auxiliaryTenantIDs[${i}]`,
            `must be a tenant id (a GUID or a domain name); is ${JSON.stringify(t)}`,
          );
        }
      });
      if (aux.length > 0) out.auxiliaryTenantIDs = aux.filter((t): t is string => typeof t === 'string');
    }
  }

  const pw = spec['clientPassword'];
  if (type === 1 || type === 2) {
    const why =
      type === 1
        ? 'the Secret holding the client secret'
        : 'the Secret holding the certificate and its password';
    if (!isRecord(pw))
      p.add('spec.clientPassword', `is required for type ${type}: a reference {name, namespace} to ${why}`);
    else {
      const name = dnsName(
        p,
        requireString(p, pw, 'name', 'spec.clientPassword.name'),
        'spec.clientPassword.name',
        false,
      );
      const namespace = dnsName(
        p,
        requireString(p, pw, 'namespace', 'spec.clientPassword.namespace'),
        'spec.clientPassword.namespace',
        true,
      );
      if (name !== undefined && namespace !== undefined)
        out.clientPassword = { name, namespace } satisfies SecretReference;
    }
  }

  const adResourceID = optionalString(p, spec, 'adResourceID', 'spec.adResourceID');
  if (adResourceID !== undefined) out.adResourceID = adResourceID;
  const adEndpoint = optionalString(p, spec, 'adEndpoint', 'spec.adEndpoint');
  if (adEndpoint !== undefined) {
    const problem = endpointProblem(adEndpoint);
    if (problem) p.add('spec.adEndpoint', problem);
    out.adEndpoint = adEndpoint;
  }
  return out;
}

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** Credentials go to the AD endpoint, so it must be HTTPS; plain HTTP only on loopback (local tests). */
function endpointProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not an absolute URL`;
  }
  if (url.username !== '' || url.password !== '') return 'must not carry credentials in the URL';
  if (url.search !== '' || url.hash !== '') return 'must not have a query or fragment';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname)) return null;
  return `"${value}" must use https (http is accepted only for a loopback host)`;
}

/** Validate an AzureIdentity; on success the value is normalised (namespace defaulted, empty optionals dropped). */
export function validateIdentity(obj: unknown): Validation<AzureIdentity> {
  const p = new Problems();
  const h = header(p, obj, 'AzureIdentity');
  if (!h) return done(p, null);
  const spec = specOf(p, h.obj);
  const s = spec ? identitySpec(p, spec) : null;
  if (!h.metadata || !s) return done(p, null);
  return done(p, {
    apiVersion: AAD_POD_IDENTITY_API_VERSION,
    kind: 'AzureIdentity',
    metadata: h.metadata,
    spec: s,
  });
}

/** Validate an AzureIdentityBinding. */
export function validateBinding(obj: unknown): Validation<AzureIdentityBinding> {
  const p = new Problems();
  const h = header(p, obj, 'AzureIdentityBinding');
  if (!h) return done(p, null);
  const spec = specOf(p, h.obj);
  if (!spec || !h.metadata) return done(p, null);
  const azureIdentity = dnsName(
    p,
    requireString(p, spec, 'azureIdentity', 'spec.azureIdentity'),
    'spec.azureIdentity',
    false,
  );
  const selector = requireString(p, spec, 'selector', 'spec.selector');
  if (selector !== undefined) {
    const problem = labelValueProblem(selector);
    if (problem)
      p.add(
        'spec.selector',
        `${problem}: it is compared with the pod label aadpodidbinding, so no pod could match`,
      );
  }
  const weight = spec['weight'];
  if (weight !== undefined && weight !== null && !Number.isInteger(weight)) {
    p.add('spec.weight', `must be an integer (is ${JSON.stringify(weight)})`);
  }
  if (azureIdentity === undefined || selector === undefined) return done(p, null);
  const out: AzureIdentityBinding = {
    apiVersion: AAD_POD_IDENTITY_API_VERSION,
    kind: 'AzureIdentityBinding',
    metadata: h.metadata,
    spec: { azureIdentity, selector },
  };
  if (typeof weight === 'number' && Number.isInteger(weight)) out.spec.weight = weight;
  return done(p, out);
}

/** Validate an AzurePodIdentityException: at least one pod label, each key a valid label key. */
export function validateException(obj: unknown): Validation<AzurePodIdentityException> {
  const p = new Problems();
  const h = header(p, obj, 'AzurePodIdentityException');
  if (!h) return done(p, null);
  const spec = specOf(p, h.obj);
  if (!spec || !h.metadata) return done(p, null);
  const labels = stringMap(p, spec['podLabels'], 'spec.podLabels');
  if (!labels || Object.keys(labels).length === 0) {
    if (labels)
      p.add('spec.podLabels', 'must name at least one label (an empty exception would exempt nothing)');
    else if (spec['podLabels'] === undefined || spec['podLabels'] === null)
      p.add('spec.podLabels', 'is required');
    return done(p, null);
  }
  for (const key of Object.keys(labels)) {
    const problem = labelKeyProblem(key);
    if (problem) p.add(`spec.podLabels[${JSON.stringify(key)}]`, problem);
  }
  return done(p, {
    apiVersion: AAD_POD_IDENTITY_API_VERSION,
    kind: 'AzurePodIdentityException',
    metadata: h.metadata,
    spec: { podLabels: labels },
  });
}

/**
 * Read an AzureAssignedIdentity back from the store. Only the parts the controller keys on are
 * checked; the embedded copies are kept as they are. An empty status (MIC < 1.6) counts as Assigned,
 * as upstream honours it.
 */
export function validateAssignedIdentity(obj: unknown): Validation<AzureAssignedIdentity> {
  const p = new Problems();
  const h = header(p, obj, 'AzureAssignedIdentity');
  if (!h) return done(p, null);
  const spec = specOf(p, h.obj);
  if (!spec || !h.metadata) return done(p, null);
  const pod = requireString(p, spec, 'pod', 'spec.pod');
  const podNamespace = requireString(p, spec, 'podNamespace', 'spec.podNamespace');
  const nodename = optionalString(p, spec, 'nodename', 'spec.nodename') ?? '';
  const idRef = spec['azureIdentityRef'];
  const bindingRef = spec['azureBindingRef'];
  let idName: string | undefined;
  let idNs: string | undefined;
  if (!isRecord(idRef) || !isRecord(idRef['metadata']))
    p.add('spec.azureIdentityRef', 'must be the embedded AzureIdentity');
  else {
    const m = idRef['metadata'];
    idName = requireString(p, m, 'name', 'spec.azureIdentityRef.metadata.name');
    idNs = optionalString(p, m, 'namespace', 'spec.azureIdentityRef.metadata.namespace') ?? 'default';
  }
  if (!isRecord(bindingRef)) p.add('spec.azureBindingRef', 'must be the embedded AzureIdentityBinding');
  const st = h.obj['status'];
  let status: AssignedStatus = 'Assigned';
  if (isRecord(st) && st['status'] !== undefined && st['status'] !== '') {
    const s = st['status'];
    if (typeof s === 'string' && (ASSIGNED_STATUSES as readonly string[]).includes(s))
      status = s as AssignedStatus;
    else p.add('status.status', `must be one of ${ASSIGNED_STATUSES.join(', ')} (is ${JSON.stringify(s)})`);
  }
  if (pod === undefined || podNamespace === undefined || idName === undefined || idNs === undefined)
    return done(p, null);
  const ir = idRef as Record<string, unknown>;
  return done(p, {
    apiVersion: AAD_POD_IDENTITY_API_VERSION,
    kind: 'AzureAssignedIdentity',
    metadata: h.metadata,
    spec: {
      azureIdentityRef: {
        apiVersion: AAD_POD_IDENTITY_API_VERSION,
        kind: 'AzureIdentity',
        metadata: { name: idName, namespace: idNs },
        spec: (isRecord(ir['spec']) ? ir['spec'] : {}) as unknown as AzureIdentitySpec,
      },
      azureBindingRef: bindingRef as AzureAssignedIdentity['spec']['azureBindingRef'],
      pod,
      podNamespace,
      nodename,
    },
    status: { status },
  });
}
