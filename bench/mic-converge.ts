/**
 * MIC convergence benchmark (issue 5 section 7): how long the controller takes, through the real
 * api-server ClusterSource (kubeconfig pointing at test/support/fake-apiserver.ts), until every
 * expected AzureAssignedIdentity exists and is Assigned. Per pod count, two runs:
 *   - watch: the controller is running with empty caches; 100 identities and bindings, then N pods
 *     (50 namespaces, 100 nodes, 90% labelled) are created in the list/watch server;
 *   - arm: the same, with user-assigned identities (half of them) attached through the Azure
 *     NodeAssigner to a local HTTPS ARM stand-in (100 VMs: one PATCH each).
 * Also prints the pure reconcile time of the final snapshot (cold: no assignment yet).
 * Loopback only. Run: npm run bench:mic-converge [PODS...]   (default 1000 5000)
 */
import { performance } from 'node:perf_hooks';
import type { TokenCredential } from '@azure/core-auth';
import { startFakeApiServer, type FakeApiServer } from '../test/support/fake-apiserver.js';
import { startFakeArm, type FakeArm } from '../test/support/fake-arm.js';
import { createAzureNodeAssigner } from '../src/identity/mic/azure-assigner.js';
import { runController, type NodeAssignmentOptions } from '../src/identity/mic/controller.js';
import { memoryLedger } from '../src/identity/mic/ledger.js';
import { plan, planNodeAssignments, readyPairs, type MicPod } from '../src/identity/mic/index.js';
import { createApiServerSource } from '../src/kube/cluster-source/index.js';
import type { KubeObject } from '../src/kube/types.js';
import { createLogger } from '../src/observability/logger.js';
import { rng } from './rng.js';

const API = 'aadpodidentity.k8s.io/v1';
const BINDINGS = 100;
const NAMESPACES = 50;
const NODES = 100;
const SUB = '00000000-0000-0000-0000-00000000beef';
const CRD_KINDS = [
  { apiVersion: API, kind: 'AzureIdentity', plural: 'azureidentities', namespaced: true },
  { apiVersion: API, kind: 'AzureIdentityBinding', plural: 'azureidentitybindings', namespaced: true },
  { apiVersion: API, kind: 'AzureAssignedIdentity', plural: 'azureassignedidentities', namespaced: true },
];

const miId = (i: number): string =>
  `/subscriptions/${SUB}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${i}`;
const vmId = (n: number): string =>
  `/subscriptions/${SUB}/resourceGroups/nodes/providers/Microsoft.Compute/virtualMachines/vm-${n}`;

function workload(
  pods: number,
  withMsi: boolean,
): { crds: KubeObject[]; nodes: KubeObject[]; pods: KubeObject[] } {
  const rand = rng(11);
  const crds: KubeObject[] = [];
  for (let i = 0; i < BINDINGS; i++) {
    const ns = `ns-${i % NAMESPACES}`;
    crds.push({
      apiVersion: API,
      kind: 'AzureIdentity',
      metadata: { name: `id-${i}`, namespace: ns },
      spec:
        withMsi && i % 2 === 0
          ? { type: 0, resourceID: miId(i), clientID: `client-${i}` }
          : {
              type: 1,
              clientID: `client-${i}`,
              tenantID: 'tenant',
              clientPassword: { name: 's', namespace: ns },
            },
    });
    crds.push({
      apiVersion: API,
      kind: 'AzureIdentityBinding',
      metadata: { name: `binding-${i}`, namespace: ns },
      spec: { azureIdentity: `id-${i}`, selector: `sel-${i}` },
    });
  }
  const nodes = Array.from({ length: NODES }, (_, n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `node-${n}` },
    spec: { providerID: `azure://${vmId(n)}` },
  }));
  const list: KubeObject[] = [];
  for (let i = 0; i < pods; i++) {
    const b = Math.floor(rand() * BINDINGS);
    list.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `pod-${i}`,
        namespace: `ns-${b % NAMESPACES}`,
        labels: rand() < 0.9 ? { aadpodidbinding: `sel-${b}` } : {},
      },
      spec: { nodeName: `node-${Math.floor(rand() * NODES)}`, containers: [{ name: 'c', image: 'nginx' }] },
      status: { phase: 'Running' },
    });
  }
  return { crds, nodes, pods: list };
}

interface Figures {
  seconds: number;
  expected: number;
  rounds: number;
  patches: number;
}

