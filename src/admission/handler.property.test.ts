/**
 * Property test of the admission core: random and mutated AdmissionReviews, through decodeReview
 * and the handler, never throw and always give a well-formed answer (uid echoed, allowed a
 * boolean, a status exactly when denied (403 Forbidden for a policy denial or a fault, 422 Invalid
 * for invalid namespace labels), valid audit keys, warnings within the limits).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, loadConfigText } from '../policy/index.js';
import { createAdmissionHandler } from './handler.js';
import { decodeReview, encodeResponse, isValidAuditAnnotationKey, WARNINGS_TOTAL_LIMIT } from './review.js';
import type { AdmissionDeps, PolicySnapshot } from './types.js';

const cfg = loadConfigText(
  `apiVersion: podsec.io/v1alpha1
kind: PodsecConfig
exemptions: {usernames: [admin], namespaces: [free], runtimeClasses: [kata]}
assignments:
  - {name: strict, initiative: restricted, effect: deny, workloads: deny, namespaces: [app]}
  - {name: base, initiative: baseline, effect: warn}
  - name: azure
    initiative: azure-restricted
    effect: audit
    exemptions: [{checks: [capabilities_restricted], containers: [sidecar], reason: mesh}]
`,
  null,
);
if ('error' in cfg) throw new Error(cfg.error.message);
const withConfig: PolicySnapshot = { policy: compilePolicy(cfg.config), config: cfg.config };
const labelOnly: PolicySnapshot = { policy: null, config: null };

const LABELS: Record<string, Record<string, string>> = {
  app: { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/audit': 'restricted' },
  team: {
    'pod-security.kubernetes.io/warn': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'v1.2x',
  },
  free: {},
  audited: { 'pod-security.kubernetes.io/audit': 'baseline' },
};

const arbLabelValue = fc.constantFrom('privileged', 'baseline', 'restricted', 'latest', 'v1.30', 'bogus', '');
const arbContainer = fc.record(
  {
    name: fc.constantFrom('app', 'sidecar', 'debug', ''),
    image: fc.oneof(fc.constantFrom('nginx', 'docker.io/istio/proxyv2:1', 'busybox'), fc.string()),
    securityContext: fc.oneof(
      fc.constant(undefined),
      fc.record(
        {
          privileged: fc.oneof(fc.boolean(), fc.string()),
          allowPrivilegeEscalation: fc.boolean(),
          runAsNonRoot: fc.boolean(),
          runAsUser: fc.integer({ min: -1, max: 2 }),
          capabilities: fc.record(
            {
              add: fc.array(fc.constantFrom('NET_RAW', 'CHOWN', 'SYS_ADMIN', 'all')),
              drop: fc.array(fc.constantFrom('ALL', 'all')),
            },
            { requiredKeys: [] },
          ),
          seccompProfile: fc.record({
            type: fc.constantFrom('RuntimeDefault', 'Unconfined', 'Localhost', 'x'),
          }),
        },
        { requiredKeys: [] },
      ),
    ),
    ports: fc.array(
      fc.record({
        containerPort: fc.integer({ min: 1, max: 9000 }),
        hostPort: fc.integer({ min: 0, max: 9000 }),
      }),
      {
        maxLength: 2,
      },
    ),
  },
  { requiredKeys: ['name'] },
);
const arbSpec = fc.record(
  {
    containers: fc.oneof(fc.array(arbContainer, { maxLength: 3 }), fc.anything()),
    initContainers: fc.array(arbContainer, { maxLength: 2 }),
    ephemeralContainers: fc.array(arbContainer, { maxLength: 2 }),
    hostNetwork: fc.boolean(),
    runtimeClassName: fc.constantFrom('kata', 'runc'),
    securityContext: fc.record(
      {
        runAsNonRoot: fc.boolean(),
        seccompProfile: fc.record({ type: fc.constantFrom('RuntimeDefault', 'Unconfined') }),
      },
      { requiredKeys: [] },
    ),
    volumes: fc.array(
      fc.oneof(fc.record({ name: fc.string(), hostPath: fc.record({ path: fc.string() }) }), fc.anything()),
      {
        maxLength: 2,
      },
    ),
  },
  { requiredKeys: [] },
);
const arbMeta = fc.record(
  {
    name: fc.oneof(fc.constantFrom('web', 'p'), fc.string()),
    namespace: fc.constantFrom('app', 'team', 'free'),
    labels: fc.oneof(
      fc.dictionary(
        fc.constantFrom('app', 'pod-security.kubernetes.io/enforce', 'pod-security.kubernetes.io/warn'),
        arbLabelValue,
      ),
      fc.anything(),
    ),
    ownerReferences: fc.array(fc.record({ uid: fc.constantFrom('a', 'b'), controller: fc.boolean() }), {
      maxLength: 2,
    }),
  },
  { requiredKeys: [] },
);
const arbPod = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('Pod'),
  metadata: arbMeta,
  spec: arbSpec,
});
const arbDeployment = fc.record({
  apiVersion: fc.constant('apps/v1'),
  kind: fc.constant('Deployment'),
  metadata: arbMeta,
  spec: fc.record({
    replicas: fc.nat(5),
    template: fc.oneof(fc.record({ metadata: arbMeta, spec: arbSpec }), fc.anything()),
  }),
});
const arbNamespace = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('Namespace'),
  metadata: fc.record({
    name: fc.constantFrom('app', 'team', 'free'),
    labels: fc.dictionary(
      fc.constantFrom(
        'pod-security.kubernetes.io/enforce',
        'pod-security.kubernetes.io/enforce-version',
        'pod-security.kubernetes.io/warn',
        'pod-security.kubernetes.io/audit',
        'team',
      ),
      arbLabelValue,
    ),
  }),
});

const TARGETS = {
  Pod: ['', 'v1', 'pods'],
  Deployment: ['apps', 'v1', 'deployments'],
  Namespace: ['', 'v1', 'namespaces'],
  ConfigMap: ['', 'v1', 'configmaps'],
} as const;

const arbRequest = fc
  .record({
    target: fc.constantFrom('Pod', 'Deployment', 'Namespace', 'ConfigMap'),
    object: fc.oneof(arbPod, arbDeployment, arbNamespace, fc.constant(null)),
    oldObject: fc.oneof(arbPod, arbDeployment, arbNamespace, fc.constant(null)),
    operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT'),
    subResource: fc.constantFrom('', '', '', 'status', 'scale', 'ephemeralcontainers', 'exec', 'resize'),
    namespace: fc.constantFrom('app', 'team', 'free', 'audited', 'unknown', ''),
    username: fc.constantFrom('admin', 'alice', ''),
    uid: fc.oneof(fc.uuid(), fc.string({ minLength: 1 })),
    dryRun: fc.boolean(),
  })
  .map((r) => {
    const [group, version, resource] = TARGETS[r.target];
    return {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: r.uid,
        kind: { group, version, kind: r.target },
        resource: { group, version, resource },
        ...(r.subResource === '' ? {} : { subResource: r.subResource }),
        name: 'web',
        namespace: r.namespace,
        operation: r.operation,
        userInfo: { username: r.username },
        object: r.object,
        oldObject: r.oldObject,
        dryRun: r.dryRun,
      },
    };
  });

/** Mutations: delete or replace a field anywhere in the first two levels of the review. */
const arbMutated = fc
  .tuple(arbRequest, fc.array(fc.tuple(fc.nat(), fc.nat(), fc.anything()), { maxLength: 3 }), fc.boolean())
  .map(([review, edits, remove]) => {
    const copy: Record<string, unknown> = structuredClone(review);
    for (const [i, j, value] of edits) {
      const keys = Object.keys(copy);
      const key = keys[i % keys.length]!;
      const inner = copy[key];
      if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
        const innerKeys = Object.keys(inner);
        if (innerKeys.length === 0) continue;
        const k = innerKeys[j % innerKeys.length]!;
        if (remove) delete (inner as Record<string, unknown>)[k];
        else (inner as Record<string, unknown>)[k] = value;
      } else if (remove) delete copy[key];
      else copy[key] = value;
    }
    return copy;
  });

