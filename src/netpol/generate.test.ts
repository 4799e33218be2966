import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  generatePolicies,
  generateWarnings,
  parseGenerateArgs,
  parsePortArg,
  policyName,
  renderJson,
  renderYaml,
  selectorManifest,
} from './generate.js';
import type { GenerateArgs, GenerateRequest, PortArg } from './generate.js';
import type { Endpoint } from './model/types.js';
import { parseSelectorText } from '../lib/label-selector/index.js';
import { compile } from './compile.js';
import { evaluate } from './evaluate.js';
import { loadManifestTexts } from './load.js';

function request(args: Partial<GenerateArgs> & { kind: string }): GenerateRequest {
  const parsed = parseGenerateArgs({ namespace: 'app', ...args });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
}

describe('parsePortArg', () => {
  const ok: [string, string, PortArg][] = [
    ['number, TCP by default', '8080', { port: 8080, protocol: 'TCP' }],
    ['number with protocol', '53/UDP', { port: 53, protocol: 'UDP' }],
    ['protocol in lower case', '9/sctp', { port: 9, protocol: 'SCTP' }],
    ['lowest port', '1', { port: 1, protocol: 'TCP' }],
    ['highest port', '65535/TCP', { port: 65535, protocol: 'TCP' }],
    ['range', '8000-8080', { port: 8000, endPort: 8080, protocol: 'TCP' }],
    ['range of one port', '80-80/UDP', { port: 80, protocol: 'UDP' }],
    ['named port', 'http', { port: 'http', protocol: 'TCP' }],
    ['named port with protocol', 'dns-udp/UDP', { port: 'dns-udp', protocol: 'UDP' }],
  ];
  it.each(ok)('%s: %s', (_name, text, expected) => {
    expect(parsePortArg(text)).toEqual({ ok: true, value: expected });
  });

  const bad: [string, string, string][] = [
    ['zero', '0', 'from 1 to 65535'],
    ['too large', '65536', 'from 1 to 65535'],
    ['unknown protocol', '80/ICMP', 'unknown protocol'],
    ['empty protocol', '80/', 'unknown protocol'],
    ['missing port', '/TCP', 'missing'],
    ['range reversed', '90-80', 'below its start'],
    ['range past the end', '80-70000', '1 to 65535'],
    ['name too long', 'a-very-long-port-name', '1-15'],
    ['name with upper case', 'HTTP', 'port name "HTTP"'],
    ['name without a letter', '80-81-82', 'port name'],
    ['name with a double dash', 'my--port', 'port name'],
    ['name ending in a dash', 'web-', 'port name'],
    ['negative number', '-1', 'port name'],
  ];
  it.each(bad)('rejects %s: %s', (_name, text, why) => {
    const r = parsePortArg(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain(`--port ${JSON.stringify(text)}`);
      expect(r.message).toContain(why);
    }
  });

  it('uses the given default protocol', () => {
    expect(parsePortArg('53', 'UDP')).toEqual({ ok: true, value: { port: 53, protocol: 'UDP' } });
  });
});

