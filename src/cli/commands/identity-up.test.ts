/** `podsec identity up`: how the NMI's node is chosen from the state, and the summary it prints. */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/types.js';
import { assignedPods, nodeFromPods, summary } from './identity-up.js';

const pod = (name: string, nodeName?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'orders' },
  spec: nodeName === undefined ? { containers: [] } : { nodeName, containers: [] },
});

describe('nodeFromPods', () => {
  it.each([
    ['all pods on one node', [pod('a', 'local'), pod('b', 'local')], undefined, { ok: true, node: 'local' }],
    ['unscheduled pods are ignored', [pod('a', 'n1'), pod('b')], undefined, { ok: true, node: 'n1' }],
    ['--node wins over the pods', [pod('a', 'n1'), pod('b', 'n2')], 'n2', { ok: true, node: 'n2' }],
    ['--node without any pod', [], 'n9', { ok: true, node: 'n9' }],
  ] as const)('%s', (_name, pods, explicit, want) => {
    expect(nodeFromPods(pods, explicit)).toEqual(want);
  });

  it.each([
    ['two nodes', [pod('a', 'n2'), pod('b', 'n1')], undefined, 'run on 2 nodes (n1, n2): pass --node NAME'],
    ['no scheduled pod', [pod('a')], undefined, 'no pod in the state directory has spec.nodeName'],
    ['an empty --node', [pod('a', 'n1')], ' ', '--node must not be empty'],
  ] as const)('%s is a usage problem', (_name, pods, explicit, message) => {
    const r = nodeFromPods(pods, explicit);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });
});

describe('summary', () => {
  it('names every endpoint and a curl command bound to a pod IP', () => {
    const text = summary(
      {
        pid: 1,
        state: '/s',
        node: 'local',
        issuerBaseUrl: 'https://127.0.0.1:8444',
        tenants: [
          {
            tenant: 't',
            issuer: 'https://127.0.0.1:8444/t/v2.0',
            jwks: 'https://127.0.0.1:8444/t/discovery/v2.0/keys',
          },
        ],
        caFile: '/s/.podsec/identity-up/tls/ca.crt',
        nmiUrl: 'http://127.0.0.1:2579',
        tokenPath: '/metadata/identity/oauth2/token',
        pods: [{ pod: 'orders/orders-api', ip: '127.0.0.10', identities: ['orders/reader'] }],
      },
      'examples/identity',
    );
    expect(text).toContain('--state examples/identity (node local)');
    expect(text).toContain('JWKS https://127.0.0.1:8444/t/discovery/v2.0/keys');
    expect(text).toContain('pod         orders/orders-api (127.0.0.10) has orders/reader');
    expect(text).toContain(
      "curl -s --interface 127.0.0.10 -H 'Metadata: true' 'http://127.0.0.1:2579/metadata/identity/oauth2/token?",
    );
  });
});

describe('assignedPods', () => {
  const running = (name: string, ip?: string): KubeObject => ({
    ...pod(name, 'local'),
    status: ip === undefined ? { phase: 'Pending' } : { phase: 'Running', podIP: ip },
  });
  const assignment = (
    podName: string,
    identity: string,
    nodename: string,
    status = 'Assigned',
  ): KubeObject => ({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureAssignedIdentity',
    metadata: { name: `${podName}-orders-${identity}`, namespace: 'orders' },
    spec: {
      pod: podName,
      podNamespace: 'orders',
      nodename,
      azureIdentityRef: { metadata: { name: identity, namespace: 'orders' } },
    },
    status: { status },
  });

  it.each([
    [
      'one pod, two identities, sorted',
      [running('a', '127.0.0.10')],
      [assignment('a', 'y', 'local'), assignment('a', 'x', 'local')],
      [{ pod: 'orders/a', ip: '127.0.0.10', identities: ['orders/x', 'orders/y'] }],
    ],
    ['another node is not listed', [running('a', '127.0.0.10')], [assignment('a', 'x', 'other')], []],
    [
      'Unassigned is not listed',
      [running('a', '127.0.0.10')],
      [assignment('a', 'x', 'local', 'Unassigned')],
      [],
    ],
    [
      'a pod without an address is listed without one',
      [running('b')],
      [assignment('b', 'x', 'local', 'Created')],
      [{ pod: 'orders/b', ip: undefined, identities: ['orders/x'] }],
    ],
  ] as const)('%s', (_name, pods, assigned, want) => {
    expect(assignedPods(pods, assigned, 'local')).toEqual(want);
  });
});
