/** Pod-template extraction for every workload kind, lists, configured CRD paths and non-applicable input. */
import { describe, expect, it } from 'vitest';
import {
  ARGO_ROLLOUT_TEMPLATE_PATH,
  apiVersionMatches,
  extractPod,
  isKubernetesObject,
  parseTemplatePath,
} from './workloads.js';

const podSpec = { containers: [{ name: 'app', image: 'nginx' }] };
const template = { metadata: { labels: { app: 'x' } }, spec: podSpec };
const withTemplate = (apiVersion: string, kind: string) => ({
  apiVersion,
  kind,
  metadata: { name: 'w', namespace: 'prod' },
  spec: { template },
});

describe('extractPod: kinds with a pod template', () => {
  const cases: { name: string; obj: unknown; basePath: (string | number)[] }[] = [
    {
      name: 'ReplicationController v1',
      obj: withTemplate('v1', 'ReplicationController'),
      basePath: ['spec', 'template'],
    },
    {
      name: 'Deployment apps/v1',
      obj: withTemplate('apps/v1', 'Deployment'),
      basePath: ['spec', 'template'],
    },
    {
      name: 'Deployment extensions/v1beta1',
      obj: withTemplate('extensions/v1beta1', 'Deployment'),
      basePath: ['spec', 'template'],
    },
    {
      name: 'Deployment apps/v1beta1',
      obj: withTemplate('apps/v1beta1', 'Deployment'),
      basePath: ['spec', 'template'],
    },
    {
      name: 'ReplicaSet apps/v1',
      obj: withTemplate('apps/v1', 'ReplicaSet'),
      basePath: ['spec', 'template'],
    },
    {
      name: 'StatefulSet apps/v1beta2',
      obj: withTemplate('apps/v1beta2', 'StatefulSet'),
      basePath: ['spec', 'template'],
    },
    { name: 'DaemonSet apps/v1', obj: withTemplate('apps/v1', 'DaemonSet'), basePath: ['spec', 'template'] },
    {
      name: 'DaemonSet extensions/v1beta1',
      obj: withTemplate('extensions/v1beta1', 'DaemonSet'),
      basePath: ['spec', 'template'],
    },
    { name: 'Job batch/v1', obj: withTemplate('batch/v1', 'Job'), basePath: ['spec', 'template'] },
    {
      name: 'CronJob batch/v1',
      obj: {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { namespace: 'prod' },
        spec: { jobTemplate: { spec: { template } } },
      },
      basePath: ['spec', 'jobTemplate', 'spec', 'template'],
    },
    {
      name: 'CronJob batch/v1beta1',
      obj: {
        apiVersion: 'batch/v1beta1',
        kind: 'CronJob',
        metadata: { namespace: 'prod' },
        spec: { jobTemplate: { spec: { template } } },
      },
      basePath: ['spec', 'jobTemplate', 'spec', 'template'],
    },
    {
      name: 'PodTemplate v1',
      obj: { apiVersion: 'v1', kind: 'PodTemplate', metadata: { namespace: 'prod' }, template },
      basePath: ['template'],
    },
  ];
  it.each(cases)('$name', ({ obj, basePath }) => {
    const r = extractPod(obj);
    expect(r.kind).toBe('template');
    if (r.kind !== 'template') return;
    expect(r.target.basePath).toEqual(basePath);
    expect(r.target.spec).toBe(podSpec);
    expect(r.target.specMissing).toBe(false);
    expect(r.target.meta).toEqual({ labels: { app: 'x' }, namespace: 'prod' });
  });
});

