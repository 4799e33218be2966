import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySource } from '../audit/testing/memory-source.js';
import { formatIp } from './model/cidr.js';
import {
  formatIgnored,
  formatLoadProblem,
  formatLoadProblemWithPath,
  loadFromClusterSource,
  loadManifests,
  loadManifestTexts,
  loadObjects,
  parsePodCidr,
  pathSegments,
} from './load.js';
import type { LoadOptions, LoadResult } from './load.js';
import type { NetpolPod } from './model/types.js';

function load(text: string, opts: LoadOptions = {}): LoadResult {
  return loadManifestTexts([{ display: 'in.yaml', text }], opts);
}

function podKeys(r: LoadResult): string[] {
  return r.input.pods.map((p) => `${p.namespace}/${p.name}`);
}

function pod(r: LoadResult, key: string): NetpolPod {
  const p = r.input.pods.find((q) => `${q.namespace}/${q.name}` === key);
  if (p === undefined) throw new Error(`no pod ${key} in ${podKeys(r).join(' ')}`);
  return p;
}

const CLUSTER = `apiVersion: v1
kind: Namespace
metadata:
  name: app
  labels:
    team: web
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: app
  labels: {app: web}
spec:
  nodeName: node-a
  containers:
    - name: web
      ports:
        - {name: http, containerPort: 8080}
        - {name: dns, containerPort: 53, protocol: UDP}
    - name: sidecar
  initContainers:
    - name: proxy
      restartPolicy: Always
      ports: [{name: admin, containerPort: 15000}]
status:
  podIP: 10.244.1.5
  hostIP: 192.168.0.10
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
status:
  addresses:
    - {type: InternalIP, address: 192.168.0.11}
    - {type: Hostname, address: node-b}
    - {type: ExternalIP, address: "2001:db8::11"}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec:
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: http}
    - {port: 53, protocol: UDP}
    - {port: 8443, targetPort: "9443"}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: app}
spec:
  podSelector: {}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: other}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: d, namespace: other}
---
just: a values file
`;

describe('loadManifestTexts: what the model gets', () => {
  const r = load(CLUSTER);

  it('has no problems', () => {
    expect(r.problems).toEqual([]);
  });

  it('namespaces: declared labels plus the name label', () => {
    expect(r.input.namespaces).toEqual([
      { name: 'app', labels: { team: 'web', 'kubernetes.io/metadata.name': 'app' } },
    ]);
  });

  it('pods: labels, status.podIP, node and every container port (sidecars too) with protocol', () => {
    expect(r.input.pods).toEqual([
      {
        namespace: 'app',
        name: 'web-1',
        labels: { app: 'web' },
        ip: '10.244.1.5',
        node: 'node-a',
        hostNetwork: false,
        ports: [
          { name: 'http', port: 8080, protocol: 'TCP' },
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'admin', port: 15000, protocol: 'TCP' },
        ],
        representative: false,
      },
    ]);
  });

  it('nodes: InternalIP and ExternalIP addresses; a pod names its node with its hostIP', () => {
    expect(r.input.nodes).toEqual([
      { name: 'node-b', addresses: ['192.168.0.11', '2001:db8::11'] },
      { name: 'node-a', addresses: ['192.168.0.10'] },
    ]);
  });

  it('services: selector and ports with targetPort defaulted to port and numeric strings as numbers', () => {
    expect(r.input.services).toEqual([
      {
        namespace: 'app',
        name: 'web',
        selector: { app: 'web' },
        ports: [
          { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
          { port: 53, targetPort: 53, protocol: 'UDP' },
          { port: 8443, targetPort: 9443, protocol: 'TCP' },
        ],
      },
    ]);
  });

  it('policies: converted with defaults and their source line', () => {
    expect(r.input.policies).toHaveLength(1);
    expect(r.input.policies[0]).toMatchObject({
      namespace: 'app',
      name: 'deny',
      policyTypes: ['Ingress'],
      ingress: [],
      source: { file: 'in.yaml', line: 49 },
    });
  });

  it('counts ignored kinds and skipped documents', () => {
    expect(r.summary).toMatchObject({ documents: 8, used: 5, ignored: { ConfigMap: 2 }, skipped: 1 });
  });
});

