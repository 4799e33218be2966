/** The pure node-assignment decisions: provider IDs, batching per target, safe removal, type strings. */
import { describe, expect, it } from 'vitest';
import {
  identityType,
  identityUpdate,
  parseProviderId,
  planNodeAssignments,
  readyPairs,
  targetKey,
  type NodeAssignmentInput,
} from './node-assignment.js';

const SUB = 'sub-1';
const vmPid = (name: string): string =>
  `azure:///subscriptions/${SUB}/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/${name}`;
const vmssPid = (ss: string, i: number): string =>
  `azure:///subscriptions/${SUB}/resourceGroups/RG/providers/Microsoft.Compute/virtualMachineScaleSets/${ss}/virtualMachines/${i}`;
const mi = (n: string): string =>
  `/subscriptions/${SUB}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`;
const vmKey = (name: string): string => targetKey(parseProviderId(vmPid(name))!);
const ssKey = (ss: string): string => targetKey(parseProviderId(vmssPid(ss, 0))!);

describe('parseProviderId', () => {
  it.each([
    ['vm', vmPid('vm1'), { kind: 'vm', subscriptionId: SUB, resourceGroup: 'RG', name: 'vm1' }],
    [
      'vmss instance',
      vmssPid('pool', 7),
      { kind: 'vmss', subscriptionId: SUB, resourceGroup: 'RG', name: 'pool', instanceId: '7' },
    ],
    ['other cloud', 'aws:///eu-west-1a/i-0123', undefined],
    ['kind provider', 'kind://docker/kind/kind-control-plane', undefined],
    [
      'azure but not compute',
      'azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/x/y',
      undefined,
    ],
    ['empty', '', undefined],
  ] as const)('%s', (_n, pid, want) => {
    expect(parseProviderId(pid)).toEqual(want);
  });

  it('keys all instances of one scale set the same, whatever the casing', () => {
    expect(targetKey(parseProviderId(vmssPid('pool', 1))!)).toBe(
      targetKey(parseProviderId(vmssPid('POOL', 2).replace('resourceGroups', 'resourcegroups'))!),
    );
  });
});

describe('planNodeAssignments', () => {
  const base: NodeAssignmentInput = {
    nodeIdentities: new Map(),
    nodes: new Map([
      ['n1', vmPid('vm1')],
      ['n2', vmPid('vm2')],
      ['s0', vmssPid('pool', 0)],
      ['s1', vmssPid('pool', 1)],
      ['bare', undefined],
      ['aws', 'aws:///i-1'],
    ]),
    known: new Map(),
    added: new Map(),
  };
  const ids = (o: Record<string, string[]>): Map<string, Set<string>> =>
    new Map(Object.entries(o).map(([k, v]) => [k, new Set(v)]));
  const sets = (o: Record<string, string[]>): Map<string, Set<string>> =>
    new Map(Object.entries(o).map(([k, v]) => [k, new Set(v.map((x) => x.toLowerCase()))]));

  it('one decision per VM with every identity its pods need, in one update', () => {
    const p = planNodeAssignments({
      ...base,
      nodeIdentities: ids({ n1: [mi('a'), mi('b')], n2: [mi('a')] }),
    });
    expect(p.targets.map((t) => [t.key, t.add])).toEqual([
      [vmKey('vm1'), [mi('a'), mi('b')]],
      [vmKey('vm2'), [mi('a')]],
    ]);
  });

  it('coalesces the nodes of one scale set into one decision', () => {
    const p = planNodeAssignments({
      ...base,
      nodeIdentities: ids({ s0: [mi('a')], s1: [mi('b'), mi('a')] }),
    });
    expect(p.targets).toHaveLength(1);
    expect(p.targets[0]).toMatchObject({ key: ssKey('pool'), nodes: ['s0', 's1'], add: [mi('a'), mi('b')] });
  });

  it('adds nothing already known to be there (case-insensitively), so no work at all', () => {
    const p = planNodeAssignments({
      ...base,
      nodeIdentities: ids({ n1: [mi('a')] }),
      known: sets({ [vmKey('vm1')]: [mi('a').toUpperCase()] }),
    });
    expect(p.targets).toEqual([]);
  });

  it('a drift check re-reads a target even when nothing is missing', () => {
    const p = planNodeAssignments({
      ...base,
      nodeIdentities: ids({ n1: [mi('a')] }),
      known: sets({ [vmKey('vm1')]: [mi('a')] }),
      verify: new Set([vmKey('vm1')]),
    });
    expect(p.targets.map((t) => [t.key, t.add, t.desired])).toEqual([[vmKey('vm1'), [], [mi('a')]]]);
  });

  it('removes only identities podsec added that no node of the target needs', () => {
    const p = planNodeAssignments({
      ...base,
      nodeIdentities: ids({ s0: [mi('a')] }),
      known: sets({ [ssKey('pool')]: [mi('a'), mi('b'), mi('theirs')], [vmKey('vm2')]: [mi('c')] }),
      added: sets({ [ssKey('pool')]: [mi('a'), mi('b')], [vmKey('vm2')]: [mi('c')] }),
    });
    expect(p.targets.map((t) => [t.key, t.add, t.remove])).toEqual([
      [vmKey('vm2'), [], [mi('c').toLowerCase()]],
      [ssKey('pool'), [], [mi('b').toLowerCase()]],
    ]);
  });

  it('keeps an identity another node of the same scale set still uses', () => {
    const p = planNodeAssignments({
      ...base,
      nodeIdentities: ids({ s1: [mi('b')] }),
      known: sets({ [ssKey('pool')]: [mi('b')] }),
      added: sets({ [ssKey('pool')]: [mi('b')] }),
    });
    expect(p.targets).toEqual([]);
  });

  it('never removes an immutable identity, nor one already gone', () => {
    const p = planNodeAssignments({
      ...base,
      known: sets({ [vmKey('vm1')]: [mi('kubelet')] }),
      added: sets({ [vmKey('vm1')]: [mi('kubelet'), mi('gone')] }),
      immutable: new Set([mi('kubelet').toLowerCase()]),
    });
    expect(p.targets).toEqual([]);
  });

  it('reports nodes whose target cannot be found instead of guessing', () => {
    const p = planNodeAssignments({
      ...base,
      nodeIdentities: ids({ bare: [mi('a')], aws: [mi('a')], ghost: [mi('a')] }),
    });
    expect(p.targets).toEqual([]);
    expect(p.unresolved).toEqual([
      { node: 'aws', reason: 'unsupported-provider-id' },
      { node: 'bare', reason: 'no-provider-id' },
      { node: 'ghost', reason: 'no-node' },
    ]);
  });

  it('readyPairs: confirmed pairs spelled as the identities spell them, and nodes never read', () => {
    const r = readyPairs(
      base.nodes,
      [mi('A'), mi('b'), mi('a'), mi('c')],
      sets({ [vmKey('vm1')]: [mi('a')], [ssKey('pool')]: [mi('b')] }),
    );
    expect([...r.ready].sort()).toEqual(
      [`n1|${mi('A')}`, `n1|${mi('a')}`, `s0|${mi('b')}`, `s1|${mi('b')}`].sort(),
    );
    expect([...r.unknownNodes]).toEqual(['n2']);
  });
});

