import { describe, expect, it } from 'vitest';
import { loadConfigText } from './config/load.js';
import type { PodsecConfig } from './config/types.js';
import { compilePolicy, evaluateObject, namespaceLabelPolicy, policyFromLevel } from './engine.js';
import type { EvaluationContext, ObjectEvaluation, Policy } from './engine.js';

const NOW = new Date('2026-01-15T12:00:00Z');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test builders poke at nested fields freely
type Obj = Record<string, any>;

/** A pod that passes restricted/latest; `tweak` makes exactly the change a case is about. */
function pod(tweak: (p: Obj) => void = () => {}): Obj {
  const p: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'app', labels: { app: 'web' } },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'app',
          image: 'registry.example/web:1.0',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
        {
          name: 'istio-proxy',
          image: 'docker.io/istio/proxyv2:1.22.0',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
  tweak(p);
  return p;
}

/** The same pod as a Deployment's template. */
function deployment(tweak: (p: Obj) => void = () => {}): Obj {
  const p = pod(tweak);
  const { namespace, ...templateMeta } = p.metadata as Obj;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', ...(namespace === undefined ? {} : { namespace }) },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: templateMeta, spec: p.spec } },
  };
}

const privileged = (i: number) => (p: Obj) => {
  p.spec.containers[i].securityContext.privileged = true;
};
const netRaw = (i: number) => (p: Obj) => {
  p.spec.containers[i].securityContext.capabilities = { drop: ['ALL'], add: ['NET_RAW'] };
};
const hostNetwork = (p: Obj) => {
  p.spec.hostNetwork = true;
};
const ns = (namespace: string | null) => (p: Obj) => {
  if (namespace === null) delete p.metadata.namespace;
  else p.metadata.namespace = namespace;
};
const all =
  (...tweaks: ((p: Obj) => void)[]) =>
  (p: Obj) => {
    for (const t of tweaks) t(p);
  };

function config(assignments: string, extra = ''): PodsecConfig {
  const r = loadConfigText(
    `apiVersion: podsec.io/v1alpha1\nkind: PodsecConfig\n${extra}assignments:\n${assignments}`,
    null,
    {
      now: NOW,
    },
  );
  if ('error' in r) throw new Error(r.error.message);
  return r.config;
}

function policy(assignments: string, extra = ''): Policy {
  return compilePolicy(config(assignments, extra), NOW);
}

function summary(e: ObjectEvaluation): string[] {
  return e.violations.map(
    (v) =>
      `${v.check} ${v.path.join('.')} ${v.effects.map((f) => `${f.assignment}=${f.effect}`).join(',')}` +
      (v.exemptedBy === null ? '' : ` exempt(${v.exemptedBy.assignment})`),
  );
}

