/**
 * `podsec netpol matrix --kubeconfig`: the cluster read from an API server (the fake list/watch
 * server) through ClusterSource instead of manifests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNetpolMatrix } from '../../src/cli/commands/netpol-matrix.js';
import type { KubeObject } from '../../src/kube/types.js';
import { Capture } from '../support/capture.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';

const pod = (namespace: string, name: string, ip: string, labels: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace, name, labels },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80 }] }] },
  status: { phase: 'Running', podIP: ip, hostIP: '192.168.0.1' },
});

let api: FakeApiServer;
let kubeconfig: string;

beforeAll(async () => {
  api = await startFakeApiServer();
  api.seed([
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'a', labels: { 'kubernetes.io/metadata.name': 'a' } },
    },
    pod('a', 'web', '10.0.0.1', { app: 'web' }),
    pod('a', 'client', '10.0.0.2', { app: 'client' }),
    pod('a', 'other', '10.0.0.3', { app: 'other' }),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: 'a', name: 'web-from-client' },
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
      },
    },
  ]);
  kubeconfig = await api.writeKubeconfig();
});

afterAll(async () => {
  await api?.close();
});

describe('podsec netpol matrix --kubeconfig', () => {
  it('reads pods and policies from the API server and evaluates them', async () => {
    const stdout = new Capture();
    const code = await runNetpolMatrix([], {
      state: undefined,
      kubeconfig,
      podCidr: undefined,
      exclude: [],
      port: '80',
      protocol: undefined,
      format: 'json',
      output: undefined,
      color: false,
      stdout,
      stderr: new Capture(),
    });
    expect(code).toBe(0);
    const m = JSON.parse(stdout.text) as { pods: string[]; allowed: boolean[][] };
    expect(m.pods).toEqual(['a/client', 'a/other', 'a/web']);
    const web = m.pods.indexOf('a/web');
    expect(m.allowed[m.pods.indexOf('a/client')]![web]).toBe(true);
    expect(m.allowed[m.pods.indexOf('a/other')]![web]).toBe(false);
    expect(api.requests.some((r) => r.path === '/apis/networking.k8s.io/v1/networkpolicies')).toBe(true);
  });

  it('refuses --kubeconfig together with paths', async () => {
    await expect(
      runNetpolMatrix(['examples'], {
        state: undefined,
        kubeconfig,
        podCidr: undefined,
        exclude: [],
        port: '80',
        protocol: undefined,
        format: 'json',
        output: undefined,
        color: false,
        stdout: new Capture(),
        stderr: new Capture(),
      }),
    ).rejects.toThrow(/cannot be combined/);
  });
});