describe('identityUpdate', () => {
  it.each([
    ['none + add', { type: 'None' }, [mi('a')], [], 'UserAssigned', [mi('a')]],
    ['system + add', { type: 'SystemAssigned' }, [mi('a')], [], 'SystemAssigned, UserAssigned', [mi('a')]],
    [
      'user + add keeps existing',
      { type: 'UserAssigned', userAssignedIdentities: { [mi('x')]: {} } },
      [mi('a')],
      [],
      'UserAssigned',
      [mi('a'), mi('x')],
    ],
    [
      'remove last user, keep system',
      { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [mi('a')]: {} } },
      [],
      [mi('a')],
      'SystemAssigned',
      [],
    ],
    [
      'remove last user',
      { type: 'UserAssigned', userAssignedIdentities: { [mi('a')]: {} } },
      [],
      [mi('A')],
      'None',
      [],
    ],
  ] as const)('%s', (_n, current, add, remove, type, present) => {
    const { change } = identityUpdate(current, add, remove);
    expect(change?.patch.type).toBe(type);
    expect([...change!.present].sort()).toEqual(present.map((p) => p.toLowerCase()).sort());
    if (present.length === 0) expect(change?.patch.userAssignedIdentities).toBeUndefined();
  });

  it('no change -> no update', () => {
    const r = identityUpdate(
      { type: 'UserAssigned', userAssignedIdentities: { [mi('a')]: {} } },
      [mi('A')],
      [mi('z')],
    );
    expect(r.change).toBeUndefined();
    expect([...r.present]).toEqual([mi('a').toLowerCase()]);
  });

  it('removals are null entries under ARM’s own spelling', () => {
    const { change } = identityUpdate(
      { type: 'UserAssigned', userAssignedIdentities: { [mi('a')]: {}, [mi('b')]: {} } },
      [],
      [mi('a').toLowerCase()],
    );
    expect(change?.patch.userAssignedIdentities).toEqual({ [mi('a')]: null, [mi('b')]: {} });
  });

  it('identityType', () => {
    expect([
      identityType(false, 0),
      identityType(true, 0),
      identityType(false, 2),
      identityType(true, 1),
    ]).toEqual(['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned']);
  });
});
