/**
 * The identity kinds at admission: invalid objects refused with the validators' field paths
 * (422 Invalid, a cause each), an AzureIdentity whose client id another one claims refused
 * (so the first keeps working), UPDATE ratcheting, and the handler's routing and fail-closed faults.
 */
import { describe, expect, it } from 'vitest';
import { createAdmissionHandler } from './handler.js';
import { RecentClaims } from './identity-claims.js';
import {
  claimOf,
  DUPLICATE_AUDIT_ANNOTATION,
  identityKindOf,
  needsClaims,
  reviewIdentity,
  type ClaimsLookup,
} from './identity-check.js';
import { encodeResponse } from './review.js';
import type { AdmissionDeps, AdmissionRequest, IdentityClaim, Operation } from './types.js';
import type { KubeObject } from '../kube/types.js';

const GROUP = 'aadpodidentity.k8s.io';
const CLIENT = '00000000-0000-0000-0000-00000000000a';
const OTHER_CLIENT = '00000000-0000-0000-0000-00000000000b';
const RESOURCE_ID =
  '/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/db';

function identity(name: string, namespace: string | undefined, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'AzureIdentity',
    metadata: namespace === undefined ? { name } : { name, namespace },
    spec,
  };
}
const msi = (clientID: string): Record<string, unknown> => ({ type: 0, clientID, resourceID: RESOURCE_ID });

const RESOURCES = {
  AzureIdentity: 'azureidentities',
  AzureIdentityBinding: 'azureidentitybindings',
  AzurePodIdentityException: 'azurepodidentityexceptions',
} as const;

function request(
  operation: Operation,
  object: KubeObject | null,
  oldObject: KubeObject | null = null,
  over: Partial<AdmissionRequest> = {},
): AdmissionRequest {
  const kind = ((object ?? oldObject)?.kind ?? 'AzureIdentity') as keyof typeof RESOURCES;
  const meta = (object ?? oldObject)?.metadata as { name?: string; namespace?: string } | undefined;
  return {
    uid: 'u1',
    kind: { group: GROUP, version: 'v1', kind },
    resource: { group: GROUP, version: 'v1', resource: RESOURCES[kind] },
    subResource: '',
    name: meta?.name ?? '',
    namespace: meta?.namespace ?? 'team-a',
    operation,
    userInfo: { username: 'alice' },
    object,
    oldObject,
    dryRun: false,
    ...over,
  };
}

const claims = (...list: IdentityClaim[]): ClaimsLookup => ({ ok: true, claims: list });
const NONE = claims();
const FAILED: ClaimsLookup = { ok: false, reason: 'connection refused' };
const claim = (namespace: string, name: string, clientID: string): IdentityClaim => ({
  namespace,
  name,
  clientID,
});

describe('identityKindOf and needsClaims', () => {
  it.each([
    [GROUP, 'azureidentities', 'AzureIdentity'],
    [GROUP, 'azureidentitybindings', 'AzureIdentityBinding'],
    [GROUP, 'azurepodidentityexceptions', 'AzurePodIdentityException'],
    [GROUP, 'azureassignedidentities', null],
    ['', 'pods', null],
    ['example.com', 'azureidentities', null],
    [GROUP, 'constructor', null],
  ])('%s %s -> %s', (group, resource, kind) => {
    const r = request('CREATE', identity('a', 'team-a', msi(CLIENT)), null, {
      resource: { group, version: 'v1', resource },
    });
    expect(identityKindOf(r)).toBe(kind);
  });

  it.each([
    ['AzureIdentity CREATE', request('CREATE', identity('a', 'team-a', msi(CLIENT))), true],
    [
      'AzureIdentity UPDATE',
      request('UPDATE', identity('a', 'team-a', msi(CLIENT)), identity('a', 'team-a', msi(CLIENT))),
      true,
    ],
    ['AzureIdentity DELETE', request('DELETE', null, identity('a', 'team-a', msi(CLIENT))), false],
    [
      'AzureIdentity status',
      request('UPDATE', identity('a', 'team-a', msi(CLIENT)), identity('a', 'team-a', msi(CLIENT)), {
        subResource: 'status',
      }),
      false,
    ],
    [
      'binding CREATE',
      request('CREATE', {
        apiVersion: `${GROUP}/v1`,
        kind: 'AzureIdentityBinding',
        metadata: { name: 'b', namespace: 'team-a' },
        spec: { azureIdentity: 'a', selector: 's' },
      }),
      false,
    ],
  ])('%s needs claims: %s', (_name, r, expected) => {
    expect(needsClaims(r)).toBe(expected);
  });

  it('claimOf defaults the namespace and ignores objects without a client id or name', () => {
    expect(claimOf(identity('a', undefined, msi(CLIENT)))).toEqual({
      namespace: 'default',
      name: 'a',
      clientID: CLIENT,
    });
    expect(claimOf(identity('a', 'x', { type: 0 }))).toBeUndefined();
    expect(claimOf({ spec: { clientID: CLIENT } })).toBeUndefined();
    expect(claimOf(null)).toBeUndefined();
  });
});