describe('policyFromLevel (scan without --config)', () => {
  const restricted = policyFromLevel('restricted', { latest: true });
  it.each([
    { name: 'compliant pod', obj: pod(), status: 'allowed', violations: [] },
    {
      name: 'privileged container in a pod',
      obj: pod(privileged(1)),
      status: 'denied',
      violations: ['privileged spec.containers.1.securityContext.privileged restricted:latest=deny'],
    },
    {
      name: 'privileged container in a Deployment: absolute template path',
      obj: deployment(privileged(0)),
      status: 'denied',
      violations: [
        'privileged spec.template.spec.containers.0.securityContext.privileged restricted:latest=deny',
      ],
    },
    {
      name: 'kube-system is not excluded without a config',
      obj: pod(all(ns('kube-system'), hostNetwork)),
      status: 'denied',
      violations: ['hostNamespaces spec.hostNetwork restricted:latest=deny'],
    },
  ])('$name', ({ obj, status, violations }) => {
    const e = evaluateObject(restricted, obj);
    expect(e.status).toBe(status);
    expect(e.allowed).toBe(status !== 'denied');
    expect(e.policy).toEqual({ level: 'restricted', version: 'latest' });
    expect(summary(e)).toEqual(violations);
  });

  it('fills message, container, hint and parameter of each violation', () => {
    const [v] = evaluateObject(restricted, pod(privileged(1))).violations;
    expect(v).toMatchObject({
      check: 'privileged',
      container: 'istio-proxy',
      parameter: null,
      exemptedBy: null,
    });
    expect(v?.message).toContain('istio-proxy');
    expect(v?.hint).not.toBe('');
  });

  it('reports the version it was given', () => {
    const e = evaluateObject(policyFromLevel('baseline', { latest: false, minor: 24 }), pod());
    expect(e.policy).toEqual({ level: 'baseline', version: 'v1.24' });
  });

  it('privileged allows everything', () => {
    const e = evaluateObject(policyFromLevel('privileged', { latest: true }), pod(privileged(0)));
    expect(e).toMatchObject({ status: 'allowed', allowed: true, policy: { level: 'privileged' } });
  });

  it.each([
    { name: 'Service', obj: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } } },
    { name: 'not an object', obj: 'hello' },
    {
      name: 'List (the caller expands it)',
      obj: { apiVersion: 'v1', kind: 'List', items: [pod(privileged(0))] },
    },
  ])('not applicable: $name', ({ obj }) => {
    const e = evaluateObject(restricted, obj);
    expect(e.status).toBe('notApplicable');
    expect(e.allowed).toBe(true);
    expect(e.reason).toBeTruthy();
  });
});

describe('effects combine', () => {
  const p = policy(`  - {name: deny-baseline, initiative: baseline, effect: Deny}
  - {name: warn-restricted, initiative: restricted, effect: WARN}
  - {name: audit-restricted, initiative: restricted, effect: audit}
  - {name: off, initiative: restricted, effect: Disabled}
`);
  it.each([
    { name: 'compliant', tweak: () => {}, status: 'allowed', violations: [] },
    {
      name: 'baseline violation: denied, found by all three, merged into one violation',
      tweak: privileged(0),
      status: 'denied',
      violations: [
        'privileged spec.containers.0.securityContext.privileged deny-baseline=deny,warn-restricted=warn,audit-restricted=audit',
      ],
    },
    {
      name: 'restricted-only violation: warned (warn wins over audit for the status)',
      tweak: (q: Obj) => {
        q.spec.securityContext.runAsNonRoot = false;
      },
      status: 'warned',
      violations: [
        'runAsNonRoot spec.securityContext.runAsNonRoot warn-restricted=warn,audit-restricted=audit',
      ],
    },
  ])('$name', ({ tweak, status, violations }) => {
    const e = evaluateObject(p, pod(tweak));
    expect(e.status).toBe(status);
    expect(e.allowed).toBe(status !== 'denied');
    expect(summary(e)).toEqual(violations);
  });

  it('audit alone gives audited; disabled alone evaluates nothing', () => {
    const audit = policy('  - {name: a, initiative: restricted, effect: audit}\n');
    expect(evaluateObject(audit, pod(privileged(0))).status).toBe('audited');
    const off = policy('  - {name: a, initiative: restricted, effect: disabled}\n');
    expect(evaluateObject(off, pod(privileged(0)))).toMatchObject({
      status: 'allowed',
      violations: [],
      policy: { level: 'privileged', version: 'latest' },
    });
  });

  it('reports the strictest applicable assignment as the policy', () => {
    expect(evaluateObject(p, pod()).policy).toEqual({ level: 'restricted', version: 'latest' });
  });
});

