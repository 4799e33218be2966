/**
 * What the rendered manifests promise operators (docs/operating.md): least-privilege RBAC, the
 * two webhook registrations as PSA ships them, the namespace exclusions that prevent deadlocks,
 * a hardened and highly available webhook, and what each overlay changes. Also: no remote
 * resources, and the ConfigMap's podsec.yaml is deploy/podsec-self.yaml and loads cleanly.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { loadConfigText } from '../../src/policy/index.js';
import {
  find,
  KUSTOMIZATIONS,
  kubectlSuiteRuns,
  renderObjects,
  repoRoot,
  type K8sObject,
} from './kustomize.js';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}
interface Webhook {
  name: string;
  failurePolicy: string;
  timeoutSeconds: number;
  sideEffects: string;
  matchPolicy: string;
  admissionReviewVersions: string[];
  clientConfig: {
    service: { name: string; namespace: string; path: string; port: number };
    caBundle?: string;
  };
  namespaceSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
  rules: { apiGroups: string[]; resources: string[]; operations: string[] }[];
}

const get = <T>(o: unknown, ...path: (string | number)[]): T => {
  let cur: unknown = o;
  for (const p of path) cur = (cur as Record<string | number, unknown> | undefined)?.[p];
  return cur as T;
};
const webhookOf = (objs: K8sObject[], name: string) =>
  get<Webhook[]>(find(objs, 'ValidatingWebhookConfiguration', name), 'webhooks')[0] as Webhook;
const excluded = (w: Webhook) =>
  w.namespaceSelector.matchExpressions.find(
    (e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn',
  )?.values ?? [];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('deploy/ sources', () => {
  it('reference nothing remote (no URLs in resources, bases or components)', () => {
    for (const file of filesUnder(join(repoRoot, 'deploy')).filter((f) => f.endsWith('kustomization.yaml'))) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/^\s*-\s*(https?:\/\/|git@|github\.com)/m);
      expect(text, file).not.toMatch(/\?ref=/);
    }
  });

  it('the ConfigMap podsec.yaml is deploy/podsec-self.yaml, and it loads without problems', () => {
    const self = readFileSync(join(repoRoot, 'deploy/podsec-self.yaml'), 'utf8');
    expect(readFileSync(join(repoRoot, 'deploy/base/podsec.yaml'), 'utf8')).toBe(self);
    const loaded = loadConfigText(self, 'deploy/podsec-self.yaml');
    expect('error' in loaded ? loaded.error.message : 'ok').toBe('ok');
    expect(loaded.warnings).toEqual([]);
  });
});

describe.runIf(kubectlSuiteRuns('deploy manifests'))('rendered deploy/base', () => {
  const objs = () => renderObjects('deploy/base');

  it.each(KUSTOMIZATIONS)('%s renders offline', (dir) => {
    expect(renderObjects(dir).length).toBeGreaterThan(0);
  });

  it('podsec-system enforces restricted through Pod Security Admission', () => {
    const labels = find(objs(), 'Namespace', 'podsec-system').metadata.labels ?? {};
    for (const mode of ['enforce', 'warn', 'audit']) {
      expect(labels[`pod-security.kubernetes.io/${mode}`]).toBe('restricted');
    }
  });

  it.each([
    [
      'podsec-webhook',
      [
        { apiGroups: [''], resources: ['namespaces', 'pods'], verbs: ['get', 'list', 'watch'] },
        // client ids already claimed (deploy/identity/validating-webhook.yaml)
        { apiGroups: ['aadpodidentity.k8s.io'], resources: ['azureidentities'], verbs: ['list', 'watch'] },
      ],
    ],
    [
      'podsec-audit',
      [
        // The audit only LISTs what it judges and never watches or patches reports; the
        // recorded calls of a real audit hold these verbs to the code (audit-rbac.test.ts).
        {
          apiGroups: [''],
          resources: ['pods', 'namespaces', 'replicationcontrollers', 'podtemplates'],
          verbs: ['list'],
        },
        {
          apiGroups: ['apps'],
          resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'],
          verbs: ['list'],
        },
        { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['list'] },
        {
          apiGroups: ['wgpolicyk8s.io'],
          resources: ['policyreports'],
          verbs: ['get', 'list', 'create', 'update', 'delete'],
        },
      ],
    ],
  ])('ClusterRole %s grants exactly what it needs', (name, rules) => {
    expect(get<Rule[]>(find(objs(), 'ClusterRole', name), 'rules')).toEqual(rules);
  });

  it.each(KUSTOMIZATIONS)(
    '%s: no ClusterRole grants leases, secrets, wildcards, patch, or writes outside reports',
    (dir) => {
      for (const role of renderObjects(dir).filter((o) => o.kind === 'ClusterRole')) {
        for (const rule of get<Rule[]>(role, 'rules')) {
          expect(rule.resources).not.toContain('leases');
          expect(rule.resources).not.toContain('secrets');
          expect(rule.verbs).not.toContain('patch');
          expect([...(rule.resources ?? []), ...(rule.verbs ?? []), ...(rule.apiGroups ?? [])]).not.toContain(
            '*',
          );
          if (rule.verbs?.some((v) => !['get', 'list', 'watch'].includes(v))) {
            expect(`${rule.apiGroups?.join()}/${rule.resources?.join()}`).toMatch(
              /^(wgpolicyk8s\.io\/policyreports|openreports\.io\/reports)$/,
            );
          }
        }
      }
    },
  );

  it('the audit manages Leases only in podsec-system, through a Role', () => {
    const role = find(objs(), 'Role', 'podsec-audit-leader-election');
    expect(role.metadata.namespace).toBe('podsec-system');
    expect(get<Rule[]>(role, 'rules')).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
    const binding = find(objs(), 'RoleBinding', 'podsec-audit-leader-election');
    expect(get<unknown>(binding, 'subjects')).toEqual([
      { kind: 'ServiceAccount', name: 'podsec-audit', namespace: 'podsec-system' },
    ]);
  });

  it('service account tokens are mounted only into pods that declare the need', () => {
    for (const sa of objs().filter((o) => o.kind === 'ServiceAccount')) {
      expect(get<boolean>(sa, 'automountServiceAccountToken')).toBe(false);
    }
    for (const name of ['podsec-webhook', 'podsec-audit']) {
      const spec = get<Record<string, unknown>>(find(objs(), 'Deployment', name), 'spec', 'template', 'spec');
      expect(spec['automountServiceAccountToken']).toBe(true);
      expect(spec['serviceAccountName']).toBe(name);
    }
  });

  it('the enforcing registration: pods, ephemeral containers, namespaces; Fail; 5 s', () => {
    const w = webhookOf(objs(), 'podsec-enforce');
    expect(w).toMatchObject({
      failurePolicy: 'Fail',
      timeoutSeconds: 5,
      sideEffects: 'None',
      matchPolicy: 'Equivalent',
      admissionReviewVersions: ['v1'],
      clientConfig: {
        service: { name: 'podsec-webhook', namespace: 'podsec-system', path: '/validate', port: 443 },
      },
    });
    expect(w.rules).toEqual([
      expect.objectContaining({
        apiGroups: [''],
        operations: ['CREATE', 'UPDATE'],
        resources: ['pods', 'pods/ephemeralcontainers', 'namespaces'],
      }),
    ]);
  });

  it('the advisory registration: every workload kind, no subresource; Ignore', () => {
    const w = webhookOf(objs(), 'podsec-advisory');
    expect(w).toMatchObject({ failurePolicy: 'Ignore', sideEffects: 'None', matchPolicy: 'Equivalent' });
    expect(w.timeoutSeconds).toBeLessThanOrEqual(5);
    const resources = w.rules.flatMap((r) => r.resources).sort();
    expect(resources).toEqual(
      [
        'cronjobs',
        'daemonsets',
        'deployments',
        'jobs',
        'podtemplates',
        'replicasets',
        'replicationcontrollers',
        'statefulsets',
      ].sort(),
    );
    expect(w.rules.every((r) => r.operations.join() === 'CREATE,UPDATE')).toBe(true);
  });

  it.each(['podsec-enforce', 'podsec-advisory'])(
    '%s spares kube-system and podsec-system by name',
    (name) => {
      expect(excluded(webhookOf(objs(), name))).toEqual(['kube-system', 'podsec-system']);
    },
  );

  it('the webhook Deployment is highly available and reachable by its probes', () => {
    const d = find(objs(), 'Deployment', 'podsec-webhook');
    expect(get<number>(d, 'spec', 'replicas')).toBe(2);
    expect(get<unknown>(d, 'spec', 'strategy', 'rollingUpdate')).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    const spec = get<Record<string, unknown>>(d, 'spec', 'template', 'spec');
    expect(
      get<string[]>(spec, 'topologySpreadConstraints').map((c) => get<string>(c, 'topologyKey')),
    ).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    expect(
      get<unknown[]>(spec, 'affinity', 'podAntiAffinity', 'preferredDuringSchedulingIgnoredDuringExecution'),
    ).toHaveLength(1);
    expect(spec['priorityClassName']).toBe('system-cluster-critical');
    const c = get<Record<string, unknown>>(spec, 'containers', 0);
    expect(get<unknown>(c, 'readinessProbe', 'httpGet')).toEqual({
      path: '/readyz',
      port: 'https',
      scheme: 'HTTPS',
    });
    expect(get<unknown>(c, 'livenessProbe', 'httpGet')).toEqual({
      path: '/healthz',
      port: 'https',
      scheme: 'HTTPS',
    });
    expect(get<Record<string, unknown>>(c, 'resources', 'limits')).toHaveProperty('memory');
    expect(get<string[]>(c, 'args')).toEqual(
      expect.arrayContaining([
        'webhook',
        '--tls-cert=/etc/podsec/tls/tls.crt',
        '--tls-key=/etc/podsec/tls/tls.key',
        '--port=8443',
        '--config=/etc/podsec/config/podsec.yaml',
      ]),
    );
    const pdb = find(objs(), 'PodDisruptionBudget', 'podsec-webhook');
    expect(get<number>(pdb, 'spec', 'minAvailable')).toBe(1);
    expect(get<unknown>(pdb, 'spec', 'selector')).toEqual(get<unknown>(d, 'spec', 'selector'));
    const svc = find(objs(), 'Service', 'podsec-webhook');
    expect(get<unknown>(svc, 'spec', 'ports', 0)).toMatchObject({ port: 443, targetPort: 'https' });
    expect(get<unknown>(svc, 'spec', 'selector')).toEqual(get<unknown>(d, 'spec', 'selector', 'matchLabels'));
  });

  it.each(['podsec-webhook', 'podsec-audit'])(
    '%s: read-only mounts, no subPath, /tmp as emptyDir',
    (name) => {
      const spec = get<Record<string, unknown>>(find(objs(), 'Deployment', name), 'spec', 'template', 'spec');
      const c = get<Record<string, unknown>>(spec, 'containers', 0);
      expect(get<unknown>(c, 'securityContext')).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      const mounts = get<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }[]>(
        c,
        'volumeMounts',
      );
      for (const m of mounts) {
        expect(m.subPath).toBeUndefined();
        expect([m.name, m.readOnly ?? false]).toEqual([m.name, m.mountPath !== '/tmp']);
      }
      const tmp = get<{ name: string; emptyDir?: unknown }[]>(spec, 'volumes').find((v) => v.name === 'tmp');
      expect(tmp?.emptyDir).toBeDefined();
    },
  );

  it('the audit runs periodically and writes reports', () => {
    const d = find(objs(), 'Deployment', 'podsec-audit');
    expect(get<number>(d, 'spec', 'replicas')).toBe(1);
    expect(get<string[]>(d, 'spec', 'template', 'spec', 'containers', 0, 'args')).toEqual(
      expect.arrayContaining(['audit', '--write-reports', '--interval=10m']),
    );
  });

  it.each([
    ['deploy/base', 'PolicyReport', 'policyreports.wgpolicyk8s.io', 'Namespaced', 'v1alpha2'],
    ['deploy/base', 'ClusterPolicyReport', 'clusterpolicyreports.wgpolicyk8s.io', 'Cluster', 'v1alpha2'],
    ['deploy/overlays/openreports', 'Report', 'reports.openreports.io', 'Namespaced', 'v1alpha1'],
    ['deploy/overlays/openreports', 'ClusterReport', 'clusterreports.openreports.io', 'Cluster', 'v1alpha1'],
  ])('%s: the %s CRD has the published shape', (dir, kind, name, scope, version) => {
    const crd = find(renderObjects(dir), 'CustomResourceDefinition', name);
    expect(get<string>(crd, 'spec', 'scope')).toBe(scope);
    expect(get<string>(crd, 'spec', 'names', 'kind')).toBe(kind);
    expect(get<string>(crd, 'spec', 'names', 'plural')).toBe(name.split('.')[0]);
    const v = get<Record<string, unknown>>(crd, 'spec', 'versions', 0);
    expect([v['name'], v['served'], v['storage']]).toEqual([version, true, true]);
    const schema = get<Record<string, unknown>>(v, 'schema', 'openAPIV3Schema', 'properties');
    const counts = Object.keys(get<object>(schema, 'summary', 'properties'));
    expect(counts.sort()).toEqual(['error', 'fail', 'pass', 'skip', 'warn']);
    const result = get<Record<string, unknown>>(schema, 'results', 'items', 'properties');
    expect(get<string[]>(result, 'result', 'enum')).toEqual(['pass', 'fail', 'warn', 'error', 'skip']);
    for (const field of [
      'policy',
      'rule',
      'scored',
      'severity',
      'category',
      'message',
      'properties',
      'resources',
    ]) {
      expect(result).toHaveProperty(field);
    }
    expect(schema).toHaveProperty('scope');
    // OpenReports adds the producer at the top and the producer/consumer contract.
    if (version === 'v1alpha1') {
      expect(get<string>(schema, 'source', 'type')).toBe('string');
      const limits = get<Record<string, unknown>>(
        schema,
        'configuration',
        'properties',
        'limits',
        'properties',
      );
      expect(Object.keys(limits).sort()).toEqual(['maxResults', 'statusFilter']);
    }
  });
});

describe.runIf(kubectlSuiteRuns('deploy overlays'))('overlays', () => {
  it('cert-manager: a self-signed Issuer, the serving Certificate, CA injection into both registrations', () => {
    const objs = renderObjects('deploy/overlays/cert-manager');
    const cert = find(objs, 'Certificate', 'podsec-webhook');
    expect(get<string>(cert, 'spec', 'secretName')).toBe('podsec-webhook-tls');
    expect(get<string[]>(cert, 'spec', 'dnsNames')).toContain('podsec-webhook.podsec-system.svc');
    expect(get<unknown>(find(objs, 'Issuer', 'podsec-selfsigned'), 'spec')).toEqual({ selfSigned: {} });
    for (const name of ['podsec-enforce', 'podsec-advisory']) {
      const vwc = find(objs, 'ValidatingWebhookConfiguration', name);
      expect(vwc.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe(
        'podsec-system/podsec-webhook',
      );
    }
  });

  it('aks: both registrations opt out of the Admissions Enforcer and spare AKS system namespaces', () => {
    const objs = renderObjects('deploy/overlays/aks');
    for (const name of ['podsec-enforce', 'podsec-advisory']) {
      const vwc = find(objs, 'ValidatingWebhookConfiguration', name);
      expect(vwc.metadata.labels?.['admissions.enforcer/disabled']).toBe('true');
      expect(vwc.metadata.annotations?.['admissions.enforcer/disabled']).toBe('true');
      const w = get<Webhook[]>(vwc, 'webhooks')[0] as Webhook;
      expect(excluded(w)).toEqual(
        expect.arrayContaining([
          'kube-system',
          'podsec-system',
          'gatekeeper-system',
          'azure-arc',
          'azure-extensions-usage-system',
          'calico-system',
          'tigera-operator',
        ]),
      );
      expect(w.namespaceSelector.matchExpressions).toHaveLength(1);
    }
    expect(webhookOf(objs, 'podsec-enforce').failurePolicy).toBe('Fail');
  });

  it('openreports: Report CRDs instead of PolicyReport ones, the audit writes them, its RBAC follows', () => {
    const base = renderObjects('deploy/base');
    const objs = renderObjects('deploy/overlays/openreports');
    const crds = (list: K8sObject[]) =>
      list
        .filter((o) => o.kind === 'CustomResourceDefinition')
        .map((o) => o.metadata.name)
        .sort();
    expect(crds(objs)).toEqual(['clusterreports.openreports.io', 'reports.openreports.io']);
    const args = get<string[]>(
      find(objs, 'Deployment', 'podsec-audit'),
      'spec',
      'template',
      'spec',
      'containers',
      0,
      'args',
    );
    expect(args).toContain('--report-api=openreports.io/v1alpha1');
    expect(args.filter((a) => a.startsWith('--report-api'))).toHaveLength(1);
    const rules = get<Rule[]>(find(objs, 'ClusterRole', 'podsec-audit'), 'rules');
    const baseRules = get<Rule[]>(find(base, 'ClusterRole', 'podsec-audit'), 'rules');
    expect(rules.slice(0, 3)).toEqual(baseRules.slice(0, 3));
    expect(rules[3]).toEqual({
      apiGroups: ['openreports.io'],
      resources: ['reports'],
      verbs: ['get', 'list', 'create', 'update', 'delete'],
    });
    expect(rules).toHaveLength(4);
    // Everything else is deploy/base as it is.
    const changed = (o: K8sObject) =>
      o.kind === 'CustomResourceDefinition' ||
      (o.metadata.name === 'podsec-audit' && ['Deployment', 'ClusterRole'].includes(o.kind));
    expect(objs.filter((o) => !changed(o))).toEqual(base.filter((o) => !changed(o)));
  });

  it('workloads-deny: the advisory registration fails closed; nothing else changes', () => {
    const base = renderObjects('deploy/base');
    const objs = renderObjects('deploy/overlays/workloads-deny');
    expect(webhookOf(objs, 'podsec-advisory')).toMatchObject({ failurePolicy: 'Fail', timeoutSeconds: 5 });
    const rest = (list: K8sObject[]) => list.filter((o) => o.metadata.name !== 'podsec-advisory');
    expect(rest(objs)).toEqual(rest(base));
  });
});

describe.runIf(kubectlSuiteRuns('deploy command lines'))('container command lines', () => {
  const cases = KUSTOMIZATIONS.filter((dir) => dir !== 'deploy/node-agents').flatMap((dir) =>
    ['podsec-webhook', 'podsec-audit'].map((name) => [dir, name] as const),
  );
  it.each(cases)('%s, %s: every flag exists on its podsec verb, with an allowed value', (dir, name) => {
    const deployment = find(renderObjects(dir), 'Deployment', name);
    const [verb, ...flags] = get<string[]>(deployment, 'spec', 'template', 'spec', 'containers', 0, 'args');
    const cmd = buildProgram().commands.find((c) => c.name() === verb);
    expect(cmd, `podsec ${String(verb)}`).toBeDefined();
    for (const flag of flags) {
      const [long, value] = flag.split('=', 2);
      const option = cmd?.options.find((o) => o.long === long);
      expect(option, `${String(verb)} ${flag}`).toBeDefined();
      if (option?.argChoices !== undefined) expect(option.argChoices).toContain(value);
      if (option?.required === true || option?.optional === true) expect(value, flag).toBeDefined();
    }
  });
});
