import { describe, expect, it } from 'vitest';
import { Attribution, type OwnerLink, type PodRecord, type WorkloadRecord } from './attribution.js';
import type { Verdict } from './verdict.js';

const verdict = (fp: string): Verdict => ({
  status: fp === 'ok' ? 'allowed' : 'denied',
  allowed: fp === 'ok',
  policy: { level: 'restricted', version: 'latest' },
  violations: [],
  applicable: [],
  fingerprint: fp,
});
const origin = { file: null, line: null };
const link = (kind: string, name: string): OwnerLink => ({
  apiVersion: 'apps/v1',
  kind,
  name,
  uid: `u-${name}`,
});
const pod = (name: string, owner: OwnerLink | null, fp = 'ok', hash: string | null = null): PodRecord => ({
  namespace: 'app',
  name,
  uid: `pod-${name}`,
  owner,
  templateHash: hash,
  verdict: verdict(fp),
  origin,
});
const workload = (kind: string, name: string, owner: OwnerLink | null, fp = 'ok'): WorkloadRecord => ({
  apiVersion: 'apps/v1',
  kind,
  namespace: 'app',
  name,
  uid: `u-${name}`,
  owner,
  basePath: 'spec.template',
  verdict: verdict(fp),
  origin,
});

type Row = [
  kind: string,
  name: string,
  pods: number,
  basis: string,
  owner: string | null,
  uid: string | null,
  /** Fingerprints of the pods reported apart from this result. */
  apart: string[],
];
const rows = (a: Attribution): Row[] =>
  a
    .results()
    .map((r) => [
      r.kind,
      r.name,
      r.pods,
      r.basis,
      r.owner === null ? null : `${r.owner.kind}/${r.owner.name}`,
      r.uid,
      r.podsApart.map((v) => v.fingerprint),
    ]);

const cases: { name: string; feed: (a: Attribution) => void; want: Row[] }[] = [
  {
    name: 'pods of a Deployment through its ReplicaSet count under the Deployment',
    feed: (a) => {
      a.addPod(pod('web-1', link('ReplicaSet', 'web-abc')));
      a.addPod(pod('web-2', link('ReplicaSet', 'web-abc')));
      a.addWorkload(workload('ReplicaSet', 'web-abc', link('Deployment', 'web')));
      a.addWorkload(workload('Deployment', 'web', null));
    },
    want: [['Deployment', 'web', 2, 'template', null, 'u-web', []]],
  },
  {
    name: 'a pod judged differently from the template is reported on its own',
    feed: (a) => {
      a.addWorkload(workload('Deployment', 'web', null));
      a.addWorkload(workload('ReplicaSet', 'web-abc', link('Deployment', 'web')));
      a.addPod(pod('web-1', link('ReplicaSet', 'web-abc')));
      a.addPod(pod('web-2', link('ReplicaSet', 'web-abc'), 'debug-container'));
    },
    want: [
      ['Deployment', 'web', 1, 'template', null, 'u-web', ['debug-container']],
      ['Pod', 'web-2', 1, 'pod', 'Deployment/web', 'pod-web-2', []],
    ],
  },
  {
    name: 'CronJob -> Job -> Pod attributes to the CronJob',
    feed: (a) => {
      a.addWorkload(workload('CronJob', 'nightly', null));
      a.addWorkload(workload('Job', 'nightly-1', link('CronJob', 'nightly')));
      a.addPod(pod('nightly-1-x', link('Job', 'nightly-1')));
    },
    want: [['CronJob', 'nightly', 1, 'template', null, 'u-nightly', []]],
  },
  {
    name: 'a workload without pods is judged from its template with 0 pods',
    feed: (a) => a.addWorkload(workload('StatefulSet', 'db', null, 'bad')),
    want: [['StatefulSet', 'db', 0, 'template', null, 'u-db', []]],
  },
  {
    name: 'orphan pods stand alone',
    feed: (a) => a.addPod(pod('debug', null, 'bad')),
    want: [['Pod', 'debug', 1, 'pod', null, 'pod-debug', []]],
  },
  {
    name: 'unseen ReplicaSet: the Deployment is inferred from pod-template-hash; majority verdict stands for it',
    feed: (a) => {
      for (let i = 0; i < 3; i++) a.addPod(pod(`web-7f9-${i}`, link('ReplicaSet', 'web-7f9'), 'ok', '7f9'));
      a.addPod(pod('web-7f9-odd', link('ReplicaSet', 'web-7f9'), 'bad', '7f9'));
    },
    want: [
      ['Deployment', 'web', 3, 'pods', null, null, ['bad']],
      ['Pod', 'web-7f9-odd', 1, 'pod', 'Deployment/web', 'pod-web-7f9-odd', []],
    ],
  },
  {
    name: 'an owner of unknown kind that was never seen stays the top owner',
    feed: (a) => a.addPod(pod('r-1', link('Rollout', 'canary'))),
    want: [['Rollout', 'canary', 1, 'pods', null, 'u-canary', []]],
  },
  {
    name: 'owner cycles do not loop',
    feed: (a) => {
      a.addWorkload(workload('ReplicaSet', 'a', link('ReplicaSet', 'b')));
      a.addWorkload(workload('ReplicaSet', 'b', link('ReplicaSet', 'a')));
    },
    want: [],
  },
];

describe('Attribution', () => {
  for (const c of cases) {
    it(c.name, () => {
      const a = new Attribution();
      c.feed(a);
      expect(rows(a)).toEqual(c.want);
    });
  }

  it('does not depend on the order objects arrive in', () => {
    const objs: (() => void)[] = [];
    const a1 = new Attribution();
    const a2 = new Attribution();
    const feeds = [
      (a: Attribution) => a.addWorkload(workload('Deployment', 'web', null)),
      (a: Attribution) => a.addWorkload(workload('ReplicaSet', 'web-abc', link('Deployment', 'web'))),
      (a: Attribution) => a.addPod(pod('web-1', link('ReplicaSet', 'web-abc'))),
      (a: Attribution) => a.addPod(pod('web-2', link('ReplicaSet', 'web-abc'), 'bad')),
    ];
    for (const f of feeds) f(a1);
    for (const f of [...feeds].reverse()) f(a2);
    expect(objs).toEqual([]);
    expect(rows(a2)).toEqual(rows(a1));
  });

  it('dropNamespace forgets a namespace', () => {
    const a = new Attribution();
    a.addPod(pod('x', null));
    a.addWorkload(workload('Deployment', 'web', null));
    a.dropNamespace('app');
    expect(a.results()).toEqual([]);
  });
});