describe('scope', () => {
  const p = policy(`  - name: apps
    initiative: restricted
    namespaces: [app, shop]
  - name: labelled
    initiative: baseline
    effect: warn
    labelSelector:
      matchExpressions: [{key: tier, operator: In, values: [edge]}]
  - name: everywhere
    initiative: baseline
    effect: audit
    excludedNamespaces: [kube-system, monitoring]
`);
  const run = (tweak: (q: Obj) => void, ctx?: EvaluationContext, asDeployment = false) => {
    const obj = asDeployment ? deployment(tweak) : pod(tweak);
    return summary(evaluateObject(p, obj, ctx));
  };
  it.each([
    {
      name: 'include-list namespace',
      tweak: privileged(0),
      want: ['privileged spec.containers.0.securityContext.privileged apps=deny,everywhere=audit'],
    },
    {
      name: 'namespace outside the include-list',
      tweak: all(ns('other'), privileged(0)),
      want: ['privileged spec.containers.0.securityContext.privileged everywhere=audit'],
    },
    { name: 'user-excluded namespace', tweak: all(ns('monitoring'), privileged(0)), want: [] },
    {
      name: 'a replaced excluded list no longer excludes gatekeeper-system',
      tweak: all(ns('gatekeeper-system'), privileged(0)),
      want: ['privileged spec.containers.0.securityContext.privileged everywhere=audit'],
    },
    {
      name: 'label selector on the pod labels',
      tweak: all(ns('other'), privileged(0), (q: Obj) => {
        q.metadata.labels.tier = 'edge';
      }),
      want: ['privileged spec.containers.0.securityContext.privileged labelled=warn,everywhere=audit'],
    },
    {
      name: 'no namespace: only assignments without an include-list apply',
      tweak: all(ns(null), privileged(0)),
      want: ['privileged spec.containers.0.securityContext.privileged everywhere=audit'],
    },
  ])('$name', ({ tweak, want }) => {
    expect(run(tweak)).toEqual(want);
  });

  it('label selector on a Deployment uses the template labels', () => {
    const tweak = all(ns('other'), privileged(0), (q: Obj) => {
      q.metadata.labels.tier = 'edge';
    });
    expect(run(tweak, {}, true)).toEqual([
      'privileged spec.template.spec.containers.0.securityContext.privileged labelled=warn,everywhere=audit',
    ]);
  });

  it('ctx.namespace overrides metadata.namespace', () => {
    expect(run(all(ns('other'), privileged(0)), { namespace: 'shop' })).toEqual([
      'privileged spec.containers.0.securityContext.privileged apps=deny,everywhere=audit',
    ]);
  });

  it('the default excludedNamespaces exclude AKS system namespaces', () => {
    const q = policy('  - {name: a, initiative: baseline}\n');
    for (const namespace of [
      'kube-system',
      'gatekeeper-system',
      'azure-arc',
      'azure-extensions-usage-system',
    ]) {
      expect(evaluateObject(q, pod(all(ns(namespace), privileged(0)))).status).toBe('allowed');
    }
    expect(evaluateObject(q, pod(all(ns('default'), privileged(0)))).status).toBe('denied');
  });
});

