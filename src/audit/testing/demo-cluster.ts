/**
 * A small, realistic cluster for audit tests and the HTML screenshot: labelled namespaces,
 * Deployments with ReplicaSets and pods, a CronJob's Job, a DaemonSet, an Istio-injected pod that
 * uses an exemption, a debug-container pod that differs from its template, an orphan pod and a
 * Deployment scaled to zero. Deterministic: same objects every call.
 */
import type { Container, KubeObject, PodSpec } from '../../kube/types.js';

const SAFE: NonNullable<Container['securityContext']> = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
};

function container(name: string, image: string, extra: Partial<Container> = {}): Container {
  return { name, image, securityContext: SAFE, ...extra };
}

const RESTRICTED_POD: Partial<PodSpec> = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
};

function ns(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `ns-${name}`, labels } };
}

interface WorkloadSpec {
  ns: string;
  name: string;
  replicas: number;
  spec: PodSpec;
  /** Pods that differ from the template: index -> spec change. */
  differ?: Record<number, (s: PodSpec) => PodSpec>;
}

function deployment(w: WorkloadSpec): KubeObject[] {
  const hash = `${w.name.length}f${w.replicas}c9d`.replace(/[^a-z0-9]/g, '');
  const duid = `uid-deploy-${w.ns}-${w.name}`;
  const ruid = `uid-rs-${w.ns}-${w.name}`;
  const template = { metadata: { labels: { app: w.name } }, spec: w.spec };
  const out: KubeObject[] = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: w.name, namespace: w.ns, uid: duid },
      spec: { replicas: w.replicas, template },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${w.name}-${hash}`,
        namespace: w.ns,
        uid: ruid,
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: w.name, uid: duid, controller: true },
        ],
      },
      spec: { replicas: w.replicas, template },
    },
  ];
  for (let i = 0; i < w.replicas; i++) {
    const spec = structuredClone(w.spec);
    out.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${w.name}-${hash}-p${i}`,
        namespace: w.ns,
        uid: `uid-pod-${w.ns}-${w.name}-${i}`,
        labels: { app: w.name, 'pod-template-hash': hash },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: `${w.name}-${hash}`,
            uid: ruid,
            controller: true,
          },
        ],
      },
      spec: w.differ?.[i]?.(spec) ?? spec,
    });
  }
  return out;
}

export const DEMO_CONFIG = `apiVersion: podsec.io/v1alpha1
kind: PodsecConfig
exemptions:
  namespaces: [istio-system]
assignments:
  - name: restricted-apps
    initiative: restricted
    effect: deny
    namespaces: [shop, payments]
    exemptions:
      - checks: [capabilities_restricted, runAsNonRoot, allowPrivilegeEscalation]
        images: ['docker.io/istio/proxyv2*']
        containers: [istio-init]
        reason: Istio init container programs iptables
        expires: 2099-06-30
  - name: baseline-everywhere
    initiative: baseline
    effect: warn
`;

export function demoCluster(): KubeObject[] {
  const restricted = (c: Container[]): PodSpec => ({ ...RESTRICTED_POD, containers: c });
  return [
    ns('shop', { 'pod-security.kubernetes.io/enforce': 'restricted' }),
    ns('payments'),
    ns('monitoring', { 'pod-security.kubernetes.io/warn': 'baseline' }),
    ns('batch'),
    ns('istio-system'),
    ...deployment({
      ns: 'shop',
      name: 'frontend',
      replicas: 3,
      spec: restricted([container('web', 'registry.example/frontend:2.1')]),
      differ: {
        2: (s) => ({
          ...s,
          ephemeralContainers: [
            { name: 'debugger', image: 'busybox', securityContext: { privileged: true } },
          ],
        }),
      },
    }),
    ...deployment({
      ns: 'shop',
      name: 'cart',
      replicas: 2,
      spec: { containers: [container('cart', 'registry.example/cart:1.4', { securityContext: {} })] },
    }),
    ...deployment({
      ns: 'shop',
      name: 'search',
      replicas: 0,
      spec: restricted([container('search', 'registry.example/search:0.9')]),
    }),
    ...deployment({
      ns: 'payments',
      name: 'ledger',
      replicas: 2,
      spec: {
        ...RESTRICTED_POD,
        initContainers: [
          {
            name: 'istio-init',
            image: 'docker.io/istio/proxyv2:1.22',
            securityContext: {
              capabilities: { add: ['NET_ADMIN', 'NET_RAW'] },
              runAsUser: 0,
              runAsNonRoot: false,
            },
          },
        ],
        containers: [container('ledger', 'registry.example/ledger:3.0')],
      },
    }),
    ...deployment({
      ns: 'payments',
      name: 'gateway',
      replicas: 4,
      spec: {
        hostNetwork: true,
        containers: [
          container('<img src=x onerror=alert(1)>', 'registry.example/gw:1', {
            securityContext: { privileged: true },
            ports: [{ containerPort: 443, hostPort: 443 }],
          }),
        ],
      },
    }),
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'node-exporter', namespace: 'monitoring', uid: 'uid-ds-node-exporter' },
      spec: {
        template: {
          spec: {
            hostPID: true,
            volumes: [{ name: 'root', hostPath: { path: '/' } }],
            containers: [container('exporter', 'quay.io/prometheus/node-exporter:v1.8')],
          },
        },
      },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly-report', namespace: 'batch', uid: 'uid-cj' },
      spec: {
        jobTemplate: {
          spec: { template: { spec: { containers: [container('report', 'registry.example/report:5')] } } },
        },
      },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'nightly-report-2900',
        namespace: 'batch',
        uid: 'uid-job',
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            name: 'nightly-report',
            uid: 'uid-cj',
            controller: true,
          },
        ],
      },
      spec: { template: { spec: { containers: [container('report', 'registry.example/report:5')] } } },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'nightly-report-2900-x1',
        namespace: 'batch',
        uid: 'uid-job-pod',
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: 'nightly-report-2900',
            uid: 'uid-job',
            controller: true,
          },
        ],
      },
      spec: { containers: [container('report', 'registry.example/report:5')] },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'debug-shell', namespace: 'payments', uid: 'uid-orphan' },
      spec: {
        hostPID: true,
        containers: [container('sh', 'busybox', { securityContext: { privileged: true } })],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'istiod-0', namespace: 'istio-system', uid: 'uid-istiod' },
      spec: {
        containers: [
          container('discovery', 'docker.io/istio/pilot:1.22', { securityContext: { privileged: true } }),
        ],
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'frontend', namespace: 'shop' } },
  ];
}
