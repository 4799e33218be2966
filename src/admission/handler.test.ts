import { describe, expect, it } from 'vitest';
import { makeContainer, makePod, tweak } from '../../test/support/pods.js';
import type { KubeObject } from '../kube/types.js';
import { WORKLOAD_KINDS } from '../kube/workloads.js';
import { compilePolicy, loadConfigText } from '../policy/index.js';
import type { PodsecConfig } from '../policy/index.js';
import { createAdmissionHandler, isSignificantPodUpdate } from './handler.js';
import { encodeResponse } from './review.js';
import type { AdmissionDeps, AdmissionRequest, Operation, PolicySnapshot } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at nested fields freely
type Obj = Record<string, any>;

const NOW = new Date('2026-01-15T12:00:00Z');
const ENFORCE = 'pod-security.kubernetes.io/enforce';
const WARN = 'pod-security.kubernetes.io/warn';
const AUDIT = 'pod-security.kubernetes.io/audit';

function config(assignments: string, extra = ''): PodsecConfig {
  const r = loadConfigText(
    `apiVersion: podsec.io/v1alpha1\nkind: PodsecConfig\n${extra}assignments:\n${assignments}`,
    null,
    { now: NOW },
  );
  if ('error' in r) throw new Error(r.error.message);
  return r.config;
}

function snapshot(cfg: PodsecConfig | null): PolicySnapshot {
  return { policy: cfg === null ? null : compilePolicy(cfg, NOW), config: cfg };
}

interface World {
  config?: PodsecConfig | null;
  /** Namespace name -> labels; a namespace not listed is unknown. */
  namespaces?: Record<string, Record<string, string>>;
  pods?: KubeObject[];
}

function deps(world: World = {}): AdmissionDeps {
  const snap = snapshot(world.config ?? null);
  const namespaces = world.namespaces ?? { app: {} };
  return {
    policy: () => snap,
    namespaceLabels: (ns) => Promise.resolve(namespaces[ns]),
    podsInNamespace: () => world.pods ?? [],
    now: () => NOW.getTime(),
  };
}

/** A pod that passes restricted/latest, named `web` in `app`, with an `app` and an `istio-proxy` container. */
function pod(change: (p: Obj) => void = () => {}): Obj {
  const p = makePod({
    name: 'web',
    containers: ['app', makeContainer('istio-proxy', { image: 'docker.io/istio/proxyv2:1.22.0' })],
    metadata: { namespace: 'app', labels: { app: 'web' } },
  }) as Obj;
  return tweak(p, change);
}

const privileged = (p: Obj) => {
  p.spec.containers[0].securityContext.privileged = true;
};
const netRaw = (p: Obj) => {
  p.spec.containers[1].securityContext.capabilities = { drop: ['ALL'], add: ['NET_RAW'] };
};
const noSeccomp = (p: Obj) => {
  delete p.spec.securityContext.seccompProfile;
};

function deployment(change: (p: Obj) => void = () => {}, replicas = 1): Obj {
  const p = pod(change);
  const { namespace: _ns, ...templateMeta } = p.metadata as Obj;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'app' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: templateMeta, spec: p.spec },
    },
  };
}

interface RequestOptions {
  operation?: Operation;
  subResource?: string;
  oldObject?: Obj | null;
  username?: string;
  namespace?: string;
  dryRun?: boolean;
}

const GVK: Record<string, [string, string, string]> = {
  Pod: ['', 'v1', 'pods'],
  Deployment: ['apps', 'v1', 'deployments'],
  CronJob: ['batch', 'v1', 'cronjobs'],
  ConfigMap: ['', 'v1', 'configmaps'],
  Rollout: ['argoproj.io', 'v1alpha1', 'rollouts'],
};

function request(object: Obj | null, options: RequestOptions = {}): AdmissionRequest {
  const kind = (object?.kind as string | undefined) ?? 'Pod';
  const [group, version, resource] = GVK[kind]!;
  return {
    uid: 'uid-1',
    kind: { group, version, kind },
    resource: { group, version, resource },
    subResource: options.subResource ?? '',
    name: (object?.metadata?.name as string | undefined) ?? 'web',
    namespace: options.namespace ?? 'app',
    operation: options.operation ?? 'CREATE',
    userInfo: { username: options.username ?? 'alice' },
    object: object,
    oldObject: options.oldObject ?? null,
    dryRun: options.dryRun ?? false,
  };
}

const PRIVILEGED_DETAIL = 'privileged (container "app" must not set securityContext.privileged=true)';