describe('per-assignment exemptions', () => {
  const exempting = (exemption: string) =>
    policy(`  - name: a
    initiative: restricted
    exemptions:
      - ${exemption}
`);
  it.each([
    {
      name: 'image prefix',
      exemption: '{checks: [capabilities_restricted], images: ["docker.io/istio/proxyv2*"], reason: mesh}',
      tweak: netRaw(1),
      exempt: true,
    },
    {
      name: 'image prefix does not match another image',
      exemption: '{checks: [capabilities_restricted], images: ["docker.io/istio/proxyv2*"], reason: mesh}',
      tweak: netRaw(0),
      exempt: false,
    },
    {
      name: 'exact image needs the whole reference',
      exemption: '{images: ["docker.io/istio/proxyv2"], reason: mesh}',
      tweak: netRaw(1),
      exempt: false,
    },
    {
      name: 'exact image',
      exemption: '{images: ["docker.io/istio/proxyv2:1.22.0"], reason: mesh}',
      tweak: netRaw(1),
      exempt: true,
    },
    {
      name: 'container name',
      exemption: '{containers: [istio-proxy], reason: mesh}',
      tweak: netRaw(1),
      exempt: true,
    },
    {
      name: 'container and check AND-ed: other check not exempt',
      exemption: '{checks: [runAsNonRoot], containers: [istio-proxy], reason: mesh}',
      tweak: netRaw(1),
      exempt: false,
    },
    {
      name: 'check only (pod-level finding)',
      exemption: '{checks: [hostNamespaces], reason: node agent}',
      tweak: hostNetwork,
      exempt: true,
    },
    {
      name: 'a container exemption never covers a pod-level finding',
      exemption: '{checks: [hostNamespaces], containers: [app], reason: x}',
      tweak: hostNetwork,
      exempt: false,
    },
    {
      name: 'expired exemption no longer applies',
      exemption: '{containers: [istio-proxy], reason: mesh, expires: 2026-01-14}',
      tweak: netRaw(1),
      exempt: false,
    },
    {
      name: 'exemption applies through its expiry day',
      exemption: '{containers: [istio-proxy], reason: mesh, expires: 2026-01-15}',
      tweak: netRaw(1),
      exempt: true,
    },
  ])('$name', ({ exemption, tweak, exempt }) => {
    const e = evaluateObject(exempting(exemption), pod(tweak));
    expect(e.violations).toHaveLength(1);
    const [v] = e.violations;
    expect(v?.effects).toEqual([{ assignment: 'a', effect: 'deny' }]);
    if (exempt) {
      expect(e.status).toBe('allowed');
      expect(v?.exemptedBy).toMatchObject({ assignment: 'a' });
    } else {
      expect(e.status).toBe('denied');
      expect(v?.exemptedBy).toBeNull();
    }
  });

  it('keeps reason and expiry in exemptedBy', () => {
    const e = evaluateObject(
      exempting('{containers: [istio-proxy], reason: needs NET_RAW, expires: 2027-06-30}'),
      pod(netRaw(1)),
    );
    expect(e.violations[0]?.exemptedBy).toEqual({
      assignment: 'a',
      reason: 'needs NET_RAW',
      expires: '2027-06-30',
    });
  });

  it('an exemption in one assignment does not exempt the same violation in another', () => {
    const p = policy(`  - name: exempting
    initiative: restricted
    exemptions: [{containers: [istio-proxy], reason: mesh}]
  - {name: strict, initiative: restricted, effect: warn}
`);
    const e = evaluateObject(p, pod(netRaw(1)));
    expect(e.status).toBe('warned');
    expect(summary(e)).toEqual([
      'capabilities_restricted spec.containers.1.securityContext.capabilities.add.0 strict=warn',
    ]);
  });
});

describe('cluster-wide exemptions', () => {
  const p = policy(
    '  - {name: a, initiative: restricted}\n',
    'exemptions:\n  usernames: [admin]\n  namespaces: [istio-system]\n  runtimeClasses: [kata]\n',
  );
  it.each([
    { name: 'namespace', tweak: ns('istio-system'), ctx: {}, reason: 'namespace "istio-system" is exempt' },
    { name: 'username', tweak: () => {}, ctx: { username: 'admin' }, reason: 'user "admin" is exempt' },
    {
      name: 'runtimeClass',
      tweak: (q: Obj) => {
        q.spec.runtimeClassName = 'kata';
      },
      ctx: {},
      reason: 'runtimeClass "kata" is exempt',
    },
  ])('$name', ({ tweak, ctx, reason }) => {
    const e = evaluateObject(p, pod(all(tweak, privileged(0))), ctx);
    expect(e).toMatchObject({ status: 'exempt', allowed: true, violations: [], reason });
  });

  it('another user is not exempt', () => {
    expect(evaluateObject(p, pod(privileged(0)), { username: 'bob' }).status).toBe('denied');
  });
});