describe('namespaces referenced but not declared', () => {
  it('exist with only kubernetes.io/metadata.name, objects without a namespace are in default', () => {
    const r = load(`apiVersion: v1
kind: Pod
metadata: {name: p, namespace: x}
spec: {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: n, namespace: y}
spec: {podSelector: {}}
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {}
`);
    expect(r.input.namespaces).toEqual([
      { name: 'x', labels: { 'kubernetes.io/metadata.name': 'x' } },
      { name: 'y', labels: { 'kubernetes.io/metadata.name': 'y' } },
      { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } },
    ]);
  });

  it('a declared namespace later in the input keeps its labels', () => {
    const r = load(`apiVersion: v1
kind: Pod
metadata: {name: p, namespace: x}
spec: {}
---
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {a: b}}
`);
    expect(r.input.namespaces).toEqual([
      { name: 'x', labels: { a: 'b', 'kubernetes.io/metadata.name': 'x' } },
    ]);
  });
});

const deployment = (name: string, extra = ''): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: app${extra}}
spec:
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: c, ports: [{name: http, containerPort: 80}]}]
`;

/** A Deployment with `spec.selector: {matchLabels: {app: <name>}}`. */
const selected = (name: string, ns: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: c}]}
`;
const barePod = (name: string, ns: string, app: string, extraMeta = ''): string => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {app: ${app}}${extraMeta}}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.0.5}
`;

describe('representative pods for workloads (CONTRACTS.md section 6)', () => {
  const cases: { name: string; text: string; pods: string[] }[] = [
    { name: 'a Deployment without pods', text: deployment('web'), pods: ['app/deployment-web'] },
    {
      name: 'a Deployment whose pod (through its ReplicaSet) is there',
      text: `${deployment('web')}---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-5d, namespace: app, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1}]}
spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-old, namespace: app, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1}]}
spec: {replicas: 0, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: web-5d-x, namespace: app, labels: {app: web}, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d, uid: u2}]}
spec: {containers: [{name: c}]}
`,
      pods: ['app/web-5d-x'],
    },
    {
      name: 'a ReplicaSet whose Deployment is not in the input stands for itself',
      text: `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, namespace: app, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: gone, uid: u1}]}
spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}}
`,
      pods: ['app/replicaset-rs'],
    },
    {
      name: 'a CronJob: its Job stands aside, and neither has pods',
      text: `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: app}
spec: {schedule: "@daily", jobTemplate: {spec: {template: {metadata: {labels: {job: nightly}}, spec: {containers: [{name: c}]}}}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: nightly-1, namespace: app, ownerReferences: [{apiVersion: batch/v1, kind: CronJob, name: nightly, uid: u}]}
spec: {template: {metadata: {labels: {job: nightly}}, spec: {containers: [{name: c}]}}}
`,
      pods: ['app/cronjob-nightly'],
    },
    {
      name: 'a StatefulSet, a DaemonSet and a PodTemplate (which runs nothing)',
      text: `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: app}
spec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec: {template: {metadata: {labels: {app: agent}}, spec: {hostNetwork: true, containers: [{name: c}]}}}
---
apiVersion: v1
kind: PodTemplate
metadata: {name: t, namespace: app}
template: {spec: {containers: [{name: c}]}}
`,
      pods: ['app/statefulset-db', 'kube-system/daemonset-agent'],
    },
    {
      name: 'a bare pod matching a Deployment selector (same namespace) is its running pod',
      text: `${selected('web', 'app')}---
${barePod('web-x', 'app', 'web')}`,
      pods: ['app/web-x'],
    },
    {
      name: 'a pod whose ReplicaSet is not in the input counts by selector too',
      text: `${selected('web', 'app')}---
${barePod('web-5d-x', 'app', 'web', ', ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d, uid: u}]')}`,
      pods: ['app/web-5d-x'],
    },
    {
      name: 'a matching pod in another namespace does not count',
      text: `${selected('web', 'app')}---
${barePod('web-x', 'other', 'web')}`,
      pods: ['other/web-x', 'app/deployment-web'],
    },
    {
      name: 'a matching pod owned by another workload of the input does not count',
      text: `${selected('web', 'app')}---
${selected('web2', 'app').replace('app: web2}}', 'app: web}}')}---
${barePod('web2-x', 'app', 'web', ', ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web2, uid: u}]')}`,
      pods: ['app/web2-x', 'app/deployment-web'],
    },
    {
      name: 'a pod that does not match the selector does not count',
      text: `${selected('web', 'app')}---
