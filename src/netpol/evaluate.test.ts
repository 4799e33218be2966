/**
 * Semantics upstream's e2e suite does not cover (endPort ranges, named ports with the wrong
 * protocol, overlapping ipBlocks with except, hostNetwork pods, pods without an address,
 * own-node traffic, SCTP, defaulting), each a named case that states a cluster, one
 * connection and the expected verdict. Every case also checks that the matrix agrees.
 */
import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';
import { evaluate } from './evaluate.js';
import { explain } from './explain.js';
import { matrix, matrixRow } from './matrix.js';
import { policy } from '../../test/support/netpol-policy.js';
import type {
  ContainerPort,
  Endpoint,
  NetpolNode,
  NetpolPod,
  NetpolPolicy,
  Protocol,
} from './model/types.js';
import type { CompiledCluster } from './compile.js';

function pod(key: string, over: Partial<NetpolPod> = {}): NetpolPod {
  const [namespace, name] = key.split('/') as [string, string];
  return {
    namespace,
    name,
    labels: { pod: name },
    ip: null,
    node: 'n1',
    hostNetwork: false,
    ports: [{ name: 'serve-80-tcp', port: 80, protocol: 'TCP' }],
    representative: false,
    ...over,
  };
}

const tcp = (name: string, port: number): ContainerPort => ({ name, port, protocol: 'TCP' });
const udp = (name: string, port: number): ContainerPort => ({ name, port, protocol: 'UDP' });

const NODES: NetpolNode[] = [
  { name: 'n1', addresses: ['192.168.0.1'] },
  { name: 'n2', addresses: ['192.168.0.2'] },
];

interface Case {
  name: string;
  pods: NetpolPod[];
  policies: NetpolPolicy[];
  from: string;
  to: string;
  port: number;
  protocol?: Protocol;
  allowed: boolean;
  basis?: 'policy' | 'loopback' | 'node';
}

const denyIngress = (ns: string, podSelector: Record<string, unknown> = {}): NetpolPolicy =>
  policy(ns, 'deny-ingress', { podSelector, policyTypes: ['Ingress'] });
const denyEgress = (ns: string, podSelector: Record<string, unknown> = {}): NetpolPolicy =>
  policy(ns, 'deny-egress', { podSelector, policyTypes: ['Egress'] });

const rangePolicy = policy('x', 'range', {
  podSelector: { matchLabels: { pod: 'b' } },
  ingress: [{ ports: [{ port: 8000, endPort: 8080 }] }],
});
const rangePods = [pod('x/a'), pod('x/b', { ports: [tcp('web', 8000)] })];

const wrongProtoPolicy = policy('x', 'named-udp', {
  podSelector: { matchLabels: { pod: 'b' } },
  ingress: [{ ports: [{ protocol: 'UDP', port: 'web' }] }],
});

const namedEgress = policy('x', 'egress-web', {
  podSelector: { matchLabels: { pod: 'a' } },
  policyTypes: ['Egress'],
  egress: [{ ports: [{ port: 'web' }] }],
});
const namedEgressPods = [
  pod('x/a'),
  pod('x/b', { ports: [tcp('web', 8080)] }),
  pod('x/c', { ports: [tcp('web', 9090)] }),
];

const overlapping = policy('x', 'overlap', {
  podSelector: { matchLabels: { pod: 'a' } },
  policyTypes: ['Egress'],
  egress: [
    {
      to: [
        { ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] } },
        { ipBlock: { cidr: '10.0.1.0/28' } },
      ],
    },
  ],
});
const overlapPods = [
  pod('x/a', { ip: '10.0.0.2' }),
  pod('y/in-second', { ip: '10.0.1.5' }),
  pod('y/excepted', { ip: '10.0.1.20' }),
  pod('y/in-first', { ip: '10.0.2.1' }),
  pod('y/no-ip'),
];

const hostPods = [
  pod('x/a', { ip: '10.1.0.1', node: 'n1' }),
  pod('x/b', { ip: '10.1.0.2', node: 'n2' }),
  pod('kube-system/agent-n1', { ip: '192.168.0.1', node: 'n1', hostNetwork: true }),
  pod('kube-system/agent-n2', { ip: '192.168.0.2', node: 'n2', hostNetwork: true }),
];
const fromAllNamespaces = policy('x', 'from-all-ns', {
  podSelector: {},
  ingress: [{ from: [{ namespaceSelector: {} }] }],
});
const fromNodeBlock = policy('x', 'from-node-2', {
  podSelector: {},
  ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.2/32' } }] }],
});

