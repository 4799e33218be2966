/** lintNetpol on small hand-made clusters: one named case per finding, and the clean cases. */
import { describe, expect, it } from 'vitest';
import { lintNetpol, NO_PODS_NOTE, selectorWithin, type LintCode } from './lint.js';
import { loadManifestTexts } from './load.js';
import type {
  ClusterInput,
  LabelSelector,
  NetpolPod,
  NetpolPolicy,
  Peer,
  PortSpec,
  Rule,
} from './model/types.js';

const sel = (
  matchLabels: Record<string, string> = {},
  matchExpressions: LabelSelector['matchExpressions'] = [],
) => ({
  matchLabels,
  matchExpressions,
});

function pod(
  ns: string,
  name: string,
  labels: Record<string, string>,
  tweak: Partial<NetpolPod> = {},
): NetpolPod {
  return {
    namespace: ns,
    name,
    labels,
    ip: null,
    node: null,
    hostNetwork: false,
    ports: [],
    representative: false,
    ...tweak,
  };
}

function policy(
  ns: string,
  name: string,
  podSelector: LabelSelector,
  spec: { ingress?: Rule[]; egress?: Rule[]; types?: NetpolPolicy['policyTypes'] } = {},
): NetpolPolicy {
  return {
    namespace: ns,
    name,
    podSelector,
    policyTypes: spec.types ?? [
      ...(spec.ingress !== undefined ? ['Ingress' as const] : []),
      ...(spec.egress !== undefined ? ['Egress' as const] : []),
    ],
    ingress: spec.ingress ?? [],
    egress: spec.egress ?? [],
    source: { file: 'np.yaml', line: 1 },
  };
}

const podPeer = (labels: Record<string, string>, ns: LabelSelector | null = null): Peer => ({
  kind: 'selector',
  podSelector: sel(labels),
  namespaceSelector: ns,
});
const nsPeer = (labels: Record<string, string>): Peer => ({
  kind: 'selector',
  podSelector: null,
  namespaceSelector: sel(labels),
});
const block = (cidr: string, except: string[] = []): Peer => ({ kind: 'ipBlock', ipBlock: { cidr, except } });
const tcp = (port: number | string | null, endPort: number | null = null): PortSpec => ({
  protocol: 'TCP',
  port,
  endPort,
});
const rule = (peers: Rule['peers'], ports: Rule['ports'] = 'all'): Rule => ({ peers, ports });

function cluster(pods: NetpolPod[], policies: NetpolPolicy[]): ClusterInput {
  const nss = [...new Set(pods.map((p) => p.namespace).concat(policies.map((p) => p.namespace)))];
  return {
    namespaces: nss.map((name) => ({ name, labels: { team: name } })),
    pods,
    nodes: [],
    services: [],
    policies,
  };
}

