/**
 * The MIC loop with node assignment, end to end in process: the directory ClusterSource holds
 * Nodes (providerIDs of a VM and of scale-set instances), pods, a user-assigned identity and a
 * binding; the real Azure NodeAssigner talks to the local HTTPS ARM stand-in. Checks batching
 * (many pods on one VM, several nodes of one scale set: one PATCH each), Created -> Assigned only
 * after the update, failures keeping Created and being retried, and removal of only the
 * identities podsec added. The credential is a static in-memory token: nothing leaves loopback.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startFakeArm, type FakeArm } from '../../../test/support/fake-arm.js';
import { createDirectorySource } from '../../kube/cluster-source/directory.js';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import type { KubeObject } from '../../kube/types.js';
import { createLogger } from '../../observability/logger.js';
import { eventually } from '../../../test/support/eventually.js';
import { appPod } from '../../../test/support/mic-objects.js';
import { dbBinding, dbIdentity, standInAssigner, userAssignedId } from '../../../test/support/mic-arm.js';
import { MIC_KINDS, runController, type RoundResult } from './controller.js';
import { memoryLedger } from './ledger.js';

const SUB = '00000000-0000-0000-0000-0000000000bb';
const mi = (name: string): string => userAssignedId(SUB, name);

const node = (name: string, providerID: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  spec: { providerID },
});
const pod = (name: string, nodeName: string, label = 'db'): KubeObject => appPod(name, nodeName, label);
const identity = dbIdentity(mi('db'));
const binding = dbBinding;

describe('runController with Azure node assignment (local ARM stand-in)', () => {
  let dir: string;
  let arm: FakeArm;
  let source: ClusterSource;
  let stop: AbortController;
  let running: Promise<void>;
  let rounds: RoundResult[];
  let vm: string;
  let ss: string;
  const ledger = memoryLedger();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podsec-mic-arm-'));
    arm = await startFakeArm();
    rounds = [];
    await ledger.save(new Map());
    vm = arm.addResource(SUB, 'rg', 'virtualMachines/vm1', {
      type: 'UserAssigned',
      userAssignedIdentities: { [mi('kubelet')]: { principalId: 'p', clientId: 'c' } },
    });
    ss = arm.addResource(SUB, 'rg', 'virtualMachineScaleSets/pool', { type: 'SystemAssigned' });
  });
  afterEach(async () => {
    stop.abort();
    await running;
    await source.close();
    await arm.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(
    objects: readonly object[],
    driftCheckMs?: number,
    immutable?: readonly string[],
  ): Promise<void> {
    await writeFile(join(dir, 'all.yaml'), objects.map((o) => stringify(o)).join('---\n'));
    source = createDirectorySource(dir, { pollIntervalMs: 50 });
    stop = new AbortController();
    running = runController({
      source,
      signal: stop.signal,
      log: createLogger({ level: 'silent' }),
      debounceMs: 20,
      retryMs: 50,
      nodeAssignment: {
        assigner: standInAssigner(arm),
        ledger,
        backoffBaseMs: 50,
        backoffMaxMs: 200,
        ...(driftCheckMs === undefined ? {} : { driftCheckMs }),
        ...(immutable === undefined ? {} : { immutable }),
      },
      onRound: (r) => rounds.push(r),
    });
  }

  const statuses = async (): Promise<string[]> => {
    const out: string[] = [];
    for await (const page of source.listPages(MIC_KINDS.assigned)) {
      for (const o of page) {
        out.push(`${o.metadata?.name ?? ''} ${(o as { status?: { status?: string } }).status?.status ?? ''}`);
      }
    }
    return out.sort();
  };
  const allAssigned = (n: number) => async (): Promise<string[] | undefined> => {
    const s = await statuses();
    return s.length === n && s.every((x) => x.endsWith(' Assigned')) ? s : undefined;
  };

  const objects = (): object[] => [
    node('n1', `azure://${vm}`),
    node('s0', `azure://${ss}/virtualMachines/0`),
    node('s1', `azure://${ss}/virtualMachines/1`),
    identity,
    binding,
    pod('a1', 'n1'),
    pod('a2', 'n1'),
    pod('a3', 'n1'),
    pod('b1', 's0'),
    pod('b2', 's1'),
  ];

  it('one PATCH per VM and per scale set, then every assignment Assigned; existing identities kept', async () => {
    await start(objects());
    await eventually(allAssigned(5));
    const patches = arm.requests.filter((r) => r.method === 'PATCH').map((r) => r.path);
    expect(patches.sort()).toEqual([ss, vm].sort());
    expect(Object.keys(arm.identityOf(vm)!.userAssignedIdentities ?? {}).sort()).toEqual(
      [mi('db'), mi('kubelet')].sort(),
    );
    expect(arm.identityOf(ss)).toMatchObject({ type: 'SystemAssigned, UserAssigned' });
    expect(ledger.entries.get(vm.toLowerCase())).toEqual(new Set([mi('db').toLowerCase()]));
  });

  it('removes the identity it added once no pod on the target needs it, and never the one it found', async () => {
    await start(objects());
    await eventually(allAssigned(5));
    for (const name of ['a1', 'a2', 'a3']) {
      const ref = { apiVersion: 'v1', kind: 'Pod', namespace: 'app', name };
      const p = await source.get(ref);
      await source.update({ ...p!, metadata: { ...p!.metadata, labels: { aadpodidbinding: 'none' } } });
    }
    await eventually(() => {
      const ids = Object.keys(arm.identityOf(vm)?.userAssignedIdentities ?? {});
      return Promise.resolve(ids.length === 1 ? ids : undefined);
    }).then((ids) => expect(ids).toEqual([mi('kubelet')]));
    expect(await statuses()).toHaveLength(2);
    // The scale set still serves b1 and b2.
    expect(Object.keys(arm.identityOf(ss)!.userAssignedIdentities ?? {})).toEqual([mi('db')]);
  });

  it('an immutable identity (by client ID) stays on the VM even though podsec added it', async () => {
    await start([node('n1', `azure://${vm}`), identity, binding, pod('a1', 'n1')], undefined, ['DB-CLIENT']);
    await eventually(allAssigned(1));
    const p = await source.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'app', name: 'a1' });
    await source.update({ ...p!, metadata: { ...p!.metadata, labels: { aadpodidbinding: 'none' } } });
    await eventually(async () => ((await statuses()).length === 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(Object.keys(arm.identityOf(vm)!.userAssignedIdentities ?? {}).sort()).toEqual(
      [mi('db'), mi('kubelet')].sort(),
    );
    expect(arm.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  it('an identity that was already on the VM is left there when its pods go', async () => {
    arm.addResource(SUB, 'rg', 'virtualMachines/vm1', {
      type: 'UserAssigned',
      userAssignedIdentities: { [mi('db')]: { principalId: 'p', clientId: 'c' } },
    });
    await start([node('n1', `azure://${vm}`), identity, binding, pod('a1', 'n1')]);
    await eventually(allAssigned(1));
    expect(arm.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
    const p = await source.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'app', name: 'a1' });
    await source.update({ ...p!, metadata: { ...p!.metadata, labels: { aadpodidbinding: 'none' } } });
    await eventually(async () => ((await statuses()).length === 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(arm.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
    expect(Object.keys(arm.identityOf(vm)!.userAssignedIdentities ?? {})).toEqual([mi('db')]);
  });

  it('a persistent 5xx keeps assignments Created and is retried with backoff until it succeeds', async () => {
    arm.failAlways('PATCH', { status: 503, code: 'ServiceUnavailable' });
    await start([node('n1', `azure://${vm}`), identity, binding, pod('a1', 'n1'), pod('a2', 'n1')]);
    await eventually(() =>
      Promise.resolve(arm.requests.filter((r) => r.method === 'PATCH').length >= 3 ? true : undefined),
    );
    expect(await statuses()).toEqual(['a1-app-db Created', 'a2-app-db Created']);
    expect(rounds.some((r) => r.nodeFailures > 0)).toBe(true);
    arm.failAlways('PATCH', undefined);
    await eventually(allAssigned(2));
  });

  it('when the update fails, what the VM already has is Assigned and the rest stays Created', async () => {
    arm.addResource(SUB, 'rg', 'virtualMachines/vm1', {
      type: 'UserAssigned',
      userAssignedIdentities: { [mi('shared')]: { principalId: 'p', clientId: 'c' } },
    });
    arm.failAlways('PATCH', { status: 500 });
    const shared = {
      ...identity,
      metadata: { name: 'shared', namespace: 'app' },
      spec: { type: 0, resourceID: mi('shared'), clientID: 'shared-client' },
    };
    const sharedBinding = {
      ...binding,
      metadata: { name: 'shared', namespace: 'app' },
      spec: { azureIdentity: 'shared', selector: 'shared' },
    };
    await start([
      node('n1', `azure://${vm}`),
      identity,
      binding,
      shared,
      sharedBinding,
      pod('a1', 'n1'),
      pod('a2', 'n1', 'shared'),
    ]);
    await eventually(async () => {
      const s = await statuses();
      return s.join() === 'a1-app-db Created,a2-app-shared Assigned' ? s : undefined;
    });
    expect(Object.keys(arm.identityOf(vm)!.userAssignedIdentities ?? {})).toEqual([mi('shared')]);
  });

  it('an identity ARM refuses does not block the others on the VM, and is not retried every round', async () => {
    arm.rejectIdentity(mi('deleted'));
    const deleted = {
      ...identity,
      metadata: { name: 'deleted', namespace: 'app' },
      spec: { type: 0, resourceID: mi('deleted'), clientID: 'deleted-client' },
    };
    const deletedBinding = {
      ...binding,
      metadata: { name: 'deleted', namespace: 'app' },
      spec: { azureIdentity: 'deleted', selector: 'deleted' },
    };
    await start([
      node('n1', `azure://${vm}`),
      identity,
      binding,
      deleted,
      deletedBinding,
      pod('a1', 'n1'),
      pod('a2', 'n1', 'deleted'),
    ]);
    await eventually(async () => {
      const s = await statuses();
      return s.join() === 'a1-app-db Assigned,a2-app-deleted Created' ? s : undefined;
    });
    const patches = arm.requests.filter((r) => r.method === 'PATCH').length;
    // Another event: a new round must not PATCH the refused identity again.
    const p = await source.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'app', name: 'a1' });
    await source.update({ ...p!, metadata: { ...p!.metadata, annotations: { touched: 'yes' } } });
    await new Promise((r) => setTimeout(r, 400));
    expect(arm.requests.filter((r) => r.method === 'PATCH')).toHaveLength(patches);
    expect(await statuses()).toEqual(['a1-app-db Assigned', 'a2-app-deleted Created']);
  });

  it('re-attaches an identity removed behind its back at the drift check, and idles without work', async () => {
    await start([node('n1', `azure://${vm}`), identity, binding, pod('a1', 'n1')], 150);
    await eventually(allAssigned(1));
    // Someone removes it from the VM by hand.
    arm.addResource(SUB, 'rg', 'virtualMachines/vm1', { type: 'None' });
    await eventually(() =>
      Promise.resolve(
        Object.keys(arm.identityOf(vm)?.userAssignedIdentities ?? {}).includes(mi('db')) ? true : undefined,
      ),
    );
    // No pod needs anything any more: the loop must rest (resync is 30 s), not spin.
    const p = await source.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'app', name: 'a1' });
    await source.update({ ...p!, metadata: { ...p!.metadata, labels: { aadpodidbinding: 'none' } } });
    await eventually(async () => ((await statuses()).length === 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    const before = rounds.length;
    await new Promise((r) => setTimeout(r, 600));
    expect(rounds.length - before).toBeLessThanOrEqual(1);
  });

  it('a node without a usable providerID keeps its assignment Created and calls nothing', async () => {
    await start([node('n1', 'kind://docker/kind/n1'), identity, binding, pod('a1', 'n1')]);
    await eventually(async () => ((await statuses()).length === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    expect(await statuses()).toEqual(['a1-app-db Created']);
    expect(arm.requests).toHaveLength(0);
  });
});