function makeDeps(snapshot: PolicySnapshot): AdmissionDeps {
  return {
    policy: () => snapshot,
    namespaceLabels: (ns) =>
      ns === 'unknown' ? Promise.reject(new Error('namespace not in cache')) : Promise.resolve(LABELS[ns]),
    podsInNamespace: () => [],
    now: () => Date.now(),
  };
}

const handlers = [createAdmissionHandler(makeDeps(withConfig)), createAdmissionHandler(makeDeps(labelOnly))];

function runeCount(s: string): number {
  return Array.from(s).length;
}

const seen = new Set<string>();
/** The status codes of the denials seen. */
const codes = new Set<number>();

async function checkOne(value: unknown): Promise<void> {
  const decoded = decodeReview(value);
  if (!decoded.ok) {
    expect(decoded.status).toBe(400);
    expect(typeof decoded.message).toBe('string');
    expect(decoded.message.length).toBeGreaterThan(0);
    return;
  }
  for (const handle of handlers) {
    const decision = await handle(decoded.request);
    seen.add(decision.metrics.decision);
    const encoded = encodeResponse(decoded.request.uid, decision.response);
    const round = JSON.parse(JSON.stringify(encoded)) as typeof encoded;
    expect(round.apiVersion).toBe('admission.k8s.io/v1');
    expect(round.kind).toBe('AdmissionReview');
    expect(round.response.uid).toBe(decoded.request.uid);
    expect(typeof round.response.allowed).toBe('boolean');
    if (round.response.allowed) expect(round.response.status).toBeUndefined();
    else {
      const status = round.response.status;
      expect([403, 422]).toContain(status?.code);
      codes.add(status?.code ?? 0);
      if (status?.code === 403) {
        expect(status.reason).toBe('Forbidden');
        expect(status.message).toMatch(/forbidden: /);
      } else {
        // Only a namespace's own labels are ever invalid.
        expect(decoded.request.resource.resource).toBe('namespaces');
        expect(status?.reason).toBe('Invalid');
        expect(status?.message).toMatch(/ is invalid: /);
        expect(status?.details?.causes.length).toBeGreaterThan(0);
      }
    }
    for (const key of Object.keys(round.response.auditAnnotations ?? {})) {
      expect(isValidAuditAnnotationKey(key)).toBe(true);
    }
    const warnings = round.response.warnings ?? [];
    expect(warnings.reduce((n, w) => n + runeCount(w), 0)).toBeLessThanOrEqual(WARNINGS_TOTAL_LIMIT);
    expect(decision.metrics.kind).toBe(decoded.request.kind.kind);
    expect(['allow', 'deny', 'warn', 'audit', 'exempt', 'skip', 'error']).toContain(
      decision.metrics.decision,
    );
    expect(
      decision.metrics.decision === 'deny' || decision.metrics.decision === 'error' || round.response.allowed,
    ).toBe(true);
  }
}

describe('admission core properties', () => {
  it('well-formed random reviews always get a well-formed answer', async () => {
    // A fixed seed: the coverage assertion below must not depend on luck (the other properties stay random).
    await fc.assert(fc.asyncProperty(arbRequest, checkOne), { numRuns: 400, seed: 20261122 });
    // The generator reaches every kind of answer, so the property is not vacuous.
    expect([...seen].sort()).toEqual(['allow', 'audit', 'deny', 'error', 'exempt', 'skip', 'warn']);
    expect([...codes].sort()).toEqual([403, 422]);
  });

  it('mutated reviews never throw: 400 from decode or a well-formed answer', async () => {
    await fc.assert(fc.asyncProperty(arbMutated, checkOne), { numRuns: 400 });
  });

  it('arbitrary JSON values are refused with 400, never thrown at', async () => {
    await fc.assert(fc.asyncProperty(fc.jsonValue(), checkOne), { numRuns: 200 });
  });
});
