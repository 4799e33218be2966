/**
 * The MIC reconcile: one named case per rule (snapshot in, actions out), then a churn property
 * test that drives random cluster changes, crashes and restarts through the reconcile and a
 * simulated store, and checks the result against a direct computation of the desired set.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AzureAssignedIdentity } from '../crds/index.js';
import { ASSIGNED_IDENTITY_FINALIZER } from '../crds/index.js';
import {
  applyActions,
  plan,
  reconcile,
  type Action,
  type MicOptions,
  type MicPod,
  type MicSnapshot,
} from './index.js';

const API = 'aadpodidentity.k8s.io/v1';
const resourceId = (name: string): string =>
  `/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

function pod(
  name: string,
  o: { ns?: string; label?: string | null; node?: string | null; phase?: string } = {},
): MicPod {
  const label = o.label === undefined ? 'sel' : o.label;
  const node = o.node === undefined ? 'n1' : o.node;
  const p: MicPod = {
    metadata: { name, namespace: o.ns ?? 'app', labels: label === null ? {} : { aadpodidbinding: label } },
  };
  if (node !== null) p.spec = { nodeName: node };
  p.status = { phase: o.phase ?? 'Running' };
  return p;
}
function msi(name: string, ns = 'app', res = name): Record<string, unknown> {
  return {
    apiVersion: API,
    kind: 'AzureIdentity',
    metadata: { name, namespace: ns },
    spec: { type: 0, resourceID: resourceId(res), clientID: `${res}-client` },
  };
}
function sp(name: string, ns = 'app'): Record<string, unknown> {
  return {
    apiVersion: API,
    kind: 'AzureIdentity',
    metadata: { name, namespace: ns },
    spec: {
      type: 1,
      clientID: `${name}-client`,
      tenantID: 'tenant',
      clientPassword: { name: `${name}-secret`, namespace: ns },
    },
  };
}
function binding(name: string, identity: string, selector = 'sel', ns = 'app'): Record<string, unknown> {
  return {
    apiVersion: API,
    kind: 'AzureIdentityBinding',
    metadata: { name, namespace: ns },
    spec: { azureIdentity: identity, selector },
  };
}

const NAMESPACED: MicOptions = { allowCrossNamespace: false };
const CROSS: MicOptions = { allowCrossNamespace: true };

function snap(s: Partial<MicSnapshot>): MicSnapshot {
  return { pods: [], identities: [], bindings: [], assigned: [], ...s };
}
/** Actions as one line each, easy to read in a table. */
function summary(actions: readonly Action[]): string[] {
  return actions.map((a) => {
    switch (a.type) {
      case 'create':
      case 'update':
        return `${a.type} ${a.object.metadata.namespace}/${a.object.metadata.name} ${a.object.spec.nodename} ${a.object.status.status}`;
      case 'update-status':
        return `update-status ${a.namespace}/${a.name} ${a.status}`;
      case 'delete':
        return `delete ${a.namespace}/${a.name} ${a.reason}`;
    }
  });
}
/** The store after reconciling `s` once. */
function settled(s: MicSnapshot, o: MicOptions = NAMESPACED): AzureAssignedIdentity[] {
  return applyActions([], reconcile(s, o));
}