describe('extractPod: pods and template details', () => {
  it('Pod v1: own metadata and spec, base path []', () => {
    const meta = { name: 'p', namespace: 'ns' };
    const r = extractPod({ apiVersion: 'v1', kind: 'Pod', metadata: meta, spec: podSpec });
    expect(r).toEqual({ kind: 'pod', target: { meta, spec: podSpec, basePath: [], specMissing: false } });
  });

  const missing: { name: string; obj: unknown; kind: string }[] = [
    {
      name: 'Pod without spec',
      obj: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } },
      kind: 'pod',
    },
    { name: 'Pod with a non-object spec', obj: { apiVersion: 'v1', kind: 'Pod', spec: 'x' }, kind: 'pod' },
    {
      name: 'Deployment without template',
      obj: { apiVersion: 'apps/v1', kind: 'Deployment', spec: {} },
      kind: 'template',
    },
    {
      name: 'Deployment template without spec',
      obj: { apiVersion: 'apps/v1', kind: 'Deployment', spec: { template: { metadata: {} } } },
      kind: 'template',
    },
    {
      name: 'CronJob without jobTemplate',
      obj: { apiVersion: 'batch/v1', kind: 'CronJob', spec: {} },
      kind: 'template',
    },
  ];
  it.each(missing)('$name: spec {} and specMissing', ({ obj, kind }) => {
    const r = extractPod(obj);
    expect(r.kind).toBe(kind);
    if (r.kind !== 'pod' && r.kind !== 'template') return;
    expect(r.target.spec).toEqual({});
    expect(r.target.specMissing).toBe(true);
  });

  it("template's own namespace is kept", () => {
    const obj = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { namespace: 'outer' },
      spec: { template: { metadata: { namespace: 'inner' }, spec: {} } },
    };
    const r = extractPod(obj);
    expect(r.kind === 'template' && r.target.meta.namespace).toBe('inner');
  });

  it('template without metadata inherits the namespace only', () => {
    const obj = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { namespace: 'ns', labels: { a: 'b' } },
      spec: { template: { spec: {} } },
    };
    const r = extractPod(obj);
    expect(r.kind === 'template' && r.target.meta).toEqual({ namespace: 'ns' });
  });
});

describe('extractPod: lists', () => {
  const cases: { name: string; obj: unknown; count: number }[] = [
    { name: 'v1 List', obj: { apiVersion: 'v1', kind: 'List', items: [{ a: 1 }, { b: 2 }] }, count: 2 },
    { name: 'v1 List without items', obj: { apiVersion: 'v1', kind: 'List' }, count: 0 },
    { name: 'DeploymentList', obj: { apiVersion: 'apps/v1', kind: 'DeploymentList', items: [{}] }, count: 1 },
    { name: 'PodList', obj: { apiVersion: 'v1', kind: 'PodList', items: [] }, count: 0 },
  ];
  it.each(cases)('$name', ({ obj, count }) => {
    const r = extractPod(obj);
    expect(r.kind).toBe('list');
    if (r.kind !== 'list') return;
    expect(r.items).toHaveLength(count);
    r.items.forEach((item, i) => expect(item.index).toBe(i));
  });

  it('keeps item values', () => {
    const item = { apiVersion: 'v1', kind: 'Pod' };
    const r = extractPod({ apiVersion: 'v1', kind: 'List', items: [item] });
    expect(r).toEqual({ kind: 'list', items: [{ index: 0, value: item }] });
  });
});

describe('extractPod: configured template paths', () => {
  const rollout = (apiVersion: string) => ({
    apiVersion,
    kind: 'Rollout',
    metadata: { namespace: 'prod' },
    spec: { template },
  });
  const cases: {
    name: string;
    obj: unknown;
    paths: { apiVersion: string; kind: string; path: string }[];
    kind: string;
    basePath?: string[];
  }[] = [
    {
      name: 'Argo Rollout, documented example',
      obj: rollout('argoproj.io/v1alpha1'),
      paths: [ARGO_ROLLOUT_TEMPLATE_PATH],
      kind: 'template',
      basePath: ['spec', 'template'],
    },
    {
      name: 'group wildcard matches any version',
      obj: rollout('argoproj.io/v1'),
      paths: [{ apiVersion: 'argoproj.io/*', kind: 'Rollout', path: 'spec.template' }],
      kind: 'template',
      basePath: ['spec', 'template'],
    },
    {
      name: 'leading dot in the path',
      obj: rollout('argoproj.io/v1alpha1'),
      paths: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', path: '.spec.template' }],
      kind: 'template',
      basePath: ['spec', 'template'],
    },
    {
      name: 'other version does not match',
      obj: rollout('argoproj.io/v1'),
      paths: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', path: 'spec.template' }],
      kind: 'notApplicable',
    },
    {
      name: 'wildcard does not match another group',
      obj: rollout('example.com/v1'),
      paths: [{ apiVersion: 'argoproj.io/*', kind: 'Rollout', path: 'spec.template' }],
      kind: 'notApplicable',
    },
    {
      name: 'Rollout without configured paths',
      obj: rollout('argoproj.io/v1alpha1'),
      paths: [],
      kind: 'notApplicable',
    },
    {
      name: 'built-in kinds ignore configured paths',
      obj: withTemplate('apps/v1', 'Deployment'),
      paths: [{ apiVersion: 'apps/v1', kind: 'Deployment', path: 'spec.other' }],
      kind: 'template',
      basePath: ['spec', 'template'],
    },
  ];
  it.each(cases)('$name', ({ obj, paths, kind, basePath }) => {
    const r = extractPod(obj, paths);
    expect(r.kind).toBe(kind);
    if (r.kind === 'template') {
      expect(r.target.basePath).toEqual(basePath);
      expect(r.target.spec).toBe(podSpec);
      expect(r.target.meta.namespace).toBe('prod');
    }
  });
});

