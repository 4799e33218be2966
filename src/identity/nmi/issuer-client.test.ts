/**
 * The in-process issuer provider: tokens verify with the issuer's JWKS; refusals map to HTTP
 * answers; and the `issuer-local` composition (caches -> cluster deps -> issuer -> provider, as
 * the NMI CLI wires it) refuses a client id claimed by two namespaces' AzureIdentities.
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/types.js';
import { createIssuer, KeySet, verifyToken } from '../issuer/index.js';
import type { Issuer } from '../issuer/index.js';
import { createNmiClusterDeps } from './cluster-deps.js';
import { issuerIdentitiesFrom, LocalIssuerTokenProvider } from './issuer-client.js';
import type { NmiIdentity } from './types.js';

const BASE = 'https://issuer.test';
const sp: NmiIdentity = { namespace: 'default', name: 'sp', type: 1, clientID: 'client-sp', tenantID: 't1' };

async function setup(): Promise<{ issuer: Issuer; keys: KeySet }> {
  const keys = await KeySet.generate({ retentionSeconds: 3600, alg: 'ES256' });
  const issuer = createIssuer({
    baseUrl: BASE,
    keys,
    identities: () =>
      issuerIdentitiesFrom([
        {
          metadata: { name: 'sp', namespace: 'default' },
          spec: { type: 1, clientID: 'client-sp', tenantID: 't1' },
        },
        { metadata: { name: 'msi', namespace: 'default' }, spec: { type: 0, clientID: 'client-msi' } },
      ]),
    isAssignedOnNode: (node, id) =>
      node === 'n1' && id.namespace === 'default' && id.name === 'sp' && id.clientId === 'client-sp',
  });
  return { issuer, keys };
}

describe('LocalIssuerTokenProvider', () => {
  it('returns a token that verifies with the issuer JWKS, for the requested audience', async () => {
    const { issuer, keys } = await setup();
    const got = await new LocalIssuerTokenProvider({ issuer, nodeName: 'n1' }).getToken(
      sp,
      'https://vault.azure.net',
    );
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.token.expiresOnMs).toBeGreaterThan(Date.now());
    const v = await verifyToken(got.token.accessToken, {
      issuer: issuer.issuerFor('t1'),
      audience: 'https://vault.azure.net',
      jwks: keys.jwks(),
    });
    expect(v.ok).toBe(true);
    if (v.ok) expect(v.token.claims.appid).toBe('client-sp');
  });

  const refusals: {
    name: string;
    node: string;
    identity: NmiIdentity;
    resource: string;
    status: number;
    error: string;
  }[] = [
    {
      name: 'not assigned on this node',
      node: 'n2',
      identity: sp,
      resource: 'https://x',
      status: 403,
      error: 'forbidden',
    },
    {
      name: 'a resource with spaces',
      node: 'n1',
      identity: sp,
      resource: 'a b',
      status: 400,
      error: 'invalid_resource',
    },
    {
      name: 'an identity the issuer does not know',
      node: 'n1',
      identity: { ...sp, clientID: 'nobody' },
      resource: 'https://x',
      status: 400,
      error: 'invalid_request',
    },
  ];
  for (const c of refusals) {
    it(`refuses: ${c.name}`, async () => {
      const { issuer } = await setup();
      const got = await new LocalIssuerTokenProvider({ issuer, nodeName: c.node }).getToken(
        c.identity,
        c.resource,
      );
      expect(got).toMatchObject({ ok: false, status: c.status, error: c.error });
    });
  }

  it('a throwing issuer is a 503 without internals', async () => {
    const issuer = {
      mintForIdentity: () => Promise.reject(new Error('secret-ish internals')),
    };
    const got = await new LocalIssuerTokenProvider({ issuer, nodeName: 'n1' }).getToken(sp, 'https://x');
    expect(got).toMatchObject({ ok: false, status: 503, error: 'temporarily_unavailable' });
    expect(JSON.stringify(got)).not.toContain('internals');
  });
});

describe('issuerIdentitiesFrom', () => {
  it('takes namespace/name, client, tenant (default when absent) and object ids; keeps shared client ids', () => {
    const meta = (name: string, namespace?: string) => ({
      metadata: namespace === undefined ? { name } : { name, namespace },
    });
    expect(
      issuerIdentitiesFrom([
        { ...meta('ia', 'n1'), spec: { clientID: 'a', tenantID: 't', objectID: 'o' } },
        { ...meta('ib'), spec: { clientID: 'b' } },
        // the same client id in another namespace: kept, so the issuer sees both claimants
        { ...meta('copy', 'n2'), spec: { clientID: 'a', tenantID: 'other' } },
        { ...meta('ia', 'n1'), spec: { clientID: 'a', tenantID: 'again' } },
        { ...meta('none', 'n1'), spec: { type: 0 } },
        { spec: { clientID: 'nameless' } },
        { metadata: { name: 'x' } },
      ]),
    ).toEqual([
      { namespace: 'n1', name: 'ia', clientId: 'a', tenantId: 't', objectId: 'o' },
      { namespace: 'default', name: 'ib', clientId: 'b', tenantId: 'podsec', objectId: undefined },
      { namespace: 'n2', name: 'copy', clientId: 'a', tenantId: 'other', objectId: undefined },
    ]);
  });
});

describe('issuer-local: a client id claimed by AzureIdentities in two namespaces (review finding 1)', () => {
  const ORDERS = '5b1e1c5e-0000-4000-8000-00000000abcd';
  const az = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentity',
    metadata: { name, namespace },
    spec,
  });
  const assignment = (
    podNs: string,
    pod: string,
    idNs: string,
    id: string,
    status = 'Assigned',
  ): KubeObject => ({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureAssignedIdentity',
    metadata: { name: `${pod}-${podNs}-${id}`, namespace: idNs },
    spec: {
      pod,
      podNamespace: podNs,
      nodename: 'n1',
      azureIdentityRef: { metadata: { name: id, namespace: idNs }, spec: {} },
      azureBindingRef: { metadata: { name: id, namespace: idNs }, spec: {} },
    },
    status: { status },
  });
  const prod = az('prod', 'orders', {
    type: 0,
    clientID: ORDERS,
    tenantID: 'prod-tenant',
    objectID: 'prod-oid',
  });
  const copy = (extra: Record<string, unknown> = {}) =>
    az('evil', 'copy', { type: 1, clientID: ORDERS, tenantID: 'prod-tenant', ...extra });
  const asProd: NmiIdentity = { namespace: 'prod', name: 'orders', type: 0, clientID: ORDERS };
  const asEvil: NmiIdentity = { namespace: 'evil', name: 'copy', type: 1, clientID: ORDERS };

  const cases: {
    name: string;
    identities: KubeObject[];
    assigned: KubeObject[];
    ask: NmiIdentity;
    want: { ok: true; oid: string } | { ok: false; status: number; says: RegExp };
  }[] = [
    {
      name: 'one AzureIdentity with the client id: prod gets its token (tid/oid of prod/orders)',
      identities: [prod],
      assigned: [assignment('prod', 'api', 'prod', 'orders')],
      ask: asProd,
      want: { ok: true, oid: 'prod-oid' },
    },
    {
      name: 'the copy exists and both are assigned on the node: the evil pod gets nothing',
      identities: [prod, copy()],
      assigned: [assignment('prod', 'api', 'prod', 'orders'), assignment('evil', 'thief', 'evil', 'copy')],
      ask: asEvil,
      want: {
        ok: false,
        status: 403,
        // only its own identity is named: prod's namespace is not disclosed to the evil pod
        says: /^Identity evil\/copy \([^)]*\) cannot be used: another AzureIdentity claims the same client id; the cluster operator must remove the duplicate$/,
      },
    },
    {
      name: 'the copy exists: prod gets nothing either (no first-come winner)',
      identities: [copy(), prod],
      assigned: [assignment('prod', 'api', 'prod', 'orders'), assignment('evil', 'thief', 'evil', 'copy')],
      ask: asProd,
      want: {
        ok: false,
        status: 403,
        says: /^Identity prod\/orders \([^)]*\) cannot be used: another AzureIdentity/,
      },
    },
    {
      name: 'the copy names another tenant: still refused',
      identities: [prod, copy({ tenantID: 'evil-tenant' })],
      assigned: [assignment('evil', 'thief', 'evil', 'copy')],
      ask: asEvil,
      want: { ok: false, status: 403, says: /another AzureIdentity claims the same client id/ },
    },
    {
      name: "the copy is only Created (not Assigned), prod's assignment does not stand in for it",
      identities: [prod, copy({ clientID: 'another-client' })],
      assigned: [
        assignment('prod', 'api', 'prod', 'orders'),
        assignment('evil', 'thief', 'evil', 'copy', 'Created'),
      ],
      ask: { ...asEvil, clientID: 'another-client' },
      want: { ok: false, status: 403, says: /evil\/copy .* not assigned on this node/ },
    },
  ];
  it.each(cases)('$name', async (c) => {
    const keys = await KeySet.generate({ retentionSeconds: 3600, alg: 'ES256' });
    const byName = new Map(c.identities.map((o) => [`${o.metadata?.namespace}/${o.metadata?.name}`, o]));
    const cluster = createNmiClusterDeps(
      { pods: () => [], assignedIdentities: () => c.assigned, identity: (ns, n) => byName.get(`${ns}/${n}`) },
      'n1',
    );
    const issuer = createIssuer({
      baseUrl: BASE,
      keys,
      identities: () => issuerIdentitiesFrom(c.identities),
      isAssignedOnNode: (node, id) => cluster.isAssignedOnNode(node, id),
    });
    const got = await new LocalIssuerTokenProvider({ issuer, nodeName: 'n1' }).getToken(
      c.ask,
      'api://orders',
    );
    if (!c.want.ok) {
      expect(got).toMatchObject({ ok: false, status: c.want.status, error: 'forbidden' });
      expect(!got.ok && got.description).toMatch(c.want.says);
      return;
    }
    if (!got.ok) throw new Error(got.description);
    const v = await verifyToken(got.token.accessToken, {
      issuer: issuer.issuerFor('prod-tenant'),
      audience: 'api://orders',
      jwks: keys.jwks(),
    });
    expect(v.ok && v.token.claims).toMatchObject({ oid: c.want.oid, tid: 'prod-tenant', appid: ORDERS });
  });
});