${barePod('api-x', 'app', 'api')}`,
      pods: ['app/api-x', 'app/deployment-web'],
    },
    {
      name: 'finished pods are left out',
      text: `apiVersion: v1
kind: Pod
metadata: {name: done, namespace: app}
spec: {containers: [{name: c}]}
status: {phase: Succeeded, podIP: 10.0.0.9}
`,
      pods: [],
    },
  ];
  it.each(cases)('$name', ({ text, pods }) => {
    const r = load(text);
    expect(r.problems).toEqual([]);
    expect(podKeys(r)).toEqual(pods);
  });

  it("a representative pod has its template's labels and ports, no address, and says what it is", () => {
    const r = load(deployment('web'));
    expect(pod(r, 'app/deployment-web')).toEqual({
      namespace: 'app',
      name: 'deployment-web',
      labels: { app: 'web' },
      ip: null,
      node: null,
      hostNetwork: false,
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      representative: true,
    });
    expect(r.summary.representatives).toBe(1);
  });

  it('hostNetwork: from the template, and a pod without podIP takes its hostIP', () => {
    const r = load(`apiVersion: v1
kind: Pod
metadata: {name: h, namespace: kube-system}
spec: {hostNetwork: true, nodeName: n1, containers: [{name: c}]}
status: {hostIP: 192.168.0.7}
`);
    expect(pod(r, 'kube-system/h')).toMatchObject({ hostNetwork: true, ip: '192.168.0.7', node: 'n1' });
    expect(r.input.nodes).toEqual([{ name: 'n1', addresses: ['192.168.0.7'] }]);
  });
});

describe('lists', () => {
  it('a kubectl get -A -o json dump (List) and typed lists whose items lack apiVersion and kind', () => {
    const dump = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', namespace: 'a' },
          spec: {},
          status: { podIP: '10.0.0.1' },
        },
        {
          apiVersion: 'v1',
          kind: 'PodList',
          items: [{ metadata: { name: 'q', namespace: 'a' }, spec: {}, status: { podIP: '10.0.0.2' } }],
        },
        { kind: 'Secret' },
      ],
    });
    const r = loadManifestTexts([{ display: 'dump.json', text: dump }]);
    expect(podKeys(r)).toEqual(['a/p', 'a/q']);
    expect(r.problems).toEqual([
      {
        file: 'dump.json',
        line: 1,
        column: expect.any(Number) as number,
        object: null,
        path: 'items[3]',
        message: 'is not a Kubernetes object (no apiVersion and kind)',
        hint: 'give every item of a List its apiVersion and kind',
      },
    ]);
  });
});

const policy = (spec: string): string => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: bad
  namespace: app
spec:
${spec}`;