const CASES: Case[] = [
  // endPort
  {
    name: 'endPort: lower bound is inside the range',
    pods: rangePods,
    policies: [rangePolicy],
    from: 'x/a',
    to: 'x/b',
    port: 8000,
    allowed: true,
  },
  {
    name: 'endPort: upper bound is inside the range',
    pods: rangePods,
    policies: [rangePolicy],
    from: 'x/a',
    to: 'x/b',
    port: 8080,
    allowed: true,
  },
  {
    name: 'endPort: one above the range is denied',
    pods: rangePods,
    policies: [rangePolicy],
    from: 'x/a',
    to: 'x/b',
    port: 8081,
    allowed: false,
  },
  {
    name: 'endPort: one below the range is denied',
    pods: rangePods,
    policies: [rangePolicy],
    from: 'x/a',
    to: 'x/b',
    port: 7999,
    allowed: false,
  },
  {
    name: 'endPort: the range is TCP only (UDP denied)',
    pods: rangePods,
    policies: [rangePolicy],
    from: 'x/a',
    to: 'x/b',
    port: 8040,
    protocol: 'UDP',
    allowed: false,
  },
  // named ports
  {
    name: 'named port with the wrong protocol matches nothing (TCP traffic)',
    pods: [pod('x/a'), pod('x/b', { ports: [tcp('web', 80)] })],
    policies: [wrongProtoPolicy],
    from: 'x/a',
    to: 'x/b',
    port: 80,
    allowed: false,
  },
  {
    name: 'named port with the wrong protocol matches nothing (UDP traffic)',
    pods: [pod('x/a'), pod('x/b', { ports: [tcp('web', 80)] })],
    policies: [wrongProtoPolicy],
    from: 'x/a',
    to: 'x/b',
    port: 80,
    protocol: 'UDP',
    allowed: false,
  },
  {
    name: 'named port resolves by name and protocol on the destination',
    pods: [pod('x/a'), pod('x/b', { ports: [tcp('web', 80), udp('web', 53)] })],
    policies: [wrongProtoPolicy],
    from: 'x/a',
    to: 'x/b',
    port: 53,
    protocol: 'UDP',
    allowed: true,
  },
  {
    name: 'egress named port resolves on each destination (match)',
    pods: namedEgressPods,
    policies: [namedEgress],
    from: 'x/a',
    to: 'x/b',
    port: 8080,
    allowed: true,
  },
  {
    name: 'egress named port resolves on each destination (other number there)',
    pods: namedEgressPods,
    policies: [namedEgress],
    from: 'x/a',
    to: 'x/c',
    port: 8080,
    allowed: false,
  },
  {
    name: 'egress named port: destination without the name',
    pods: namedEgressPods,
    policies: [namedEgress],
    from: 'x/a',
    to: 'x/a',
    port: 8080,
    allowed: true,
    basis: 'loopback',
  },
  // ipBlocks
  {
    name: 'overlapping ipBlocks: an except of one is allowed by the other',
    pods: overlapPods,
    policies: [overlapping],
    from: 'x/a',
    to: 'y/in-second',
    port: 80,
    allowed: true,
  },
  {
    name: 'overlapping ipBlocks: excepted and outside the other is denied',
    pods: overlapPods,
    policies: [overlapping],
    from: 'x/a',
    to: 'y/excepted',
    port: 80,
    allowed: false,
  },
  {
    name: 'overlapping ipBlocks: inside the first, outside its except',
    pods: overlapPods,
    policies: [overlapping],
    from: 'x/a',
    to: 'y/in-first',
    port: 80,
    allowed: true,
  },
  {
    name: 'a pod without an address matches no ipBlock',
    pods: overlapPods,
    policies: [overlapping],
    from: 'x/a',
    to: 'y/no-ip',
    port: 80,
    allowed: false,
  },
  // hostNetwork and node
  {
    name: 'hostNetwork pods are never selected (deny-all egress in their namespace)',
    pods: hostPods,
    policies: [denyEgress('kube-system')],
    from: 'kube-system/agent-n1',
    to: 'x/b',
    port: 80,
    allowed: true,
  },
  {
    name: 'hostNetwork source is not matched by a namespaceSelector peer',
    pods: hostPods,
    policies: [fromAllNamespaces],
    from: 'kube-system/agent-n2',
    to: 'x/a',
    port: 80,
    allowed: false,
  },
  {
    name: 'hostNetwork source is matched by ipBlock on its node address',
    pods: hostPods,
    policies: [fromNodeBlock],
    from: 'kube-system/agent-n2',
    to: 'x/a',
    port: 80,
    allowed: true,
  },
  {
    name: 'traffic from the pod’s own node is always allowed',
    pods: hostPods,
    policies: [denyIngress('x')],
    from: 'kube-system/agent-n1',
    to: 'x/a',
    port: 80,
    allowed: true,
    basis: 'node',
  },
  {
    name: 'traffic from another node is subject to policy',
    pods: hostPods,
    policies: [denyIngress('x')],
    from: 'kube-system/agent-n2',
    to: 'x/a',
    port: 80,
    allowed: false,
  },
  {
    name: 'traffic to the pod’s own node is always allowed',
    pods: hostPods,
    policies: [denyEgress('x')],
    from: 'x/a',
    to: 'kube-system/agent-n1',
    port: 80,
    allowed: true,
    basis: 'node',
  },
  {
    name: 'egress to another node’s hostNetwork pod under deny-all is denied',
    pods: hostPods,
    policies: [denyEgress('x')],
    from: 'x/a',
    to: 'kube-system/agent-n2',
    port: 80,
    allowed: false,
  },
  // SCTP
  {
    name: 'SCTP rule allows SCTP',
    pods: [pod('x/a'), pod('x/b')],
    policies: [
      policy('x', 'sctp', {
        podSelector: { matchLabels: { pod: 'b' } },
        ingress: [{ ports: [{ protocol: 'SCTP', port: 80 }] }],
      }),
    ],
    from: 'x/a',
    to: 'x/b',
    port: 80,
    protocol: 'SCTP',
    allowed: true,
  },
  {
    name: 'SCTP-only rule isolates the pod for TCP',
    pods: [pod('x/a'), pod('x/b')],
    policies: [
      policy('x', 'sctp', {
        podSelector: { matchLabels: { pod: 'b' } },
        ingress: [{ ports: [{ protocol: 'SCTP', port: 80 }] }],
      }),
    ],
    from: 'x/a',
    to: 'x/b',
    port: 80,
    allowed: false,
  },
  {
    name: 'protocol-only port entry allows every port of that protocol',
    pods: [pod('x/a'), pod('x/b')],
    policies: [policy('x', 'udp-any', { podSelector: {}, ingress: [{ ports: [{ protocol: 'UDP' }] }] })],
    from: 'x/a',
    to: 'x/b',
    port: 31000,
    protocol: 'UDP',
    allowed: true,
  },
  // defaulting, peers, selectors
  {
    name: 'egress rules without policyTypes also deny ingress',
    pods: [pod('x/a'), pod('x/b')],
    policies: [policy('x', 'egress-only', { podSelector: { matchLabels: { pod: 'b' } }, egress: [{}] })],
    from: 'x/a',
    to: 'x/b',
    port: 80,
    allowed: false,
  },
  {
    name: 'a lone podSelector peer means the policy’s own namespace',
    pods: [pod('x/a'), pod('y/a'), pod('x/b')],
    policies: [
      policy('x', 'from-a', {
        podSelector: { matchLabels: { pod: 'b' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'a' } } }] }],
      }),
    ],
    from: 'y/a',
    to: 'x/b',
    port: 80,
    allowed: false,
  },
  {
    name: 'namespaceSelector and podSelector in one peer are ANDed',
    pods: [pod('x/a'), pod('y/c'), pod('x/b')],
    policies: [
      policy('x', 'and', {
        podSelector: { matchLabels: { pod: 'b' } },
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } },
                podSelector: { matchLabels: { pod: 'a' } },
              },
            ],
          },
        ],
      }),
    ],
    from: 'y/c',
    to: 'x/b',
    port: 80,
    allowed: false,
  },
  {
    name: 'namespaceSelector and podSelector as two peers are ORed',
    pods: [pod('x/a'), pod('y/c'), pod('x/b')],
    policies: [
      policy('x', 'or', {
        podSelector: { matchLabels: { pod: 'b' } },
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } },
              { podSelector: { matchLabels: { pod: 'a' } } },
            ],
          },
        ],
      }),
    ],
    from: 'y/c',
    to: 'x/b',
    port: 80,
    allowed: true,
  },
  {
    name: 'NotIn matches pods that lack the key',
    pods: [pod('x/a', { labels: {} }), pod('x/b')],
    policies: [
      policy('x', 'notin', {
        podSelector: { matchLabels: { pod: 'b' } },
        ingress: [
          {
            from: [
              { podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] } },
            ],
          },
        ],
      }),
    ],
    from: 'x/a',
    to: 'x/b',
    port: 80,
    allowed: true,
  },
  {
    name: 'ingress: [] denies all ingress',
    pods: [pod('x/a'), pod('x/b')],
    policies: [policy('x', 'empty', { podSelector: {}, ingress: [] })],
    from: 'x/a',
    to: 'x/b',
    port: 80,
    allowed: false,
  },
  {
    name: 'ingress: [{}] allows all ingress',
    pods: [pod('x/a'), pod('x/b')],
    policies: [denyIngress('x'), policy('x', 'all', { podSelector: {}, ingress: [{}] })],
    from: 'x/a',
    to: 'x/b',
    port: 80,
    allowed: true,
  },
];