describe('pods: namespace labels only (no --config)', () => {
  it.each([
    {
      name: 'no labels: privileged, allowed',
      labels: {},
      pod: pod(privileged),
      expected: { allowed: true, auditAnnotations: { 'enforce-policy': 'privileged:latest' } },
      decision: 'allow',
    },
    {
      name: 'enforce=baseline denies a privileged container, PSA wording',
      labels: { [ENFORCE]: 'baseline' },
      pod: pod(privileged),
      expected: {
        allowed: false,
        status: {
          code: 403,
          reason: 'Forbidden',
          message: `pods "web" is forbidden: violates PodSecurity "baseline:latest": ${PRIVILEGED_DETAIL}`,
        },
        auditAnnotations: { 'enforce-policy': 'baseline:latest' },
      },
      decision: 'deny',
    },
    {
      name: 'enforce=baseline + enforce-version',
      labels: { [ENFORCE]: 'baseline', [`${ENFORCE}-version`]: 'v1.30' },
      pod: pod(privileged),
      expected: {
        allowed: false,
        status: {
          code: 403,
          reason: 'Forbidden',
          message: `pods "web" is forbidden: violates PodSecurity "baseline:v1.30": ${PRIVILEGED_DETAIL}`,
        },
        auditAnnotations: { 'enforce-policy': 'baseline:v1.30' },
      },
      decision: 'deny',
    },
    {
      name: 'warn=baseline warns',
      labels: { [WARN]: 'baseline' },
      pod: pod(privileged),
      expected: {
        allowed: true,
        warnings: [`would violate PodSecurity "baseline:latest": ${PRIVILEGED_DETAIL}`],
        auditAnnotations: { 'enforce-policy': 'privileged:latest' },
      },
      decision: 'warn',
    },
    {
      name: 'audit=baseline annotates',
      labels: { [AUDIT]: 'baseline' },
      pod: pod(privileged),
      expected: {
        allowed: true,
        auditAnnotations: {
          'enforce-policy': 'privileged:latest',
          'audit-violations': `would violate PodSecurity "baseline:latest": ${PRIVILEGED_DETAIL}`,
        },
      },
      decision: 'audit',
    },
    {
      name: 'enforce=baseline, warn=restricted: a restricted-only violation is a warning',
      labels: { [ENFORCE]: 'baseline', [WARN]: 'restricted' },
      pod: pod(noSeccomp),
      expected: {
        allowed: true,
        warnings: [
          'would violate PodSecurity "restricted:latest": seccompProfile (pod or containers "app", "istio-proxy" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
        ],
        auditAnnotations: { 'enforce-policy': 'baseline:latest' },
      },
      decision: 'warn',
    },
    {
      name: 'enforce=baseline, warn=restricted: a denied pod gets no warnings (PSA)',
      labels: { [ENFORCE]: 'baseline', [WARN]: 'restricted' },
      pod: pod((p) => {
        privileged(p);
        noSeccomp(p);
      }),
      expected: {
        allowed: false,
        status: {
          code: 403,
          reason: 'Forbidden',
          message: `pods "web" is forbidden: violates PodSecurity "baseline:latest": ${PRIVILEGED_DETAIL}`,
        },
        auditAnnotations: { 'enforce-policy': 'baseline:latest' },
      },
      decision: 'deny',
    },
    {
      name: 'a passing pod under enforce=restricted',
      labels: { [ENFORCE]: 'restricted' },
      pod: pod(),
      expected: { allowed: true, auditAnnotations: { 'enforce-policy': 'restricted:latest' } },
      decision: 'allow',
    },
    {
      name: 'an invalid enforce label fails closed (restricted) and is recorded',
      labels: { [ENFORCE]: 'strict' },
      pod: pod(privileged),
      expected: {
        allowed: false,
        auditAnnotations: {
          error:
            'Failed to parse policy: pod-security.kubernetes.io/enforce: invalid level "strict" (must be privileged, baseline or restricted)',
          'enforce-policy': 'restricted:latest',
        },
      },
      decision: 'deny',
    },
  ])('$name', async ({ labels, pod: object, expected, decision }) => {
    const handler = createAdmissionHandler(deps({ namespaces: { app: labels } }));
    const d = await handler(request(object));
    expect(d.response).toMatchObject(expected);
    if (expected.warnings === undefined) expect(d.response.warnings).toBeUndefined();
    expect(d.metrics.decision).toBe(decision);
    expect(d.metrics.kind).toBe('Pod');
    expect(d.metrics.namespace).toBe('app');
  });

  it('names every violated check in the denial and in the metrics', async () => {
    const handler = createAdmissionHandler(deps({ namespaces: { app: { [ENFORCE]: 'restricted' } } }));
    const d = await handler(request(pod((p) => (privileged(p), netRaw(p), noSeccomp(p)))));
    expect(d.response.status?.message).toBe(
      'pods "web" is forbidden: violates PodSecurity "restricted:latest": ' +
        `${PRIVILEGED_DETAIL}, ` +
        'unrestricted capabilities (container "istio-proxy" must not include "NET_RAW" in securityContext.capabilities.add), ' +
        'seccompProfile (pod or containers "app", "istio-proxy" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    expect(d.metrics.violations).toEqual([
      'privileged',
      'capabilities_restricted',
      'seccompProfile_restricted',
    ]);
  });
});

