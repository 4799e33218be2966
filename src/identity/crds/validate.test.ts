/** Validation of the aad-pod-identity resources: a valid resource plus exactly one change per case. */
import { describe, expect, it } from 'vitest';
import {
  validateAssignedIdentity,
  validateBinding,
  validateException,
  validateIdentity,
  type FieldProblem,
} from './index.js';

const MSI_ID =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/db-reader';

function identity(
  spec: Record<string, unknown>,
  metadata: Record<string, unknown> = { name: 'db', namespace: 'app' },
): Record<string, unknown> {
  return { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentity', metadata, spec };
}
const msi = { type: 0, resourceID: MSI_ID, clientID: '11111111-1111-1111-1111-111111111111' };
const sp = {
  type: 1,
  clientID: 'reporting',
  tenantID: 'contoso.onmicrosoft.com',
  clientPassword: { name: 'reporting-secret', namespace: 'app' },
};

function tweak<T extends Record<string, unknown>>(
  base: T,
  change: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base, ...change };
  for (const [k, v] of Object.entries(change)) if (v === undefined) delete out[k];
  return out;
}

function problemsOf(v: { ok: true } | { ok: false; problems: FieldProblem[] }): FieldProblem[] {
  return v.ok ? [] : v.problems;
}

describe('validateIdentity', () => {
  const valid: [string, Record<string, unknown>][] = [
    ['type 0 user-assigned identity', identity(msi)],
    ['type 1 service principal', identity(sp)],
    ['type 2 service principal with certificate', identity({ ...sp, type: 2 })],
    ['type missing reads as 0 (Go zero value, as upstream)', identity(tweak(msi, { type: undefined }))],
    ['adEndpoint https', identity({ ...sp, adEndpoint: 'https://issuer.example/' })],
    ['adEndpoint http on loopback (local mode)', identity({ ...sp, adEndpoint: 'http://127.0.0.1:8443/' })],
    [
      'GUID tenant and auxiliary tenants',
      identity({
        ...sp,
        tenantID: '22222222-2222-2222-2222-222222222222',
        auxiliaryTenantIDs: ['fabrikam.com'],
      }),
    ],
  ];
  it.each(valid)('%s is accepted', (_name, obj) => {
    expect(problemsOf(validateIdentity(obj))).toEqual([]);
  });

  it('defaults a missing namespace to default and keeps the spec', () => {
    const v = validateIdentity(identity(msi, { name: 'db' }));
    expect(v.ok && v.value.metadata.namespace).toBe('default');
    expect(v.ok && v.value.spec).toEqual(msi);
  });

  const invalid: [string, unknown, FieldProblem[]][] = [
    ['not an object', 'db', [{ path: '', message: 'a AzureIdentity must be an object (is a string)' }]],
    [
      'wrong apiVersion',
      { ...identity(msi), apiVersion: 'aadpodidentity.k8s.io/v2' },
      [{ path: 'apiVersion', message: 'must be "aadpodidentity.k8s.io/v1" (is "aadpodidentity.k8s.io/v2")' }],
    ],
    [
      'wrong kind',
      { ...identity(msi), kind: 'AzureIdentityBinding' },
      [{ path: 'kind', message: 'must be "AzureIdentity" (is "AzureIdentityBinding")' }],
    ],
    [
      'no name',
      identity(msi, { namespace: 'app' }),
      [{ path: 'metadata.name', message: 'must be a non-empty string (is missing)' }],
    ],
    [
      'upper-case name',
      identity(msi, { name: 'DB', namespace: 'app' }),
      [{ path: 'metadata.name', message: expect.stringContaining('must be a DNS subdomain') as string }],
    ],
    [
      'type as a string',
      identity({ ...msi, type: '0' }),
      [
        {
          path: 'spec.type',
          message: expect.stringContaining('must be 0 (user-assigned managed identity), 1') as string,
        },
      ],
    ],
    [
      'type 3',
      identity({ ...msi, type: 3 }),
      [{ path: 'spec.type', message: expect.stringContaining('is 3') as string }],
    ],
    [
      'type 0 without resourceID',
      identity(tweak(msi, { resourceID: undefined })),
      [{ path: 'spec.resourceID', message: expect.stringContaining('is required for type 0') as string }],
    ],
    [
      'type 0 with a resourceID that is not a user-assigned identity',
      identity({
        ...msi,
        resourceID: '/subscriptions/s/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/vm',
      }),
      [
        {
          path: 'spec.resourceID',
          message: expect.stringContaining('is not a user-assigned identity id') as string,
        },
      ],
    ],
    [
      'no clientID',
      identity(tweak(msi, { clientID: undefined })),
      [{ path: 'spec.clientID', message: 'must be a non-empty string (is missing)' }],
    ],
    [
      'clientID with a slash',
      identity({ ...msi, clientID: 'a/b' }),
      [{ path: 'spec.clientID', message: expect.stringContaining('must be a client id') as string }],
    ],
    [
      'type 1 without tenantID',
      identity(tweak(sp, { tenantID: undefined })),
      [{ path: 'spec.tenantID', message: 'must be a non-empty string (is missing)' }],
    ],
    [
      'type 1 without clientPassword',
      identity(tweak(sp, { clientPassword: undefined })),
      [{ path: 'spec.clientPassword', message: expect.stringContaining('is required for type 1') as string }],
    ],
    [
      'type 2 without clientPassword',
      identity(tweak({ ...sp, type: 2 }, { clientPassword: undefined })),
      [
        {
          path: 'spec.clientPassword',
          message: expect.stringContaining('certificate and its password') as string,
        },
      ],
    ],
    [
      'clientPassword without namespace',
      identity({ ...sp, clientPassword: { name: 's' } }),
      [{ path: 'spec.clientPassword.namespace', message: 'must be a non-empty string (is missing)' }],
    ],
    [
      'adEndpoint over plain http',
      identity({ ...sp, adEndpoint: 'http://login.example/' }),
      [{ path: 'spec.adEndpoint', message: expect.stringContaining('must use https') as string }],
    ],
    [
      'adEndpoint not a URL',
      identity({ ...sp, adEndpoint: 'login' }),
      [{ path: 'spec.adEndpoint', message: '"login" is not an absolute URL' }],
    ],
    [
      'auxiliary tenant not a string',
      identity({ ...sp, auxiliaryTenantIDs: [5] }),
      [
        {
          path: 'spec.auxiliaryTenantIDs[0]',
          message: expect.stringContaining('must be a tenant id') as string,
        },
      ],
    ],
    [
      'spec missing',
      { ...identity(msi), spec: undefined },
      [{ path: 'spec', message: 'must be an object (is missing)' }],
    ],
  ];
  it.each(invalid)('%s is refused with the field and the reason', (_name, obj, expected) => {
    const v = validateIdentity(obj);
    expect(v.ok).toBe(false);
    expect(problemsOf(v)).toEqual(expected);
  });

  it('reports every problem at once', () => {
    const v = validateIdentity({
      apiVersion: 'v1',
      kind: 'AzureIdentity',
      metadata: { name: 'x' },
      spec: { type: 1 },
    });
    expect(problemsOf(v).map((p) => p.path)).toEqual([
      'apiVersion',
      'spec.clientID',
      'spec.tenantID',
      'spec.clientPassword',
    ]);
  });
});

