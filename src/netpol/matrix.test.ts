/**
 * The matrix (set form, per-pod rows) and the per-connection evaluator (judge, with reasons)
 * are two shapes of one semantics; random clusters check they agree on every cell, and that
 * matrixRow equals the matrix row.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';
import { evaluate } from './evaluate.js';
import { matrix, matrixRow } from './matrix.js';
import { toNetpolPolicy } from './model/policy.js';
import type { NetpolPod, NetpolPolicy, Protocol } from './model/types.js';

const NS = ['x', 'y'] as const;
const VALUES = ['a', 'b'] as const;
const PROTOCOL = fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP');

const selector = fc.oneof(
  fc.constant({}),
  fc.record({ matchLabels: fc.record({ app: fc.constantFrom(...VALUES) }) }),
  fc.record({
    matchExpressions: fc
      .tuple(fc.constantFrom('In', 'NotIn'), fc.constantFrom(...VALUES))
      .map(([operator, v]) => [{ key: 'app', operator, values: [v] }]),
  }),
);
const peer = fc.oneof(
  fc.record({ podSelector: selector }),
  fc.record({ namespaceSelector: selector }),
  fc.record({ podSelector: selector, namespaceSelector: selector }),
  fc.record({
    ipBlock: fc.constantFrom(
      { cidr: '10.0.0.0/24' },
      { cidr: '10.0.0.0/16', except: ['10.0.0.0/30'] },
      { cidr: '192.168.0.1/32' },
    ),
  }),
);
const portSpec = fc.oneof(
  fc.record({ protocol: PROTOCOL, port: fc.constantFrom(80, 81) }),
  fc.record({ protocol: PROTOCOL, port: fc.constant(79), endPort: fc.constant(80) }),
  fc.record({ protocol: PROTOCOL, port: fc.constantFrom('web', 'dns') }),
  fc.record({ protocol: PROTOCOL }),
);
const rule = (peersKey: 'from' | 'to') =>
  fc.record(
    { [peersKey]: fc.array(peer, { maxLength: 2 }), ports: fc.array(portSpec, { maxLength: 2 }) },
    { requiredKeys: [] },
  );
const policyArb = fc.record({
  namespace: fc.constantFrom(...NS),
  podSelector: selector,
  ingress: fc.option(fc.array(rule('from'), { maxLength: 2 }), { nil: undefined }),
  egress: fc.option(fc.array(rule('to'), { maxLength: 2 }), { nil: undefined }),
  policyTypes: fc.option(fc.subarray(['Ingress', 'Egress']), { nil: undefined }),
});
const podArb = fc.record({
  namespace: fc.constantFrom(...NS),
  app: fc.option(fc.constantFrom(...VALUES), { nil: undefined }),
  ip: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
  node: fc.constantFrom('n1', 'n2'),
  hostNetwork: fc.boolean(),
  webPort: fc.constantFrom(80, 81),
  webProtocol: PROTOCOL,
});

describe('matrix agrees with the per-connection evaluator', () => {
  it('on random clusters, every cell, and matrixRow equals the matrix row', () => {
    fc.assert(
      fc.property(
        fc.array(podArb, { minLength: 1, maxLength: 7 }),
        fc.array(policyArb, { maxLength: 4 }),
        fc.constantFrom(79, 80, 81),
        PROTOCOL,
        (rawPods, rawPolicies, port, protocol) => {
          const pods: NetpolPod[] = rawPods.map((p, i) => ({
            namespace: p.namespace,
            name: `p${i}`,
            labels: p.app === undefined ? {} : { app: p.app },
            ip: p.hostNetwork
              ? p.node === 'n1'
                ? '192.168.0.1'
                : '192.168.0.2'
              : p.ip === undefined
                ? null
                : `10.0.0.${p.ip}`,
            node: p.node,
            hostNetwork: p.hostNetwork,
            ports: [{ name: 'web', port: p.webPort, protocol: p.webProtocol }],
            representative: false,
          }));
          const policies: NetpolPolicy[] = rawPolicies.map((p, i) => {
            const spec: Record<string, unknown> = { podSelector: p.podSelector };
            if (p.ingress !== undefined) spec['ingress'] = p.ingress;
            if (p.egress !== undefined) spec['egress'] = p.egress;
            if (p.policyTypes !== undefined) spec['policyTypes'] = p.policyTypes;
            const r = toNetpolPolicy({ metadata: { name: `p${i}`, namespace: p.namespace }, spec });
            if (!r.ok) throw new Error(JSON.stringify(r.problems));
            return r.policy;
          });
          const compiled = compile({
            namespaces: [],
            pods,
            nodes: [
              { name: 'n1', addresses: ['192.168.0.1'] },
              { name: 'n2', addresses: ['192.168.0.2'] },
            ],
            services: [],
            policies,
          });
          const m = matrix(compiled, port, protocol);
          for (let i = 0; i < m.pods.length; i++) {
            for (let j = 0; j < m.pods.length; j++) {
              const e = evaluate(compiled, { kind: 'pod', pod: i }, { kind: 'pod', pod: j }, port, protocol);
              expect(m.allowed[i]![j], `${m.pods[i]} -> ${m.pods[j]}`).toBe(e.allowed);
            }
            expect(matrixRow(compiled, i, port, protocol)).toEqual(m.allowed[i]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