interface Case {
  readonly name: string;
  readonly request: AdmissionRequest;
  readonly claims?: ClaimsLookup;
  readonly allowed: boolean;
  readonly decision: string;
  readonly code?: number;
  /** Substrings of status.message, in order. */
  readonly message?: readonly string[];
  readonly causes?: readonly { field: string; reason: string }[];
  readonly warning?: string;
  readonly audit?: string;
  /** Text that must not appear anywhere in the answer. */
  readonly hidden?: string;
}

const binding = (spec: Record<string, unknown>, name = 'bind'): KubeObject => ({
  apiVersion: `${GROUP}/v1`,
  kind: 'AzureIdentityBinding',
  metadata: { name, namespace: 'team-a' },
  spec,
});
const exception = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: `${GROUP}/v1`,
  kind: 'AzurePodIdentityException',
  metadata: { name: 'exc', namespace: 'team-a' },
  spec,
});

const CASES: readonly Case[] = [
  {
    name: 'a valid new AzureIdentity with an unclaimed client id is allowed',
    request: request('CREATE', identity('db', 'team-a', msi(CLIENT))),
    claims: claims(claim('team-b', 'other', OTHER_CLIENT)),
    allowed: true,
    decision: 'allow',
  },
  {
    name: 'a copy of another namespace’s client id is refused without naming that namespace',
    request: request('CREATE', identity('copy', 'team-b', msi(CLIENT))),
    claims: claims(claim('payments', 'db', CLIENT)),
    allowed: false,
    decision: 'deny',
    code: 422,
    message: [
      `AzureIdentity.${GROUP} "copy" is invalid: spec.clientID: Duplicate value: "${CLIENT}": already claimed by an AzureIdentity in another namespace`,
    ],
    causes: [{ field: 'spec.clientID', reason: 'FieldValueDuplicate' }],
    audit: 'payments/db',
    hidden: 'payments',
  },
  {
    name: 'client ids compare without case and surrounding space',
    request: request('CREATE', identity('copy', 'team-b', msi(CLIENT.toUpperCase()))),
    claims: claims(claim('payments', 'db', ` ${CLIENT} `)),
    allowed: false,
    decision: 'deny',
    code: 422,
    causes: [{ field: 'spec.clientID', reason: 'FieldValueDuplicate' }],
  },
  {
    name: 'a claimant in the same namespace is named',
    request: request('CREATE', identity('copy', 'team-a', msi(CLIENT))),
    claims: claims(claim('team-a', 'db', CLIENT), claim('team-z', 'x', CLIENT)),
    allowed: false,
    decision: 'deny',
    code: 422,
    message: [
      'already claimed by AzureIdentity "db" in this namespace and an AzureIdentity in another namespace',
    ],
    audit: 'team-a/db, team-z/x',
  },
  {
    name: 'the object’s own entry (a re-create or a retried request) is not a duplicate',
    request: request('CREATE', identity('db', 'team-a', msi(CLIENT))),
    claims: claims(claim('team-a', 'db', CLIENT)),
    allowed: true,
    decision: 'allow',
  },
  {
    name: 'a manifest without a namespace is judged in the request’s namespace',
    request: request('CREATE', identity('db', undefined, msi(CLIENT)), null, { namespace: 'team-a' }),
    claims: claims(claim('team-a', 'db', CLIENT)),
    allowed: true,
    decision: 'allow',
  },
  {
    name: 'an UPDATE changing the client id to a claimed one is refused',
    request: request(
      'UPDATE',
      identity('db', 'team-a', msi(CLIENT)),
      identity('db', 'team-a', msi(OTHER_CLIENT)),
    ),
    claims: claims(claim('team-a', 'db', OTHER_CLIENT), claim('payments', 'db', CLIENT)),
    allowed: false,
    decision: 'deny',
    code: 422,
    causes: [{ field: 'spec.clientID', reason: 'FieldValueDuplicate' }],
  },
  {
    name: 'an UPDATE keeping an already shared client id is allowed with a warning',
    request: request('UPDATE', identity('db', 'team-a', msi(CLIENT)), identity('db', 'team-a', msi(CLIENT))),
    claims: claims(claim('team-a', 'db', CLIENT), claim('payments', 'db', CLIENT)),
    allowed: true,
    decision: 'warn',
    warning: `client id ${CLIENT} is also claimed by another AzureIdentity`,
    audit: 'payments/db',
  },
  {
    name: 'an UPDATE changing only the client id’s case is no new claim',
    request: request(
      'UPDATE',
      identity('db', 'team-a', msi(CLIENT.toUpperCase())),
      identity('db', 'team-a', msi(CLIENT)),
    ),
    claims: FAILED,
    allowed: true,
    decision: 'allow',
  },
  {
    name: 'a CREATE whose claims could not be read is a fault (the handler refuses)',
    request: request('CREATE', identity('db', 'team-a', msi(CLIENT))),
    claims: FAILED,
    allowed: false,
    decision: 'throws',
  },
  {
    name: 'an UPDATE keeping its client id needs no claims',
    request: request(
      'UPDATE',
      {
        ...identity('db', 'team-a', msi(CLIENT)),
        metadata: { name: 'db', namespace: 'team-a', labels: { a: 'b' } },
      },
      identity('db', 'team-a', msi(CLIENT)),
    ),
    claims: FAILED,
    allowed: true,
    decision: 'allow',
  },
  {
    name: 'an invalid AzureIdentity is refused with every field problem',
    request: request('CREATE', identity('db', 'team-a', { type: 7, clientID: 'not a client id!' })),
    allowed: false,
    decision: 'deny',
    code: 422,
    message: [
      `AzureIdentity.${GROUP} "db" is invalid: [spec.type: must be 0`,
      'spec.clientID: "not a client id!"',
    ],
    causes: [
      { field: 'spec.type', reason: 'FieldValueInvalid' },
      { field: 'spec.clientID', reason: 'FieldValueInvalid' },
    ],
  },
  {
    name: 'type 1 without tenant and secret reference names both fields',
    request: request('CREATE', identity('sp', 'team-a', { type: 1, clientID: CLIENT })),
    allowed: false,
    decision: 'deny',
    code: 422,
    causes: [
      { field: 'spec.tenantID', reason: 'FieldValueInvalid' },
      { field: 'spec.clientPassword', reason: 'FieldValueInvalid' },
    ],
  },
  {
    name: 'invalid and duplicate at once: one answer with both causes',
    request: request('CREATE', identity('db', 'team-a', { type: 0, clientID: CLIENT })),
    claims: claims(claim('payments', 'db', CLIENT)),
    allowed: false,
    decision: 'deny',
    code: 422,
    causes: [
      { field: 'spec.resourceID', reason: 'FieldValueInvalid' },
      { field: 'spec.clientID', reason: 'FieldValueDuplicate' },
    ],
  },
  {
    name: 'an UPDATE of an object that was already invalid in the same way is allowed with a warning',
    request: request(
      'UPDATE',
      identity('db', 'team-a', { type: 0, clientID: CLIENT }),
      identity('db', 'team-a', { type: 0, clientID: CLIENT }),
    ),
    allowed: true,
    decision: 'warn',
    warning: 'this AzureIdentity is still invalid and is ignored: spec.resourceID: is required',
  },
  {
    name: 'an UPDATE that adds a problem is refused',
    request: request(
      'UPDATE',
      identity('db', 'team-a', { type: 0, clientID: CLIENT }),
      identity('db', 'team-a', msi(CLIENT)),
    ),
    allowed: false,
    decision: 'deny',
    code: 422,
    causes: [{ field: 'spec.resourceID', reason: 'FieldValueInvalid' }],
  },
  {
    name: 'a valid binding is allowed',
    request: request('CREATE', binding({ azureIdentity: 'db', selector: 'db-reader' })),
    allowed: true,
    decision: 'allow',
  },
  {
    name: 'a binding whose selector no pod label can hold is refused',
    request: request('CREATE', binding({ azureIdentity: 'db', selector: 'has spaces' })),
    allowed: false,
    decision: 'deny',
    code: 422,
    message: [`AzureIdentityBinding.${GROUP} "bind" is invalid: spec.selector:`],
    causes: [{ field: 'spec.selector', reason: 'FieldValueInvalid' }],
  },
  {
    name: 'a binding without azureIdentity is refused',
    request: request('CREATE', binding({ selector: 's' })),
    allowed: false,
    decision: 'deny',
    code: 422,
    causes: [{ field: 'spec.azureIdentity', reason: 'FieldValueInvalid' }],
  },
  {
    name: 'an exception without labels is refused',
    request: request('CREATE', exception({ podLabels: {} })),
    allowed: false,
    decision: 'deny',
    code: 422,
    message: ['spec.podLabels: must name at least one label'],
  },
  {
    name: 'a valid exception is allowed',
    request: request('CREATE', exception({ podLabels: { app: 'legacy' } })),
    allowed: true,
    decision: 'allow',
  },
  {
    name: 'DELETE is not judged',
    request: request('DELETE', null, identity('db', 'team-a', { type: 9 })),
    claims: FAILED,
    allowed: true,
    decision: 'skip',
  },
  {
    name: 'the status subresource is not judged',
    request: request('UPDATE', identity('db', 'team-a', { type: 9 }), identity('db', 'team-a', msi(CLIENT)), {
      subResource: 'status',
    }),
    allowed: true,
    decision: 'skip',
  },
];

