/** AzurePodIdentityException matching: namespace-scoped, any one label, values case-insensitive. */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/types.js';
import { matchException } from './exceptions.js';
import type { NmiPod } from './types.js';

function exception(namespace: string, name: string, podLabels: unknown): KubeObject {
  return {
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzurePodIdentityException',
    metadata: { namespace, name },
    spec: { podLabels },
  };
}

const EXCEPTIONS = [
  exception('kube-system', 'mic', { app: 'mic', component: 'mic' }),
  exception('apps', 'legacy', { tier: 'Legacy' }),
  exception('apps', 'empty', {}),
  exception('apps', 'bad-value', { tier: 7 }),
];

function pod(namespace: string, labels?: Record<string, string>): NmiPod {
  return { namespace, name: 'p', ...(labels === undefined ? {} : { labels }) };
}

const cases: { name: string; pod: NmiPod; want: string | undefined }[] = [
  { name: 'one of two labels matches', pod: pod('kube-system', { app: 'mic' }), want: 'kube-system/mic' },
  { name: 'value compared case-insensitively', pod: pod('apps', { tier: 'legacy' }), want: 'apps/legacy' },
  { name: 'same labels in another namespace', pod: pod('default', { app: 'mic' }), want: undefined },
  { name: 'value differs', pod: pod('kube-system', { app: 'mic2' }), want: undefined },
  { name: 'key differs', pod: pod('apps', { Tier: 'legacy' }), want: undefined },
  { name: 'pod without labels', pod: pod('apps'), want: undefined },
  { name: 'invalid exceptions exempt nothing', pod: pod('apps', { tier: '7' }), want: undefined },
];

describe('matchException', () => {
  for (const c of cases) {
    it(c.name, () => {
      const hit = matchException(EXCEPTIONS, c.pod);
      expect(hit === undefined ? undefined : `${hit.namespace}/${hit.name}`).toBe(c.want);
    });
  }
});