describe('Azure initiatives', () => {
  it.each([
    {
      name: 'azure-baseline allows NET_RAW (Azure default list)',
      initiative: 'azure-baseline',
      tweak: netRaw(0),
      status: 'allowed',
    },
    { name: 'baseline (PSA) denies NET_RAW', initiative: 'baseline', tweak: netRaw(0), status: 'denied' },
    {
      name: 'azure-baseline denies privileged',
      initiative: 'azure-baseline',
      tweak: privileged(0),
      status: 'denied',
    },
  ])('$name', ({ initiative, tweak, status }) => {
    const p = policy(`  - {name: a, initiative: ${initiative}}\n`);
    const e = evaluateObject(p, pod(tweak));
    expect(e.status).toBe(status);
    expect(e.policy).toEqual({ level: initiative, version: 'latest' });
  });

  it('strictest: restricted beats azure-restricted beats baseline beats azure-baseline', () => {
    const p = policy(`  - {name: a, initiative: azure-baseline}
  - {name: b, initiative: baseline, version: v1.30}
  - {name: c, initiative: azure-restricted, effect: audit}
`);
    expect(evaluateObject(p, pod()).policy).toEqual({ level: 'azure-restricted', version: 'latest' });
  });

  it('a parameter that decides a violation is named', () => {
    const p = policy(`  - name: a
    initiative: azure-restricted
    parameters:
      allowedCapabilities: []
`);
    const e = evaluateObject(p, pod(netRaw(0)));
    expect(e.status).toBe('denied');
    expect(e.violations.some((v) => v.parameter === 'allowedCapabilities')).toBe(true);
  });
});

describe('custom pod template paths', () => {
  const rollout = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'r', namespace: 'app' },
    spec: { template: { metadata: { labels: {} }, spec: pod(privileged(0)).spec } },
  };
  it('a configured kind is evaluated at its template', () => {
    const p = policy(
      '  - {name: a, initiative: baseline}\n',
      'podTemplatePaths:\n  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, path: spec.template}\n',
    );
    expect(summary(evaluateObject(p, rollout))).toEqual([
      'privileged spec.template.spec.containers.0.securityContext.privileged a=deny',
    ]);
  });

  it('without the path it is not applicable', () => {
    expect(evaluateObject(policy('  - {name: a, initiative: baseline}\n'), rollout).status).toBe(
      'notApplicable',
    );
  });
});

describe('namespaceLabelPolicy', () => {
  const L = 'pod-security.kubernetes.io/';
  const brief = (labels: Record<string, string>) => {
    const r = namespaceLabelPolicy(labels);
    return {
      assignments: r.assignments.map(
        (a) =>
          `${a.name.slice(L.length)}=${a.initiative}:${a.version.latest ? 'latest' : `v1.${a.version.minor}`}:${a.effect}`,
      ),
      errors: r.errors.length,
    };
  };
  it.each([
    { name: 'no labels', labels: {}, assignments: [], errors: 0 },
    {
      name: 'enforce raises warn to the same level and version',
      labels: { [`${L}enforce`]: 'baseline', [`${L}enforce-version`]: 'v1.29' },
      assignments: ['enforce=baseline:v1.29:deny', 'warn=baseline:v1.29:warn'],
      errors: 0,
    },
    {
      name: 'explicit warn is kept',
      labels: { [`${L}enforce`]: 'restricted', [`${L}warn`]: 'baseline' },
      assignments: ['enforce=restricted:latest:deny', 'warn=baseline:latest:warn'],
      errors: 0,
    },
    {
      name: 'warn-version is kept when warn is raised',
      labels: {
        [`${L}enforce`]: 'baseline',
        [`${L}enforce-version`]: 'v1.29',
        [`${L}warn-version`]: 'v1.30',
      },
      assignments: ['enforce=baseline:v1.29:deny', 'warn=baseline:v1.30:warn'],
      errors: 0,
    },
    {
      name: 'invalid enforce level fails closed to restricted',
      labels: { [`${L}enforce`]: 'Restricted' },
      assignments: ['enforce=restricted:latest:deny', 'warn=restricted:latest:warn'],
      errors: 1,
    },
    {
      name: 'invalid audit level fails open to privileged',
      labels: { [`${L}audit`]: 'strict' },
      assignments: [],
      errors: 1,
    },
    {
      name: 'invalid version means latest',
      labels: { [`${L}audit`]: 'restricted', [`${L}audit-version`]: 'v1.05' },
      assignments: ['audit=restricted:latest:audit'],
      errors: 1,
    },
    {
      name: 'privileged enforce adds nothing',
      labels: { [`${L}enforce`]: 'privileged', [`${L}audit`]: 'baseline' },
      assignments: ['audit=baseline:latest:audit'],
      errors: 0,
    },
    {
      name: 'other labels are ignored',
      labels: { 'kubernetes.io/metadata.name': 'app', [`${L}enforcement`]: 'restricted' },
      assignments: [],
      errors: 0,
    },
  ])('$name', ({ labels, assignments, errors }) => {
    expect(brief(labels)).toEqual({ assignments, errors });
  });

  it('namespace labels add assignments to a compiled policy, never weaken it', () => {
    const p = policy('  - {name: a, initiative: baseline, effect: audit}\n');
    const labels = { [`${L}enforce`]: 'restricted' };
    const q = pod((o: Obj) => {
      o.spec.securityContext.runAsNonRoot = false;
    });
    expect(evaluateObject(p, q).status).toBe('allowed');
    const e = evaluateObject(p, q, { namespaceLabels: labels });
    expect(e.status).toBe('denied');
    expect(summary(e)).toEqual([
      `runAsNonRoot spec.securityContext.runAsNonRoot ${L}enforce=deny,${L}warn=warn`,
    ]);
    // Cached: the same labels give the same answer.
    expect(evaluateObject(p, q, { namespaceLabels: { ...labels } }).status).toBe('denied');
  });
});