describe('reviewIdentity', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    if (c.decision === 'throws') {
      expect(() => reviewIdentity(c.request, c.claims ?? NONE)).toThrow(/cannot check whether client id/);
      return;
    }
    const d = reviewIdentity(c.request, c.claims ?? NONE);
    expect(d.response.allowed).toBe(c.allowed);
    expect(d.metrics.decision).toBe(c.decision);
    expect(d.metrics.kind).toBe(c.request.kind.kind);
    const status = d.response.status;
    if (c.code !== undefined) {
      expect(status?.code).toBe(c.code);
      expect(status?.reason).toBe('Invalid');
      expect(status?.details?.kind).toBe(c.request.kind.kind);
      expect(status?.details?.group).toBe(GROUP);
    } else expect(status).toBeUndefined();
    for (const m of c.message ?? []) expect(status?.message).toContain(m);
    if (c.causes !== undefined)
      expect(status?.details?.causes.map((x) => ({ field: x.field, reason: x.reason }))).toEqual(c.causes);
    if (c.warning !== undefined) expect(d.response.warnings?.join('\n')).toContain(c.warning);
    else expect(d.response.warnings).toBeUndefined();
    if (c.audit !== undefined)
      expect(d.response.auditAnnotations?.[DUPLICATE_AUDIT_ANNOTATION]).toBe(c.audit);
    if (c.hidden !== undefined) {
      const { auditAnnotations: _a, ...visible } = d.response;
      expect(JSON.stringify(visible)).not.toContain(c.hidden);
    }
  });

  it('every cause message is in the status message, as the API server words NewInvalid', () => {
    const d = reviewIdentity(
      request('CREATE', identity('db', 'team-a', { type: 0, clientID: CLIENT })),
      claims(claim('payments', 'db', CLIENT)),
    );
    for (const c of d.response.status!.details!.causes)
      expect(d.response.status!.message).toContain(`${c.field}: ${c.message}`);
  });

  it('encodes into a valid AdmissionReview (audit annotation key accepted)', () => {
    const d = reviewIdentity(
      request('CREATE', identity('copy', 'team-b', msi(CLIENT))),
      claims(claim('payments', 'db', CLIENT)),
    );
    const review = encodeResponse('u1', d.response);
    expect(review.response).toMatchObject({
      uid: 'u1',
      allowed: false,
      status: { code: 422, reason: 'Invalid' },
      auditAnnotations: { [DUPLICATE_AUDIT_ANNOTATION]: 'payments/db' },
    });
  });
});