const RESTRICTED_DENY = `  - name: restricted-apps
    initiative: restricted
    effect: deny
`;

describe('pods: podsec.yaml assignments', () => {
  it.each([
    {
      name: 'a deny assignment names itself',
      cfg: config(RESTRICTED_DENY),
      labels: {},
      pod: pod(privileged),
      expected: {
        allowed: false,
        status: {
          code: 403,
          reason: 'Forbidden',
          message: `pods "web" is forbidden: violates PodSecurity "restricted:latest" (assignment "restricted-apps"): ${PRIVILEGED_DETAIL}`,
        },
      },
      decision: 'deny',
    },
    {
      name: 'warn and audit assignments: warnings and audit annotation together',
      cfg: config(`  - {name: base-warn, initiative: baseline, effect: warn}
  - {name: strict-audit, initiative: restricted, effect: audit}
`),
      labels: {},
      pod: pod(privileged),
      expected: {
        allowed: true,
        warnings: [
          `would violate PodSecurity "baseline:latest" (assignment "base-warn"): ${PRIVILEGED_DETAIL}`,
        ],
        auditAnnotations: {
          'audit-violations': `would violate PodSecurity "restricted:latest" (assignment "strict-audit"): ${PRIVILEGED_DETAIL}`,
          'enforce-policy': 'privileged:latest',
        },
      },
      decision: 'warn',
    },
    {
      name: 'labels add to the config, never weaken it: audit assignment + enforce label denies',
      cfg: config(`  - {name: strict-audit, initiative: restricted, effect: audit}
`),
      labels: { [ENFORCE]: 'baseline' },
      pod: pod(privileged),
      expected: {
        allowed: false,
        status: {
          code: 403,
          reason: 'Forbidden',
          message: `pods "web" is forbidden: violates PodSecurity "baseline:latest": ${PRIVILEGED_DETAIL}`,
        },
        auditAnnotations: {
          'audit-violations': `would violate PodSecurity "restricted:latest" (assignment "strict-audit"): ${PRIVILEGED_DETAIL}`,
        },
      },
      decision: 'deny',
    },
    {
      name: 'a privileged label cannot relax a deny assignment',
      cfg: config(RESTRICTED_DENY),
      labels: { [ENFORCE]: 'privileged' },
      pod: pod(privileged),
      expected: { allowed: false },
      decision: 'deny',
    },
    {
      name: 'two deny sources are both named, joined by "; "',
      cfg: config(RESTRICTED_DENY),
      labels: { [ENFORCE]: 'baseline' },
      pod: pod(privileged),
      expected: {
        allowed: false,
        status: {
          code: 403,
          reason: 'Forbidden',
          message:
            `pods "web" is forbidden: violates PodSecurity "restricted:latest" (assignment "restricted-apps"): ${PRIVILEGED_DETAIL}; ` +
            `violates PodSecurity "baseline:latest": ${PRIVILEGED_DETAIL}`,
        },
      },
      decision: 'deny',
    },
    {
      name: 'an assignment and a label at the same level and version are not repeated',
      cfg: config(RESTRICTED_DENY),
      labels: { [ENFORCE]: 'restricted' },
      pod: pod(privileged),
      expected: {
        allowed: false,
        status: {
          code: 403,
          reason: 'Forbidden',
          message: `pods "web" is forbidden: violates PodSecurity "restricted:latest" (assignment "restricted-apps"): ${PRIVILEGED_DETAIL}`,
        },
      },
      decision: 'deny',
    },
    {
      name: 'an assignment scoped to another namespace does not apply',
      cfg: config(`  - {name: other, initiative: restricted, effect: deny, namespaces: [other]}
`),
      labels: {},
      pod: pod(privileged),
      expected: { allowed: true },
      decision: 'allow',
    },
    {
      name: 'disabled assignment is not evaluated',
      cfg: config(`  - {name: off, initiative: restricted, effect: disabled}
`),
      labels: {},
      pod: pod(privileged),
      expected: { allowed: true },
      decision: 'allow',
    },
  ])('$name', async ({ cfg, labels, pod: object, expected, decision }) => {
    const handler = createAdmissionHandler(deps({ config: cfg, namespaces: { app: labels } }));
    const d = await handler(request(object));
    expect(d.response).toMatchObject(expected);
    if (!('warnings' in expected)) expect(d.response.warnings).toBeUndefined();
    expect(d.metrics.decision).toBe(decision);
  });
});

