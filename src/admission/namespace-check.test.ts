import { describe, expect, it } from 'vitest';
import { makePod as makeTestPod } from '../../test/support/pods.js';
import type { PodOverrides } from '../../test/support/pods.js';
import type { KubeObject } from '../kube/types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at nested fields freely
type Obj = Record<string, any>;
import { compilePolicy, loadConfigText } from '../policy/index.js';
import { createAdmissionHandler } from './handler.js';
import { encodeResponse } from './review.js';
import { checkPodsInNamespace, enforceBecameStricter, namespacePolicy } from './namespace-check.js';
import type { LevelVersion } from './namespace-check.js';
import type { AdmissionRequest, Operation, PolicySnapshot } from './types.js';

/** The support builder's pod as the KubeObject the handler reads. */
const makePod = (o: PodOverrides = {}): Obj => makeTestPod(o);

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const NOW = new Date('2026-01-15T12:00:00Z');

function ns(labels: Record<string, string>, name = 'team'): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

function nsRequest(
  operation: Operation,
  labels: Record<string, string>,
  oldLabels: Record<string, string> | null = null,
  name = 'team',
): AdmissionRequest {
  return {
    uid: 'u',
    kind: { group: '', version: 'v1', kind: 'Namespace' },
    resource: { group: '', version: 'v1', resource: 'namespaces' },
    subResource: '',
    name,
    namespace: name,
    operation,
    userInfo: { username: 'admin' },
    object: ns(labels, name),
    oldObject: oldLabels === null ? null : ns(oldLabels, name),
    dryRun: true,
  };
}

function privilegedPod(name: string, owner?: string): KubeObject {
  const p = makePod({ name });
  p.spec.containers![0]!.securityContext!.privileged = true;
  if (owner !== undefined)
    p.metadata.ownerReferences = [{ kind: 'ReplicaSet', name: owner, uid: owner, controller: true }];
  return p;
}

function hostNetworkPod(name: string): KubeObject {
  return makePod({ name, spec: { hostNetwork: true } });
}

function handlerFor(pods: KubeObject[], exemptNamespaces: string[] = []) {
  const cfg = loadConfigText(
    `apiVersion: podsec.io/v1alpha1\nkind: PodsecConfig\nexemptions:\n  namespaces: [${exemptNamespaces.join(', ')}]\n  runtimeClasses: [kata]\nassignments: []\n`,
    null,
  );
  if ('error' in cfg) throw new Error(cfg.error.message);
  const snap: PolicySnapshot = { policy: compilePolicy(cfg.config, NOW), config: cfg.config };
  return createAdmissionHandler({
    policy: () => snap,
    namespaceLabels: () => Promise.resolve({}),
    podsInNamespace: () => pods,
    now: () => NOW.getTime(),
  });
}

const lv = (level: LevelVersion['level'], minor: number | null = null): LevelVersion => ({
  level,
  version: minor === null ? { latest: true } : { latest: false, minor },
});

describe('enforceBecameStricter (when PSA dry-runs existing pods)', () => {
  it.each([
    { name: 'unchanged', from: lv('baseline'), to: lv('baseline'), stricter: false },
    { name: 'privileged -> baseline', from: lv('privileged'), to: lv('baseline'), stricter: true },
    { name: 'baseline -> restricted', from: lv('baseline'), to: lv('restricted'), stricter: true },
    { name: 'restricted -> baseline (relaxed)', from: lv('restricted'), to: lv('baseline'), stricter: false },
    { name: 'to privileged', from: lv('restricted'), to: lv('privileged'), stricter: false },
    { name: 'version change at same level', from: lv('baseline', 30), to: lv('baseline'), stricter: true },
    {
      name: 'relaxed level with a version change',
      from: lv('restricted', 30),
      to: lv('baseline'),
      stricter: true,
    },
  ])('$name -> $stricter', ({ from, to, stricter }) => {
    expect(enforceBecameStricter(from, to)).toBe(stricter);
  });
});

