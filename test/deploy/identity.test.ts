/**
 * deploy/identity as operators get it: the four aad-pod-identity CRDs with structural schemas, the
 * controller and issuer with least-privilege RBAC, the NMI DaemonSet with host networking and only
 * NET_ADMIN, and command lines podsec accepts. Rendered with `kubectl kustomize` and scanned the
 * way `podsec scan --config deploy/podsec-self.yaml` scans it (in process, as self-scan.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildProgram } from '../../src/cli/main.js';
import { parseSecretNamespaces } from '../../src/cli/commands/identity-issuer.js';
import { buildReport } from '../../src/cli/commands/scan.js';
import { redirectSettingsFromFlags } from '../../src/identity/nmi/redirect/flags.js';
import { compilePolicy, loadConfigFile, parseVersion, policyFromLevel } from '../../src/policy/index.js';
import {
  find,
  kubectl,
  kubectlSuiteRuns,
  render,
  renderObjects,
  repoRoot,
  type K8sObject,
} from './kustomize.js';

const DIR = 'deploy/identity';
const GROUP = 'aadpodidentity.k8s.io';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}
interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  enum?: unknown[];
}

const get = <T>(o: unknown, ...path: (string | number)[]): T => {
  let cur: unknown = o;
  for (const p of path) cur = (cur as Record<string | number, unknown> | undefined)?.[p];
  return cur as T;
};

/** Structural (apiextensions v1): every node has a type, or keeps unknown fields explicitly. */
function nonStructural(schema: Schema, path: string): string[] {
  const here =
    schema.type === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true ? [path] : [];
  const below = [
    ...Object.entries(schema.properties ?? {}).flatMap(([k, v]) => nonStructural(v, `${path}.${k}`)),
    ...(schema.items ? nonStructural(schema.items, `${path}[]`) : []),
    ...(typeof schema.additionalProperties === 'object'
      ? nonStructural(schema.additionalProperties, `${path}.*`)
      : []),
  ];
  return [...here, ...below];
}

/** Field paths of `value` the schema would prune (not declared, not under preserve-unknown). */
function pruned(value: unknown, schema: Schema, path: string): string[] {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return [];
  if (Array.isArray(value))
    return schema.items ? value.flatMap((v, i) => pruned(v, schema.items!, `${path}[${i}]`)) : [];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const sub =
      schema.properties?.[k] ??
      (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    return sub === undefined ? [`${path}.${k}`] : pruned(v, sub, `${path}.${k}`);
  });
}

const podSpec = (objs: K8sObject[], kind: string, name: string) =>
  get<Record<string, unknown>>(find(objs, kind, name), 'spec', 'template', 'spec');
const container = (objs: K8sObject[], kind: string, name: string) =>
  get<Record<string, unknown>>(podSpec(objs, kind, name), 'containers', 0);
const args = (objs: K8sObject[], kind: string, name: string) =>
  get<string[]>(container(objs, kind, name), 'args');