describe('reconcile: one case per rule', () => {
  const base = { pods: [pod('web')], identities: [sp('db')], bindings: [binding('db-binding', 'db')] };
  const cases: [string, MicSnapshot, MicOptions, string[]][] = [
    [
      'a scheduled running pod matching a binding to a service principal: Assigned at once',
      snap(base),
      NAMESPACED,
      ['create app/web-app-db n1 Assigned'],
    ],
    [
      'a pending pod counts',
      snap({ ...base, pods: [pod('web', { phase: 'Pending' })] }),
      NAMESPACED,
      ['create app/web-app-db n1 Assigned'],
    ],
    [
      'a pod without a reported phase counts',
      snap({ ...base, pods: [{ ...pod('web'), status: {} }] }),
      NAMESPACED,
      ['create app/web-app-db n1 Assigned'],
    ],
    [
      'a user-assigned identity waits in Created without node confirmation',
      snap({ ...base, identities: [msi('db')] }),
      NAMESPACED,
      ['create app/web-app-db n1 Created'],
    ],
    [
      'a user-assigned identity confirmed on the node is Assigned',
      snap({ ...base, identities: [msi('db')], nodesReady: new Set([`n1|${resourceId('db')}`]) }),
      NAMESPACED,
      ['create app/web-app-db n1 Assigned'],
    ],
    [
      'confirmed on another node only: Created',
      snap({ ...base, identities: [msi('db')], nodesReady: new Set([`n2|${resourceId('db')}`]) }),
      NAMESPACED,
      ['create app/web-app-db n1 Created'],
    ],
    [
      'an unscheduled pod gets nothing',
      snap({ ...base, pods: [pod('web', { node: null })] }),
      NAMESPACED,
      [],
    ],
    [
      'a succeeded pod gets nothing',
      snap({ ...base, pods: [pod('web', { phase: 'Succeeded' })] }),
      NAMESPACED,
      [],
    ],
    ['a failed pod gets nothing', snap({ ...base, pods: [pod('web', { phase: 'Failed' })] }), NAMESPACED, []],
    [
      'a pod without the label gets nothing',
      snap({ ...base, pods: [pod('web', { label: null })] }),
      NAMESPACED,
      [],
    ],
    [
      'a label that differs from the selector gets nothing',
      snap({ ...base, pods: [pod('web', { label: 'Sel' })] }),
      NAMESPACED,
      [],
    ],
    ['a binding to a missing identity gets nothing', snap({ ...base, identities: [] }), NAMESPACED, []],
    [
      'a binding in another namespace does not match by default',
      snap({ ...base, pods: [pod('web', { ns: 'other' })] }),
      NAMESPACED,
      [],
    ],
    [
      'a binding in another namespace matches with allowCrossNamespace (object in default, as upstream)',
      snap({ ...base, pods: [pod('web', { ns: 'other' })] }),
      CROSS,
      ['create default/web-other-db n1 Assigned'],
    ],
    [
      'the identity is looked up in the binding namespace, even cross-namespace',
      snap({ ...base, identities: [sp('db', 'other')] }),
      CROSS,
      [],
    ],
    [
      'an identity annotated Behavior: namespaced serves only its namespace, even cross-namespace',
      snap({
        ...base,
        pods: [pod('web', { ns: 'other' }), pod('api')],
        identities: [
          {
            ...sp('db'),
            metadata: {
              name: 'db',
              namespace: 'app',
              annotations: { 'aadpodidentity.k8s.io/Behavior': 'namespaced' },
            },
          },
        ],
      }),
      CROSS,
      ['create default/api-app-db n1 Assigned'],
    ],
    [
      'two bindings naming one identity: one object',
      snap({ ...base, bindings: [binding('b2', 'db'), binding('b1', 'db')] }),
      NAMESPACED,
      ['create app/web-app-db n1 Assigned'],
    ],
    [
      'two bindings naming two identities: two objects',
      snap({
        ...base,
        identities: [sp('db'), sp('cache')],
        bindings: [binding('b1', 'db'), binding('b2', 'cache')],
      }),
      NAMESPACED,
      ['create app/web-app-cache n1 Assigned', 'create app/web-app-db n1 Assigned'],
    ],
    [
      'an invalid identity is ignored whole',
      snap({ ...base, identities: [{ ...sp('db'), spec: { type: 1, clientID: 'x' } }] }),
      NAMESPACED,
      [],
    ],
    [
      'an invalid binding is ignored whole',
      snap({ ...base, bindings: [binding('b', 'db', 'a b')] }),
      NAMESPACED,
      [],
    ],
    [
      'upstream names that collide: the second gets a hashed name',
      snap({
        pods: [pod('x-app', { label: 's1' }), pod('x', { label: 's2' })],
        identities: [sp('db'), sp('app-db')],
        bindings: [binding('b1', 'db', 's1'), binding('b2', 'app-db', 's2')],
      }),
      NAMESPACED,
      [
        'create app/x-app-app-db n1 Assigned',
        expect.stringMatching(/^create app\/x-app-app-db-[0-9a-f]{10} n1 Assigned$/) as string,
      ],
    ],
  ];
  it.each(cases)('%s', (_name, s, o, expected) => {
    expect(summary(reconcile(s, o))).toEqual(expected);
  });

  it('a created object carries upstream labels, finalizer and embedded copies', () => {
    const [a] = settled(snap(base));
    expect(a?.metadata.labels).toEqual({ nodename: 'n1' });
    expect(a?.metadata.finalizers).toEqual([ASSIGNED_IDENTITY_FINALIZER]);
    expect(a?.spec).toMatchObject({
      pod: 'web',
      podNamespace: 'app',
      nodename: 'n1',
      azureIdentityRef: {
        kind: 'AzureIdentity',
        metadata: { name: 'db', namespace: 'app' },
        spec: { type: 1, clientID: 'db-client' },
      },
      azureBindingRef: { kind: 'AzureIdentityBinding', metadata: { name: 'db-binding', namespace: 'app' } },
    });
    expect(a?.status).toEqual({ status: 'Assigned', availableReplicas: 1 });
  });

  it('with two bindings for one identity the object carries the first binding by name', () => {
    const [a] = settled(snap({ ...base, bindings: [binding('b2', 'db'), binding('b1', 'db')] }));
    expect(a?.spec.azureBindingRef.metadata.name).toBe('b1');
  });

  const current = settled(snap(base));
  const currentMsi = settled(snap({ ...base, identities: [msi('db')] }));
  const changes: [string, MicSnapshot, string[]][] = [
    ['nothing changed: no action', snap({ ...base, assigned: current }), []],
    [
      'pod deleted: deleted',
      snap({ ...base, pods: [], assigned: current }),
      ['delete app/web-app-db not-desired'],
    ],
    [
      'pod finished: deleted',
      snap({ ...base, pods: [pod('web', { phase: 'Succeeded' })], assigned: current }),
      ['delete app/web-app-db not-desired'],
    ],
    [
      'pod relabelled: deleted',
      snap({ ...base, pods: [pod('web', { label: 'other' })], assigned: current }),
      ['delete app/web-app-db not-desired'],
    ],
    [
      'binding deleted: deleted',
      snap({ ...base, bindings: [], assigned: current }),
      ['delete app/web-app-db not-desired'],
    ],
    [
      'identity deleted: deleted',
      snap({ ...base, identities: [], assigned: current }),
      ['delete app/web-app-db not-desired'],
    ],
    [
      'identity became invalid: deleted',
      snap({ ...base, identities: [{ ...sp('db'), spec: { type: 9 } }], assigned: current }),
      ['delete app/web-app-db not-desired'],
    ],
    [
      'pod rescheduled: updated to the new node',
      snap({ ...base, pods: [pod('web', { node: 'n2' })], assigned: current }),
      ['update app/web-app-db n2 Assigned'],
    ],
    [
      'identity edited: embedded copy updated',
      snap({
        ...base,
        identities: [{ ...sp('db'), spec: { ...(sp('db')['spec'] as object), clientID: 'new' } }],
        assigned: current,
      }),
      ['update app/web-app-db n1 Assigned'],
    ],
    [
      'user-assigned identity confirmed later: Created -> Assigned',
      snap({
        ...base,
        identities: [msi('db')],
        assigned: currentMsi,
        nodesReady: new Set([`n1|${resourceId('db')}`]),
      }),
      ['update-status app/web-app-db Assigned'],
    ],
    [
      'user-assigned identity rescheduled: back to Created until the new node is confirmed',
      snap({
        ...base,
        pods: [pod('web', { node: 'n2' })],
        identities: [msi('db')],
        assigned: settled(
          snap({ ...base, identities: [msi('db')], nodesReady: new Set([`n1|${resourceId('db')}`]) }),
        ),
        nodesReady: new Set([`n1|${resourceId('db')}`]),
      }),
      ['update app/web-app-db n2 Created'],
    ],
    [
      'without node information an unchanged Assigned user-assigned identity stays Assigned',
      snap({
        ...base,
        identities: [msi('db')],
        assigned: settled(
          snap({ ...base, identities: [msi('db')], nodesReady: new Set([`n1|${resourceId('db')}`]) }),
        ),
      }),
      [],
    ],
    [
      'an Unassigned object that is desired again is revived',
      snap({ ...base, assigned: current.map((a) => ({ ...a, status: { status: 'Unassigned' as const } })) }),
      ['update-status app/web-app-db Assigned'],
    ],
    [
      'an empty status (MIC < 1.6) is honoured as Assigned',
      snap({ ...base, assigned: current.map((a) => ({ ...a, status: { status: '' } })) }),
      [],
    ],
    [
      'a duplicate object for the same pod and identity is deleted',
      snap({
        ...base,
        assigned: [...current, ...current.map((a) => ({ ...a, metadata: { ...a.metadata, name: 'copy' } }))],
      }),
      ['delete app/copy duplicate'],
    ],
    [
      'a terminating object is deleted again (finalizer removed) and the pod served by a fresh one',
      snap({
        ...base,
        assigned: current.map((a) => ({
          ...a,
          metadata: { ...a.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' },
        })),
      }),
      [
        'delete app/web-app-db terminating',
        expect.stringMatching(/^create app\/web-app-db-[0-9a-f]{10} n1 Assigned$/) as string,
      ],
    ],
    [
      'a malformed object is deleted',
      snap({
        ...base,
        assigned: [
          ...current,
          {
            apiVersion: API,
            kind: 'AzureAssignedIdentity',
            metadata: { name: 'junk', namespace: 'app' },
            spec: {},
          },
        ],
      }),
      ['delete app/junk malformed'],
    ],
    [
      'switching to cross-namespace moves the object to default',
      snap({ ...base, assigned: current }),
      ['delete app/web-app-db moved-namespace', 'create default/web-app-db n1 Assigned'],
    ],
  ];
  it.each(changes)('%s', (name, s, expected) => {
    const o = name.startsWith('switching') ? CROSS : NAMESPACED;
    expect(summary(reconcile(s, o))).toEqual(expected);
  });

  it('reports invalid identities and bindings with their problems', () => {
    const p = plan(
      snap({ ...base, identities: [{ ...sp('db'), spec: { type: 1 } }], bindings: [binding('b', 'db', '')] }),
      NAMESPACED,
    );
    expect(p.actions).toEqual([]);
    expect(p.invalid.map((i) => [i.kind, i.namespace, i.name, i.problems.map((x) => x.path)])).toEqual([
      ['AzureIdentity', 'app', 'db', ['spec.clientID', 'spec.tenantID', 'spec.clientPassword']],
      ['AzureIdentityBinding', 'app', 'b', ['spec.selector']],
    ]);
  });
});

describe('reconcile: pods on a deleted Node', () => {
  const base = { pods: [pod('web')], identities: [sp('db')], bindings: [binding('db-binding', 'db')] };
  const onN1 = settled(snap(base));
  const onN1Msi = settled(
    snap({ ...base, identities: [msi('db')], nodesReady: new Set([`n1|${resourceId('db')}`]) }),
  );
  const cases: [string, MicSnapshot, string[]][] = [
    [
      "the pod's node exists: assigned as usual",
      snap({ ...base, nodes: new Set(['n1', 'n2']) }),
      ['create app/web-app-db n1 Assigned'],
    ],
    [
      "the pod's node is not among the existing Nodes: no assignment",
      snap({ ...base, nodes: new Set(['n2']) }),
      [],
    ],
    [
      'no Node list (local mode without Node manifests): nodes are not checked',
      snap(base),
      ['create app/web-app-db n1 Assigned'],
    ],
    [
      'the node went away: its existing assignment is deleted (node-deleted)',
      snap({ ...base, assigned: onN1, nodes: new Set(['n2']) }),
      ['delete app/web-app-db node-deleted'],
    ],
    [
      "the node went away: a user-assigned identity's assignment is deleted too",
      snap({ ...base, identities: [msi('db')], assigned: onN1Msi, nodes: new Set(['n2']) }),
      ['delete app/web-app-db node-deleted'],
    ],
    [
      'an empty Node list checks every pod (the controller never gives an empty one)',
      snap({ ...base, assigned: onN1, nodes: new Set<string>() }),
      ['delete app/web-app-db node-deleted'],
    ],
    [
      'the node exists again: nothing to do for the kept assignment',
      snap({ ...base, assigned: onN1, nodes: new Set(['n1']) }),
      [],
    ],
    [
      'only the pods on the deleted node lose theirs',
      snap({
        ...base,
        pods: [pod('web'), pod('api', { node: 'n2' })],
        assigned: settled(snap({ ...base, pods: [pod('web'), pod('api', { node: 'n2' })] })),
        nodes: new Set(['n2']),
      }),
      ['delete app/web-app-db node-deleted'],
    ],
  ];
  it.each(cases)('%s', (_name, s, expected) => {
    expect(summary(reconcile(s, NAMESPACED))).toEqual(expected);
  });

  it('nodeIdentities leaves out a deleted node', () => {
    const p = plan(snap({ ...base, identities: [msi('db')], nodes: new Set(['n2']) }), NAMESPACED);
    expect([...p.nodeIdentities.keys()]).toEqual([]);
  });
});

describe('reconcile: a client id claimed by several AzureIdentities', () => {
  const ORDERS = '5b1e1c5e-0000-4000-8000-00000000abcd';
  const withClient = (obj: Record<string, unknown>, clientID: string, extra: object = {}) => ({
    ...obj,
    spec: { ...(obj['spec'] as object), clientID, ...extra },
  });
  // The reproduction: prod's orders identity, and a copy of its client id made in namespace evil.
  const prod = {
    pods: [pod('api', { ns: 'prod', label: 'orders' })],
    identities: [withClient(sp('orders', 'prod'), ORDERS)],
    bindings: [binding('orders', 'orders', 'orders', 'prod')],
  };
  const evil = {
    pods: [pod('thief', { ns: 'evil', label: 'steal' })],
    identities: [withClient(sp('copy', 'evil'), ORDERS)],
    bindings: [binding('steal', 'copy', 'steal', 'evil')],
  };
  const both = (e: Partial<typeof evil> = evil, o: Partial<typeof prod> = prod) => ({
    pods: [...(o.pods ?? prod.pods), ...(e.pods ?? evil.pods)],
    identities: [...(o.identities ?? prod.identities), ...(e.identities ?? evil.identities)],
    bindings: [...(o.bindings ?? prod.bindings), ...(e.bindings ?? evil.bindings)],
  });
  const prodAssigned = settled(snap(prod));
  const cases: [string, MicSnapshot, MicOptions, string[], string[]][] = [
    [
      'one identity with the client id: assigned as before',
      snap(prod),
      NAMESPACED,
      ['create prod/api-prod-orders n1 Assigned'],
      [],
    ],
    [
      'two namespaces, one client id, same tenant: no assignment for either',
      snap(both()),
      NAMESPACED,
      [],
      ['evil/copy', 'prod/orders'],
    ],
    [
      'the copy names another tenant: still refused (client ids are global)',
      snap(both({ identities: [withClient(sp('copy', 'evil'), ORDERS, { tenantID: 'other-tenant' })] })),
      NAMESPACED,
      [],
      ['evil/copy', 'prod/orders'],
    ],
    [
      'the copy differs only in letter case',
      snap(both({ identities: [withClient(sp('copy', 'evil'), ORDERS.toUpperCase())] })),
      NAMESPACED,
      [],
      ['evil/copy', 'prod/orders'],
    ],
    [
      'type 0 copies in managed mode (Assigned at once otherwise): refused',
      snap({
        ...both(
          { identities: [withClient(msi('copy', 'evil', 'orders'), ORDERS)] },
          { identities: [withClient(msi('orders', 'prod'), ORDERS)] },
        ),
      }),
      { allowCrossNamespace: false, preassigned: true },
      [],
      ['evil/copy', 'prod/orders'],
    ],
    [
      'a malformed copy (no tenant) still blocks the original',
      snap(both({ identities: [withClient(sp('copy', 'evil'), ORDERS, { tenantID: undefined })] })),
      NAMESPACED,
      [],
      ['prod/orders'], // the copy is reported for its own problems,
    ],
    [
      'the copy appears after prod was assigned: the assignment is removed',
      snap({ ...both(), assigned: prodAssigned }),
      NAMESPACED,
      ['delete prod/api-prod-orders not-desired'],
      ['evil/copy', 'prod/orders'],
    ],
    ['cross-namespace mode: same rule', snap(both()), CROSS, [], ['evil/copy', 'prod/orders']],
  ];
  it.each(cases)('%s', (_name, s, o, actions, refused) => {
    const p = plan(s, o);
    expect(summary(p.actions)).toEqual(actions);
    const dup = p.invalid.filter((i) =>
      i.problems.some((x) => x.message.includes('claimed by more than one')),
    );
    expect(dup.map((i) => `${i.namespace}/${i.name}`).sort()).toEqual(refused);
    for (const i of dup) {
      expect(i.kind).toBe('AzureIdentity');
      expect(i.problems).toContainEqual({
        path: 'spec.clientID',
        message: expect.stringContaining('(evil/copy, prod/orders)') as string,
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Churn: random changes, reconciles, crashes midway through applying, restarts from scratch.

const NS = ['a', 'b'] as const;
// 'x-a' with identity 'i0' and 'x' with identity 'a-i0' share upstream's name x-a-a-i0 in namespace a.
const POD_NAMES = ['p0', 'p1', 'p2', 'x', 'x-a'] as const;
const NODES = ['n1', 'n2'] as const;
const SELECTORS = ['s0', 's1'] as const;
const ID_NAMES = ['i0', 'i1', 'a-i0'] as const;
const BINDING_NAMES = ['b0', 'b1', 'b2'] as const;

interface World {
  pods: Map<string, MicPod>;
  identities: Map<string, { obj: Record<string, unknown>; valid: boolean; type: 0 | 1; res: string }>;
  bindings: Map<
    string,
    { obj: Record<string, unknown>; valid: boolean; ns: string; identity: string; selector: string }
  >;
  nodesReady: Set<string>;
  /** The Node objects; the controller passes them only when at least one exists (local mode). */
  nodes: Set<string>;
  store: AzureAssignedIdentity[];
}

type Command =
  | { c: 'pod'; ns: string; name: string; label: string | null; node: string | null; phase: string }
  | { c: 'delPod'; ns: string; name: string }
  | { c: 'identity'; ns: string; name: string; type: 0 | 1; res: string; valid: boolean }
  | { c: 'delIdentity'; ns: string; name: string }
  | { c: 'binding'; ns: string; name: string; identity: string; selector: string; valid: boolean }
  | { c: 'delBinding'; ns: string; name: string }
  | { c: 'ready'; node: string; res: string; on: boolean }
  | { c: 'node'; node: string; exists: boolean }
  | { c: 'reconcile' }
  | { c: 'crash'; keep: number }
  | { c: 'restart'; seed: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      c: fc.constant('pod' as const),
      ns: fc.constantFrom(...NS),
      name: fc.constantFrom(...POD_NAMES),
      label: fc.constantFrom<string | null>(...SELECTORS, null),
      node: fc.constantFrom<string | null>(...NODES, null),
      phase: fc.constantFrom('Running', 'Pending', 'Succeeded'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      c: fc.constant('delPod' as const),
      ns: fc.constantFrom(...NS),
      name: fc.constantFrom(...POD_NAMES),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      c: fc.constant('identity' as const),
      ns: fc.constantFrom(...NS),
      name: fc.constantFrom(...ID_NAMES),
      type: fc.constantFrom<0 | 1>(0, 1),
      res: fc.constantFrom('r0', 'r1'),
      valid: fc.constantFrom(true, true, true, false),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      c: fc.constant('delIdentity' as const),
      ns: fc.constantFrom(...NS),
      name: fc.constantFrom(...ID_NAMES),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      c: fc.constant('binding' as const),
      ns: fc.constantFrom(...NS),
      name: fc.constantFrom(...BINDING_NAMES),
      identity: fc.constantFrom(...ID_NAMES),
      selector: fc.constantFrom(...SELECTORS),
      valid: fc.constantFrom(true, true, true, false),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      c: fc.constant('delBinding' as const),
      ns: fc.constantFrom(...NS),
      name: fc.constantFrom(...BINDING_NAMES),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      c: fc.constant('ready' as const),
      node: fc.constantFrom(...NODES),
      res: fc.constantFrom('r0', 'r1'),
      on: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      c: fc.constant('node' as const),
      node: fc.constantFrom(...NODES),
      exists: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ c: 'reconcile' as const }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constant('crash' as const), keep: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constant('restart' as const), seed: fc.nat() }) },
);

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function snapshotOf(w: World, seed = 0): MicSnapshot {
  // A restart rebuilds everything from the store: fresh objects (JSON round trip), any order.
  const fresh = <T>(xs: readonly T[]): T[] => shuffle(JSON.parse(JSON.stringify(xs)) as T[], seed);
  return {
    pods: fresh([...w.pods.values()]),
    identities: fresh([...w.identities.values()].map((i) => i.obj)),
    bindings: fresh([...w.bindings.values()].map((b) => b.obj)),
    assigned: fresh(w.store),
    nodesReady: new Set(w.nodesReady),
    ...(w.nodes.size > 0 ? { nodes: new Set(w.nodes) } : {}),
  };
}

/** The desired set computed directly from the model (validity known by construction), not by reconcile. */
function expected(w: World, o: MicOptions): Map<string, { node: string; status: string }> {
  const out = new Map<string, { node: string; status: string }>();
  // A client id claimed by more than one identity object serves nobody.
  const claims = new Map<string, number>();
  for (const i of w.identities.values()) {
    const c = (i.obj['spec'] as { clientID?: string }).clientID ?? '';
    if (c !== '') claims.set(c, (claims.get(c) ?? 0) + 1);
  }
  for (const p of w.pods.values()) {
    const ns = p.metadata.namespace ?? 'default';
    const label = p.metadata.labels?.['aadpodidbinding'];
    const node = p.spec?.nodeName;
    if (!label || !node || p.status?.phase === 'Succeeded') continue;
    // A pod on a deleted Node has no assignment (checked once any Node is known).
    if (w.nodes.size > 0 && !w.nodes.has(node)) continue;
    for (const b of w.bindings.values()) {
      if (!b.valid || b.selector !== label || (!o.allowCrossNamespace && b.ns !== ns)) continue;
      const id = w.identities.get(`${b.ns}/${b.identity}`);
      if (!id?.valid) continue;
      if ((claims.get((id.obj['spec'] as { clientID?: string }).clientID ?? '') ?? 0) > 1) continue;
      const ready = id.type === 1 || w.nodesReady.has(`${node}|${resourceId(id.res)}`);
      out.set(`${ns}/${p.metadata.name}/${b.ns}/${b.identity}`, {
        node,
        status: ready ? 'Assigned' : 'Created',
      });
    }
  }
  return out;
}

function step(w: World, cmd: Command, o: MicOptions): void {
  switch (cmd.c) {
    case 'pod':
      w.pods.set(
        `${cmd.ns}/${cmd.name}`,
        pod(cmd.name, { ns: cmd.ns, label: cmd.label, node: cmd.node, phase: cmd.phase }),
      );
      return;
    case 'delPod':
      w.pods.delete(`${cmd.ns}/${cmd.name}`);
      return;
    case 'identity': {
      const obj = cmd.type === 0 ? msi(cmd.name, cmd.ns, cmd.res) : sp(cmd.name, cmd.ns);
      // Client ids unique per object, except 'i1': its namespaces a and b claim one client id,
      // so copies appear and disappear under churn (every claimant then unusable).
      const clientID = cmd.name === 'i1' ? 'shared-client' : `${cmd.ns}-${cmd.name}-client`;
      obj['spec'] = { ...(obj['spec'] as object), clientID: cmd.valid ? clientID : '' };
      w.identities.set(`${cmd.ns}/${cmd.name}`, { obj, valid: cmd.valid, type: cmd.type, res: cmd.res });
      return;
    }
    case 'delIdentity':
      w.identities.delete(`${cmd.ns}/${cmd.name}`);
      return;
    case 'binding':
      w.bindings.set(`${cmd.ns}/${cmd.name}`, {
        obj: binding(cmd.name, cmd.identity, cmd.valid ? cmd.selector : `${cmd.selector} x`, cmd.ns),
        valid: cmd.valid,
        ns: cmd.ns,
        identity: cmd.identity,
        selector: cmd.selector,
      });
      return;
    case 'delBinding':
      w.bindings.delete(`${cmd.ns}/${cmd.name}`);
      return;
    case 'ready':
      if (cmd.on) w.nodesReady.add(`${cmd.node}|${resourceId(cmd.res)}`);
      else w.nodesReady.delete(`${cmd.node}|${resourceId(cmd.res)}`);
      return;
    case 'node':
      if (cmd.exists) w.nodes.add(cmd.node);
      else w.nodes.delete(cmd.node);
      return;
    case 'reconcile':
    case 'restart': {
      const s = snapshotOf(w, cmd.c === 'restart' ? cmd.seed : 0);
      const actions = reconcile(s, o);
      w.store = applyActions(w.store, actions);
      // Idempotent: reconciling the result of the actions asks for nothing more.
      expect(summary(reconcile({ ...s, assigned: w.store }, o))).toEqual([]);
      return;
    }
    case 'crash': {
      // The controller dies after applying only some of its actions.
      const actions = reconcile(snapshotOf(w), o);
      w.store = applyActions(w.store, actions.slice(0, cmd.keep));
      return;
    }
  }
}

describe('reconcile under churn', () => {
  it('ends with no orphaned, duplicate or missing assignment, whatever the sequence', () => {
    let nonEmpty = 0;
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 20, maxLength: 80 }), fc.boolean(), (commands, cross) => {
        const o: MicOptions = { allowCrossNamespace: cross };
        const w: World = {
          pods: new Map(),
          identities: new Map(),
          bindings: new Map(),
          nodesReady: new Set(),
          nodes: new Set(),
          store: [],
        };
        for (const cmd of commands) step(w, cmd, o);
        step(w, { c: 'restart', seed: 7 }, o);

        const want = expected(w, o);
        if (want.size > 0) nonEmpty++;
        const seen = new Map<string, { node: string; status: string }>();
        for (const a of w.store) {
          const s = a.spec;
          const key = `${s.podNamespace}/${s.pod}/${s.azureIdentityRef.metadata.namespace}/${s.azureIdentityRef.metadata.name}`;
          expect(seen.has(key), `duplicate ${key}`).toBe(false);
          seen.set(key, { node: s.nodename, status: a.status.status });
          expect(a.metadata.labels?.['nodename']).toBe(s.nodename);
          expect(a.metadata.namespace).toBe(cross ? 'default' : s.azureIdentityRef.metadata.namespace);
        }
        expect(seen).toEqual(want);
        const names = w.store.map((a) => `${a.metadata.namespace}/${a.metadata.name}`);
        expect(new Set(names).size).toBe(names.length);
      }),
      { numRuns: 300 },
    );
    // The generator must reach interesting states, not only empty clusters.
    expect(nonEmpty).toBeGreaterThan(30);
  });
});

describe('reconcile: node assignment inputs and outputs', () => {
  const base = { pods: [pod('web'), pod('api', { node: 'n2' })], bindings: [binding('db-binding', 'db')] };

  it('preassigned (managed mode, no Resource Manager): a user-assigned identity is Assigned at once', () => {
    const out = reconcile(snap({ ...base, identities: [msi('db')] }), { ...NAMESPACED, preassigned: true });
    expect(summary(out)).toEqual(['create app/api-app-db n2 Assigned', 'create app/web-app-db n1 Assigned']);
  });

  it('nodeIdentities lists the type 0 resource IDs each node needs, and nothing for service principals', () => {
    const withMsi = plan(snap({ ...base, identities: [msi('db')] }), NAMESPACED);
    expect(withMsi.nodeIdentities).toEqual(
      new Map([
        ['n1', new Set([resourceId('db')])],
        ['n2', new Set([resourceId('db')])],
      ]),
    );
    expect(plan(snap({ ...base, identities: [sp('db')] }), NAMESPACED).nodeIdentities.size).toBe(0);
  });

  it('a node not read yet keeps a confirmed assignment instead of flipping it back to Created', () => {
    const ready = new Set([`n1|${resourceId('db')}`, `n2|${resourceId('db')}`]);
    const store = settled(snap({ ...base, identities: [msi('db')], nodesReady: ready }));
    const after = reconcile(
      snap({
        ...base,
        identities: [msi('db')],
        assigned: store,
        nodesReady: new Set(),
        nodesUnknown: new Set(['n1']),
      }),
      NAMESPACED,
    );
    expect(summary(after)).toEqual(['update-status app/api-app-db Created']);
  });
});