describe('namespace label validation', () => {
  it.each([
    {
      name: 'CREATE, valid labels',
      op: 'CREATE' as const,
      labels: { [ENFORCE]: 'restricted' },
      old: null,
      allowed: true,
    },
    { name: 'CREATE, no labels', op: 'CREATE' as const, labels: {}, old: null, allowed: true },
    {
      name: 'CREATE, invalid level',
      op: 'CREATE' as const,
      labels: { [ENFORCE]: 'strict' },
      old: null,
      allowed: false,
      message:
        'Namespace "team" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
    },
    {
      name: 'CREATE, invalid version',
      op: 'CREATE' as const,
      labels: { [ENFORCE]: 'baseline', [`${ENFORCE}-version`]: 'v1.030' },
      old: null,
      allowed: false,
      message:
        'Namespace "team" is invalid: metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "v1.030": must be "latest" or "v1.x"',
    },
    {
      name: 'UPDATE introducing an invalid label',
      op: 'UPDATE' as const,
      labels: { 'pod-security.kubernetes.io/warn': 'Restricted' },
      old: {},
      allowed: false,
      message:
        'Namespace "team" is invalid: metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "Restricted": must be one of privileged, baseline, restricted',
    },
    {
      name: 'CREATE, several invalid labels: all named, in PSA order, bracketed',
      op: 'CREATE' as const,
      labels: {
        'pod-security.kubernetes.io/warn': 'loose',
        [ENFORCE]: 'strictest',
        'pod-security.kubernetes.io/audit-version': '1.30',
      },
      old: null,
      allowed: false,
      message:
        'Namespace "team" is invalid: [metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strictest": must be one of privileged, baseline, restricted, metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: "1.30": must be "latest" or "v1.x", metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "loose": must be one of privileged, baseline, restricted]',
    },
    {
      name: 'UPDATE changing one invalid label into another',
      op: 'UPDATE' as const,
      labels: { [ENFORCE]: 'strictest' },
      old: { [ENFORCE]: 'strict' },
      allowed: false,
      message:
        'Namespace "team" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strictest": must be one of privileged, baseline, restricted',
    },
    {
      name: 'UPDATE keeping the same invalid label (other edits allowed, as PSA)',
      op: 'UPDATE' as const,
      labels: { 'pod-security.kubernetes.io/warn': 'Restricted', team: 'b' },
      old: { 'pod-security.kubernetes.io/warn': 'Restricted' },
      allowed: true,
    },
  ])('$name', async ({ op, labels, old, allowed, message }) => {
    const d = await handlerFor([])(nsRequest(op, labels, old));
    expect(d.response.allowed).toBe(allowed);
    expect(d.metrics.kind).toBe('Namespace');
    if (!allowed) {
      // As PSA: the API server's 422 Invalid for the object, not a 403 policy denial.
      expect(d.response.status).toMatchObject({ code: 422, reason: 'Invalid', message });
      expect(d.metrics.decision).toBe('deny');
    }
  });

  it('an invalid label answers with one FieldValueInvalid cause per label, as NewInvalid', async () => {
    const d = await handlerFor([])(
      nsRequest('CREATE', { [ENFORCE]: 'strictest', [`${ENFORCE}-version`]: 'v2.0' }),
    );
    const encoded = encodeResponse('u', d.response);
    expect(encoded.response.status?.details).toEqual({
      name: 'team',
      group: '',
      kind: 'Namespace',
      causes: [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "strictest": must be one of privileged, baseline, restricted',
          field: 'metadata.labels[pod-security.kubernetes.io/enforce]',
        },
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "v2.0": must be "latest" or "v1.x"',
          field: 'metadata.labels[pod-security.kubernetes.io/enforce-version]',
        },
      ],
    });
  });

  it('DELETE and subresources are not looked at', async () => {
    const h = handlerFor([]);
    const del = await h({ ...nsRequest('DELETE', {}), object: null, oldObject: ns({ [ENFORCE]: 'bad' }) });
    expect(del).toMatchObject({ response: { allowed: true }, metrics: { decision: 'skip' } });
    const fin = await h({ ...nsRequest('UPDATE', { [ENFORCE]: 'bad' }, {}), subResource: 'finalize' });
    expect(fin).toMatchObject({ response: { allowed: true }, metrics: { decision: 'skip' } });
  });

  it('a namespace UPDATE without oldObject fails closed', async () => {
    const d = await handlerFor([])(nsRequest('UPDATE', { [ENFORCE]: 'baseline' }, null));
    expect(d.response.allowed).toBe(false);
    expect(d.metrics.decision).toBe('error');
  });
});