describe('parseGenerateArgs: usage errors', () => {
  const cases: [string, GenerateArgs, string][] = [
    ['unknown kind', { kind: 'allow-all', namespace: 'app' }, 'unknown policy'],
    ['no namespace', { kind: 'deny-all', namespace: undefined }, '--namespace is required'],
    ['bad namespace', { kind: 'deny-all', namespace: 'App_1' }, '--namespace'],
    ['bad pod selector', { kind: 'deny-all', namespace: 'app', podSelector: '=web' }, '--pod-selector'],
    ['bad selector value', { kind: 'deny-all', namespace: 'app', podSelector: 'app=-x' }, 'label value'],
    [
      'bad from-pod selector',
      { kind: 'allow-from-labels', namespace: 'app', fromPodSelector: 'a in b' },
      '--from-pod-selector',
    ],
    [
      'bad namespace selector',
      { kind: 'allow-from-namespace', namespace: 'app', fromNamespaceSelector: 'x/y/z=1' },
      '--from-namespace-selector',
    ],
    [
      'bad namespace name',
      { kind: 'allow-from-namespace', namespace: 'app', fromNamespaces: ['Bad'] },
      '--from-namespace',
    ],
    [
      'bad port',
      { kind: 'allow-from-labels', namespace: 'app', fromPodSelector: 'a=b', ports: ['x/TCP/UDP'] },
      '--port',
    ],
    [
      'bad protocol flag',
      {
        kind: 'allow-from-labels',
        namespace: 'app',
        fromPodSelector: 'a=b',
        ports: ['80'],
        protocol: 'ICMP',
      },
      '--protocol',
    ],
    [
      'deny-all with a port',
      { kind: 'deny-all', namespace: 'app', ports: ['80'] },
      'deny-all takes no --port',
    ],
    [
      'deny-all with peers',
      { kind: 'deny-all', namespace: 'app', fromPodSelector: 'a=b' },
      'deny-all takes no --from-pod-selector',
    ],
    [
      'allow-from-labels without peers',
      { kind: 'allow-from-labels', namespace: 'app' },
      'needs --from-pod-selector',
    ],
    [
      'allow-from-labels with namespaces',
      { kind: 'allow-from-labels', namespace: 'app', fromPodSelector: 'a=b', fromNamespaces: ['x'] },
      'same namespace',
    ],
    [
      'allow-from-namespace without namespaces',
      { kind: 'allow-from-namespace', namespace: 'app', fromPodSelector: 'a=b' },
      'needs --from-namespace-selector',
    ],
    [
      '--no-dns on an allow',
      { kind: 'allow-from-labels', namespace: 'app', fromPodSelector: 'a=b', dns: false },
      '--no-dns applies to deny-all only',
    ],
    [
      '--protocol without --port',
      { kind: 'allow-from-labels', namespace: 'app', fromPodSelector: 'a=b', protocol: 'UDP' },
      '--protocol needs --port',
    ],
  ];
  it.each(cases)('%s', (_name, args, message) => {
    const r = parseGenerateArgs(args);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });
});

describe('selectorManifest', () => {
  it.each([
    ['empty selects every pod', '', {}],
    ['K=V becomes matchLabels', 'app=web,tier=api', { matchLabels: { app: 'web', tier: 'api' } }],
    [
      'set and existence terms stay expressions',
      'app in (a,b),!legacy,env',
      {
        matchExpressions: [
          { key: 'app', operator: 'In', values: ['a', 'b'] },
          { key: 'legacy', operator: 'DoesNotExist' },
          { key: 'env', operator: 'Exists' },
        ],
      },
    ],
    [
      'two equalities on one key stay expressions (both must hold)',
      'a=1,a=2',
      {
        matchExpressions: [
          { key: 'a', operator: 'In', values: ['1'] },
          { key: 'a', operator: 'In', values: ['2'] },
        ],
      },
    ],
    ['!= is NotIn', 'tier!=db', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }],
  ])('%s', (_name, text, expected) => {
    expect(selectorManifest(parseSelectorText(text))).toEqual(expected);
  });
});

describe('policyName', () => {
  it('joins readable parts', () => {
    expect(policyName(['allow-from', 'app-fe', '', 'to-app-web'])).toBe('allow-from-app-fe-to-app-web');
  });
  it('cuts long names to 63 characters with a hash that keeps them distinct', () => {
    const a = policyName(['allow-from', 'x'.repeat(100), 'a']);
    const b = policyName(['allow-from', 'x'.repeat(100), 'b']);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(a).not.toBe(b);
  });
  const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  it.each([
    [
      'ports of an allow',
      ['allow-from', 'app-frontend-tier-web', 'to-app-backend-api', 'port-8080-tcp-http-tcp-9090-tcp'],
    ],
    ['many short words', ['allow-from', Array.from({ length: 40 }, (_, i) => `w${i}`).join('-')]],
    ['a word longer than the room', ['allow-from', 'x'.repeat(100)]],
    ['the cut falling on a dash', ['a'.repeat(54), 'bcd', 'efghij']],
  ])('cuts %s at a word boundary, at most 63 characters, DNS-1123 valid', (_name, parts) => {
    const full = parts.join('-');
    const name = policyName(parts);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(DNS_1123_LABEL);
    const match = /^(.*)-([0-9a-f]{8})$/.exec(name);
    expect(match).not.toBeNull();
    const kept = match?.[1] ?? '';
    expect(full.startsWith(kept)).toBe(true);
    // The kept prefix ends where a word ends (unless the first word alone is too long).
    if (kept.includes('-')) expect(full[kept.length]).toBe('-');
  });
  it('keeps the words of a long allow name whole (no "-tc-")', () => {
    // 69 characters; a plain cut at 54 would end in "-ht".
    const name = policyName([
      'allow-from',
      'app-fe',
      'to-app-web-tier-api',
      'port-8080-tcp-http-tcp-9090-tcp',
    ]);
    expect(name).toMatch(/^allow-from-app-fe-to-app-web-tier-api-port-8080-tcp-[0-9a-f]{8}$/);
  });
});

