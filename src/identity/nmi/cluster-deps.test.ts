/** The cache adapters over plain objects: pod selection by IP and node, assignment joins, node checks. */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/types.js';
import { createNmiClusterDeps, podsByIpFrom, type NmiCacheReads } from './cluster-deps.js';

function pod(
  name: string,
  extra: { ip?: string; node?: string; phase?: string; hostNetwork?: boolean; ips?: string[] },
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: extra.node ?? 'n1', ...(extra.hostNetwork ? { hostNetwork: true } : {}) },
    status: {
      ...(extra.phase === undefined ? {} : { phase: extra.phase }),
      ...(extra.ip === undefined ? {} : { podIP: extra.ip }),
      ...(extra.ips === undefined ? {} : { podIPs: extra.ips.map((ip) => ({ ip })) }),
    },
  };
}

function identity(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentity',
    metadata: { name, namespace: 'default' },
    spec,
  };
}

function assigned(podName: string, idName: string, status: unknown, node = 'n1'): KubeObject {
  return {
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureAssignedIdentity',
    metadata: { name: `${podName}-default-${idName}`, namespace: 'default' },
    spec: {
      pod: podName,
      podNamespace: 'default',
      nodename: node,
      azureIdentityRef: {
        metadata: { name: idName, namespace: 'default' },
        spec: { type: 0, clientID: 'stale' },
      },
      azureBindingRef: { metadata: { name: 'b', namespace: 'default' }, spec: {} },
    },
    ...(status === undefined ? {} : { status: { status } }),
  };
}

describe('podsByIpFrom', () => {
  const pods = [
    pod('running', { ip: '10.0.0.1', phase: 'Running' }),
    pod('pending', { ip: '10.0.0.2', phase: 'Pending' }),
    pod('done', { ip: '10.0.0.3', phase: 'Succeeded' }),
    pod('other-node', { ip: '10.0.0.4', phase: 'Running', node: 'n2' }),
    pod('host', { ip: '10.0.0.5', phase: 'Running', hostNetwork: true }),
    pod('dual', { ip: '10.0.0.6', ips: ['10.0.0.6', 'fd00::6'], phase: 'Running' }),
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nameless-ns' }, status: { podIP: '10.0.0.7' } },
  ];
  const cases: { name: string; ip: string; node?: string; want: string[]; hostNetwork?: boolean }[] = [
    { name: 'a running pod on the node', ip: '10.0.0.1', node: 'n1', want: ['running'] },
    { name: 'a pending pod', ip: '10.0.0.2', node: 'n1', want: ['pending'] },
    { name: 'a finished pod is no caller', ip: '10.0.0.3', node: 'n1', want: [] },
    { name: 'a pod on another node is no caller', ip: '10.0.0.4', node: 'n1', want: [] },
    { name: 'without a node, every node', ip: '10.0.0.4', want: ['other-node'] },
    {
      name: 'hostNetwork pods are returned flagged',
      ip: '10.0.0.5',
      node: 'n1',
      want: ['host'],
      hostNetwork: true,
    },
    { name: 'a secondary pod IP matches', ip: 'fd00::6', node: 'n1', want: ['dual'] },
    { name: 'an object without a namespace is skipped', ip: '10.0.0.7', want: [] },
    { name: 'an unknown address', ip: '10.9.9.9', node: 'n1', want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = podsByIpFrom(pods, c.ip, c.node);
      expect(got.map((p) => p.name)).toEqual(c.want);
      for (const p of got) expect(p.podIP).toBe(c.ip);
      if (c.hostNetwork !== undefined) expect(got[0]?.hostNetwork).toBe(c.hostNetwork);
    });
  }
});

describe('createNmiClusterDeps', () => {
  const identities = [
    identity('sp', { type: 1, clientID: 'client-sp', tenantID: 't1', resourceID: '' }),
    identity('msi', { type: 0, clientID: 'client-msi', resourceID: '/subscriptions/s/x', objectID: 'oid-1' }),
    identity('badtype', { type: 7, clientID: 'client-bad' }),
    // Claims sp's client id but is assigned to nobody: sp's assignment must not count for it.
    identity('copy', { type: 1, clientID: 'client-sp', tenantID: 't1' }),
  ];
  const objects = [
    assigned('app', 'sp', 'Assigned'),
    assigned('app', 'msi', 'Created'),
    assigned('app', 'gone', 'Assigned'),
    assigned('app', 'badtype', 'Assigned'),
    assigned('app', 'msi', 'Weird'),
    assigned('old', 'sp', undefined),
    assigned('elsewhere', 'sp', 'Assigned', 'n2'),
  ];
  const reads: NmiCacheReads = {
    pods: () => [],
    assignedIdentities: () => objects,
    identity: (ns, name) => identities.find((i) => i.metadata?.namespace === ns && i.metadata.name === name),
  };
  const deps = createNmiClusterDeps(reads, 'n1');
  const appPod = { namespace: 'default', name: 'app' };

  it('joins assignments with the live AzureIdentity and drops broken ones', () => {
    const got = deps.assignedIdentities(appPod);
    expect(got).toEqual([
      {
        status: 'Assigned',
        identity: {
          namespace: 'default',
          name: 'sp',
          type: 1,
          clientID: 'client-sp',
          resourceID: undefined,
          tenantID: 't1',
          objectID: undefined,
        },
      },
      {
        status: 'Created',
        identity: {
          namespace: 'default',
          name: 'msi',
          type: 0,
          clientID: 'client-msi',
          resourceID: '/subscriptions/s/x',
          tenantID: undefined,
          objectID: 'oid-1',
        },
      },
    ]);
  });

  const table: { name: string; pod: { namespace: string; name: string }; want: string[] }[] = [
    {
      name: 'a missing status is the old MICs empty status',
      pod: { namespace: 'default', name: 'old' },
      want: [''],
    },
    {
      name: 'assignments on other nodes are not this NMIs',
      pod: { namespace: 'default', name: 'elsewhere' },
      want: [],
    },
    { name: 'same name in another namespace', pod: { namespace: 'other', name: 'app' }, want: [] },
  ];
  for (const c of table) {
    it(c.name, () => {
      expect(deps.assignedIdentities(c.pod).map((a) => a.status)).toEqual(c.want);
    });
  }

  const assignedCases: { name: string; node: string; id: string; client: string; want: boolean }[] = [
    { name: 'Assigned on the node', node: 'n1', id: 'sp', client: 'client-sp', want: true },
    { name: 'only Created on the node', node: 'n1', id: 'msi', client: 'client-msi', want: false },
    { name: 'Assigned on another node only', node: 'n3', id: 'sp', client: 'client-sp', want: false },
    { name: 'identity with a bad type', node: 'n1', id: 'badtype', client: 'client-bad', want: false },
    { name: 'unknown client', node: 'n1', id: 'sp', client: 'nobody', want: false },
    {
      name: "another object with the assigned object's client id",
      node: 'n1',
      id: 'copy',
      client: 'client-sp',
      want: false,
    },
    {
      name: 'the assigned object asked under another client id',
      node: 'n1',
      id: 'sp',
      client: 'client-msi',
      want: false,
    },
  ];
  for (const c of assignedCases) {
    it(`isAssignedOnNode: ${c.name}`, () => {
      expect(deps.isAssignedOnNode(c.node, { namespace: 'default', name: c.id, clientId: c.client })).toBe(
        c.want,
      );
    });
  }
  it('isAssignedOnNode: the same object name in another namespace does not count', () => {
    expect(deps.isAssignedOnNode('n1', { namespace: 'other', name: 'sp', clientId: 'client-sp' })).toBe(
      false,
    );
  });
});
