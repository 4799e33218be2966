/**
 * The data-plane form of a compiled cluster (selected addresses, per-rule peer addresses and
 * CIDRs, concrete and per-destination resolved port ranges) must decide exactly what the
 * evaluator's NetworkPolicy v1 tier decides, reading addresses only: a renderer that copies
 * these sets into a data plane then enforces the same policy without re-deriving semantics.
 */
import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';
import type { CompiledCluster, PortRange } from './compile.js';
import { networkPolicyV1Tier } from './evaluate.js';
import { cidrContains, formatIp, parseCidr, parseIp } from './model/cidr.js';
import { policy } from '../../test/support/netpol-policy.js';
import type { Direction, Endpoint, NetpolPod, NetpolPolicy, Protocol, TierAnswer } from './model/types.js';

function pod(key: string, ip: string | null, over: Partial<NetpolPod> = {}): NetpolPod {
  const [namespace, name] = key.split('/') as [string, string];
  return {
    namespace,
    name,
    labels: { pod: name },
    ip,
    node: 'n1',
    hostNetwork: false,
    ports: [],
    representative: false,
    ...over,
  };
}

const PODS: NetpolPod[] = [
  pod('x/a', '10.0.0.1', {
    ports: [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ],
  }),
  pod('x/b', '10.0.0.2', { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }),
  pod('x/c', null, { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }),
  pod('y/a', 'fd00::0:5', { ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] }),
  pod('y/b', '10.1.0.7', { ports: [{ name: 'dns', port: 53, protocol: 'TCP' }] }),
  pod('kube-system/agent', '192.168.0.1', {
    hostNetwork: true,
    ports: [{ name: 'http', port: 10250, protocol: 'TCP' }],
  }),
];

const POLICIES: NetpolPolicy[] = [
  // x/a: ingress from x/b on its named port http (8080 on a), UDP dns from y, anything from 10.1/16 but 10.1.0.7.
  policy('x', 'a-in', {
    podSelector: { matchLabels: { pod: 'a' } },
    ingress: [
      { from: [{ podSelector: { matchLabels: { pod: 'b' } } }], ports: [{ port: 'http' }] },
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }],
        ports: [{ port: 'dns', protocol: 'UDP' }],
      },
      { from: [{ ipBlock: { cidr: '10.1.0.0/16', except: ['10.1.0.7/32'] } }] },
    ],
  }),
  // Every pod of x (including c, without an address): egress to named http anywhere, 1000-2000/TCP to y, all UDP to an ipBlock.
  policy('x', 'x-out', {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [
      { ports: [{ port: 'http' }] },
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }],
        ports: [{ port: 1000, endPort: 2000 }],
      },
      {
        to: [{ ipBlock: { cidr: '192.168.0.0/24' } }, { ipBlock: { cidr: 'fd00::/120' } }],
        ports: [{ protocol: 'UDP' }],
      },
    ],
  }),
  // y: ingress from anywhere on named dns/TCP and 443; egress only to x/a's named http.
  policy('y', 'y-both', {
    podSelector: {},
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ ports: [{ port: 'dns' }, { port: 443 }] }],
    egress: [
      {
        to: [{ namespaceSelector: {}, podSelector: { matchLabels: { pod: 'a' } } }],
        ports: [{ port: 'http' }],
      },
    ],
  }),
];

const CONNECTIONS: readonly [number, Protocol][] = [
  [80, 'TCP'],
  [8080, 'TCP'],
  [9090, 'TCP'],
  [53, 'UDP'],
  [53, 'TCP'],
  [443, 'TCP'],
  [1500, 'TCP'],
  [2001, 'TCP'],
  [10250, 'TCP'],
  [7, 'UDP'],
];

// Addresses outside the model (an address of a model pod is that pod: callers turn it into one).
const EXTERNAL = ['10.1.0.9', '10.1.200.1', '192.168.0.9', 'fd00::7', '203.0.113.5'];

function inCidr(cidr: string, address: string): boolean {
  return cidrContains(parseCidr(cidr)!, parseIp(address)!);
}

function inRanges(ranges: readonly PortRange[], port: number, protocol: Protocol): boolean {
  return ranges.some((r) => r.protocol === protocol && port >= r.port && port <= r.endPort);
}

/** The v1 tier's answer computed from the data-plane sets only (addresses, CIDRs, port ranges). */
function dataPlaneAnswer(
  compiled: CompiledCluster,
  direction: Direction,
  subject: string,
  peer: string,
  port: number,
  protocol: Protocol,
): TierAnswer {
  let isolated = false;
  let accepted = false;
  for (const p of compiled.policies) {
    const rules = direction === 'ingress' ? p.ingress : p.egress;
    if (rules === null || !p.selectedAddresses.includes(subject)) continue;
    isolated = true;
    const destination = direction === 'ingress' ? subject : peer;
    for (const { dataPlane: dp } of rules) {
      const peerOk =
        dp.peerAddresses === 'all' ||
        dp.peerAddresses.includes(peer) ||
        dp.peerCidrs.some((c) => inCidr(c.cidr, peer) && !c.except.some((e) => inCidr(e, peer)));
      const portOk =
        dp.ports === 'all' ||
        inRanges(dp.ports, port, protocol) ||
        inRanges(dp.resolvedPorts.get(destination) ?? [], port, protocol);
      if (peerOk && portOk) accepted = true;
    }
  }
  return !isolated ? 'next' : accepted ? 'accept' : 'deny';
}