describe('validateBinding', () => {
  const binding = (spec: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentityBinding',
    metadata: { name: 'db-binding', namespace: 'app' },
    spec,
  });
  it('accepts a binding and keeps weight', () => {
    const v = validateBinding(binding({ azureIdentity: 'db', selector: 'db-reader', weight: 1 }));
    expect(v.ok && v.value.spec).toEqual({ azureIdentity: 'db', selector: 'db-reader', weight: 1 });
  });
  const invalid: [string, Record<string, unknown>, FieldProblem[]][] = [
    [
      'no azureIdentity',
      { selector: 'x' },
      [{ path: 'spec.azureIdentity', message: 'must be a non-empty string (is missing)' }],
    ],
    [
      'empty selector',
      { azureIdentity: 'db', selector: '' },
      [{ path: 'spec.selector', message: 'must not be empty' }],
    ],
    [
      'selector that is no label value (a label selector expression)',
      { azureIdentity: 'db', selector: 'app in (a,b)' },
      [{ path: 'spec.selector', message: expect.stringContaining('no pod could match') as string }],
    ],
    [
      'selector as a map',
      { azureIdentity: 'db', selector: { app: 'x' } },
      [{ path: 'spec.selector', message: 'must be a non-empty string (is a object)' }],
    ],
    [
      'fractional weight',
      { azureIdentity: 'db', selector: 'x', weight: 1.5 },
      [{ path: 'spec.weight', message: 'must be an integer (is 1.5)' }],
    ],
  ];
  it.each(invalid)('%s is refused', (_name, spec, expected) => {
    expect(problemsOf(validateBinding(binding(spec)))).toEqual(expected);
  });
});

describe('validateException', () => {
  const exception = (spec: unknown): Record<string, unknown> => ({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzurePodIdentityException',
    metadata: { name: 'mic', namespace: 'kube-system' },
    spec,
  });
  it('accepts pod labels', () => {
    expect(validateException(exception({ podLabels: { app: 'mic' } })).ok).toBe(true);
  });
  const invalid: [string, unknown, string][] = [
    ['no podLabels', {}, 'spec.podLabels'],
    ['empty podLabels', { podLabels: {} }, 'spec.podLabels'],
    ['bad label key', { podLabels: { 'a b': 'x' } }, 'spec.podLabels["a b"]'],
    ['non-string value', { podLabels: { app: 1 } }, 'spec.podLabels["app"]'],
  ];
  it.each(invalid)('%s is refused at %s', (_name, spec, path) => {
    expect(problemsOf(validateException(exception(spec))).map((p) => p.path)).toContain(path);
  });
});

describe('validateAssignedIdentity', () => {
  const assigned = (status: unknown): Record<string, unknown> => ({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureAssignedIdentity',
    metadata: { name: 'p-app-db', namespace: 'app' },
    spec: {
      pod: 'p',
      podNamespace: 'app',
      nodename: 'n1',
      azureIdentityRef: { metadata: { name: 'db', namespace: 'app' }, spec: msi },
      azureBindingRef: {
        metadata: { name: 'b', namespace: 'app' },
        spec: { azureIdentity: 'db', selector: 's' },
      },
    },
    status,
  });
  it.each([
    ['Created', { status: 'Created' }, 'Created'],
    ['empty status from MIC < 1.6 counts as Assigned', { status: '' }, 'Assigned'],
    ['missing status counts as Assigned', undefined, 'Assigned'],
  ])('%s', (_name, status, expected) => {
    const v = validateAssignedIdentity(assigned(status));
    expect(v.ok && v.value.status.status).toBe(expected);
  });
  it('refuses an unknown status', () => {
    expect(problemsOf(validateAssignedIdentity(assigned({ status: 'Done' }))).map((p) => p.path)).toEqual([
      'status.status',
    ]);
  });
});