describe('making enforce stricter dry-runs existing pods', () => {
  it('groups pods by identical reasons, names the first by name, sorted', async () => {
    const pods = [
      privilegedPod('web-b'),
      privilegedPod('web-a'),
      privilegedPod('web-c'),
      hostNetworkPod('node-agent'),
      makePod({ name: 'fine' }),
      privilegedPod('solo-x', 'rs-other'),
    ];
    // solo-x has the same reasons as web-*: it joins their group.
    const d = await handlerFor(pods)(nsRequest('UPDATE', { [ENFORCE]: 'baseline' }, {}));
    expect(d.response).toEqual({
      allowed: true,
      warnings: [
        'existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest"',
        'node-agent: host namespaces',
        'solo-x (and 3 other pods): privileged',
      ],
    });
    expect(d.metrics.decision).toBe('warn');
  });

  it('two pods: "(and 1 other pod)"', () => {
    const warnings = checkPodsInNamespace('team', [privilegedPod('a'), privilegedPod('b')], lv('baseline'), {
      now: () => 0,
    });
    expect(warnings).toEqual([
      'existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest"',
      'a (and 1 other pod): privileged',
    ]);
  });

  it('several failing checks join their reasons in check order', () => {
    const p = privilegedPod('multi');
    (p['spec'] as { hostNetwork?: boolean }).hostNetwork = true;
    expect(checkPodsInNamespace('team', [p], lv('baseline'), { now: () => 0 })).toEqual([
      'existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest"',
      'multi: host namespaces, privileged',
    ]);
  });

  it('relaxing or keeping the level says nothing', async () => {
    const h = handlerFor([privilegedPod('p')]);
    for (const [next, old] of [
      [{ [ENFORCE]: 'baseline' }, { [ENFORCE]: 'restricted' }],
      [{ [ENFORCE]: 'baseline', team: 'x' }, { [ENFORCE]: 'baseline' }],
      [{}, { [ENFORCE]: 'baseline' }],
    ] as const) {
      const d = await h(nsRequest('UPDATE', next, old));
      expect(d.response).toEqual({ allowed: true });
    }
  });

  it("pods that cannot be listed: allowed with PSA's warning", async () => {
    const h = createAdmissionHandler({
      policy: () => ({ policy: null, config: null }),
      namespaceLabels: () => Promise.resolve({}),
      podsInNamespace: () => {
        throw new Error('cache not synced');
      },
      now: () => 0,
    });
    const d = await h(nsRequest('UPDATE', { [ENFORCE]: 'baseline' }, {}));
    expect(d.response).toEqual({
      allowed: true,
      warnings: ['failed to list pods while checking new PodSecurity enforce level'],
    });
  });

  it('no violating pods: no warnings', async () => {
    const d = await handlerFor([makePod({ name: 'ok' })])(
      nsRequest('UPDATE', { [ENFORCE]: 'restricted' }, {}),
    );
    expect(d.response).toEqual({ allowed: true });
    expect(d.metrics.decision).toBe('allow');
  });

  it('pods with an exempt runtime class are not checked', async () => {
    const kata = privilegedPod('sandboxed');
    (kata['spec'] as { runtimeClassName?: string }).runtimeClassName = 'kata';
    const d = await handlerFor([kata])(nsRequest('UPDATE', { [ENFORCE]: 'baseline' }, {}));
    expect(d.response).toEqual({ allowed: true });
  });

  it('5,000 pods: checks 3,000, one per owner first, and says so', () => {
    // 4,000 replicas of one ReplicaSet (host network) and 1,000 distinct owners (privileged), listed
    // replicas first: prioritizing one pod per owner must still find the privileged ones.
    const pods: KubeObject[] = [];
    for (let i = 0; i < 4000; i++) {
      const p = hostNetworkPod(`big-${String(i).padStart(4, '0')}`);
      p.metadata!.ownerReferences = [{ kind: 'ReplicaSet', name: 'big', uid: 'big', controller: true }];
      pods.push(p);
    }
    for (let i = 0; i < 1000; i++) pods.push(privilegedPod(`own-${String(i).padStart(4, '0')}`, `rs-${i}`));
    const warnings = checkPodsInNamespace('team', pods, lv('baseline'), { now: () => 0 });
    expect(warnings).toEqual([
      'new PodSecurity enforce level only checked against the first 3000 of 5000 existing pods',
      'existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest"',
      'big-0000 (and 1999 other pods): host namespaces',
      'own-0000 (and 999 other pods): privileged',
    ]);
  });

  it('stops at the time budget and reports how far it got', () => {
    let clock = 0;
    const pods = Array.from({ length: 50 }, (_, i) => privilegedPod(`p${String(i).padStart(2, '0')}`));
    // Each reading of the clock advances 100 ms: the 1 s budget ends after 10 pods.
    const warnings = checkPodsInNamespace('team', pods, lv('baseline'), { now: () => (clock += 100) });
    expect(warnings).toEqual([
      'new PodSecurity enforce level only checked against the first 10 of 50 existing pods',
      'existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest"',
      'p00 (and 9 other pods): privileged',
    ]);
  });

  it('maxPods and timeout are adjustable', () => {
    const pods = Array.from({ length: 5 }, (_, i) => privilegedPod(`p${i}`));
    expect(checkPodsInNamespace('team', pods, lv('baseline'), { now: () => 0, maxPods: 2 })[0]).toBe(
      'new PodSecurity enforce level only checked against the first 2 of 5 existing pods',
    );
  });
});