describe('bad input: a problem with file, line, column and path; the valid objects are still used', () => {
  const cases: { name: string; text: string; line: number; path: string; message: string }[] = [
    {
      name: 'invalid selector operator',
      text: policy(`  podSelector:
    matchExpressions:
      - {key: app, operator: Like, values: [a]}
`),
      line: 9,
      path: 'spec.podSelector.matchExpressions[0].operator',
      message: 'must be one of In, NotIn, Exists, DoesNotExist',
    },
    {
      name: 'invalid label key with dots in a selector',
      text: policy(`  podSelector:
    matchLabels:
      example.com/Bad_: x
`),
      line: 9,
      path: 'spec.podSelector.matchLabels["example.com/Bad_"]',
      message: 'label key',
    },
    {
      name: 'invalid CIDR',
      text: policy(`  podSelector: {}
  egress:
    - to:
        - ipBlock:
            cidr: 10.0.0.0/33
`),
      line: 11,
      path: 'spec.egress[0].to[0].ipBlock.cidr',
      message: 'not a valid CIDR',
    },
    {
      name: 'except outside cidr',
      text: policy(`  podSelector: {}
  egress:
    - to:
        - ipBlock:
            cidr: 10.0.0.0/16
            except: [10.0.1.0/24, 10.1.0.0/24]
`),
      line: 12,
      path: 'spec.egress[0].to[0].ipBlock.except[1]',
      message: 'strict subset',
    },
    {
      name: 'invalid port name',
      text: policy(`  podSelector: {}
  ingress:
    - ports:
        - port: Web_Port
`),
      line: 10,
      path: 'spec.ingress[0].ports[0].port',
      message: 'port name',
    },
    {
      name: 'port out of range',
      text: policy(`  podSelector: {}
  ingress:
    - ports:
        - port: 70000
`),
      line: 10,
      path: 'spec.ingress[0].ports[0].port',
      message: 'between 1 and 65535',
    },
    {
      name: 'endPort below port',
      text: policy(`  podSelector: {}
  ingress:
    - ports:
        - port: 90
          endPort: 80
`),
      line: 11,
      path: 'spec.ingress[0].ports[0].endPort',
      message: 'greater than or equal',
    },
    {
      name: 'endPort with a named port',
      text: policy(`  podSelector: {}
  ingress:
    - ports:
        - port: http
          endPort: 80
`),
      line: 11,
      path: 'spec.ingress[0].ports[0].endPort',
      message: 'named port',
    },
    {
      name: 'unknown protocol',
      text: policy(`  podSelector: {}
  ingress:
    - ports:
        - protocol: ICMP
`),
      line: 10,
      path: 'spec.ingress[0].ports[0].protocol',
      message: 'must be one of TCP, UDP, SCTP',
    },
    {
      name: 'policyTypes value',
      text: policy(`  podSelector: {}
  policyTypes: [Ingress, ingress]
`),
      line: 8,
      path: 'spec.policyTypes[1]',
      message: 'must be Ingress or Egress',
    },
    {
      name: 'missing podSelector',
      text: policy(`  ingress: []
`),
      line: 6,
      path: 'spec.podSelector',
      message: 'is required',
    },
    {
      name: 'pod without a name',
      text: `apiVersion: v1
kind: Pod
metadata:
  namespace: app
spec: {}
`,
      line: 3,
      path: 'metadata.name',
      message: 'is required',
    },
    {
      name: 'pod with a bad address',
      text: `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec: {}
status:
  podIP: 10.0.0.300
`,
      line: 6,
      path: 'status.podIP',
      message: 'not an IP address',
    },
    {
      name: 'container port name',
      text: `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
    - name: c
      ports:
        - name: http--alt
          containerPort: 80
`,
      line: 8,
      path: 'spec.containers[0].ports[0].name',
      message: 'port name',
    },
    {
      name: 'container port protocol',
      text: `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
    - name: c
      ports:
        - containerPort: 80
          protocol: tcp
`,
      line: 9,
      path: 'spec.containers[0].ports[0].protocol',
      message: 'must be one of TCP, UDP, SCTP',
    },
    {
      name: 'service port out of range',
      text: `apiVersion: v1
kind: Service
metadata: {name: s, namespace: app}
spec:
  ports:
    - port: 0
`,
      line: 6,
      path: 'spec.ports[0].port',
      message: 'from 1 to 65535',
    },
  ];
  const valid = `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: good, namespace: app}
spec: {podSelector: {}}
`;
  it.each(cases)('$name', ({ text, line, path, message }) => {
    const r = load(`${text}${valid}`);
    expect(r.problems).toHaveLength(1);
    const p = r.problems[0]!;
    expect(p).toMatchObject({ file: 'in.yaml', line, path });
    expect(p.column).toBeGreaterThan(0);
    expect(p.message).toContain(message);
    expect(r.input.policies.map((q) => q.name)).toContain('good');
    expect(formatLoadProblem(p)).toMatch(new RegExp(`^in\\.yaml:${line}:\\d+: `));
    expect(p.object).toMatch(/^(NetworkPolicy|Pod|Service) app\/(bad|p|s|\(unnamed\))$/);
    expect(formatLoadProblemWithPath(p).startsWith(`in.yaml:${line}:${p.column}: ${path}: `)).toBe(true);
  });

  it('an invalid policy is left out but its namespace still exists', () => {
    const r = load(
      policy('  podSelector: {matchLabels: {"a b": x}}\n').replace('namespace: app', 'namespace: lone'),
    );
    expect(r.input.policies).toEqual([]);
    expect(r.input.namespaces.map((n) => n.name)).toEqual(['lone']);
  });

  it('broken YAML is a problem and the other documents are used', () => {
    const r = load(`apiVersion: v1
kind: Pod
metadata: {name: p, namespace: a
---
apiVersion: v1
kind: Namespace
metadata: {name: ok}
`);
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems[0]?.file).toBe('in.yaml');
    expect(r.input.namespaces.map((n) => n.name)).toEqual(['ok']);
  });
});