describe('enforce-policy names the strictest deny source in scope (the engine ranks and scopes)', () => {
  const assignments = `  - {name: base-all, initiative: baseline, version: v1.30, effect: deny}
  - {name: strict-team, initiative: restricted, effect: deny, labelSelector: {matchLabels: {team: a}}}
  - {name: strict-other, initiative: restricted, effect: deny, namespaces: [other]}
  - {name: strict-warn, initiative: restricted, effect: warn}
  - {name: azure-strict, initiative: azure-restricted, effect: deny, excludedNamespaces: [app]}
`;
  it.each([
    {
      name: 'only the cluster-wide baseline pin applies',
      labels: {},
      podLabels: {},
      expected: 'baseline:v1.30',
    },
    {
      name: 'a newer enforce label at the same level outranks the pinned version',
      labels: { [ENFORCE]: 'baseline' },
      podLabels: {},
      expected: 'baseline:latest',
    },
    {
      name: 'a selected restricted assignment outranks the label',
      labels: { [ENFORCE]: 'baseline' },
      podLabels: { team: 'a' },
      expected: 'restricted:latest',
    },
    {
      name: 'a restricted enforce label outranks baseline assignments',
      labels: { [ENFORCE]: 'restricted', [`${ENFORCE}-version`]: 'v1.29' },
      podLabels: {},
      expected: 'restricted:v1.29',
    },
  ])('$name: $expected', async ({ labels, podLabels, expected }) => {
    const handler = createAdmissionHandler(
      deps({ config: config(assignments), namespaces: { app: labels } }),
    );
    const d = await handler(
      request(
        pod((p) => {
          Object.assign(p.metadata.labels as Record<string, string>, podLabels);
        }),
      ),
    );
    expect(d.response.auditAnnotations?.['enforce-policy']).toBe(expected);
  });
});