describe('PSA wording: violation reasons and per-assignment messages', () => {
  const hostNamespaces = (p: Obj) => {
    p.spec.hostNetwork = true;
    p.spec.hostPID = true;
  };
  const noEscalationFlag = (p: Obj) => {
    delete p.spec.containers[0].securityContext.allowPrivilegeEscalation;
  };
  it.each([
    {
      name: 'level without a config: PSA enforce text',
      policy: policyFromLevel('restricted', { latest: true }),
      tweak: hostNamespaces,
      reasons: ['host namespaces', 'host namespaces'],
      messages: [
        {
          assignment: 'restricted:latest',
          effect: 'deny',
          text: 'violates PodSecurity "restricted:latest": host namespaces (hostNetwork=true, hostPID=true)',
        },
      ],
    },
    {
      name: 'warn and audit assignments: "would violate", each with its own level and version',
      policy: policy(`  - {name: w, initiative: restricted, version: v1.30, effect: warn}
  - {name: au, initiative: baseline, effect: audit}
`),
      tweak: noEscalationFlag,
      reasons: ['allowPrivilegeEscalation != false'],
      messages: [
        {
          assignment: 'w',
          effect: 'warn',
          text: 'would violate PodSecurity "restricted:v1.30": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)',
        },
      ],
    },
    {
      name: 'azure initiative with parameters: the initiative as level label',
      policy: policy(`  - name: az
    initiative: azure-baseline
    effect: audit
    parameters: {allowHostNetwork: false}
`),
      tweak: hostNetwork,
      reasons: ['host namespaces'],
      messages: [
        {
          assignment: 'az',
          effect: 'audit',
          text: 'would violate PodSecurity "azure-baseline:latest": host namespaces (hostNetwork=true is not allowed (allowHostNetwork is false))',
        },
      ],
    },
    {
      name: 'an assignment whose exemption covers every finding has no message',
      policy: policy(`  - name: exempting
    initiative: baseline
    exemptions: [{checks: [hostNamespaces], reason: node agent}]
  - {name: strict, initiative: restricted, effect: warn}
`),
      tweak: all(hostNetwork, privileged(1)),
      reasons: ['host namespaces', 'privileged'],
      messages: [
        {
          assignment: 'exempting',
          effect: 'deny',
          text: 'violates PodSecurity "baseline:latest": privileged (container "istio-proxy" must not set securityContext.privileged=true)',
        },
        {
          assignment: 'strict',
          effect: 'warn',
          text: 'would violate PodSecurity "restricted:latest": host namespaces (hostNetwork=true), privileged (container "istio-proxy" must not set securityContext.privileged=true)',
        },
      ],
    },
    {
      name: 'namespace-label assignment is named after its label',
      policy: policyFromLevel('privileged', { latest: true }),
      ctx: { namespaceLabels: { 'pod-security.kubernetes.io/enforce': 'baseline' } },
      tweak: privileged(0),
      reasons: ['privileged'],
      messages: [
        {
          assignment: 'pod-security.kubernetes.io/enforce',
          effect: 'deny',
          text: 'violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true)',
        },
        {
          assignment: 'pod-security.kubernetes.io/warn',
          effect: 'warn',
          text: 'would violate PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true)',
        },
      ],
    },
  ])('$name', ({ policy: p, tweak, ctx, reasons, messages }) => {
    const e = evaluateObject(p, pod(tweak), ctx);
    expect(e.violations.map((v) => v.reason)).toEqual(reasons);
    expect(e.messages).toEqual(messages);
  });

  it('passing, exempt and not-applicable objects share one empty message list', () => {
    const p = policyFromLevel('restricted', { latest: true });
    const passing = evaluateObject(p, pod());
    expect(passing.messages).toEqual([]);
    expect(evaluateObject(p, pod()).messages).toBe(passing.messages);
    expect(evaluateObject(p, { apiVersion: 'v1', kind: 'ConfigMap' }).messages).toBe(passing.messages);
    expect(Object.isFrozen(passing.messages)).toBe(true);
  });
});

