/**
 * NetworkPolicy loader benchmark: how long reading a cluster takes before any evaluation
 * (model building is measured apart in bench/netpol.ts). A generated `kubectl get -A -o json`
 * style dump (one JSON List) and the same objects as multi-document YAML, each with 20,000
 * pods in 50 namespaces, 2,000 policies, 1,000 Deployments without pods (representatives),
 * Services and Nodes. Run:
 *   node --expose-gc --import tsx bench/netpol-load.ts   (npm run bench:netpol-load once the script line exists)
 */
import { stringify } from 'yaml';
import { loadManifestTexts } from '../src/netpol/load.js';

const NAMESPACES = 50;
const PODS = 20_000;
const POLICIES = 2_000;
const DEPLOYMENTS = 1_000;
const NODES = 100;

function objects(): unknown[] {
  const out: unknown[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    out.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: `ns-${n}`, labels: { team: `t${n % 7}` } },
    });
  }
  for (let n = 0; n < NODES; n++) {
    out.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${n}` },
      status: { addresses: [{ type: 'InternalIP', address: `192.168.${n >> 8}.${n & 255}` }] },
    });
  }
  for (let i = 0; i < PODS; i++) {
    const ns = `ns-${i % NAMESPACES}`;
    out.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `pod-${i}`,
        namespace: ns,
        labels: { app: `app-${i % 10}`, tier: ['web', 'api', 'db'][i % 3] },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${i % 400}`, uid: `u${i}` }],
      },
      spec: {
        nodeName: `node-${i % NODES}`,
        containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }],
      },
      status: {
        phase: 'Running',
        podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        hostIP: '192.168.0.1',
      },
    });
  }
  for (let d = 0; d < DEPLOYMENTS; d++) {
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `idle-${d}`, namespace: `ns-${d % NAMESPACES}` },
      spec: {
        template: {
          metadata: { labels: { app: `idle-${d}` } },
          spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 80 }] }] },
        },
      },
    });
  }
  for (let p = 0; p < POLICIES; p++) {
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `np-${p}`, namespace: `ns-${p % NAMESPACES}` },
      spec: {
        podSelector: { matchLabels: { app: `app-${p % 10}` } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { team: `t${p % 7}` } },
                podSelector: { matchLabels: { tier: 'web' } },
              },
              { ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.1.0/24'] } },
            ],
            ports: [{ port: 'http' }, { port: 9000, endPort: 9100 }],
          },
        ],
        egress: [{ to: [{ podSelector: {} }], ports: [{ protocol: 'UDP', port: 53 }] }],
      },
    });
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${p}`, namespace: `ns-${p % NAMESPACES}` },
      spec: { selector: { app: `app-${p % 10}` }, ports: [{ port: 80, targetPort: 'http' }] },
    });
  }
  return out;
}

function measure(label: string, text: string): void {
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const start = performance.now();
  const r = loadManifestTexts([{ display: label, text }]);
  const ms = performance.now() - start;
  global.gc?.();
  // Measured while the result is still referenced: what a loaded cluster keeps alive.
  const heap = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
  console.log(
    `${label}: ${(text.length / 1024 / 1024).toFixed(1)} MB -> ${r.input.pods.length} pods ` +
      `(${r.summary.representatives} representative), ${r.input.policies.length} policies, ` +
      `${r.input.services.length} services, ${r.problems.length} problems in ${ms.toFixed(0)} ms (heap held +${heap.toFixed(0)} MB${global.gc === undefined ? ', run with node --expose-gc for a meaningful figure' : ''})`,
  );
}

const all = objects();
const json = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: all });
const yaml = all.map((o) => `---\n${stringify(o)}`).join('');
for (let round = 0; round < 2; round++) {
  measure('dump.json (one List)', json);
  measure('cluster.yaml (documents)', yaml);
}