describe('compile: data-plane sets', () => {
  const compiled = compile({ namespaces: [], pods: PODS, nodes: [], services: [], policies: POLICIES });
  const idx = (key: string): number => compiled.model.podIndex.get(key)!;

  it('lists the selected addresses (canonical), leaving out and counting pods without one', () => {
    const [aIn, xOut, yBoth] = compiled.policies;
    expect(aIn!.selectedAddresses).toEqual(['10.0.0.1']);
    expect(xOut!.selectedAddresses).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(xOut!.selectedWithoutAddress).toBe(1);
    expect(yBoth!.selectedAddresses).toEqual(['fd00::5', '10.1.0.7']);
  });

  it('turns rules into peer addresses, CIDRs and concrete port ranges with named ports resolved per destination', () => {
    const aIn = compiled.policies[0]!.ingress!;
    expect(aIn[0]!.dataPlane.peerAddresses).toEqual(['10.0.0.2']);
    expect(aIn[0]!.dataPlane.ports).toEqual([]);
    expect([...aIn[0]!.dataPlane.resolvedPorts]).toEqual([
      ['10.0.0.1', [{ protocol: 'TCP', port: 8080, endPort: 8080 }]],
    ]);
    expect(aIn[2]!.dataPlane).toMatchObject({
      peerAddresses: [],
      peerCidrs: [{ cidr: '10.1.0.0/16', except: ['10.1.0.7/32'] }],
      ports: 'all',
    });
    const xOut = compiled.policies[1]!.egress!;
    expect(xOut[0]!.dataPlane.peerAddresses).toBe('all');
    // Egress named ports resolve on every destination pod with an address (hostNetwork: its node's).
    expect(Object.fromEntries(xOut[0]!.dataPlane.resolvedPorts)).toEqual({
      '10.0.0.1': [{ protocol: 'TCP', port: 8080, endPort: 8080 }],
      '10.0.0.2': [{ protocol: 'TCP', port: 80, endPort: 80 }],
      'fd00::5': [{ protocol: 'TCP', port: 9090, endPort: 9090 }],
      '192.168.0.1': [{ protocol: 'TCP', port: 10250, endPort: 10250 }],
    });
    expect(xOut[0]!.dataPlane.peerPodsWithoutAddress).toBe(0);
    expect(xOut[1]!.dataPlane.ports).toEqual([{ protocol: 'TCP', port: 1000, endPort: 2000 }]);
    expect(xOut[2]!.dataPlane.ports).toEqual([{ protocol: 'UDP', port: 1, endPort: 65535 }]);
    expect(xOut[2]!.dataPlane.peerCidrs).toEqual([
      { cidr: '192.168.0.0/24', except: [] },
      { cidr: 'fd00::/120', except: [] },
    ]);
  });

  it('decides every connection between addressed ends exactly as the v1 tier does', () => {
    const addressed = PODS.filter((p) => p.ip !== null);
    const seen = new Map<TierAnswer, number>();
    for (const direction of ['ingress', 'egress'] as const) {
      for (const subject of addressed.filter((p) => !p.hostNetwork)) {
        const s = idx(`${subject.namespace}/${subject.name}`);
        const peers: [Endpoint, string][] = [
          ...addressed.map((p): [Endpoint, string] => [
            { kind: 'pod', pod: idx(`${p.namespace}/${p.name}`) },
            parseIpCanonical(p.ip!),
          ]),
          ...EXTERNAL.map((ip): [Endpoint, string] => [{ kind: 'ip', ip }, parseIpCanonical(ip)]),
        ];
        for (const [peer, peerAddress] of peers) {
          for (const [port, protocol] of CONNECTIONS) {
            const want = networkPolicyV1Tier.judge(compiled, direction, s, peer, port, protocol).answer;
            const got = dataPlaneAnswer(
              compiled,
              direction,
              parseIpCanonical(subject.ip!),
              peerAddress,
              port,
              protocol,
            );
            expect({ direction, subject: subject.name, peerAddress, port, protocol, got }).toEqual({
              direction,
              subject: subject.name,
              peerAddress,
              port,
              protocol,
              got: want,
            });
            seen.set(want, (seen.get(want) ?? 0) + 1);
          }
        }
      }
    }
    // Not vacuous: every answer occurs, over all 2 x 4 x 10 x 10 connections.
    expect([...seen.keys()].sort()).toEqual(['accept', 'deny', 'next']);
    expect([...seen.values()].reduce((a, b) => a + b)).toBe(
      2 * 4 * (5 + EXTERNAL.length) * CONNECTIONS.length,
    );
    expect(seen.get('accept')).toBeGreaterThan(20);
  });
});

function parseIpCanonical(text: string): string {
  const ip = parseIp(text)!;
  // Canonical text as compile() emits it: the same helper a renderer would use.
  return formatIp(ip);
}