describe('the handler routes the identity kinds', () => {
  function deps(identityClaims?: () => Promise<readonly IdentityClaim[]>): AdmissionDeps {
    const base: AdmissionDeps = {
      policy: () => ({ policy: null, config: null }),
      namespaceLabels: () => Promise.resolve({}),
      podsInNamespace: () => [],
      now: () => Date.parse('2026-01-15T12:00:00Z'),
    };
    return identityClaims === undefined ? base : { ...base, identityClaims };
  }

  it('refuses a duplicate through the cache', async () => {
    let calls = 0;
    const handler = createAdmissionHandler(
      deps(() => {
        calls++;
        return Promise.resolve([claim('payments', 'db', CLIENT)]);
      }),
    );
    const d = await handler(request('CREATE', identity('copy', 'team-b', msi(CLIENT))));
    expect(d.response).toMatchObject({ allowed: false, status: { code: 422 } });
    expect(d.metrics.violations).toEqual(['identity-duplicate-client-id']);
    expect(calls).toBe(1);
  });

  it('does not read claims for bindings', async () => {
    const handler = createAdmissionHandler(deps(() => Promise.reject(new Error('must not be called'))));
    const d = await handler(request('CREATE', binding({ azureIdentity: 'db', selector: 'db' })));
    expect(d.response).toEqual({ allowed: true });
  });

  it.each([
    ['a failing cache', deps(() => Promise.reject(new Error('listing AzureIdentities failed: HTTP 500')))],
    ['no cache at all', deps()],
  ])('fails closed with %s: 403 naming the reason, error annotation', async (_name, d) => {
    const handler = createAdmissionHandler(d);
    const out = await handler(request('CREATE', identity('db', 'team-a', msi(CLIENT))));
    expect(out.response.allowed).toBe(false);
    expect(out.response.status).toMatchObject({ code: 403, reason: 'Forbidden' });
    expect(out.response.status?.message).toMatch(
      /^azureidentities\.aadpodidentity\.k8s\.io "db" is forbidden: podsec could not evaluate the request: cannot check whether client id/,
    );
    expect(out.response.auditAnnotations?.['error']).toBeDefined();
    expect(out.metrics.decision).toBe('error');
  });

  it('two copies sent at once to one replica: the second is refused (recent claims), dry runs and refusals are not remembered', async () => {
    let now = 1_000;
    const recent = new RecentClaims(() => now, 30_000);
    const handler = createAdmissionHandler({
      ...deps(() => Promise.resolve([])),
      recentIdentityClaims: recent,
    });
    const dry = await handler(
      request('CREATE', identity('dry', 'team-c', msi(CLIENT)), null, { dryRun: true }),
    );
    expect(dry.response.allowed).toBe(true);
    const invalidOne = await handler(
      request('CREATE', identity('bad', 'team-c', { type: 0, clientID: CLIENT })),
    );
    expect(invalidOne.response.allowed).toBe(false);
    expect(recent.list()).toEqual([]);

    const [first, second] = await Promise.all([
      handler(request('CREATE', identity('db', 'team-a', msi(CLIENT)))),
      handler(request('CREATE', identity('copy', 'team-b', msi(CLIENT)))),
    ]);
    expect(first.response.allowed).toBe(true);
    expect(second.response).toMatchObject({ allowed: false, status: { code: 422 } });
    expect(recent.list()).toEqual([claim('team-a', 'db', CLIENT)]);
    // The first one's own retry is not a duplicate of itself.
    const retry = await handler(request('CREATE', identity('db', 'team-a', msi(CLIENT))));
    expect(retry.response.allowed).toBe(true);
    // Once expired (the cache has it by then, or its write failed), only the cache counts.
    now += 30_000;
    expect(recent.list()).toEqual([]);
    const later = await handler(request('CREATE', identity('copy', 'team-b', msi(CLIENT))));
    expect(later.response.allowed).toBe(true);
  });

  it('a malformed request (UPDATE without oldObject) fails closed', async () => {
    const handler = createAdmissionHandler(deps(() => Promise.resolve([])));
    const out = await handler(request('UPDATE', identity('db', 'team-a', msi(CLIENT)), null));
    expect(out.response).toMatchObject({ allowed: false, status: { code: 403 } });
  });

  it('an unrelated custom resource is still skipped', async () => {
    const handler = createAdmissionHandler(deps());
    const out = await handler(
      request('CREATE', identity('db', 'team-a', msi(CLIENT)), null, {
        resource: { group: 'example.com', version: 'v1', resource: 'widgets' },
        kind: { group: 'example.com', version: 'v1', kind: 'Widget' },
      }),
    );
    expect(out).toMatchObject({ response: { allowed: true }, metrics: { decision: 'skip' } });
  });
});