describe('generatePolicies', () => {
  it('deny-all: one isolating policy for both directions, plus allow-dns to kube-dns on UDP and TCP 53', () => {
    const policies = generatePolicies(request({ kind: 'deny-all' }));
    expect(policies.map((p) => p.manifest.metadata.name)).toEqual(['deny-all', 'allow-dns']);
    const [deny, dns] = policies.map((p) => p.manifest);
    expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(dns?.spec).toEqual({
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
    for (const p of policies) {
      expect(p.manifest.metadata.namespace).toBe('app');
      expect(p.manifest.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'podsec' });
    }
  });

  it('deny-all in kube-system: also lets the cluster DNS pods accept queries and reach upstream', () => {
    const req = request({ kind: 'deny-all', namespace: 'kube-system' });
    const policies = generatePolicies(req);
    expect(policies.map((p) => p.manifest.metadata.name)).toEqual([
      'deny-all',
      'allow-dns',
      'allow-dns-ingress',
      'allow-dns-egress-upstream',
    ]);
    const [, , ingress, upstream] = policies;
    expect(ingress?.manifest.spec).toEqual({
      podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: {} }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    });
    expect(upstream?.manifest.spec).toEqual({
      podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      policyTypes: ['Egress'],
      egress: [{}],
    });
    expect(upstream?.explanation).toContain('upstream resolvers');
    expect(upstream?.explanation).toContain('API server');
    expect(policies[0]?.explanation).toContain('allow-dns-ingress');
    expect(policies.every((p) => p.manifest.metadata.namespace === 'kube-system')).toBe(true);
    expect(generateWarnings(req)).toEqual([
      expect.stringContaining('deny-all in namespace kube-system affects every system component there'),
    ]);
  });

  it('deny-all --no-dns in kube-system: the deny alone, and the warning says cluster DNS will break', () => {
    const req = request({ kind: 'deny-all', namespace: 'kube-system', dns: false });
    expect(generatePolicies(req).map((p) => p.manifest.metadata.name)).toEqual(['deny-all']);
    expect(generatePolicies(req)[0]?.explanation).toContain(
      'name resolution breaks for every pod of the cluster',
    );
    expect(generateWarnings(req)).toEqual([expect.stringContaining('cluster DNS will break')]);
  });

  it.each([
    ['deny-all elsewhere', { kind: 'deny-all' }],
    [
      'an allow in kube-system',
      { kind: 'allow-from-labels', namespace: 'kube-system', fromPodSelector: 'a=b' },
    ],
  ])('no warning for %s', (_name, args) => {
    expect(generateWarnings(request(args))).toEqual([]);
  });

  it('deny-all --no-dns: the deny alone', () => {
    const policies = generatePolicies(request({ kind: 'deny-all', dns: false, podSelector: 'app=web' }));
    expect(policies.map((p) => p.manifest.metadata.name)).toEqual(['deny-all-app-web']);
    expect(policies[0]?.explanation).toContain('DNS is blocked too');
  });

  it('allow-from-labels: one ingress rule from pods of the same namespace on the ports', () => {
    const [p] = generatePolicies(
      request({
        kind: 'allow-from-labels',
        podSelector: 'app=web',
        fromPodSelector: 'app=fe',
        ports: ['8080', 'metrics'],
      }),
    );
    expect(p?.manifest.metadata.name).toBe('allow-from-app-fe-to-app-web-port-8080-tcp-metrics-tcp');
    expect(p?.manifest.spec).toEqual({
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { app: 'fe' } } }],
          ports: [
            { protocol: 'TCP', port: 8080 },
            { protocol: 'TCP', port: 'metrics' },
          ],
        },
      ],
    });
  });

  it('allow-from-namespace by name, ANDed with a pod selector, on a port range', () => {
    const [p] = generatePolicies(
      request({
        kind: 'allow-from-namespace',
        fromNamespaces: ['monitoring'],
        fromPodSelector: 'app=prometheus',
        ports: ['9000-9100/TCP'],
      }),
    );
    expect(p?.manifest.metadata.name).toBe('allow-from-ns-monitoring-app-prometheus-port-9000-9100-tcp');
    expect(p?.manifest.spec.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
            podSelector: { matchLabels: { app: 'prometheus' } },
          },
        ],
        ports: [{ protocol: 'TCP', port: 9000, endPort: 9100 }],
      },
    ]);
    expect(p?.explanation).toContain(
      'from pods matching app=prometheus in namespace monitoring on TCP 9000-9100',
    );
  });

  it('allow-from-namespace by name and by labels: two peers (a union), each narrowed by the pod selector', () => {
    const [p] = generatePolicies(
      request({
        kind: 'allow-from-namespace',
        fromNamespaces: ['monitoring', 'logging'],
        fromNamespaceSelector: 'team=pay',
        fromPodSelector: 'app=fe',
      }),
    );
    expect(p?.manifest.spec.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: {
              matchExpressions: [
                { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['logging', 'monitoring'] },
              ],
            },
            podSelector: { matchLabels: { app: 'fe' } },
          },
          {
            namespaceSelector: { matchLabels: { team: 'pay' } },
            podSelector: { matchLabels: { app: 'fe' } },
          },
        ],
      },
    ]);
    expect(p?.explanation).toContain(
      'from pods matching app=fe in namespaces logging, monitoring or in namespaces matching team=pay',
    );
    expect(p?.manifest.metadata.name).toBe('allow-from-ns-logging-monitoring-team-pay-app-fe');
  });

  it('allow-from-namespace by labels, every port', () => {
    const [p] = generatePolicies(
      request({ kind: 'allow-from-namespace', fromNamespaceSelector: 'team=pay' }),
    );
    expect(p?.manifest.spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { team: 'pay' } } }] },
    ]);
    expect(p?.explanation).toContain('on every port and protocol');
  });
});