async function converge(
  api: FakeApiServer,
  w: ReturnType<typeof workload>,
  arm: FakeArm | undefined,
): Promise<Figures> {
  const source = await createApiServerSource({ kubeconfig: await api.writeKubeconfig() });
  const stop = new AbortController();
  let rounds = 0;
  let nodeAssignment: NodeAssignmentOptions | undefined;
  if (arm) {
    const credential: TokenCredential = {
      getToken: () => Promise.resolve({ token: 'bench', expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    nodeAssignment = {
      assigner: createAzureNodeAssigner({ credential, armEndpoint: arm.url, ca: arm.ca, pollIntervalMs: 10 }),
      ledger: memoryLedger(),
      concurrency: 8,
    };
  }
  api.seed(w.nodes);
  // The first round runs on the empty cluster, right after the informers' first list.
  let firstRound!: () => void;
  const started = new Promise<void>((r) => (firstRound = r));
  const running = runController({
    source,
    signal: stop.signal,
    log: createLogger({ level: 'silent' }),
    debounceMs: 50,
    nodeAssignment,
    onRound: () => {
      rounds += 1;
      firstRound();
    },
  });
  await started;

  const expected = plan(
    {
      pods: w.pods as unknown as MicPod[],
      identities: w.crds.filter((o) => o.kind === 'AzureIdentity'),
      bindings: w.crds.filter((o) => o.kind === 'AzureIdentityBinding'),
      assigned: [],
    },
    { allowCrossNamespace: false, preassigned: true },
  ).actions.flatMap((a) => (a.type === 'create' ? [a.object.metadata] : []));

  const t0 = performance.now();
  api.seed(w.crds);
  for (let i = 0; i < w.pods.length; i += 500) api.seed(w.pods.slice(i, i + 500));
  for (;;) {
    let missing = 0;
    for (const m of expected) {
      const o = api.object(API, 'AzureAssignedIdentity', m.namespace, m.name) as
        { status?: { status?: string } } | undefined;
      if (o?.status?.status !== 'Assigned') missing += 1;
    }
    if (missing === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - t0) / 1000;
  stop.abort();
  await running;
  await source.close();
  return {
    seconds,
    expected: expected.length,
    rounds,
    patches: arm?.requests.filter((r) => r.method === 'PATCH').length ?? 0,
  };
}

/** Median ms of the pure node-assignment decisions for the workload (100 VMs, none read yet). */
function pureNodePlan(w: ReturnType<typeof workload>): number {
  const { nodeIdentities } = plan(
    {
      pods: w.pods as unknown as MicPod[],
      identities: w.crds.filter((o) => o.kind === 'AzureIdentity'),
      bindings: w.crds.filter((o) => o.kind === 'AzureIdentityBinding'),
      assigned: [],
    },
    { allowCrossNamespace: false },
  );
  const nodes = new Map(
    w.nodes.map((n) => [n.metadata?.name ?? '', (n.spec as { providerID: string }).providerID]),
  );
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    readyPairs(
      nodes,
      Array.from({ length: BINDINGS }, (_, i) => miId(i)),
      new Map(),
    );
    planNodeAssignments({ nodeIdentities, nodes, known: new Map(), added: new Map() });
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[2] ?? 0;
}

function pureReconcile(w: ReturnType<typeof workload>): number {
  const snapshot = {
    pods: w.pods as unknown as MicPod[],
    identities: w.crds.filter((o) => o.kind === 'AzureIdentity'),
    bindings: w.crds.filter((o) => o.kind === 'AzureIdentityBinding'),
    assigned: [],
  };
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    plan(snapshot, { allowCrossNamespace: false, preassigned: true });
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[2] ?? 0;
}

async function main(): Promise<void> {
  const counts = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  for (const pods of counts.length > 0 ? counts : [1000, 5000]) {
    for (const mode of ['watch', 'arm'] as const) {
      const w = workload(pods, mode === 'arm');
      const api = await startFakeApiServer({ kinds: CRD_KINDS });
      const arm = mode === 'arm' ? await startFakeArm() : undefined;
      if (arm) for (let n = 0; n < NODES; n++) arm.addResource(SUB, 'nodes', `virtualMachines/vm-${n}`);
      try {
        const f = await converge(api, w, arm);
        console.log(
          `${mode.padEnd(5)} pods ${pods}, bindings ${BINDINGS}, nodes ${NODES}: ${f.expected} AzureAssignedIdentities Assigned in ${f.seconds.toFixed(2)} s (${f.rounds} controller rounds incl. the empty first one${arm ? `, ${f.patches} ARM PATCHes` : ''}); pure reconcile (cold) ${pureReconcile(w).toFixed(1)} ms${arm ? `, pure node-assignment decisions ${pureNodePlan(w).toFixed(1)} ms` : ''}`,
        );
      } finally {
        await arm?.close();
        await api.close();
      }
    }
  }
}

await main();