describe('exemptions', () => {
  const cluster = config(
    RESTRICTED_DENY,
    'exemptions:\n  usernames: [system:serviceaccount:kube-system:replicaset-controller]\n  namespaces: [istio-system]\n  runtimeClasses: [kata]\n',
  );
  it.each([
    {
      name: 'user',
      req: request(pod(privileged), { username: 'system:serviceaccount:kube-system:replicaset-controller' }),
      exempt: 'user',
    },
    { name: 'namespace', req: request(pod(privileged), { namespace: 'istio-system' }), exempt: 'namespace' },
    {
      name: 'runtimeClass',
      req: request(pod((p) => (privileged(p), (p.spec.runtimeClassName = 'kata')))),
      exempt: 'runtimeClass',
    },
    {
      name: 'namespace, for a workload too',
      req: request(deployment(privileged), { namespace: 'istio-system' }),
      exempt: 'namespace',
    },
  ])('cluster-wide $name exemption allows and says so', async ({ req, exempt }) => {
    const handler = createAdmissionHandler(
      deps({ config: cluster, namespaces: { app: {}, 'istio-system': {} } }),
    );
    const d = await handler(req);
    expect(d.response).toEqual({ allowed: true, auditAnnotations: { exempt } });
    expect(d.metrics.decision).toBe('exempt');
  });

  it('an assignment exemption keeps the violation visible as an audit annotation', async () => {
    const cfg = config(`  - name: restricted-apps
    initiative: restricted
    effect: deny
    exemptions:
      - {checks: [capabilities_restricted], images: ["docker.io/istio/proxyv2*"], reason: mesh needs NET_RAW, expires: 2027-06-30}
`);
    const handler = createAdmissionHandler(deps({ config: cfg }));
    const d = await handler(request(pod(netRaw)));
    expect(d.response).toEqual({
      allowed: true,
      auditAnnotations: {
        'enforce-policy': 'restricted:latest',
        'exempted-violations':
          'capabilities_restricted (container "istio-proxy" must not add capability NET_RAW) exempted by assignment "restricted-apps": mesh needs NET_RAW (until 2027-06-30)',
      },
    });
    expect(d.metrics).toMatchObject({ decision: 'allow', violations: [] });
  });

  it('a partly exempted check names only the containers that count', async () => {
    const cfg = config(`  - name: restricted-apps
    initiative: restricted
    effect: deny
    exemptions:
      - {checks: [capabilities_restricted], containers: [istio-proxy], reason: mesh}
`);
    const handler = createAdmissionHandler(deps({ config: cfg }));
    const both = (p: Obj) => {
      netRaw(p);
      p.spec.containers[0].securityContext.capabilities = { drop: ['ALL'], add: ['SYS_ADMIN'] };
    };
    const d = await handler(request(pod(both)));
    expect(d.response.allowed).toBe(false);
    expect(d.response.status?.message).toBe(
      'pods "web" is forbidden: violates PodSecurity "restricted:latest" (assignment "restricted-apps"): unrestricted capabilities (container "app" must not add capability SYS_ADMIN)',
    );
    expect(d.response.auditAnnotations?.['exempted-violations']).toContain('istio-proxy');
  });

  it('a partly exempted assignment words each counted check by the findings that count', async () => {
    const cfg = config(`  - name: restricted-apps
    initiative: restricted
    effect: deny
    exemptions:
      - {checks: [capabilities_restricted], containers: [istio-proxy], reason: mesh}
`);
    const handler = createAdmissionHandler(
      deps({ config: cfg, namespaces: { app: { [ENFORCE]: 'restricted' } } }),
    );
    const d = await handler(
      request(
        pod((p) => {
          netRaw(p);
          privileged(p);
          p.spec.containers[0].securityContext.capabilities = { drop: ['ALL'], add: ['SYS_ADMIN'] };
        }),
      ),
    );
    const [assignment, label] = (d.response.status?.message ?? '').split('; ');
    expect(assignment).toBe(
      `pods "web" is forbidden: violates PodSecurity "restricted:latest" (assignment "restricted-apps"): ${PRIVILEGED_DETAIL}, unrestricted capabilities (container "app" must not add capability SYS_ADMIN)`,
    );
    // The enforce label has no exemption: PSA's own detail, naming both containers.
    expect(label).toMatch(
      /^violates PodSecurity "restricted:latest": privileged \(.*\), unrestricted capabilities \(containers "app", "istio-proxy" /,
    );
  });
});

describe('pods: UPDATE significance, subresources, operations', () => {
  const base = pod();
  it.each([
    { name: 'label change only', change: (p: Obj) => (p.metadata.labels.tier = 'x'), significant: false },
    {
      name: 'resources change only',
      change: (p: Obj) => (p.spec.containers[0].resources = {}),
      significant: false,
    },
    {
      name: 'security context change without image change (PSA ignores it)',
      change: privileged,
      significant: false,
    },
    {
      name: 'image changed',
      change: (p: Obj) => (p.spec.containers[1].image = 'other:2'),
      significant: true,
    },
    {
      name: 'container added',
      change: (p: Obj) => void p.spec.containers.push(makeContainer('extra')),
      significant: true,
    },
    {
      name: 'init container added',
      change: (p: Obj) => (p.spec.initContainers = [makeContainer('init')]),
      significant: true,
    },
    {
      name: 'ephemeral container added',
      change: (p: Obj) => (p.spec.ephemeralContainers = [makeContainer('debug')]),
      significant: true,
    },
    {
      name: 'legacy seccomp container annotation changed',
      change: (p: Obj) =>
        (p.metadata.annotations = { 'container.seccomp.security.alpha.kubernetes.io/app': 'unconfined' }),
      significant: true,
    },
  ])('$name -> significant: $significant', ({ change, significant }) => {
    expect(isSignificantPodUpdate(tweak(base, change) as KubeObject, base as KubeObject)).toBe(significant);
  });

  it('ephemeral container image changed is significant, unchanged is not', () => {
    const withDebug = tweak(base, (p) => (p.spec.ephemeralContainers = [makeContainer('debug')]));
    const changed = tweak(withDebug, (p) => (p.spec.ephemeralContainers[0].image = 'busybox:2'));
    expect(isSignificantPodUpdate(changed as KubeObject, withDebug as KubeObject)).toBe(true);
    expect(isSignificantPodUpdate(withDebug as KubeObject, structuredClone(withDebug) as KubeObject)).toBe(
      false,
    );
  });

  const restrictedNs = { namespaces: { app: { [ENFORCE]: 'restricted' } } };
  const privilegedDebug = (p: Obj) =>
    (p.spec.ephemeralContainers = [
      makeContainer('debug', {
        image: 'busybox',
        securityContext: {
          privileged: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        },
      }),
    ]);
  it.each([
    {
      name: 'UPDATE, insignificant: allowed without evaluation even if the pod violates',
      req: request(pod(privileged), { operation: 'UPDATE', oldObject: pod() }),
      allowed: true,
      decision: 'skip',
    },
    {
      name: 'UPDATE with a new image: re-evaluated',
      req: request(
        pod((p) => (privileged(p), (p.spec.containers[0].image = 'new:2'))),
        { operation: 'UPDATE', oldObject: pod(privileged) },
      ),
      allowed: false,
      decision: 'deny',
    },
    {
      name: 'ephemeralcontainers subresource adding a privileged debug container: denied',
      req: request(pod(privilegedDebug), {
        operation: 'UPDATE',
        subResource: 'ephemeralcontainers',
        oldObject: pod(),
      }),
      allowed: false,
      decision: 'deny',
    },
    {
      name: 'an unknown pod subresource changing an image is evaluated (fails safe)',
      req: request(
        pod((p) => (privileged(p), (p.spec.containers[0].image = 'new:2'))),
        { operation: 'UPDATE', subResource: 'resize', oldObject: pod(privileged) },
      ),
      allowed: false,
      decision: 'deny',
    },
    ...['exec', 'attach', 'binding', 'eviction', 'log', 'portforward', 'proxy', 'status'].map((sub) => ({
      name: `ignored subresource ${sub}`,
      req: request(pod(privileged), { operation: sub === 'status' ? 'UPDATE' : 'CREATE', subResource: sub }),
      allowed: true,
      decision: 'skip',
    })),
    {
      name: 'DELETE is allowed untouched',
      req: request(null, { operation: 'DELETE', oldObject: pod(privileged) }),
      allowed: true,
      decision: 'skip',
    },
    {
      name: 'CONNECT is allowed untouched',
      req: request(null, { operation: 'CONNECT', subResource: 'exec' }),
      allowed: true,
      decision: 'skip',
    },
    {
      name: 'a spec-less Pod on an unknown subresource is evaluated (nothing to violate)',
      req: request({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' } }, { subResource: 'resize' }),
      allowed: true,
      decision: 'allow',
    },
  ])('$name', async ({ req, allowed, decision }) => {
    const handler = createAdmissionHandler(deps(restrictedNs));
    const d = await handler(req);
    expect(d.response.allowed).toBe(allowed);
    expect(d.metrics.decision).toBe(decision);
    if (decision === 'skip') expect(d.response).toEqual({ allowed: true });
  });

  it('a non-Pod object on a pod subresource is denied as an error', async () => {
    const handler = createAdmissionHandler(deps(restrictedNs));
    const eviction = { apiVersion: 'policy/v1', kind: 'Scale', metadata: { name: 'web' } };
    const d = await handler({
      ...request(null, { subResource: 'resize', operation: 'UPDATE' }),
      object: eviction,
    });
    expect(d.response.allowed).toBe(false);
    expect(d.response.status?.code).toBe(403);
    expect(d.metrics.decision).toBe('error');
    expect(d.response.auditAnnotations?.error).toBe('the request object is not a v1 Pod');
  });

  it('dryRun requests are answered the same', async () => {
    const handler = createAdmissionHandler(deps(restrictedNs));
    const wet = await handler(request(pod(privileged)));
    const dry = await handler(request(pod(privileged), { dryRun: true }));
    expect(dry).toEqual(wet);
  });
});

describe('workloads', () => {
  const withWorkloads = (w: string) =>
    config(`  - name: restricted-apps
    initiative: restricted
    effect: deny
    workloads: ${w}
`);
  it.each([
    {
      name: 'a deny assignment answers workloads with its default (warn)',
      cfg: config(RESTRICTED_DENY),
      labels: {},
      req: request(deployment(privileged)),
      expected: {
        allowed: true,
        warnings: [
          `would violate PodSecurity "restricted:latest" (assignment "restricted-apps"): ${PRIVILEGED_DETAIL}`,
        ],
      },
      decision: 'warn',
    },
    {
      name: 'workloads: deny refuses the Deployment up front',
      cfg: withWorkloads('deny'),
      labels: {},
      req: request(deployment(privileged)),
      expected: {
        allowed: false,
        status: {
          code: 403,
          reason: 'Forbidden',
          message: `deployments.apps "web" is forbidden: violates PodSecurity "restricted:latest" (assignment "restricted-apps"): ${PRIVILEGED_DETAIL}`,
        },
      },
      decision: 'deny',
    },
    {
      name: 'workloads: audit annotates',
      cfg: withWorkloads('audit'),
      labels: {},
      req: request(deployment(privileged)),
      expected: {
        allowed: true,
        auditAnnotations: {
          'audit-violations': `would violate PodSecurity "restricted:latest" (assignment "restricted-apps"): ${PRIVILEGED_DETAIL}`,
        },
      },
      decision: 'audit',
    },
    {
      name: 'enforce label alone: PSA raises warn to enforce, so the Deployment is warned, not denied',
      cfg: null,
      labels: { [ENFORCE]: 'baseline' },
      req: request(deployment(privileged)),
      expected: {
        allowed: true,
        warnings: [`would violate PodSecurity "baseline:latest": ${PRIVILEGED_DETAIL}`],
      },
      decision: 'warn',
    },
    {
      name: 'enforce label with warn=privileged: PSA never enforces on controllers',
      cfg: null,
      labels: { [ENFORCE]: 'baseline', [WARN]: 'privileged' },
      req: request(deployment(privileged)),
      expected: { allowed: true },
      decision: 'allow',
    },
    {
      name: 'scale subresource is never denied',
      cfg: withWorkloads('deny'),
      labels: {},
      req: request(
        {
          apiVersion: 'autoscaling/v1',
          kind: 'Deployment',
          metadata: { name: 'web' },
          spec: { replicas: 3 },
        },
        { operation: 'UPDATE', subResource: 'scale' },
      ),
      expected: { allowed: true },
      decision: 'skip',
    },
    {
      name: 'status subresource is never denied',
      cfg: withWorkloads('deny'),
      labels: {},
      req: request(deployment(privileged), {
        operation: 'UPDATE',
        subResource: 'status',
        oldObject: deployment(privileged),
      }),
      expected: { allowed: true },
      decision: 'skip',
    },
    {
      name: 'UPDATE that leaves the template alone (replicas) is not evaluated',
      cfg: withWorkloads('deny'),
      labels: {},
      req: request(deployment(privileged, 5), { operation: 'UPDATE', oldObject: deployment(privileged, 1) }),
      expected: { allowed: true },
      decision: 'skip',
    },
    {
      name: 'UPDATE whose template differs only in key order is not evaluated',
      cfg: withWorkloads('deny'),
      labels: {},
      req: request(deployment(privileged), {
        operation: 'UPDATE',
        oldObject: tweak(deployment(privileged), (d) => {
          const { containers, ...rest } = d.spec.template.spec as Obj;
          d.spec.template.spec = { ...rest, containers };
        }),
      }),
      expected: { allowed: true },
      decision: 'skip',
    },
    {
      name: 'UPDATE that reorders the containers is evaluated',
      cfg: withWorkloads('deny'),
      labels: {},
      req: request(deployment(privileged), {
        operation: 'UPDATE',
        oldObject: tweak(deployment(privileged), (d) => {
          (d.spec.template.spec.containers as Obj[]).reverse();
        }),
      }),
      expected: { allowed: false },
      decision: 'deny',
    },
    {
      name: 'UPDATE that only adds a template field set to null is evaluated',
      cfg: withWorkloads('deny'),
      labels: {},
      req: request(
        tweak(deployment(privileged), (d) => {
          d.spec.template.spec.hostname = null;
        }),
        { operation: 'UPDATE', oldObject: deployment(privileged) },
      ),
      expected: { allowed: false },
      decision: 'deny',
    },
    {
      name: 'UPDATE that changes the template is evaluated',
      cfg: withWorkloads('deny'),
      labels: {},
      req: request(deployment(privileged), { operation: 'UPDATE', oldObject: deployment() }),
      expected: { allowed: false },
      decision: 'deny',
    },
    {
      name: 'CronJob template is found and judged',
      cfg: withWorkloads('deny'),
      labels: {},
      req: request({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'nightly', namespace: 'app' },
        spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec: pod(privileged).spec } } } },
      }),
      expected: { allowed: false },
      decision: 'deny',
    },
    {
      name: 'unknown namespace: allowed with an error audit annotation (fail open)',
      cfg: withWorkloads('deny'),
      labels: null,
      req: request(deployment(privileged)),
      expected: {
        allowed: true,
        auditAnnotations: { error: 'failed to look up namespace "app": not found' },
      },
      decision: 'error',
    },
  ])('$name', async ({ cfg, labels, req, expected, decision }) => {
    const namespaces = labels === null ? {} : { app: labels };
    const handler = createAdmissionHandler(deps({ config: cfg, namespaces }));
    const d = await handler(req);
    expect(d.response).toMatchObject(expected);
    if (!('warnings' in expected)) expect(d.response.warnings).toBeUndefined();
    if (!('auditAnnotations' in expected)) expect(d.response.auditAnnotations).toBeUndefined();
    expect(d.metrics.decision).toBe(decision);
    expect(d.metrics.kind).toBe(req.kind.kind);
  });

  it('a configured podTemplatePaths kind is a workload', async () => {
    const cfg = config(
      `  - {name: r, initiative: restricted, effect: deny, workloads: deny}
`,
      'podTemplatePaths:\n  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, path: spec.template}\n',
    );
    const rollout = { ...deployment(privileged), apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' };
    const d = await createAdmissionHandler(deps({ config: cfg }))(request(rollout));
    expect(d.response.status?.message).toMatch(
      /^rollouts\.argoproj\.io "web" is forbidden: violates PodSecurity/,
    );
  });

  it('other kinds are allowed untouched', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'app' }, data: {} };
    const d = await createAdmissionHandler(deps({ config: config(RESTRICTED_DENY) }))(request(cm));
    expect(d).toEqual({
      response: { allowed: true },
      metrics: { kind: 'ConfigMap', namespace: 'app', decision: 'skip', violations: [] },
    });
  });
});