describe('exempt namespaces', () => {
  it.each([
    {
      name: 'CREATE with labels warns that they will be ignored',
      req: nsRequest(
        'CREATE',
        { [ENFORCE]: 'restricted', 'pod-security.kubernetes.io/audit': 'baseline' },
        null,
        'istio-system',
      ),
      warnings: [
        'namespace "istio-system" is exempt from Pod Security, and the policy (enforce=restricted:latest, audit=baseline:latest) will be ignored',
      ],
    },
    {
      name: 'UPDATE making enforce stricter warns instead of dry-running',
      req: nsRequest('UPDATE', { [ENFORCE]: 'baseline' }, {}, 'istio-system'),
      warnings: [
        'namespace "istio-system" is exempt from Pod Security, and the policy (enforce=baseline:latest) will be ignored',
      ],
    },
    {
      name: 'CREATE without labels says nothing',
      req: nsRequest('CREATE', {}, null, 'istio-system'),
      warnings: undefined,
    },
  ])('$name', async ({ req, warnings }) => {
    const d = await handlerFor([privilegedPod('p')], ['istio-system'])(req);
    expect(d.response.allowed).toBe(true);
    expect(d.response.warnings).toEqual(warnings);
  });
});

describe('namespacePolicy', () => {
  it('warn follows enforce when only enforce is set (PSA)', () => {
    const p = namespacePolicy({ [ENFORCE]: 'restricted', [`${ENFORCE}-version`]: 'v1.30' });
    expect(p.modes.warn).toEqual(lv('restricted', 30));
    expect(p.modes.audit).toEqual(lv('privileged'));
    expect(p.errors).toEqual([]);
  });
});