describe('pathSegments', () => {
  const obj = {
    spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'x' } }, ingress: [{ from: [] }] },
  };
  it.each([
    ['spec.ingress[0].from', ['spec', 'ingress', 0, 'from']],
    [
      'spec.podSelector.matchLabels.app.kubernetes.io/name',
      ['spec', 'podSelector', 'matchLabels', 'app.kubernetes.io/name'],
    ],
    [
      'spec.podSelector.matchLabels["app.kubernetes.io/name"]',
      ['spec', 'podSelector', 'matchLabels', 'app.kubernetes.io/name'],
    ],
    ['spec.missing.deeper', ['spec', 'missing', 'deeper']],
    ['', []],
  ])('%s', (path, expected) => {
    expect(pathSegments(obj, path)).toEqual(expected);
  });
});

describe('--pod-cidr', () => {
  const pods = (names: string[], extra = ''): string =>
    names
      .map(
        (n) => `apiVersion: v1
kind: Pod
metadata: {name: ${n}, namespace: app}
spec: {}
${extra}`,
      )
      .join('---\n');

  function cidr(text: string): LoadOptions {
    const c = parsePodCidr(text);
    if (!c.ok) throw new Error(c.message);
    return { podCidr: c.cidr };
  }

  it('assigns in namespace/name order from the first address after the network address', () => {
    const r = load(pods(['c', 'a', 'b']), cidr('10.9.0.0/24'));
    expect(r.input.pods.map((p) => [p.name, p.ip])).toEqual([
      ['c', '10.9.0.3'],
      ['a', '10.9.0.1'],
      ['b', '10.9.0.2'],
    ]);
    expect(r.summary.assignedAddresses).toBe(3);
  });

  it('skips addresses pods and nodes already hold, leaves hostNetwork pods alone, covers representatives', () => {
    const r = load(
      `${pods(['a'])}---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: app}
spec: {}
status: {podIP: 10.9.0.1}
---
apiVersion: v1
kind: Node
metadata: {name: n}
status: {addresses: [{type: InternalIP, address: 10.9.0.2}]}
---
apiVersion: v1
kind: Pod
metadata: {name: h, namespace: app}
spec: {hostNetwork: true, nodeName: n}
---
${deployment('web')}`,
      cidr('10.9.0.0/24'),
    );
    expect(r.input.pods.map((p) => [p.name, p.ip])).toEqual([
      ['a', '10.9.0.3'],
      ['b', '10.9.0.1'],
      ['h', null],
      ['deployment-web', '10.9.0.4'],
    ]);
  });

  it('the same input gives the same addresses', () => {
    const a = load(pods(['x', 'y']), cidr('10.0.0.0/8'));
    const b = load(pods(['x', 'y']), cidr('10.0.0.0/8'));
    expect(a.input.pods).toEqual(b.input.pods);
  });

  it('IPv6', () => {
    const r = load(pods(['a', 'b']), cidr('fd00::/120'));
    expect(r.input.pods.map((p) => p.ip)).toEqual(['fd00::1', 'fd00::2']);
  });

  it('a full CIDR is a problem; the pods left over have no address (IPv4 broadcast is never given)', () => {
    const r = load(pods(['a', 'b', 'c']), cidr('10.0.0.0/30'));
    expect(r.input.pods.map((p) => p.ip)).toEqual(['10.0.0.1', '10.0.0.2', null]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]?.message).toContain('1 pod stay without an address');
  });

  it.each(['10.0.0.0', '10.0.0.0/40', 'x/8', ''])('rejects %j', (text) => {
    expect(parsePodCidr(text).ok).toBe(false);
  });
});

describe('formatIp (the addresses given to pods without one)', () => {
  it.each([
    [4, 0x0a000001n, '10.0.0.1'],
    [6, 0xfd000000000000000000000000000001n, 'fd00::1'],
    [6, 0n, '::'],
    [6, 0x20010db8000000010000000000000001n, '2001:db8:0:1::1'],
    [6, 0x00010002000300040005000600070008n, '1:2:3:4:5:6:7:8'],
  ] as const)('%s %s', (family, value, text) => {
    expect(formatIp({ family, value })).toBe(text);
  });
});