describe('no assignment applies: allowed, with the reason', () => {
  const hostPID = (p: Obj) => {
    p.spec.hostPID = true;
  };
  const twoDefaults = policy(`  - {name: restricted-apps, initiative: restricted}
  - {name: azure-baseline-audit, initiative: azure-baseline, effect: audit}
`);
  const scoped = policy(`  - {name: shop-only, initiative: restricted, namespaces: [shop]}
  - {name: web-only, initiative: baseline, labelSelector: {matchLabels: {app: web}}}
  - {name: no-team-b, initiative: baseline, excludedNamespaces: [team-b]}
`);
  it.each([
    {
      name: 'a hostPID pod in kube-system, excluded by every assignment',
      policy: twoDefaults,
      obj: pod(all(ns('kube-system'), hostPID)),
      reason:
        'no assignment applies: namespace "kube-system" is excluded by restricted-apps, azure-baseline-audit',
    },
    {
      name: 'each assignment passes it by for its own cause',
      policy: scoped,
      obj: pod(
        all(ns('team-b'), (p) => {
          p.metadata.labels = { app: 'api' };
        }),
      ),
      reason:
        'no assignment applies: namespace "team-b" is not in the namespaces of shop-only; ' +
        'namespace "team-b" is excluded by no-team-b; the labels do not match the labelSelector of web-only',
    },
    {
      name: 'an include-list never matches an object of unknown namespace',
      policy: policy('  - {name: shop-only, initiative: restricted, namespaces: [shop]}\n'),
      obj: pod(ns(null)),
      reason:
        'no assignment applies: the object has no namespace and shop-only applies only to listed namespaces',
    },
    {
      name: 'only disabled assignments',
      policy: policy('  - {name: off, initiative: restricted, effect: disabled}\n'),
      obj: pod(hostPID),
      reason: 'no assignment applies: the policy has no enabled assignment',
    },
    {
      name: 'the privileged level',
      policy: policyFromLevel('privileged', { latest: true }),
      obj: pod(hostPID),
      reason: 'no assignment applies: the policy has no enabled assignment',
    },
  ])('$name', ({ policy: p, obj, reason }) => {
    expect(evaluateObject(p, obj)).toEqual({
      status: 'allowed',
      allowed: true,
      policy: { level: 'privileged', version: 'latest' },
      violations: [],
      messages: [],
      reason,
    });
  });

  it('an object some assignment applies to and that passes has no reason', () => {
    expect(evaluateObject(twoDefaults, pod()).reason).toBeUndefined();
  });
});
