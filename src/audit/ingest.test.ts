import { describe, expect, it } from 'vitest';
import { policyFromLevel } from '../policy/index.js';
import { ingest, labelsOnlyReason } from './ingest.js';
import { VerdictPool } from './verdict.js';

describe('labelsOnlyReason', () => {
  const cases: {
    name: string;
    ns: string | null;
    labels: Record<string, string> | undefined;
    want: string;
  }[] = [
    {
      name: 'an unlabelled namespace is privileged by default',
      ns: 'web',
      labels: { 'kubernetes.io/metadata.name': 'web' },
      want: 'namespace "web" has no pod-security labels: privileged by default',
    },
    {
      name: 'a namespace labelled privileged',
      ns: 'web',
      labels: { 'pod-security.kubernetes.io/enforce': 'privileged' },
      want: 'namespace "web" has pod-security labels at level privileged: nothing is restricted',
    },
    {
      name: 'a namespace never seen (a file without it)',
      ns: 'web',
      labels: undefined,
      want: 'namespace "web" was not seen: its pod-security labels are unknown, privileged assumed',
    },
    {
      name: 'a cluster-scoped object',
      ns: null,
      labels: undefined,
      want: 'the object has no namespace: no pod-security labels apply',
    },
  ];
  for (const c of cases) it(c.name, () => expect(labelsOnlyReason(c.ns, c.labels)).toBe(c.want));
});

describe('ingest', () => {
  const pod = (uid?: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'web', ...(uid === undefined ? {} : { uid }) },
    spec: { containers: [{ name: 'c', image: 'nginx' }] },
  });
  const ctx = (assignments: 'labels' | 'restricted') => ({
    policy:
      assignments === 'labels'
        ? policyFromLevel('privileged', { latest: true })
        : policyFromLevel('restricted', { latest: true }),
    namespaceLabels: new Map([['web', {}]]),
    verdicts: new VerdictPool(),
  });
  const cases: {
    name: string;
    obj: unknown;
    policy: 'labels' | 'restricted';
    want: { uid: string | null; reason?: string; applicable: string[] };
  }[] = [
    {
      name: 'labels only, unlabelled namespace: the reason names the namespace',
      obj: pod('u-1'),
      policy: 'labels',
      want: {
        uid: 'u-1',
        reason: 'namespace "web" has no pod-security labels: privileged by default',
        applicable: [],
      },
    },
    {
      name: 'with an assignment: it is listed as applicable, no reason',
      obj: pod(),
      policy: 'restricted',
      want: { uid: null, applicable: ['restricted:latest'] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = ingest(c.obj, { file: null, line: null }, ctx(c.policy));
      if (got.type !== 'pod') throw new Error(`expected a pod, got ${got.type}`);
      expect(got.record.uid).toBe(c.want.uid);
      expect(got.record.verdict.reason).toBe(c.want.reason);
      expect(got.record.verdict.applicable.map((a) => a.name)).toEqual(c.want.applicable);
    });
  }
});