describe('loadManifests (files, directories, stdin)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podsec-netpol-load-'));
    await mkdir(join(dir, 'm'));
    await writeFile(join(dir, 'm', 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n');
    await writeFile(join(dir, 'm', 'values.yaml'), 'replicas: 3\n');
    await writeFile(join(dir, 'values.yaml'), 'replicas: 3\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('walks directories, reads stdin, and a file named explicitly without objects is a problem', async () => {
    const stdin = Readable.from([
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {}\nstatus: {podIP: 10.0.0.1}\n',
    ]);
    const r = await loadManifests([join(dir, 'm'), '-', join(dir, 'values.yaml'), join(dir, 'nope.yaml')], {
      stdin,
    });
    expect(r.input.namespaces.map((n) => n.name)).toEqual(['a']);
    expect(podKeys(r)).toEqual(['a/p']);
    expect(r.problems.map((p) => [p.file, p.message])).toEqual([
      [join(dir, 'nope.yaml'), 'no such file or directory'],
      [join(dir, 'values.yaml'), 'no Kubernetes object in this file (a document needs apiVersion and kind)'],
    ]);
    expect(r.summary.skipped).toBe(2);
  });
});

describe('loadObjects and loadFromClusterSource', () => {
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { env: 'prod' } } },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'a' },
      spec: {},
      status: { podIP: '10.0.0.1' },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'n', namespace: 'a' },
      spec: { podSelector: { matchLabels: { 'bad key!': 'x' } } },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'a' },
      spec: { template: { spec: {} } },
    },
  ];

  it('objects from an API carry no file and no position', () => {
    const r = loadObjects(objects);
    expect(podKeys(r)).toEqual(['a/p', 'a/deployment-d']);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({
      file: null,
      line: null,
      column: null,
      object: 'NetworkPolicy a/n',
      path: 'spec.podSelector.matchLabels["bad key!"]',
    });
    expect(formatLoadProblem(r.problems[0]!)).toMatch(/^NetworkPolicy a\/n: label key "bad key!"/);
    expect(formatLoadProblemWithPath(r.problems[0]!)).toMatch(
      /^NetworkPolicy a\/n: spec\.podSelector\.matchLabels\["bad key!"\]: label key/,
    );
  });

  it('a ClusterSource is listed kind by kind', async () => {
    const source = new MemorySource(objects);
    const r = await loadFromClusterSource(source);
    expect(podKeys(r).sort()).toEqual(['a/deployment-d', 'a/p']);
    expect(r.input.namespaces).toEqual([
      { name: 'a', labels: { env: 'prod', 'kubernetes.io/metadata.name': 'a' } },
    ]);
    expect(r.problems).toHaveLength(1);
  });

  it('a kind that cannot be listed is a problem naming it; the rest is used', async () => {
    const source = new MemorySource(objects);
    const failing = Object.assign(Object.create(source) as MemorySource, {
      listPages(kind: { kind: string }) {
        if (kind.kind === 'Node') throw new Error('forbidden');
        return source.listPages(kind as never);
      },
    });
    const r = await loadFromClusterSource(failing);
    expect(r.problems.map((p) => p.message)).toContainEqual(
      expect.stringContaining('cannot list Node (v1) from memory: forbidden'),
    );
    expect(podKeys(r)).toContain('a/p');
  });
});

describe('duplicates', () => {
  it('the same policy or service read twice counts once, the later wins', () => {
    const r = load(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec: {podSelector: {}}
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: a}
spec: {ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec: {podSelector: {}, policyTypes: [Egress]}
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: a}
spec: {ports: [{port: 81}]}
`);
    expect(r.input.policies.map((p) => p.policyTypes)).toEqual([['Egress']]);
    expect(r.input.services.map((s) => s.ports.map((p) => p.port))).toEqual([[81]]);
  });
});

describe('formatIgnored', () => {
  it.each<[string, Record<string, number>, string | null]>([
    ['nothing ignored', {}, null],
    [
      'most first, then by kind',
      { Secret: 1, ConfigMap: 3, Role: 1 },
      'ignored: 3 ConfigMap, 1 Role, 1 Secret',
    ],
    ['zero counts left out', { ConfigMap: 0 }, null],
  ])('%s', (_name, ignored, expected) => {
    expect(formatIgnored(ignored)).toBe(expected);
  });
});

describe('Go template syntax in a netpol input', () => {
  it('is a problem whose hint names no particular command', () => {
    const text = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: {{ .Release.Namespace }}}
spec: {podSelector: {}}
`;
    const r = loadManifestTexts([{ display: 'chart.yaml', text }]);
    expect(r.problems.map((p) => p.hint)).toContain(
      'render it first: helm template <chart> | podsec <command> -',
    );
  });
});
