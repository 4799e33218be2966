/**
 * The MIC loop against the list/watch test server on loopback: a pod on a Node that is deleted
 * loses its AzureAssignedIdentity (the pod on the remaining Node keeps its own), and a CRD the
 * server does not serve stops the controller at once with KindNotServedError (the command: exit 2
 * naming the CRD), also under leader election, instead of waiting for caches that never sync.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../../../test/support/fake-apiserver.js';
import { eventually } from '../../../test/support/eventually.js';
import { appPod, spBinding, spIdentity } from '../../../test/support/mic-objects.js';
import { runIdentityController } from '../../cli/commands/identity-controller.js';
import { createApiServerSource } from '../../kube/cluster-source/api-server.js';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import type { KubeObject } from '../../kube/types.js';
import { silentLogger } from '../../observability/index.js';
import { KindNotServedError } from '../served-kinds.js';
import { runController } from './controller.js';
import { memoryLedger } from './ledger.js';
import type { AssignOutcome, NodeAssigner, TargetChange } from './node-assigner.js';
import { normalizeId, targetKey } from './node-assignment.js';
import { assignedIdentityName } from './reconcile.js';

const API = 'aadpodidentity.k8s.io/v1';
const FAST = { backoffInitialMs: 20, backoffMaxMs: 100, watchTimeoutSeconds: 30 } as const;

const node = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
const pod = (name: string, nodeName: string): KubeObject => appPod(name, nodeName, 'x');
const identity = spIdentity('s');
const binding = spBinding;

let fake: FakeApiServer | undefined;
let source: ClusterSource | undefined;
afterEach(async () => {
  await source?.close();
  await fake?.close();
  source = undefined;
  fake = undefined;
});

describe('runController: Nodes and CRDs', () => {
  it('deletes the assignments of pods on a Node that was deleted, and keeps the others', async () => {
    fake = await startFakeApiServer();
    fake.seed([node('n1'), node('n2'), pod('web', 'n1'), pod('api', 'n2'), identity, binding]);
    source = await createApiServerSource({ kubeconfig: await fake.writeKubeconfig(), ...FAST });
    const stop = new AbortController();
    const running = runController({ source, signal: stop.signal, log: silentLogger(), debounceMs: 20 });
    const stored = (p: string): KubeObject | undefined =>
      fake?.object(API, 'AzureAssignedIdentity', 'app', assignedIdentityName(p, 'app', 'sp'));
    try {
      await eventually(() => (stored('web') !== undefined && stored('api') !== undefined ? true : undefined));
      fake.remove('v1', 'Node', undefined, 'n1');
      await eventually(() => (stored('web') === undefined ? true : undefined));
      expect(stored('api')).toBeDefined();
    } finally {
      stop.abort();
      await running;
    }
  });

  it('a pod scheduled to a Node that does not exist gets no assignment', async () => {
    fake = await startFakeApiServer();
    fake.seed([node('n2'), pod('web', 'gone'), pod('api', 'n2'), identity, binding]);
    source = await createApiServerSource({ kubeconfig: await fake.writeKubeconfig(), ...FAST });
    const stop = new AbortController();
    const rounds: number[] = [];
    const running = runController({
      source,
      signal: stop.signal,
      log: silentLogger(),
      debounceMs: 20,
      onRound: (r) => rounds.push(r.actions),
    });
    try {
      // Converged: a round with nothing left to do.
      await eventually(() => (rounds.length >= 2 && rounds[rounds.length - 1] === 0 ? true : undefined));
      const all = fake.object(API, 'AzureAssignedIdentity', 'app', assignedIdentityName('api', 'app', 'sp'));
      expect(all).toBeDefined();
      expect(
        fake.object(API, 'AzureAssignedIdentity', 'app', assignedIdentityName('web', 'app', 'sp')),
      ).toBeUndefined();
    } finally {
      stop.abort();
      await running;
    }
  });

  it('a deleted VM: the assignment goes, and the ledger forgets the VM instead of retrying it', async () => {
    const vmId = '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1';
    const uami =
      '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/db';
    // A stand-in for ARM: one VM, which can be deleted (then every call answers 404).
    const onVm = new Set<string>();
    let vmExists = true;
    const calls: TargetChange[] = [];
    const assigner: NodeAssigner = {
      apply(change): Promise<AssignOutcome> {
        calls.push(change);
        if (!vmExists) return Promise.resolve({ ok: false, error: 'VM vm1: not found', status: 404 });
        const added = change.add.filter((id) => !onVm.has(normalizeId(id)));
        for (const id of added) onVm.add(normalizeId(id));
        const removed = change.remove.filter((id) => onVm.delete(normalizeId(id)));
        return Promise.resolve({
          ok: true,
          present: new Set(onVm),
          added,
          removed,
          updated: added.length + removed.length > 0,
        });
      },
    };
    const ledger = memoryLedger();
    const msi: KubeObject = {
      ...identity,
      spec: { type: 0, clientID: 'db-client', resourceID: uami },
    };
    fake = await startFakeApiServer();
    fake.seed([
      { ...node('n1'), spec: { providerID: `azure://${vmId}` } },
      node('n2'),
      pod('web', 'n1'),
      msi,
      binding,
    ]);
    source = await createApiServerSource({ kubeconfig: await fake.writeKubeconfig(), ...FAST });
    const stop = new AbortController();
    const running = runController({
      source,
      signal: stop.signal,
      log: silentLogger(),
      debounceMs: 20,
      nodeAssignment: { assigner, ledger, backoffBaseMs: 20, backoffMaxMs: 100 },
    });
    const key = targetKey({ kind: 'vm', subscriptionId: 's1', resourceGroup: 'rg', name: 'vm1' });
    const status = (): string | undefined =>
      (
        fake?.object(API, 'AzureAssignedIdentity', 'app', assignedIdentityName('web', 'app', 'sp')) as
          { status?: { status?: string } } | undefined
      )?.status?.status;
    try {
      await eventually(() => (status() === 'Assigned' ? true : undefined));
      expect((await ledger.load()).get(key)).toEqual(new Set([normalizeId(uami)]));
      // The node and its VM are deleted (the pod object stays, as until the pod GC runs).
      vmExists = false;
      fake.remove('v1', 'Node', undefined, 'n1');
      await eventually(() => (status() === undefined ? true : undefined));
      await eventually(async () => ((await ledger.load()).has(key) ? undefined : true));
      const after = calls.length;
      await new Promise((r) => setTimeout(r, 300));
      // Forgotten: no more retries of the missing VM.
      expect(calls.length).toBe(after);
    } finally {
      stop.abort();
      await running;
    }
  });

  it('throws KindNotServedError naming the CRD when AzureIdentityBinding is not served', async () => {
    fake = await startFakeApiServer({ without: [`${API}/AzureIdentityBinding`] });
    source = await createApiServerSource({ kubeconfig: await fake.writeKubeconfig(), ...FAST });
    const stop = new AbortController();
    const err = await runController({ source, signal: stop.signal, log: silentLogger() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KindNotServedError);
    expect((err as Error).message).toContain('azureidentitybindings.aadpodidentity.k8s.io');
  });

  for (const leaderElect of ['true', 'false']) {
    it(`the command exits 2 naming the CRD (--leader-elect=${leaderElect})`, async () => {
      fake = await startFakeApiServer({ without: [`${API}/AzureAssignedIdentity`] });
      const kubeconfig = await fake.writeKubeconfig();
      let stderr = '';
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = (chunk: string | Uint8Array): boolean => {
        stderr += String(chunk);
        return true;
      };
      let code: number;
      try {
        code = await runIdentityController(
          { leaderElect, logLevel: 'silent', operationMode: 'managed' },
          {
            logger: silentLogger(),
            openSource: () => createApiServerSource({ kubeconfig, ...FAST }),
          },
        );
      } finally {
        process.stderr.write = write;
      }
      expect(code).toBe(2);
      expect(stderr).toContain('azureassignedidentities.aadpodidentity.k8s.io');
      expect(stderr).toContain('deploy/identity');
    });
  }
});
