/**
 * The MIC never saves over a ledger it could not read (review finding 5): while the load fails,
 * identities are still added to VMs but none is removed and nothing is saved; once the load
 * succeeds, the stored entries and this session's additions are merged and removals resume. A
 * corrupt ConfigMap is reported (error log) and kept until an operator deletes it. Runs the
 * real Azure assigner against the loopback ARM stand-in; nothing leaves the machine.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startFakeArm, type FakeArm } from '../../../test/support/fake-arm.js';
import { createDirectorySource } from '../../kube/cluster-source/directory.js';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import { createLogger } from '../../observability/logger.js';
import { eventually } from '../../../test/support/eventually.js';
import { appPod } from '../../../test/support/mic-objects.js';
import { dbBinding, dbIdentity, standInAssigner, userAssignedId } from '../../../test/support/mic-arm.js';
import { runController } from './controller.js';
import { configMapLedger, LEDGER_CONFIGMAP, memoryLedger, type AssignmentLedger } from './ledger.js';

const SUB = '00000000-0000-0000-0000-0000000000dd';
const mi = (name: string): string => userAssignedId(SUB, name);
const LEDGER_REF = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespace: 'podsec-system',
  name: LEDGER_CONFIGMAP,
};

const objects = (vm: string): object[] => [
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { providerID: `azure://${vm}` } },
  appPod('a1', 'n1', 'db'),
  dbIdentity(mi('db')),
  dbBinding,
];

describe('runController: the node assignment ledger after a failed or corrupt load', () => {
  let dir: string;
  let arm: FakeArm;
  let source: ClusterSource;
  let stop: AbortController;
  let running: Promise<void>;
  let vm: string;
  let logs: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podsec-mic-ledger-'));
    arm = await startFakeArm();
    logs = '';
    // On the VM: the kubelet identity (never podsec's) and `old`, which an earlier leader added.
    vm = arm.addResource(SUB, 'rg', 'virtualMachines/vm1', {
      type: 'UserAssigned',
      userAssignedIdentities: {
        [mi('kubelet')]: { principalId: 'p', clientId: 'c' },
        [mi('old')]: { principalId: 'p', clientId: 'c' },
      },
    });
  });
  afterEach(async () => {
    stop.abort();
    await running;
    await source.close();
    await arm.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(extra: object[], ledger: (s: ClusterSource) => AssignmentLedger): Promise<void> {
    await writeFile(join(dir, 'all.yaml'), [...objects(vm), ...extra].map((o) => stringify(o)).join('---\n'));
    source = createDirectorySource(dir, { pollIntervalMs: 50 });
    stop = new AbortController();
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs += chunk.toString();
        done();
      },
    });
    running = runController({
      source,
      signal: stop.signal,
      log: createLogger({ level: 'warn', destination: sink }),
      debounceMs: 20,
      retryMs: 50,
      nodeAssignment: {
        assigner: standInAssigner(arm),
        ledger: ledger(source),
        backoffBaseMs: 50,
        backoffMaxMs: 200,
      },
    });
  }

  const onVm = (): string[] => Object.keys(arm.identityOf(vm)?.userAssignedIdentities ?? {}).sort();
  const id = (name: string): string => mi(name).toLowerCase();

  it('a load that fails: additions go ahead, nothing is removed or saved; then merged and cleaned up', async () => {
    const stored = memoryLedger(new Map([[vm.toLowerCase(), new Set([id('old')])]]));
    let loads = 0;
    let failing = true;
    const saved: string[][] = [];
    const flaky: AssignmentLedger = {
      load: () => {
        loads += 1;
        return failing ? Promise.reject(new Error('the API server is unavailable')) : stored.load();
      },
      save: (entries) => {
        saved.push([...(entries.get(vm.toLowerCase()) ?? [])].sort());
        return stored.save(entries);
      },
    };
    await start([], () => flaky);
    await eventually(() => (onVm().includes(mi('db')) ? true : undefined));
    await eventually(() => (loads >= 3 ? true : undefined));
    // db was added, old (podsec's, per the unread ledger) stays, and the stored ledger is untouched.
    expect(onVm()).toEqual([mi('db'), mi('kubelet'), mi('old')].sort());
    expect(saved).toEqual([]);
    expect(stored.entries.get(vm.toLowerCase())).toEqual(new Set([id('old')]));
    expect(logs).toMatch(/no identity is removed from nodes until it is read/);

    failing = false;
    // Merged first (old + db), then old is removed since no pod needs it.
    await eventually(() => (onVm().join() === [mi('db'), mi('kubelet')].sort().join() ? true : undefined));
    await eventually(() => (stored.entries.get(vm.toLowerCase())?.size === 1 ? true : undefined));
    expect(saved[0]).toEqual([id('db'), id('old')].sort());
    expect(stored.entries.get(vm.toLowerCase())).toEqual(new Set([id('db')]));
  });

  it('a corrupt ConfigMap is reported and kept, never overwritten; deleting it lets the ledger resume', async () => {
    const corrupt = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: LEDGER_CONFIGMAP, namespace: 'podsec-system' },
      data: { 'added.json': '{"/subscriptions/x": [' },
    };
    await start([corrupt], (s) => configMapLedger(s, 'podsec-system'));
    await eventually(() => (onVm().includes(mi('db')) ? true : undefined));
    await eventually(() => (/"level":"error".*ledger is corrupt/.test(logs) ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    const kept = (await source.get(LEDGER_REF)) as { data?: Record<string, string> } | undefined;
    expect(kept?.data?.['added.json']).toBe('{"/subscriptions/x": [');
    expect(onVm()).toEqual([mi('db'), mi('kubelet'), mi('old')].sort());

    // The operator deletes the ConfigMap: the next load reads an empty ledger and saves db.
    await source.delete(LEDGER_REF);
    const saved = await eventually(async () => {
      const cm = (await source.get(LEDGER_REF)) as { data?: Record<string, string> } | undefined;
      return cm?.data?.['added.json'];
    });
    expect(JSON.parse(saved)).toEqual({ [vm.toLowerCase()]: [id('db')] });
    // old was recorded only in the corrupt ledger: podsec cannot tell it is its own, so it stays.
    expect(onVm()).toEqual([mi('db'), mi('kubelet'), mi('old')].sort());
  });
});