describe.runIf(kubectlSuiteRuns('deploy/identity'))('deploy/identity', () => {
  const objs = () => renderObjects(DIR);

  it('renders offline, every object labelled part-of podsec', () => {
    const kinds = objs().map((o) => `${o.kind} ${o.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'DaemonSet podsec-nmi',
        'Deployment podsec-identity-controller',
        'Deployment podsec-identity-issuer',
        'Service podsec-identity-issuer',
      ]),
    );
    for (const o of objs())
      expect(o.metadata.labels?.['app.kubernetes.io/part-of'], o.metadata.name).toBe('podsec');
  });

  const CRDS = [
    ['AzureIdentity', 'azureidentities', false],
    ['AzureIdentityBinding', 'azureidentitybindings', false],
    ['AzureAssignedIdentity', 'azureassignedidentities', true],
    ['AzurePodIdentityException', 'azurepodidentityexceptions', false],
  ] as const;

  it.each(CRDS)('the %s CRD: %s.aadpodidentity.k8s.io/v1, namespaced, structural', (kind, plural, status) => {
    const crd = find(objs(), 'CustomResourceDefinition', `${plural}.${GROUP}`);
    expect(get<string>(crd, 'spec', 'group')).toBe(GROUP);
    expect(get<string>(crd, 'spec', 'scope')).toBe('Namespaced');
    expect(get<string>(crd, 'spec', 'names', 'kind')).toBe(kind);
    expect(get<string>(crd, 'spec', 'names', 'plural')).toBe(plural);
    const versions = get<Record<string, unknown>[]>(crd, 'spec', 'versions');
    expect(versions.map((v) => [v['name'], v['served'], v['storage']])).toEqual([['v1', true, true]]);
    const schema = get<Schema>(versions[0], 'schema', 'openAPIV3Schema');
    expect(nonStructural(schema, '')).toEqual([]);
    expect(get<unknown>(versions[0], 'subresources', 'status') !== undefined).toBe(status);
  });

  it('AzureIdentity types are upstream ones; assigned statuses are upstream strings', () => {
    const schemaOf = (plural: string) =>
      get<Schema>(
        find(objs(), 'CustomResourceDefinition', `${plural}.${GROUP}`),
        'spec',
        'versions',
        0,
        'schema',
        'openAPIV3Schema',
      );
    expect(
      get<unknown[]>(schemaOf('azureidentities'), 'properties', 'spec', 'properties', 'type', 'enum'),
    ).toEqual([0, 1, 2]);
    expect(
      get<unknown[]>(
        schemaOf('azureassignedidentities'),
        'properties',
        'status',
        'properties',
        'status',
        'enum',
      ),
    ).toEqual(['Created', 'Assigned', 'Unassigned']);
  });

  it('the CRDs keep every field of the example manifests and of an assignment the controller wrote', () => {
    const examples = ['examples/identity/identity.yaml'].flatMap((f) =>
      parseAllDocuments(readFileSync(join(repoRoot, f), 'utf8')).map((d) => d.toJS() as K8sObject),
    );
    const assigned = {
      apiVersion: `${GROUP}/v1`,
      kind: 'AzureAssignedIdentity',
      metadata: { name: 'a-b-c', namespace: 'b' },
      spec: {
        azureIdentityRef: { metadata: { name: 'c' }, spec: { type: 1, clientID: 'x' } },
        azureBindingRef: { metadata: { name: 'd' }, spec: { azureIdentity: 'c', selector: 's' } },
        pod: 'a',
        podNamespace: 'b',
        nodename: 'n',
      },
      status: { status: 'Assigned', availableReplicas: 1 },
    };
    const crds = objs().filter((o) => o.kind === 'CustomResourceDefinition');
    let checked = 0;
    for (const obj of [...examples, assigned]) {
      const crd = crds.find((c) => get<string>(c, 'spec', 'names', 'kind') === obj.kind);
      if (crd === undefined) continue;
      const schema = get<Schema>(crd, 'spec', 'versions', 0, 'schema', 'openAPIV3Schema');
      const { metadata: _m, ...rest } = obj;
      expect(pruned(rest, schema, obj.kind)).toEqual([]);
      checked++;
    }
    expect(checked).toBe(4);
  });

  it.each([
    [
      'podsec-identity-controller',
      [
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['list', 'watch'] },
        {
          apiGroups: [GROUP],
          resources: ['azureidentities', 'azureidentitybindings', 'azurepodidentityexceptions'],
          verbs: ['list', 'watch'],
        },
        {
          apiGroups: [GROUP],
          resources: ['azureassignedidentities'],
          verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
        },
        { apiGroups: [GROUP], resources: ['azureassignedidentities/status'], verbs: ['get', 'update'] },
      ],
    ],
    [
      'podsec-identity-issuer',
      [
        {
          apiGroups: [GROUP],
          resources: ['azureidentities', 'azureassignedidentities'],
          verbs: ['list', 'watch'],
        },
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      ],
    ],
    [
      'podsec-identity-issuer-secrets',
      [{ apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] }],
    ],
    [
      'podsec-nmi',
      [
        { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
        {
          apiGroups: [GROUP],
          resources: ['azureassignedidentities', 'azureidentities', 'azurepodidentityexceptions'],
          verbs: ['list', 'watch'],
        },
      ],
    ],
  ])('ClusterRole %s grants exactly what it needs', (name, rules) => {
    expect(get<Rule[]>(find(objs(), 'ClusterRole', name), 'rules')).toEqual(rules);
  });

  it('no wildcards or patch; only the controller writes (assignments only); only the issuer reads Secrets', () => {
    const bindings = objs().filter((o) => o.kind === 'ClusterRoleBinding');
    for (const role of objs().filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')) {
      const holders = [...bindings, ...objs().filter((o) => o.kind === 'RoleBinding')]
        .filter((b) => get<string>(b, 'roleRef', 'name') === role.metadata.name)
        .flatMap((b) => get<{ name: string }[]>(b, 'subjects').map((s) => s.name));
      expect(holders, role.metadata.name).toHaveLength(1);
      for (const rule of get<Rule[]>(role, 'rules')) {
        const all = [...(rule.resources ?? []), ...(rule.verbs ?? []), ...(rule.apiGroups ?? [])];
        expect(all).not.toContain('*');
        expect(rule.verbs).not.toContain('patch');
        if (rule.resources?.includes('secrets')) expect(holders).toEqual(['podsec-identity-issuer']);
        if (rule.resources?.includes('tokenreviews')) {
          // the issuer reviews the NMIs' projected tokens (the mint API), nothing else
          expect([holders, rule.resources, rule.verbs]).toEqual([
            ['podsec-identity-issuer'],
            ['tokenreviews'],
            ['create'],
          ]);
          continue;
        }
        if (rule.verbs?.some((v) => !['get', 'list', 'watch'].includes(v))) {
          expect(holders).toEqual(['podsec-identity-controller']);
          expect(
            rule.resources?.every((r) => r.startsWith('azureassignedidentities') || r === 'leases'),
          ).toBe(true);
        }
      }
    }
    const lease = find(objs(), 'Role', 'podsec-identity-controller-leader-election');
    expect(lease.metadata.namespace).toBe('podsec-system');
    expect(get<Rule[]>(lease, 'rules')).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
  });

  it('service account tokens are mounted only into the three workloads, each with its own account', () => {
    for (const sa of objs().filter((o) => o.kind === 'ServiceAccount')) {
      expect(get<boolean>(sa, 'automountServiceAccountToken'), sa.metadata.name).toBe(false);
    }
    for (const [kind, name, sa] of [
      ['Deployment', 'podsec-identity-controller', 'podsec-identity-controller'],
      ['Deployment', 'podsec-identity-issuer', 'podsec-identity-issuer'],
      ['DaemonSet', 'podsec-nmi', 'podsec-nmi'],
    ] as const) {
      const spec = podSpec(objs(), kind, name);
      expect([spec['serviceAccountName'], spec['automountServiceAccountToken']]).toEqual([sa, true]);
    }
  });

  it('the controller: 2 replicas, leader-elected through a Lease in podsec-system', () => {
    const d = find(objs(), 'Deployment', 'podsec-identity-controller');
    expect(get<number>(d, 'spec', 'replicas')).toBe(2);
    expect(args(objs(), 'Deployment', 'podsec-identity-controller')).toEqual(
      expect.arrayContaining([
        'identity',
        'controller',
        '--leader-elect=true',
        '--lease-namespace=podsec-system',
      ]),
    );
  });

  it('the issuer: HTTPS behind its Service, probed over HTTPS; the NMI mints through it with a projected token and holds no signing key', () => {
    const svc = find(objs(), 'Service', 'podsec-identity-issuer');
    expect(get<unknown>(svc, 'spec', 'ports', 0)).toMatchObject({ port: 443, targetPort: 'https' });
    const c = container(objs(), 'Deployment', 'podsec-identity-issuer');
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
    const issuerArgs = args(objs(), 'Deployment', 'podsec-identity-issuer');
    const nmiArgs = args(objs(), 'DaemonSet', 'podsec-nmi');
    const value = (list: string[], flag: string) =>
      list.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
    expect(value(issuerArgs, '--base-url')).toBe('https://podsec-identity-issuer.podsec-system.svc');
    expect(value(nmiArgs, '--token-provider')).toBe(`issuer=${value(issuerArgs, '--base-url')}`);
    expect(issuerArgs).toContain('--nmi-token-review');
    const ds = find(objs(), 'DaemonSet', 'podsec-nmi');
    expect(value(issuerArgs, '--nmi-service-account')).toBe(
      `${ds.metadata.namespace}/${get<string>(podSpec(objs(), 'DaemonSet', 'podsec-nmi'), 'serviceAccountName')}`,
    );
    type Volume = {
      name: string;
      secret?: { secretName: string };
      projected?: { sources: { serviceAccountToken?: { audience: string; path: string } }[] };
    };
    const volumes = (kind: string, name: string) => get<Volume[]>(podSpec(objs(), kind, name), 'volumes');
    expect(
      volumes('Deployment', 'podsec-identity-issuer').find((v) => v.name === 'signing-keys')?.secret
        ?.secretName,
    ).toBe('podsec-identity-signing-keys');
    // no node holds a signing key: a compromised node cannot sign for other nodes' identities
    expect(volumes('DaemonSet', 'podsec-nmi').filter((v) => v.secret !== undefined)).toEqual([]);
    expect(nmiArgs.some((a) => a.startsWith('--keys-dir'))).toBe(false);
    const projected = volumes('DaemonSet', 'podsec-nmi').find((v) => v.name === 'issuer-token');
    const sa = projected?.projected?.sources[0]?.serviceAccountToken;
    expect(sa?.audience).toBe(value(issuerArgs, '--nmi-token-audience') ?? 'podsec-issuer');
    const mount = get<{ name: string; mountPath: string }[]>(
      container(objs(), 'DaemonSet', 'podsec-nmi'),
      'volumeMounts',
    ).find((m) => m.name === 'issuer-token');
    expect(value(nmiArgs, '--issuer-token-file')).toBe(`${mount?.mountPath}/${sa?.path}`);
  });

  it('the NMI: every node, host network, only NET_ADMIN, system-node-critical, --redirect, --node from spec.nodeName', () => {
    const ds = find(objs(), 'DaemonSet', 'podsec-nmi');
    expect(ds.metadata.namespace).toBe('podsec-node');
    const spec = podSpec(objs(), 'DaemonSet', 'podsec-nmi');
    expect(spec['hostNetwork']).toBe(true);
    expect(spec['dnsPolicy']).toBe('ClusterFirstWithHostNet');
    expect(spec['priorityClassName']).toBe('system-node-critical');
    expect(spec['tolerations']).toEqual([{ operator: 'Exists' }]);
    const c = container(objs(), 'DaemonSet', 'podsec-nmi');
    expect(get<unknown>(c, 'securityContext', 'capabilities')).toEqual({ drop: ['ALL'], add: ['NET_ADMIN'] });
    expect(get<unknown>(c, 'securityContext')).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    expect(c['ports']).toBeUndefined();
    expect(args(objs(), 'DaemonSet', 'podsec-nmi')).toEqual(
      expect.arrayContaining([
        'identity',
        'nmi',
        '--node=$(NODE_NAME)',
        '--redirect',
        '--listen-address=$(NODE_IP)',
        '--node-address=$(NODE_IP)',
      ]),
    );
    const env = get<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[]>(c, 'env');
    expect(env.find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    expect(env.find((e) => e.name === 'NODE_IP')?.valueFrom?.fieldRef?.fieldPath).toBe('status.hostIP');
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      expect(get<unknown>(c, probe, 'httpGet')).toEqual({ path: '/healthz', port: 2579 });
    }
    expect(get<Record<string, unknown>>(c, 'resources', 'limits')).toHaveProperty('memory');
    expect(get<Record<string, unknown>>(c, 'resources', 'requests')).toHaveProperty('cpu');
  });

  it.each([
    ['Deployment', 'podsec-identity-controller'],
    ['Deployment', 'podsec-identity-issuer'],
    ['DaemonSet', 'podsec-nmi'],
  ])('%s %s: every flag exists on its podsec verb', (kind, name) => {
    const [verb, sub, ...flags] = args(objs(), kind, name);
    const cmd = buildProgram()
      .commands.find((c) => c.name() === verb)
      ?.commands.find((c) => c.name() === sub);
    expect(cmd, `podsec ${String(verb)} ${String(sub)}`).toBeDefined();
    for (const flag of flags) {
      const [long, value] = flag.split('=', 2);
      const option = cmd?.options.find((o) => o.long === long);
      expect(option, `${String(sub)} ${flag}`).toBeDefined();
      if (option?.argChoices !== undefined) expect(option.argChoices).toContain(value);
      if (option?.required === true) expect(value, flag).toBeDefined();
    }
  });

  it("the NMI's redirect flags pass the NMI's own checks once the downward API fills them in", () => {
    const nmiArgs = args(objs(), 'DaemonSet', 'podsec-nmi').map((a) => a.replace('$(NODE_IP)', '10.240.0.4'));
    const value = (flag: string) => nmiArgs.find((a) => a.startsWith(`${flag}=`))?.split('=')[1];
    const settings = redirectSettingsFromFlags({
      listenAddress: value('--listen-address') ?? '',
      port: Number(value('--port')),
      redirectInterval: value('--redirect-interval'),
      nodeAddresses: [value('--node-address') ?? ''],
    });
    expect(settings.config.targetAddress).toBe('10.240.0.4');
    expect(settings.config.targetPort).toBe(2579);
  });

  describe('scanned', () => {
    const work = mkdtempSync(join(tmpdir(), 'podsec-identity-deploy-'));
    afterAll(() => rmSync(work, { recursive: true, force: true }));
    const file = () => {
      const f = join(work, 'identity.yaml');
      writeFileSync(f, render(DIR));
      return f;
    };
    const workloads = (r: Awaited<ReturnType<typeof buildReport>>) =>
      r.results.filter((x) => x.status !== 'notApplicable');

    it('at restricted: controller and issuer pass; the NMI fails for exactly its four needs', async () => {
      const version = parseVersion('latest');
      if (!version.ok) throw new Error('latest must parse');
      const report = await buildReport(
        [file()],
        { policy: policyFromLevel('restricted', version.value), templatePaths: [], warnings: [] },
        { exclude: [] },
      );
      expect(report.errors).toEqual([]);
      const byName = new Map(workloads(report).map((r) => [r.name, r]));
      expect(byName.get('podsec-identity-controller')?.status).toBe('allowed');
      expect(byName.get('podsec-identity-issuer')?.status).toBe('allowed');
      expect(
        byName
          .get('podsec-nmi')
          ?.violations.map((v) => v.check)
          .sort(),
      ).toEqual(['capabilities_restricted', 'hostNamespaces', 'runAsNonRoot', 'runAsUser']);
    });

    it('with deploy/podsec-self.yaml: nothing denied; each NMI violation exempted by a named exemption with a reason', async () => {
      const loaded = await loadConfigFile(join(repoRoot, 'deploy/podsec-self.yaml'));
      if ('error' in loaded) throw new Error(loaded.error.message);
      const report = await buildReport(
        [file()],
        { policy: compilePolicy(loaded.config), templatePaths: [], warnings: [] },
        { exclude: [] },
      );
      expect(report.errors).toEqual([]);
      for (const r of workloads(report)) expect([r.name, r.allowed]).toEqual([r.name, true]);
      const nmi = workloads(report).find((r) => r.name === 'podsec-nmi');
      expect(nmi?.violations).toHaveLength(4);
      for (const v of nmi?.violations ?? []) {
        expect(v.effects.map((e) => e.effect)).not.toContain('deny');
      }
      const assignment = loaded.config.assignments.find((a) => a.name === 'podsec-node-identity');
      expect(assignment?.exemptions?.flatMap((e) => e.checks).sort()).toEqual([
        'capabilities_restricted',
        'hostNamespaces',
        'runAsNonRoot',
        'runAsUser',
      ]);
      for (const e of assignment?.exemptions ?? []) expect(e.reason.length).toBeGreaterThan(40);
    });
  });
});

describe.runIf(kubectlSuiteRuns('deploy/overlays/identity-arm'))(
  'deploy/overlays/identity-arm (standard mode: ARM node assignment)',
  () => {
    const objs = () => renderObjects('deploy/overlays/identity-arm');

    it('runs the controller in standard mode with the cloud config from its Secret', () => {
      const c = container(objs(), 'Deployment', 'podsec-identity-controller');
      const argv = get<string[]>(c, 'args');
      expect(argv).toEqual(
        expect.arrayContaining([
          '--operation-mode=standard',
          '--cloud-config=/etc/podsec/cloud-config/azure.json',
        ]),
      );
      const mount = get<{ name: string; mountPath: string; readOnly?: boolean }[]>(c, 'volumeMounts').find(
        (m) => m.name === 'cloud-config',
      );
      expect(mount).toEqual({ name: 'cloud-config', mountPath: '/etc/podsec/cloud-config', readOnly: true });
      const volume = get<{ name: string; secret?: { secretName: string } }[]>(
        podSpec(objs(), 'Deployment', 'podsec-identity-controller'),
        'volumes',
      ).find((v) => v.name === 'cloud-config');
      expect(volume?.secret?.secretName).toBe('podsec-identity-cloud-config');
    });

    it('lets the controller keep only its own ledger ConfigMap, in podsec-system', () => {
      const role = find(objs(), 'Role', 'podsec-identity-controller-ledger');
      expect(role.metadata.namespace).toBe('podsec-system');
      expect(get<Rule[]>(role, 'rules')).toEqual([
        { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
        {
          apiGroups: [''],
          resources: ['configmaps'],
          resourceNames: ['podsec-identity-node-assignments'],
          verbs: ['get', 'update'],
        },
      ]);
      const binding = find(objs(), 'RoleBinding', 'podsec-identity-controller-ledger');
      expect(get<unknown>(binding, 'subjects')).toEqual([
        { kind: 'ServiceAccount', name: 'podsec-identity-controller', namespace: 'podsec-system' },
      ]);
    });
  },
);

// --secret-namespace: the issuer's Secret right through RoleBindings in the listed namespaces only,
// each matched by one --secret-namespace flag (and no flag without its RoleBinding).
describe.runIf(kubectlSuiteRuns('deploy/overlays/identity-secret-namespaces'))(
  'deploy/overlays/identity-secret-namespaces (issuer Secrets in listed namespaces only)',
  () => {
    const SECRETS_ROLE = 'podsec-identity-issuer-secrets';
    const ISSUER_SA = { kind: 'ServiceAccount', name: 'podsec-identity-issuer', namespace: 'podsec-system' };
    const flagged = (objs: K8sObject[]): string[] =>
      args(objs, 'Deployment', 'podsec-identity-issuer')
        .filter((a) => a.startsWith('--secret-namespace='))
        .map((a) => a.slice('--secret-namespace='.length))
        .sort();
    const bound = (objs: K8sObject[]): string[] =>
      objs
        .filter((o) => o.kind === 'RoleBinding' && get<string>(o, 'roleRef', 'name') === SECRETS_ROLE)
        .map((o) => o.metadata.namespace ?? '')
        .sort();

    /** Every grant of the Secret ClusterRole is a RoleBinding to the issuer alone, in a flagged namespace. */
    function expectNarrowed(objs: K8sObject[], namespaces: string[]): void {
      expect(flagged(objs)).toEqual(namespaces);
      expect(bound(objs)).toEqual(namespaces);
      const grants = objs.filter(
        (o) =>
          (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') &&
          get<string>(o, 'roleRef', 'name') === SECRETS_ROLE,
      );
      for (const g of grants) {
        expect(g.kind, g.metadata.name).toBe('RoleBinding');
        expect(get<unknown>(g, 'roleRef')).toEqual({
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: SECRETS_ROLE,
        });
        expect(get<unknown>(g, 'subjects')).toEqual([ISSUER_SA]);
      }
      // no other role grants Secrets, and no ClusterRoleBinding is left to the Secret role
      for (const role of objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')) {
        const secrets = get<Rule[]>(role, 'rules').some((r) => r.resources?.includes('secrets'));
        expect(secrets, role.metadata.name).toBe(role.metadata.name === SECRETS_ROLE);
      }
      expect(get<Rule[]>(find(objs, 'ClusterRole', SECRETS_ROLE), 'rules')).toEqual([
        { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] },
      ]);
      // the rest of the issuer's rights stay cluster-wide (identities, assignments, TokenReview)
      expect(get<unknown>(find(objs, 'ClusterRoleBinding', 'podsec-identity-issuer'), 'subjects')).toEqual([
        ISSUER_SA,
      ]);
    }

    it('deletes the cluster-wide binding; binds podsec-identity-secrets and passes the matching flag', () => {
      const objs = renderObjects('deploy/overlays/identity-secret-namespaces');
      expectNarrowed(objs, ['podsec-identity-secrets']);
      const ns = find(objs, 'Namespace', 'podsec-identity-secrets');
      expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
      // everything else of deploy/identity is unchanged
      const base = renderObjects(DIR);
      const names = (list: K8sObject[]) => list.map((o) => `${o.kind}/${o.metadata.name}`).sort();
      expect(names(objs)).toEqual(
        names([
          ...base.filter((o) => !(o.kind === 'ClusterRoleBinding' && o.metadata.name === SECRETS_ROLE)),
          ns,
          find(objs, 'RoleBinding', SECRETS_ROLE),
        ]),
      );
      expect(args(objs, 'Deployment', 'podsec-identity-issuer')).toEqual([
        ...args(base, 'Deployment', 'podsec-identity-issuer'),
        '--secret-namespace=podsec-identity-secrets',
      ]);
    });

    it("the issuer's --secret-namespace exists on podsec identity issuer and passes its checks", () => {
      const objs = renderObjects('deploy/overlays/identity-secret-namespaces');
      const [verb, sub] = args(objs, 'Deployment', 'podsec-identity-issuer');
      const issuer = buildProgram()
        .commands.find((c) => c.name() === verb)
        ?.commands.find((c) => c.name() === sub);
      expect(issuer?.options.find((o) => o.long === '--secret-namespace')?.variadic).toBe(true);
      expect(parseSecretNamespaces(flagged(objs))).toEqual(['podsec-identity-secrets']);
    });

    it("README's recipe for another namespace (team-a): one more RoleBinding, one more flag", () => {
      // kustomize takes only relative paths to other kustomizations
      const dir = mkdtempSync(join(tmpdir(), 'podsec-secret-ns-overlay-'));
      try {
        writeFileSync(
          join(dir, 'kustomization.yaml'),
          [
            'resources:',
            `  - ${relative(dir, join(repoRoot, DIR))}`,
            '  - team-a-issuer-secrets.yaml',
            'components:',
            `  - ${relative(dir, join(repoRoot, 'deploy/components/identity-issuer-secret-namespaces'))}`,
            'patches:',
            '  - target: {kind: Deployment, name: podsec-identity-issuer}',
            '    patch: |-',
            '      - op: add',
            '        path: /spec/template/spec/containers/0/args/-',
            '        value: --secret-namespace=team-a',
            '',
          ].join('\n'),
        );
        writeFileSync(
          join(dir, 'team-a-issuer-secrets.yaml'),
          [
            'apiVersion: rbac.authorization.k8s.io/v1',
            'kind: RoleBinding',
            'metadata: {name: podsec-identity-issuer-secrets, namespace: team-a}',
            'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: podsec-identity-issuer-secrets}',
            'subjects: [{kind: ServiceAccount, name: podsec-identity-issuer, namespace: podsec-system}]',
            '',
          ].join('\n'),
        );
        const r = spawnSync(kubectl ?? 'kubectl', ['kustomize', dir], {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
          env: { ...process.env, KUBECONFIG: '/dev/null' },
        });
        expect(r.status, r.stderr).toBe(0);
        const objs = parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
        expectNarrowed(objs, ['podsec-identity-secrets', 'team-a']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('README documents the component, the overlay and the flag', () => {
      const readme = readFileSync(join(repoRoot, DIR, 'README.md'), 'utf8');
      for (const text of [
        'deploy/overlays/identity-secret-namespaces',
        'components/identity-issuer-secret-namespaces',
        '--secret-namespace=team-a',
        'podsec-identity-secrets',
      ]) {
        expect(readme).toContain(text);
      }
    });
  },
);

describe.runIf(kubectlSuiteRuns('deploy/identity overlays scanned'))(
  'every deploy/identity variant passes its own scan with deploy/podsec-self.yaml',
  () => {
    const work = mkdtempSync(join(tmpdir(), 'podsec-identity-variants-'));
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it.each([
      'deploy/identity',
      'deploy/overlays/identity-arm',
      'deploy/overlays/identity-secret-namespaces',
    ])('%s: nothing denied', async (dir) => {
      const f = join(work, `${dir.replace(/\//g, '_')}.yaml`);
      writeFileSync(f, render(dir));
      const loaded = await loadConfigFile(join(repoRoot, 'deploy/podsec-self.yaml'));
      if ('error' in loaded) throw new Error(loaded.error.message);
      const report = await buildReport(
        [f],
        { policy: compilePolicy(loaded.config), templatePaths: [], warnings: [] },
        { exclude: [] },
      );
      expect(report.errors).toEqual([]);
      const pods = report.results.filter((x) => x.status !== 'notApplicable');
      expect(pods.map((r) => r.name).sort()).toEqual([
        'podsec-identity-controller',
        'podsec-identity-issuer',
        'podsec-nmi',
      ]);
      for (const r of pods) expect([r.name, r.allowed]).toEqual([r.name, true]);
    });
  },
);