describe('extractPod: not applicable', () => {
  const cases: { name: string; obj: unknown; reason: RegExp }[] = [
    { name: 'Service', obj: { apiVersion: 'v1', kind: 'Service' }, reason: /v1 Service has no pod template/ },
    { name: 'ConfigMap', obj: { apiVersion: 'v1', kind: 'ConfigMap', data: {} }, reason: /ConfigMap/ },
    {
      name: 'Pod with a non-core apiVersion',
      obj: { apiVersion: 'example.com/v1', kind: 'Pod', spec: {} },
      reason: /example.com\/v1 Pod/,
    },
    {
      name: 'Deployment with an unknown group',
      obj: withTemplate('example.com/v1', 'Deployment'),
      reason: /Deployment/,
    },
    { name: 'Job with batch/v1beta1', obj: withTemplate('batch/v1beta1', 'Job'), reason: /Job/ },
    {
      name: '*List without items array',
      obj: { apiVersion: 'v1', kind: 'PodList', items: 'x' },
      reason: /PodList/,
    },
    { name: 'null', obj: null, reason: /not a Kubernetes object/ },
    { name: 'array', obj: [], reason: /not a Kubernetes object/ },
    { name: 'missing kind', obj: { apiVersion: 'v1' }, reason: /not a Kubernetes object/ },
    { name: 'numeric apiVersion', obj: { apiVersion: 1, kind: 'Pod' }, reason: /not a Kubernetes object/ },
  ];
  it.each(cases)('$name', ({ obj, reason }) => {
    const r = extractPod(obj);
    expect(r.kind).toBe('notApplicable');
    if (r.kind === 'notApplicable') expect(r.reason).toMatch(reason);
  });
});

describe('helpers', () => {
  it.each([
    { name: 'object', v: { apiVersion: 'v1', kind: 'Pod' }, want: true },
    { name: 'string', v: 'Pod', want: false },
    { name: 'empty object', v: {}, want: false },
  ])('isKubernetesObject: $name', ({ v, want }) => expect(isKubernetesObject(v)).toBe(want));

  it.each([
    { name: 'exact', pattern: 'apps/v1', apiVersion: 'apps/v1', want: true },
    { name: 'group wildcard', pattern: 'argoproj.io/*', apiVersion: 'argoproj.io/v1alpha1', want: true },
    { name: 'wildcard against core v1', pattern: 'v1/*', apiVersion: 'v1', want: false },
    { name: 'different version', pattern: 'apps/v1', apiVersion: 'apps/v1beta1', want: false },
  ])('apiVersionMatches: $name', ({ pattern, apiVersion, want }) =>
    expect(apiVersionMatches(pattern, apiVersion)).toBe(want),
  );

  it.each([
    { path: 'spec.template', want: ['spec', 'template'] },
    { path: '.spec.template', want: ['spec', 'template'] },
    { path: '', want: [] },
  ])('parseTemplatePath($path)', ({ path, want }) => expect(parseTemplatePath(path)).toEqual(want));
});
