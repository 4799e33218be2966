/**
 * MIC reconcile benchmark (issue 5 section 7): the pure reconcile of 5,000 pods and 100 bindings,
 * target <= 1 s. Three snapshots: cold (no AzureAssignedIdentity yet: every object created),
 * steady (everything in place: no action) and churn (10% of pods relabelled or moved to another
 * node). Deterministic (seeded). Run:
 *   npx tsx bench/mic.ts
 */
import { performance } from 'node:perf_hooks';
import { applyActions, reconcile, type MicPod, type MicSnapshot } from '../src/identity/mic/index.js';
import { rng } from './rng.js';

const PODS = 5_000;
const BINDINGS = 100;
const NAMESPACES = 50;
const NODES = 100;
const RUNS = 7;

const rand = rng(5);
const resourceId = (i: number): string =>
  `/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${i}`;

// One identity per binding; even ones user-assigned managed identities, odd ones service principals.
const identities: unknown[] = [];
const bindings: unknown[] = [];
const nodesReady = new Set<string>();
for (let i = 0; i < BINDINGS; i++) {
  const ns = `ns-${i % NAMESPACES}`;
  identities.push({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentity',
    metadata: { name: `id-${i}`, namespace: ns },
    spec:
      i % 2 === 0
        ? { type: 0, resourceID: resourceId(i), clientID: `client-${i}` }
        : {
            type: 1,
            clientID: `client-${i}`,
            tenantID: 'tenant',
            clientPassword: { name: `secret-${i}`, namespace: ns },
          },
  });
  bindings.push({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentityBinding',
    metadata: { name: `binding-${i}`, namespace: ns },
    spec: { azureIdentity: `id-${i}`, selector: `sel-${i}` },
  });
  for (let n = 0; n < NODES; n += 2) nodesReady.add(`node-${n}|${resourceId(i)}`);
}

function makePod(i: number): MicPod {
  const b = Math.floor(rand() * BINDINGS);
  // 90% of pods carry a binding label of their namespace; the rest none.
  const labels: Record<string, string> = rand() < 0.9 ? { aadpodidbinding: `sel-${b}` } : {};
  return {
    metadata: { name: `pod-${i}`, namespace: `ns-${b % NAMESPACES}`, labels },
    spec: { nodeName: `node-${Math.floor(rand() * NODES)}` },
    status: { phase: 'Running' },
  };
}
const pods = Array.from({ length: PODS }, (_, i) => makePod(i));

function time(label: string, snapshot: MicSnapshot): void {
  const samples: number[] = [];
  let actions = 0;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    actions = reconcile(snapshot, { allowCrossNamespace: false }).length;
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)] ?? 0;
  const max = samples[samples.length - 1] ?? 0;
  console.log(
    `${label.padEnd(8)} ${PODS} pods, ${BINDINGS} bindings, ${snapshot.assigned.length} assigned: ${actions} actions, median ${median.toFixed(1)} ms, max ${max.toFixed(1)} ms (${RUNS} runs; target <= 1000 ms)`,
  );
}

const cold: MicSnapshot = { pods, identities, bindings, assigned: [], nodesReady };
time('cold', cold);
const store = applyActions([], reconcile(cold, { allowCrossNamespace: false }));
time('steady', { ...cold, assigned: store });
const churned = pods.map((p, i) => {
  if (i % 10 !== 0) return p;
  return i % 20 === 0
    ? { ...p, metadata: { ...p.metadata, labels: { aadpodidbinding: 'none' } } }
    : { ...p, spec: { nodeName: `node-${(i * 7) % NODES}` } };
});
time('churn', { ...cold, pods: churned, assigned: store });