const web = pod('shop', 'web', { app: 'web' }, { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
const api = pod('shop', 'api', { app: 'api' });
const denyAll = policy('shop', 'deny-all', sel(), { types: ['Ingress', 'Egress'] });

function codes(input: ClusterInput, code?: LintCode): string[] {
  return lintNetpol(input)
    .findings.filter((f) => code === undefined || f.code === code)
    .map((f) => `${f.code} ${f.policy === null ? f.pod : `${f.policy.name} ${f.path}`}`);
}

describe('lintNetpol', () => {
  it.each<[string, ClusterInput, LintCode | undefined, string[]]>([
    ['deny-all isolates everything: clean', cluster([web, api], [denyAll]), undefined, []],
    [
      'no policy: every pod open both ways',
      cluster([web], []),
      undefined,
      ['pod-not-isolated shop/web', 'pod-not-isolated shop/web'],
    ],
    [
      'ingress-only policy leaves egress open',
      cluster([web], [policy('shop', 'in', sel(), { ingress: [] })]),
      'pod-not-isolated',
      ['pod-not-isolated shop/web'],
    ],
    [
      'hostNetwork pods are node traffic, never reported as open',
      cluster([pod('shop', 'node-agent', {}, { hostNetwork: true })], []),
      undefined,
      [],
    ],
    [
      'a policy whose selector matches no pod',
      cluster([web, api], [denyAll, policy('shop', 'db', sel({ app: 'db' }), { ingress: [] })]),
      'policy-selects-nothing',
      ['policy-selects-nothing db spec.podSelector'],
    ],
    [
      'a policy in a namespace without pods is not judged (a note says so)',
      cluster([web], [denyAll, policy('empty', 'deny', sel(), { ingress: [] })]),
      'policy-selects-nothing',
      [],
    ],
    [
      'a lone podSelector peer looks only in the policy namespace',
      cluster(
        [web, api, pod('other', 'db', { app: 'db' })],
        [
          denyAll,
          policy('shop', 'p', sel({ app: 'web' }), {
            ingress: [rule([podPeer({ app: 'db' }), podPeer({ app: 'api' })])],
          }),
        ],
      ),
      'peer-matches-nothing',
      ['peer-matches-nothing p spec.ingress[0].from[0]'],
    ],
    [
      'a namespaceSelector matching no namespace',
      cluster(
        [web, api],
        [denyAll, policy('shop', 'p', sel(), { egress: [rule([nsPeer({ team: 'nope' })])] })],
      ),
      'peer-matches-nothing',
      ['peer-matches-nothing p spec.egress[0].to[0]'],
    ],
    [
      'selector peers do not match hostNetwork pods',
      cluster(
        [web, pod('shop', 'agent', { app: 'agent' }, { hostNetwork: true })],
        [denyAll, policy('shop', 'p', sel(), { ingress: [rule([podPeer({ app: 'agent' })])] })],
      ),
      'peer-matches-nothing',
      ['peer-matches-nothing p spec.ingress[0].from[0]'],
    ],
    [
      'ingress named port on the selected pod: resolved',
      cluster(
        [web],
        [denyAll, policy('shop', 'p', sel({ app: 'web' }), { ingress: [rule('all', [tcp('http')])] })],
      ),
      'named-port-unresolved',
      [],
    ],
    [
      'ingress named port with the wrong protocol',
      cluster(
        [web],
        [
          denyAll,
          policy('shop', 'p', sel({ app: 'web' }), {
            ingress: [rule('all', [{ protocol: 'UDP', port: 'http', endPort: null }])],
          }),
        ],
      ),
      'named-port-unresolved',
      ['named-port-unresolved p spec.ingress[0].ports[0]'],
    ],
    [
      'egress named port resolves on the peers, not the selected pods',
      cluster(
        [web, api],
        [
          denyAll,
          policy('shop', 'to-api', sel({ app: 'web' }), {
            egress: [rule([podPeer({ app: 'api' })], [tcp('http')])],
          }),
          policy('shop', 'to-web', sel({ app: 'api' }), {
            egress: [rule([podPeer({ app: 'web' })], [tcp('http')])],
          }),
        ],
      ),
      'named-port-unresolved',
      ['named-port-unresolved to-api spec.egress[0].ports[0]'],
    ],
    [
      'a narrower rule in the same policy',
      cluster(
        [web, api],
        [
          denyAll,
          policy('shop', 'p', sel(), {
            ingress: [rule([podPeer({ app: 'web' })], [tcp(80)]), rule([podPeer({})], [tcp(1, 1000)])],
          }),
        ],
      ),
      'rule-redundant',
      ['rule-redundant p spec.ingress[0]'],
    ],
    [
      'a rule covered by another policy selecting the same pods',
      cluster(
        [web, api],
        [
          denyAll,
          policy('shop', 'narrow', sel({ app: 'web' }), {
            ingress: [rule([podPeer({ app: 'api' })], [tcp(8080)])],
          }),
          policy('shop', 'broad', sel({ app: 'web' }), { ingress: [rule([nsPeer({ team: 'shop' })])] }),
        ],
      ),
      'rule-redundant',
      ['rule-redundant narrow spec.ingress[0]'],
    ],
    [
      'two equal rules: only the later is redundant',
      cluster(
        [web],
        [
          denyAll,
          policy('shop', 'p', sel(), {
            ingress: [rule([podPeer({ app: 'api' })]), rule([podPeer({ app: 'api' })])],
          }),
        ],
      ),
      'rule-redundant',
      ['rule-redundant p spec.ingress[1]'],
    ],
    [
      'different ports are not redundant',
      cluster(
        [web],
        [
          denyAll,
          policy('shop', 'p', sel(), {
            ingress: [rule('all', [tcp(80)]), rule('all', [tcp(81), tcp('http')])],
          }),
        ],
      ),
      'rule-redundant',
      [],
    ],
    [
      'a policy selecting other pods does not make a rule redundant',
      cluster(
        [web, api],
        [
          denyAll,
          policy('shop', 'web', sel({ app: 'web' }), { ingress: [rule([podPeer({ app: 'api' })])] }),
          policy('shop', 'api', sel({ app: 'api' }), { ingress: [rule('all')] }),
        ],
      ),
      'rule-redundant',
      [],
    ],
    [
      'ipBlock inside a broader one with the same hole',
      cluster(
        [web],
        [
          denyAll,
          policy('shop', 'p', sel(), {
            egress: [
              rule([block('10.0.1.0/24', ['10.0.1.0/28'])]),
              rule([block('10.0.0.0/16', ['10.0.1.0/28'])]),
            ],
          }),
        ],
      ),
      'rule-redundant',
      ['rule-redundant p spec.egress[0]'],
    ],
    [
      'a hole of the broader block that the narrow one does not have',
      cluster(
        [web],
        [
          denyAll,
          policy('shop', 'p', sel(), {
            egress: [rule([block('10.0.1.0/24')]), rule([block('10.0.0.0/16', ['10.0.1.0/28'])])],
          }),
        ],
      ),
      'rule-redundant',
      [],
    ],
    [
      'a lone podSelector is covered by a namespaceSelector matching its namespace',
      cluster(
        [web, api],
        [
          denyAll,
          policy('shop', 'p', sel(), {
            ingress: [
              rule([podPeer({ app: 'api' })]),
              rule([podPeer({ app: 'api' }, sel({ team: 'shop' }))]),
            ],
          }),
        ],
      ),
      'rule-redundant',
      ['rule-redundant p spec.ingress[0]'],
    ],
  ])('%s', (_name, input, code, expected) => {
    expect(codes(input, code)).toEqual(expected);
  });

  it.each<[string, Rule[], string]>([
    [
      'label-dependent: a lone podSelector within a namespaceSelector its namespace matches today',
      [rule([podPeer({ app: 'api' })]), rule([podPeer({ app: 'api' }, sel({ team: 'shop' }))])],
      'ingress rule 0 is redundant given the current labels of namespace shop: rule 1 of this policy allows everything it does',
    ],
    [
      'structural: a namespaceSelector peer within a broader namespaceSelector',
      [rule([podPeer({ app: 'api' }, sel({ team: 'shop' }))]), rule([nsPeer({})])],
      'ingress rule 0 is redundant: rule 1 of this policy allows everything it does',
    ],
    [
      'structural: a lone podSelector within an empty podSelector of its namespace',
      [rule([podPeer({ app: 'api' })]), rule([podPeer({})])],
      'ingress rule 0 is redundant: rule 1 of this policy allows everything it does',
    ],
  ])('redundancy wording, %s', (_name, ingress, message) => {
    const report = lintNetpol(cluster([web, api], [denyAll, policy('shop', 'p', sel(), { ingress })]));
    expect(report.findings.filter((f) => f.code === 'rule-redundant').map((f) => f.message)).toEqual([
      message,
    ]);
  });

  it('counts findings per code and keeps the policy source', () => {
    const report = lintNetpol(cluster([web], [policy('shop', 'db', sel({ app: 'db' }), { ingress: [] })]));
    expect(report.counts['pod-not-isolated']).toBe(2);
    expect(report.counts['policy-selects-nothing']).toBe(1);
    expect(report.findings.find((f) => f.code === 'policy-selects-nothing')?.source).toEqual({
      file: 'np.yaml',
      line: 1,
    });
  });
});

describe('selectorWithin', () => {
  it.each<[string, LabelSelector, LabelSelector, boolean]>([
    ['anything within the empty selector', sel({ a: '1' }), sel(), true],
    ['the empty selector is not within a label', sel(), sel({ a: '1' }), false],
    ['more labels are narrower', sel({ a: '1', b: '2' }), sel({ a: '1' }), true],
    [
      'a value In a broader list',
      sel({ a: '1' }),
      sel({}, [{ key: 'a', operator: 'In', values: ['1', '2'] }]),
      true,
    ],
    [
      'a label implies Exists',
      sel({ a: '1' }),
      sel({}, [{ key: 'a', operator: 'Exists', values: [] }]),
      true,
    ],
    [
      'another value satisfies NotIn',
      sel({ a: '2' }),
      sel({}, [{ key: 'a', operator: 'NotIn', values: ['1'] }]),
      true,
    ],
    [
      'DoesNotExist satisfies NotIn',
      sel({}, [{ key: 'a', operator: 'DoesNotExist', values: [] }]),
      sel({}, [{ key: 'a', operator: 'NotIn', values: ['1'] }]),
      true,
    ],
    [
      'Exists does not imply a value',
      sel({}, [{ key: 'a', operator: 'Exists', values: [] }]),
      sel({ a: '1' }),
      false,
    ],
  ])('%s', (_name, narrow, broad, expected) => {
    expect(selectorWithin(narrow, broad)).toBe(expected);
  });
});

describe('finding locations (from loaded files)', () => {
  const pods = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.1}
`;
  const policyYaml = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: web}}}]
    - to: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: 80}]
    - to:
        - podSelector: {matchLabels: {app: web}}
      ports:
        - port: nope
`;

  it('points at the field (line 14 of the policy), not the first line, in a plain document', () => {
    const r = loadManifestTexts([{ display: 'np.yaml', text: `${policyYaml}---\n${pods}` }]);
    const f = lintNetpol(r.input).findings.find((x) => x.code === 'named-port-unresolved');
    expect(f?.path).toBe('spec.egress[2].ports[0]');
    expect(f?.location).toEqual({ file: 'np.yaml', line: 14, column: 11 });
  });

  it('points at the nearest existing parent when the field is absent', () => {
    const r = loadManifestTexts([{ display: 'np.yaml', text: `${policyYaml}---\n${pods}` }]);
    const f = lintNetpol(r.input).findings.find((x) => x.code === 'rule-redundant');
    expect(f?.path).toBe('spec.egress[1]');
    expect(f?.location).toMatchObject({ file: 'np.yaml', line: 9 });
  });

  it('points into a List item (the item prefix is kept)', () => {
    const list = `apiVersion: v1
kind: List
items:
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: q, namespace: a}
    spec:
      podSelector: {matchLabels: {app: web}}
      ingress:
        - ports:
            - port: gone
`;
    const r = loadManifestTexts([{ display: 'list.yaml', text: `${list}---\n${pods}` }]);
    const f = lintNetpol(r.input).findings.find((x) => x.code === 'named-port-unresolved');
    expect(f?.location).toEqual({ file: 'list.yaml', line: 11, column: 15 });
  });

  it('falls back to the policy line without a locator', () => {
    const report = lintNetpol(cluster([web], [policy('shop', 'db', sel({ app: 'db' }), { ingress: [] })]));
    expect(report.findings.find((f) => f.code === 'policy-selects-nothing')?.location).toEqual({
      file: 'np.yaml',
      line: 1,
      column: null,
    });
  });
});

describe('inputs without pods, hostNetwork-only matches', () => {
  const allow = policy('shop', 'p', sel({ app: 'web' }), {
    ingress: [
      {
        peers: [podPeer({ app: 'api' }), nsPeer({ team: 'x' })],
        ports: [{ protocol: 'TCP', port: 'http', endPort: null }],
      },
    ],
  });

  it('no pod at all: selector and named-port checks skipped, one note, nothing else', () => {
    const report = lintNetpol(cluster([], [allow]));
    expect(report.findings).toEqual([]);
    expect(report.notes).toEqual([NO_PODS_NOTE]);
  });

  it('no pod in the policy namespace: its podSelector checks skipped, namespaceSelector peers still judged', () => {
    const other = pod('elsewhere', 'a', { app: 'a' });
    const report = lintNetpol(cluster([other], [allow]));
    expect(report.findings.filter((f) => f.policy !== null).map((f) => `${f.code} ${f.path}`)).toEqual([
      'peer-matches-nothing spec.ingress[0].from[1]',
    ]);
    expect(report.notes).toEqual([
      'no pods in namespace shop in the input: podSelector checks of its policies skipped',
    ]);
  });

  it.each<[string, ClusterInput, string]>([
    [
      'a policy selecting only a hostNetwork pod',
      cluster(
        [pod('c', 'hp', { app: 'h' }, { hostNetwork: true }), pod('c', 'x', { app: 'x' })],
        [policy('c', 'p', sel({ app: 'h' }), { ingress: [] })],
      ),
      'policy c/p matches only hostNetwork pod c/hp, which policies never select',
    ],
    [
      'a peer matching only a hostNetwork pod',
      cluster(
        [pod('c', 'hp', { app: 'h' }, { hostNetwork: true }), pod('c', 'x', { app: 'x' })],
        [
          policy('c', 'p', sel({ app: 'x' }), {
            ingress: [{ peers: [podPeer({ app: 'h' })], ports: 'all' }],
          }),
        ],
      ),
      'ingress rule 0 peer 0 (pods app=h in namespace c) matches only hostNetwork pod c/hp, which policies never select',
    ],
  ])('%s says so', (_name, input, message) => {
    const messages = lintNetpol(input).findings.map((f) => f.message);
    expect(messages).toContain(message);
    expect(messages.some((m) => m.includes('no pod'))).toBe(false);
  });
});