describe('rendering', () => {
  const policies = generatePolicies(request({ kind: 'deny-all', podSelector: 'app=web' }));

  it('YAML: one document per policy, each opened by a comment explaining it', () => {
    const text = renderYaml(policies, 'podsec netpol generate deny-all --namespace app');
    expect(text.startsWith('---\n# Generated by: podsec netpol generate deny-all --namespace app\n')).toBe(
      true,
    );
    const docs = parseAllDocuments(text);
    expect(docs).toHaveLength(2);
    expect(docs.map((d) => d.toJS() as unknown)).toEqual(policies.map((p) => p.manifest));
    expect(text).toContain('# app/allow-dns-app-web\n# Allows the pods matching app=web');
    for (const line of text.split('\n').filter((l) => l.startsWith('#')))
      expect(line.length).toBeLessThanOrEqual(100);
  });

  it('JSON: a v1 List of the manifests', () => {
    expect(JSON.parse(renderJson(policies))).toEqual({
      apiVersion: 'v1',
      kind: 'List',
      items: policies.map((p) => p.manifest),
    });
  });
});

/**
 * The generated manifests, loaded back through the loader (no problems) into a small cluster
 * and judged by the evaluator: each policy does exactly what it says.
 */
describe('generated policies load back and evaluate as intended', () => {
  const CLUSTER = `
apiVersion: v1
kind: Namespace
metadata: {name: app, labels: {team: app}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {team: pay}}
---
apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
`;
  const podDoc = (
    ns: string,
    name: string,
    labels: Record<string, string>,
    ip: string,
    ports = '',
  ): string => `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: ${JSON.stringify(labels)}}
spec: {containers: [{name: c${ports}}]}
status: {podIP: ${ip}}
`;
  const PODS = [
    podDoc('app', 'web', { app: 'web' }, '10.0.1.1', ', ports: [{name: http, containerPort: 8080}]'),
    podDoc('app', 'fe', { app: 'fe' }, '10.0.1.2'),
    podDoc('app', 'batch', { app: 'batch' }, '10.0.1.3'),
    podDoc('other', 'client', { app: 'fe' }, '10.0.2.1'),
    podDoc('monitoring', 'prom', { app: 'prometheus' }, '10.0.3.1'),
    podDoc('monitoring', 'grafana', { app: 'grafana' }, '10.0.3.2'),
    podDoc(
      'kube-system',
      'coredns',
      { 'k8s-app': 'kube-dns' },
      '10.0.4.1',
      ', ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]',
    ),
    podDoc('kube-system', 'other-sys', { app: 'metrics' }, '10.0.4.2'),
  ].join('');

  type Probe = [from: string, to: string, port: string, allowed: boolean];
  /** Endpoints are `namespace/pod` or `ip:ADDRESS`; args default to namespace app. */
  const cases: {
    name: string;
    args: (Omit<GenerateArgs, 'namespace'> & { namespace?: string })[];
    probes: Probe[];
  }[] = [
    {
      name: 'deny-all isolates every pod of the namespace both ways; DNS stays reachable',
      args: [{ kind: 'deny-all' }],
      probes: [
        ['app/fe', 'app/web', '8080', false],
        ['other/client', 'app/web', '8080', false],
        ['app/web', 'monitoring/prom', '9090', false],
        ['app/web', 'kube-system/coredns', '53/UDP', true],
        ['app/web', 'kube-system/coredns', '53/TCP', true],
        ['app/web', 'kube-system/coredns', '80/TCP', false],
        ['app/web', 'kube-system/other-sys', '53/UDP', false],
        ['other/client', 'monitoring/prom', '9090', true],
      ],
    },
    {
      name: 'deny-all in kube-system keeps cluster DNS working, with a deny-all in the client namespace too',
      args: [{ kind: 'deny-all' }, { kind: 'deny-all', namespace: 'kube-system' }],
      probes: [
        ['app/web', 'kube-system/coredns', '53/UDP', true],
        ['app/web', 'kube-system/coredns', '53/TCP', true],
        ['kube-system/other-sys', 'kube-system/coredns', '53/UDP', true],
        ['kube-system/coredns', 'ip:8.8.8.8', '53/UDP', true],
        ['kube-system/coredns', 'ip:8.8.8.8', '53/TCP', true],
        ['kube-system/coredns', 'ip:172.18.0.2', '6443/TCP', true],
        // Only DNS: other ports of the DNS pods and the other system pods stay denied.
        ['app/web', 'kube-system/coredns', '9153/TCP', false],
        ['other/client', 'kube-system/coredns', '9153/TCP', false],
        ['kube-system/other-sys', 'ip:8.8.8.8', '53/UDP', false],
        ['other/client', 'kube-system/other-sys', '443', false],
      ],
    },
    {
      name: 'deny-all in kube-system alone: pods of namespaces without policies still resolve names',
      args: [{ kind: 'deny-all', namespace: 'kube-system' }],
      probes: [
        ['other/client', 'kube-system/coredns', '53/UDP', true],
        ['monitoring/prom', 'kube-system/coredns', '53/TCP', true],
        ['kube-system/coredns', 'ip:1.1.1.1', '53/UDP', true],
      ],
    },
    {
      name: 'deny-all --no-dns in kube-system breaks cluster DNS, as the warning says',
      args: [{ kind: 'deny-all', namespace: 'kube-system', dns: false }],
      probes: [
        ['other/client', 'kube-system/coredns', '53/UDP', false],
        ['kube-system/coredns', 'ip:8.8.8.8', '53/UDP', false],
      ],
    },
    {
      name: 'deny-all --no-dns blocks DNS too',
      args: [{ kind: 'deny-all', dns: false }],
      probes: [
        ['app/web', 'kube-system/coredns', '53/UDP', false],
        ['app/web', 'kube-system/coredns', '53/TCP', false],
      ],
    },
    {
      name: 'deny-all --pod-selector isolates only the selected pods',
      args: [{ kind: 'deny-all', podSelector: 'app=web' }],
      probes: [
        ['app/fe', 'app/web', '8080', false],
        ['app/web', 'app/fe', '80', false],
        ['app/fe', 'app/batch', '80', true],
        ['app/web', 'kube-system/coredns', '53/UDP', true],
      ],
    },
    {
      name: 'allow-from-labels: exactly the labelled pods of the same namespace, on the port',
      args: [
        { kind: 'allow-from-labels', podSelector: 'app=web', fromPodSelector: 'app=fe', ports: ['8080'] },
      ],
      probes: [
        ['app/fe', 'app/web', '8080', true],
        ['app/fe', 'app/web', '8081', false],
        ['app/fe', 'app/web', '8080/UDP', false],
        ['app/batch', 'app/web', '8080', false],
        ['other/client', 'app/web', '8080', false],
        ['app/batch', 'app/fe', '80', true],
      ],
    },
    {
      name: 'allow-from-labels on a named port resolves on the destination',
      args: [
        { kind: 'allow-from-labels', podSelector: 'app=web', fromPodSelector: 'app=fe', ports: ['http'] },
      ],
      probes: [
        ['app/fe', 'app/web', '8080', true],
        ['app/fe', 'app/web', '80', false],
      ],
    },
    {
      name: 'allow-from-labels on UDP does not open TCP',
      args: [{ kind: 'allow-from-labels', fromPodSelector: 'app=fe', ports: ['5000/UDP'] }],
      probes: [
        ['app/fe', 'app/batch', '5000/UDP', true],
        ['app/fe', 'app/batch', '5000/TCP', false],
      ],
    },
    {
      name: 'allow-from-namespace by labels: every pod of those namespaces, every port',
      args: [{ kind: 'allow-from-namespace', podSelector: 'app=web', fromNamespaceSelector: 'team=pay' }],
      probes: [
        ['other/client', 'app/web', '8080', true],
        ['other/client', 'app/web', '1', true],
        ['monitoring/prom', 'app/web', '8080', false],
        ['app/fe', 'app/web', '8080', false],
      ],
    },
    {
      name: 'allow-from-namespace by name AND pod labels, on a range',
      args: [
        {
          kind: 'allow-from-namespace',
          fromNamespaces: ['monitoring'],
          fromPodSelector: 'app=prometheus',
          ports: ['9000-9100'],
        },
      ],
      probes: [
        ['monitoring/prom', 'app/web', '9090', true],
        ['monitoring/prom', 'app/web', '9100', true],
        ['monitoring/prom', 'app/web', '9101', false],
        ['monitoring/grafana', 'app/web', '9090', false],
        ['other/client', 'app/web', '9090', false],
      ],
    },
    {
      name: 'allow-from-namespace by name OR by labels: a namespace matching only one of them is allowed',
      args: [
        {
          kind: 'allow-from-namespace',
          podSelector: 'app=web',
          fromNamespaces: ['monitoring'],
          fromNamespaceSelector: 'team=pay',
        },
      ],
      probes: [
        ['other/client', 'app/web', '8080', true],
        ['monitoring/prom', 'app/web', '8080', true],
        ['monitoring/grafana', 'app/web', '8080', true],
        ['app/fe', 'app/web', '8080', false],
        ['kube-system/other-sys', 'app/web', '8080', false],
      ],
    },
    {
      name: 'allow-from-namespace by name OR by labels, with a pod selector narrowing both',
      args: [
        {
          kind: 'allow-from-namespace',
          podSelector: 'app=web',
          fromNamespaces: ['monitoring'],
          fromNamespaceSelector: 'team=pay',
          fromPodSelector: 'app=prometheus',
        },
      ],
      probes: [
        ['monitoring/prom', 'app/web', '8080', true],
        ['monitoring/grafana', 'app/web', '8080', false],
        ['other/client', 'app/web', '8080', false],
      ],
    },
    {
      name: 'deny-all plus an allow: ingress opens; sources in the same namespace still need egress',
      args: [
        { kind: 'deny-all' },
        { kind: 'allow-from-namespace', podSelector: 'app=web', fromNamespaces: ['other'], ports: ['8080'] },
        { kind: 'allow-from-labels', podSelector: 'app=web', fromPodSelector: 'app=fe', ports: ['8080'] },
      ],
      probes: [
        ['other/client', 'app/web', '8080', true],
        ['other/client', 'app/batch', '8080', false],
        ['app/fe', 'app/web', '8080', false],
      ],
    },
  ];

  it.each(cases)('$name', ({ args, probes }) => {
    const generated = args.flatMap((a) => {
      const parsed = parseGenerateArgs({ namespace: 'app', ...a });
      if (!parsed.ok) throw new Error(parsed.message);
      return generatePolicies(parsed.value);
    });
    const loaded = loadManifestTexts([
      { display: 'cluster.yaml', text: CLUSTER + PODS },
      { display: 'generated.yaml', text: renderYaml(generated, 'podsec netpol generate') },
      { display: 'generated.json', text: renderJson(generated) },
    ]);
    expect(loaded.problems).toEqual([]);
    // YAML and JSON hold the same policies: the loader keeps one per namespace/name.
    expect(loaded.input.policies.map((p) => p.name)).toEqual(generated.map((g) => g.manifest.metadata.name));
    const compiled = compile(loaded.input);
    for (const [from, to, portText, expected] of probes) {
      const port = parsePortArg(portText);
      if (!port.ok || typeof port.value.port !== 'number') throw new Error(portText);
      const endpoint = (text: string): Endpoint => {
        if (text.startsWith('ip:')) return { kind: 'ip', ip: text.slice(3) };
        const pod = compiled.model.podIndex.get(text);
        if (pod === undefined) throw new Error(`${text} missing`);
        return { kind: 'pod', pod };
      };
      const verdict = evaluate(compiled, endpoint(from), endpoint(to), port.value.port, port.value.protocol);
      expect({ from, to, port: portText, allowed: verdict.allowed }).toEqual({
        from,
        to,
        port: portText,
        allowed: expected,
      });
    }
  });
});