function build(c: Pick<Case, 'pods' | 'policies'>): CompiledCluster {
  return compile({ namespaces: [], pods: c.pods, nodes: NODES, services: [], policies: c.policies });
}

function endpoint(compiled: CompiledCluster, key: string): Endpoint {
  if (!key.includes('/')) return { kind: 'ip', ip: key };
  const i = compiled.model.podIndex.get(key);
  if (i === undefined) throw new Error(`no pod ${key}`);
  return { kind: 'pod', pod: i };
}

describe('NetworkPolicy semantics beyond the e2e suite', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const compiled = build(c);
    const protocol = c.protocol ?? 'TCP';
    const from = endpoint(compiled, c.from);
    const to = endpoint(compiled, c.to);
    const e = evaluate(compiled, from, to, c.port, protocol);
    expect(e.allowed).toBe(c.allowed);
    expect(e.basis).toBe(c.basis ?? 'policy');
    const m = matrix(compiled, c.port, protocol);
    const i = m.pods.indexOf(c.from);
    const j = m.pods.indexOf(c.to);
    expect(m.allowed[i]![j]).toBe(c.allowed);
    expect(matrixRow(compiled, i, c.port, protocol)).toEqual(m.allowed[i]);
  });
});

describe('addresses as endpoints', () => {
  const compiled = build({ pods: hostPods, policies: [denyIngress('x'), fromNodeBlock] });
  const x = (ip: string): Endpoint => ({ kind: 'ip', ip });
  const a = endpoint(compiled, 'x/a');

  it.each([
    ['the own node’s address is always allowed', x('192.168.0.1'), true, 'node'],
    ['another node’s address allowed by ipBlock', x('192.168.0.2'), true, 'policy'],
    ['an outside address with no rule is denied', x('8.8.8.8'), false, 'policy'],
  ] as const)('%s', (_n, from, allowed, basis) => {
    const e = evaluate(compiled, from, a, 80, 'TCP');
    expect(e.allowed).toBe(allowed);
    expect(e.basis).toBe(basis);
  });

  it('egress to an outside address: named ports match nothing, numbers do', () => {
    const c = build({
      pods: [pod('x/a', { ip: '10.1.0.1' })],
      policies: [
        policy('x', 'out', {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }],
              ports: [{ port: 'https' }, { port: 53, protocol: 'UDP' }],
            },
          ],
        }),
      ],
    });
    const from = endpoint(c, 'x/a');
    expect(evaluate(c, from, x('1.1.1.1'), 443, 'TCP').allowed).toBe(false);
    expect(evaluate(c, from, x('1.1.1.1'), 53, 'UDP').allowed).toBe(true);
    expect(evaluate(c, from, x('10.2.3.4'), 53, 'UDP').allowed).toBe(false);
  });
});

