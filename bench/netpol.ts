/**
 * NetworkPolicy engine benchmark (issue 4 section 4), in process on generated clusters:
 *   - 1,000 pods in 50 namespaces with 500 policies: model build + compile (apart), one full
 *     matrix for one port (target <= 1 s), explain for pod pairs (target <= 50 ms each);
 *   - 20,000 pods with 2,000 policies: time and heap to build the model and compile it, and
 *     to compute one matrix row.
 * Policies are a realistic mix: default deny-all, label allows, namespace allows, ipBlocks
 * with except, named ports, DNS egress. Deterministic (seeded). Run:
 *   npx tsx bench/netpol.ts
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { rng } from './rng.js';
import { compile } from '../src/netpol/compile.js';
import { explain } from '../src/netpol/explain.js';
import { matrix, matrixRow } from '../src/netpol/matrix.js';
import { buildModel } from '../src/netpol/model/build.js';
import { toNetpolPolicy } from '../src/netpol/model/policy.js';
import type {
  ClusterInput,
  NetpolNamespace,
  NetpolNode,
  NetpolPod,
  NetpolPolicy,
} from '../src/netpol/model/types.js';

const APPS = 10;
const TIERS = ['web', 'api', 'db'] as const;

function generate(podCount: number, nsCount: number, policyCount: number, seed = 1): ClusterInput {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const namespaces: NetpolNamespace[] = [{ name: 'kube-system', labels: {} }];
  for (let n = 0; n < nsCount; n++) {
    namespaces.push({ name: `ns-${n}`, labels: { team: `t${n % 10}`, env: n % 3 === 0 ? 'prod' : 'dev' } });
  }
  const nodeCount = Math.max(3, Math.ceil(podCount / 100));
  const nodes: NetpolNode[] = [];
  for (let k = 0; k < nodeCount; k++)
    nodes.push({ name: `node-${k}`, addresses: [`192.168.${k >> 8}.${k & 255}`] });
  const pods: NetpolPod[] = [];
  for (let k = 0; k < 4; k++) {
    pods.push({
      namespace: 'kube-system',
      name: `coredns-${k}`,
      labels: { 'k8s-app': 'kube-dns' },
      ip: `10.96.0.${10 + k}`,
      node: `node-${k % nodeCount}`,
      hostNetwork: false,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
      representative: false,
    });
  }
  for (let i = 0; i < podCount - 4; i++) {
    const ns = `ns-${i % nsCount}`;
    const hostNetwork = i % 97 === 0;
    const node = `node-${Math.floor(rand() * nodeCount)}`;
    const noIp = i % 53 === 0;
    pods.push({
      namespace: ns,
      name: `pod-${i}`,
      labels: { app: `app-${Math.floor(rand() * APPS)}`, tier: pick(TIERS), version: `v${i % 3}` },
      ip: noIp ? null : hostNetwork ? null : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      node,
      hostNetwork,
      ports: [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'metrics', port: 9090, protocol: 'TCP' },
      ],
      representative: noIp,
    });
  }
  const policies: NetpolPolicy[] = [];
  const add = (namespace: string, name: string, spec: Record<string, unknown>): void => {
    const r = toNetpolPolicy({ metadata: { name, namespace }, spec });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    policies.push(r.policy);
  };
  const app = (): Record<string, unknown> => ({ matchLabels: { app: `app-${Math.floor(rand() * APPS)}` } });
  for (let p = 0; policies.length < policyCount; p++) {
    const ns = `ns-${p % nsCount}`;
    const kind = p < nsCount ? (p % 2 === 0 ? 'deny-all' : 'deny-ingress') : Math.floor(rand() * 6);
    switch (kind) {
      case 'deny-all':
        add(ns, 'deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
        add(ns, 'allow-dns', {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
                },
              ],
              ports: [
                { protocol: 'UDP', port: 53 },
                { protocol: 'TCP', port: 53 },
              ],
            },
          ],
        });
        break;
      case 'deny-ingress':
        add(ns, 'deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] });
        break;
      case 0: // label allow, same namespace, named port
        add(ns, `allow-labels-${p}`, {
          podSelector: app(),
          ingress: [{ from: [{ podSelector: app() }, { podSelector: app() }], ports: [{ port: 'http' }] }],
        });
        break;
      case 1: // namespace allow
        add(ns, `allow-ns-${p}`, {
          podSelector: { matchLabels: { tier: pick(TIERS) } },
          ingress: [
            { from: [{ namespaceSelector: { matchLabels: { team: `t${Math.floor(rand() * 10)}` } } }] },
          ],
        });
        break;
      case 2: // namespace AND pod, port range
        add(ns, `allow-ns-pod-${p}`, {
          podSelector: app(),
          ingress: [
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { env: 'prod' } },
                  podSelector: { matchLabels: { tier: 'web' } },
                },
              ],
              ports: [{ port: 8000, endPort: 8100 }],
            },
          ],
        });
        break;
      case 3: // egress ipBlock with except
        add(ns, `egress-ipblock-${p}`, {
          podSelector: app(),
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '192.168.0.0/16'] } }],
              ports: [{ port: 443 }],
            },
            { to: [{ ipBlock: { cidr: '10.0.0.0/12', except: ['10.0.128.0/17'] } }] },
          ],
        });
        break;
      case 4: // egress to labelled pods anywhere, named port
        add(ns, `egress-labels-${p}`, {
          podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] },
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ namespaceSelector: {}, podSelector: app() }],
              ports: [{ port: 'http' }, { port: 'metrics' }],
            },
          ],
        });
        break;
      default: // ingress from an ipBlock (monitoring range)
        add(ns, `ingress-ipblock-${p}`, {
          podSelector: { matchExpressions: [{ key: 'version', operator: 'NotIn', values: ['v0'] }] },
          ingress: [
            {
              from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] } }],
              ports: [{ port: 9090 }],
            },
          ],
        });
    }
  }
  return { namespaces, pods, nodes, services: [], policies: policies.slice(0, policyCount) };
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

// A collector for steady heap figures, without needing --expose-gc on the command line.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMiB(): number {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function fmt(n: number): string {
  return n.toFixed(n < 10 ? 2 : 1);
}

// ---- 1,000 pods / 50 namespaces / 500 policies ----
{
  const input = generate(1000, 50, 500);
  let t = process.hrtime.bigint();
  const model = buildModel(input);
  const buildMs = ms(t);
  t = process.hrtime.bigint();
  const compiled = compile(model);
  const compileMs = ms(t);
  matrix(compiled, 8080, 'TCP'); // warm-up
  const runs: number[] = [];
  let allowedCells = 0;
  for (let r = 0; r < 5; r++) {
    t = process.hrtime.bigint();
    const m = matrix(compiled, 8080, 'TCP');
    runs.push(ms(t));
    allowedCells = m.allowed.reduce((sum, row) => sum + row.filter(Boolean).length, 0);
  }
  const rand = rng(7);
  const n = compiled.model.pods.length;
  const explainTimes: number[] = [];
  for (let r = 0; r < 300; r++) {
    const from = Math.floor(rand() * n);
    const to = Math.floor(rand() * n);
    t = process.hrtime.bigint();
    explain(compiled, { kind: 'pod', pod: from }, { kind: 'pod', pod: to }, 8080, 'TCP');
    explainTimes.push(ms(t));
  }
  t = process.hrtime.bigint();
  explain(compiled, { kind: 'ip', ip: '10.0.0.7' }, { kind: 'pod', pod: 5 }, 9090, 'TCP');
  const explainIp = ms(t);
  explainTimes.sort((a, b) => a - b);
  console.log(`netpol bench: ${n} pods, 50 namespaces, ${input.policies.length} policies`);
  console.log(`  model build:          ${fmt(buildMs)} ms`);
  console.log(`  compile (selectors):  ${fmt(compileMs)} ms`);
  console.log(
    `  full matrix 8080/TCP: median ${fmt(runs.sort((a, b) => a - b)[2]!)} ms, max ${fmt(runs[4]!)} ms (target <= 1000 ms); ${allowedCells} of ${n * n} cells allowed`,
  );
  console.log(
    `  explain pod->pod:     median ${fmt(explainTimes[150]!)} ms, p99 ${fmt(explainTimes[296]!)} ms, max ${fmt(explainTimes[299]!)} ms (target <= 50 ms); ip->pod ${fmt(explainIp)} ms`,
  );
}

// ---- scale: 20,000 pods / 2,000 policies ----
{
  const input = generate(20000, 500, 2000, 2);
  const before = heapMiB();
  let t = process.hrtime.bigint();
  const model = buildModel(input);
  const buildMs = ms(t);
  t = process.hrtime.bigint();
  const compiled = compile(model);
  const compileMs = ms(t);
  const after = heapMiB();
  const times: number[] = [];
  let allowed = 0;
  for (const from of [5, 1234, 19000]) {
    t = process.hrtime.bigint();
    const row = matrixRow(compiled, from, 8080, 'TCP');
    times.push(ms(t));
    allowed = row.filter(Boolean).length;
  }
  console.log(
    `netpol scale: ${compiled.model.pods.length} pods, 500 namespaces, ${input.policies.length} policies`,
  );
  console.log(`  model build:          ${fmt(buildMs)} ms`);
  console.log(`  compile (selectors):  ${fmt(compileMs)} ms`);
  console.log(
    `  heap for model+compiled: ${fmt(after - before)} MiB (heapUsed delta after gc; the input itself excluded)`,
  );
  console.log(
    `  one matrix row 8080/TCP: ${times.map(fmt).join(' / ')} ms (last row: ${allowed} of ${compiled.model.pods.length} allowed)`,
  );
  console.log(`  rss: ${fmt(process.memoryUsage().rss / 2 ** 20)} MiB`);
}