describe('every built-in workload kind (the one list in src/kube/workloads.ts)', () => {
  const cases = WORKLOAD_KINDS.flatMap((w) =>
    w.apiVersions.map((apiVersion) => ({ name: `${w.kind} ${apiVersion}`, kind: w, apiVersion })),
  );
  it.each(cases)('$name is judged by its template', async ({ kind, apiVersion }) => {
    const slash = apiVersion.indexOf('/');
    const group = slash === -1 ? '' : apiVersion.slice(0, slash);
    const version = apiVersion.slice(slash + 1);
    const object: Obj = { apiVersion, kind: kind.kind, metadata: { name: 'w', namespace: 'app' } };
    let node = object;
    for (const segment of kind.templatePath.slice(0, -1)) node = node[segment] ??= {};
    node[kind.templatePath.at(-1)!] = { metadata: { labels: { app: 'w' } }, spec: pod(privileged).spec };
    const handler = createAdmissionHandler(
      deps({ config: config('  - {name: strict, initiative: restricted, effect: deny, workloads: deny}\n') }),
    );
    const d = await handler({
      ...request(null),
      kind: { group, version, kind: kind.kind },
      resource: { group, version, resource: `${kind.kind.toLowerCase()}s` },
      name: 'w',
      object,
    });
    expect(d.metrics.decision).toBe('deny');
    expect(d.response.status?.message).toContain('privileged (container "app"');
  });
});

