/** The raw-object converter: upstream defaults, and every rejection the API server makes, by field path. */
import { describe, expect, it } from 'vitest';
import { toNetpolPolicy } from './policy.js';

const np = (spec: unknown, metadata: Record<string, unknown> = { name: 'p', namespace: 'x' }): unknown => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata,
  spec,
});

describe('toNetpolPolicy defaults', () => {
  it.each([
    ['no policyTypes, no egress: Ingress only', { podSelector: {} }, ['Ingress']],
    [
      'no policyTypes, egress rules: Ingress and Egress',
      { podSelector: {}, egress: [{}] },
      ['Ingress', 'Egress'],
    ],
    ['no policyTypes, egress: []: Ingress only', { podSelector: {}, egress: [] }, ['Ingress']],
    [
      'policyTypes: [] is defaulted too',
      { podSelector: {}, policyTypes: [], egress: [{}] },
      ['Ingress', 'Egress'],
    ],
    ['explicit Egress only', { podSelector: {}, policyTypes: ['Egress'] }, ['Egress']],
  ] as const)('%s', (_n, spec, types) => {
    const r = toNetpolPolicy(np(spec));
    expect(r.ok && r.policy.policyTypes).toEqual(types);
  });

  it('missing from/ports and empty lists are "all"; protocol defaults to TCP; namespace defaults', () => {
    const r = toNetpolPolicy(
      np(
        { podSelector: {}, ingress: [{}, { from: [], ports: [] }, { ports: [{ port: 80 }] }] },
        { name: 'p' },
      ),
      { defaultNamespace: 'app' },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.policy.namespace).toBe('app');
    expect(r.policy.ingress).toEqual([
      { peers: 'all', ports: 'all' },
      { peers: 'all', ports: 'all' },
      { peers: 'all', ports: [{ protocol: 'TCP', port: 80, endPort: null }] },
    ]);
  });

  it('keeps podSelector and namespaceSelector of one peer together, null for a missing one', () => {
    const r = toNetpolPolicy(
      np({
        podSelector: {},
        ingress: [{ from: [{ podSelector: { matchLabels: { a: 'b' } } }, { namespaceSelector: {} }] }],
      }),
    );
    expect(r.ok && r.policy.ingress[0]!.peers).toEqual([
      {
        kind: 'selector',
        podSelector: { matchLabels: { a: 'b' }, matchExpressions: [] },
        namespaceSelector: null,
      },
      { kind: 'selector', podSelector: null, namespaceSelector: { matchLabels: {}, matchExpressions: [] } },
    ]);
  });
});

describe('toNetpolPolicy rejects', () => {
  it.each([
    ['missing podSelector', { ingress: [] }, 'spec.podSelector'],
    [
      'bad label key',
      { podSelector: { matchLabels: { 'bad key': 'v' } } },
      'spec.podSelector.matchLabels.bad key',
    ],
    [
      'In without values',
      { podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } },
      'spec.podSelector.matchExpressions[0].values',
    ],
    [
      'unknown operator',
      { podSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] } },
      'spec.podSelector.matchExpressions[0].operator',
    ],
    [
      'bad CIDR',
      { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] },
      'spec.egress[0].to[0].ipBlock.cidr',
    ],
    [
      'except outside cidr',
      { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16'] } }] }] },
      'spec.egress[0].to[0].ipBlock.except[0]',
    ],
    [
      'except equal to cidr',
      { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] } }] }] },
      'spec.egress[0].to[0].ipBlock.except[0]',
    ],
    [
      'ipBlock with a selector',
      { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] },
      'spec.ingress[0].from[0]',
    ],
    ['empty peer', { podSelector: {}, ingress: [{ from: [{}] }] }, 'spec.ingress[0].from[0]'],
    [
      'invalid port name',
      { podSelector: {}, ingress: [{ ports: [{ port: 'Web_Port' }] }] },
      'spec.ingress[0].ports[0].port',
    ],
    [
      'numeric string port',
      { podSelector: {}, ingress: [{ ports: [{ port: '80' }] }] },
      'spec.ingress[0].ports[0].port',
    ],
    ['port 0', { podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] }, 'spec.ingress[0].ports[0].port'],
    [
      'unknown protocol',
      { podSelector: {}, ingress: [{ ports: [{ protocol: 'ICMP' }] }] },
      'spec.ingress[0].ports[0].protocol',
    ],
    [
      'endPort without port',
      { podSelector: {}, ingress: [{ ports: [{ endPort: 90 }] }] },
      'spec.ingress[0].ports[0].endPort',
    ],
    [
      'endPort with a named port',
      { podSelector: {}, ingress: [{ ports: [{ port: 'web', endPort: 90 }] }] },
      'spec.ingress[0].ports[0].endPort',
    ],
    [
      'endPort below port',
      { podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] },
      'spec.ingress[0].ports[0].endPort',
    ],
    ['unknown policy type', { podSelector: {}, policyTypes: ['Both'] }, 'spec.policyTypes[0]'],
  ] as const)('%s', (_n, spec, path) => {
    const r = toNetpolPolicy(np(spec));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toContain(path);
  });

  it('reports every problem at once, and a missing name', () => {
    const r = toNetpolPolicy(
      np(
        { podSelector: { matchLabels: { 'a b': 'c' } }, ingress: [{ ports: [{ port: 0 }] }] },
        { namespace: 'x' },
      ),
    );
    expect(!r.ok && r.problems.map((p) => p.path)).toEqual([
      'metadata.name',
      'spec.podSelector.matchLabels.a b',
      'spec.ingress[0].ports[0].port',
    ]);
  });
});