describe('explain', () => {
  it('names the isolating policies and the rule and peer that allow', () => {
    const compiled = build({ pods: hostPods, policies: [denyIngress('x'), fromNodeBlock] });
    const v = explain(
      compiled,
      endpoint(compiled, 'kube-system/agent-n2'),
      endpoint(compiled, 'x/a'),
      80,
      'TCP',
    );
    expect(v.allowed).toBe(true);
    expect(v.ingress.isolatingPolicies).toEqual([
      { namespace: 'x', name: 'deny-ingress' },
      { namespace: 'x', name: 'from-node-2' },
    ]);
    expect(v.ingress.allowedBy).toEqual([
      {
        policy: { namespace: 'x', name: 'from-node-2' },
        source: null,
        ruleIndex: 0,
        peerIndex: 0,
        portIndex: null,
        peer: { kind: 'ipBlock', ipBlock: { cidr: '192.168.0.2/32', except: [] } },
        port: null,
      },
    ]);
    expect(v.explanation.join('\n')).toContain('x/deny-ingress, x/from-node-2');
    expect(v.explanation.join('\n')).toContain(
      'policy x/from-node-2 ingress[0] allows it: peer from[0], any port',
    );
    expect(v.explanation[1]).toBe(
      'egress: source kube-system/agent-n2 runs in the host network of node n2: its traffic is node traffic, which no policy selects (allowed)',
    );
  });

  it('says that no rule allows when denied', () => {
    const compiled = build({ pods: hostPods, policies: [denyIngress('x')] });
    const v = explain(compiled, endpoint(compiled, 'x/b'), endpoint(compiled, 'x/a'), 80, 'TCP');
    expect(v.allowed).toBe(false);
    expect(v.ingress.verdict).toBe('deny');
    expect(v.ingress.tier).toBe('networkpolicy-v1');
    expect(v.egress).toMatchObject({ isolated: false, verdict: 'next', tier: 'default' });
    expect(v.explanation).toContain('  no rule of these policies allows it (denied, tier networkpolicy-v1)');
    expect(v.explanation).toContain('egress: no policy isolates source x/b for egress (allowed)');
  });
});