describe('faults never throw', () => {
  it.each([
    {
      name: 'pod, unknown namespace: denied (fail closed)',
      d: deps({ namespaces: {} }),
      req: request(pod()),
      allowed: false,
      error: 'failed to look up namespace "app": not found',
    },
    {
      name: 'pod, namespace lookup rejects: denied, no stack',
      d: {
        ...deps(),
        namespaceLabels: () => Promise.reject(new Error('informer not synced')),
      },
      req: request(pod()),
      allowed: false,
      error: 'failed to look up namespace "app": informer not synced',
    },
    {
      name: 'pod, policy() throws: denied',
      d: {
        ...deps(),
        policy: () => {
          throw new Error('boom');
        },
      },
      req: request(pod()),
      allowed: false,
      error: 'boom',
    },
    {
      name: 'workload, policy() throws: allowed',
      d: {
        ...deps(),
        policy: () => {
          throw new Error('boom');
        },
      },
      req: request(deployment()),
      allowed: true,
      error: 'boom',
    },
    {
      name: 'pod CREATE without an object: denied',
      d: deps(),
      req: request(null),
      allowed: false,
      error: 'the request object is not a v1 Pod',
    },
    {
      name: 'workload UPDATE without oldObject: allowed',
      d: deps(),
      req: request(deployment(), { operation: 'UPDATE' }),
      allowed: true,
      error: 'an UPDATE request without oldObject',
    },
    {
      name: 'a thrown non-Error value',
      d: {
        ...deps(),
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the case is a non-Error
        namespaceLabels: () => Promise.reject('plain string'),
      },
      req: request(pod()),
      allowed: false,
      error: 'failed to look up namespace "app": plain string',
    },
  ])('$name', async ({ d, req, allowed, error }) => {
    const decision = await createAdmissionHandler(d)(req);
    expect(decision.response.allowed).toBe(allowed);
    expect(decision.response.auditAnnotations).toEqual({ error });
    expect(decision.metrics.decision).toBe('error');
    if (!allowed) {
      expect(decision.response.status).toEqual({
        code: 403,
        reason: 'Forbidden',
        message: expect.stringContaining(
          `is forbidden: podsec could not evaluate the request: ${error}`,
        ) as string,
      });
    }
    const text = JSON.stringify(encodeResponse(req.uid, decision.response));
    expect(text).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
