/**
 * Generates a `kubectl get pods -A -o json` List of realistic pods (~4 KB each: managedFields,
 * status, probes, env, owners: ReplicaSets of Deployments, 10 pods each), streamed to disk so the
 * generator itself stays small. `npx tsx bench/gen-pod-list.ts [COUNT] [OUT]`.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export function makePod(i: number): Record<string, unknown> {
  const d = Math.floor(i / 10);
  const ns = `team-${d % 40}`;
  const dep = `svc-${d}`;
  const hash = (Math.floor(i / 10) * 2654435761).toString(16).slice(-9).padStart(9, 'a');
  const rs = `${dep}-${hash}`;
  const name = `${rs}-${(i * 7919).toString(36).slice(-5).padStart(5, 'x')}`;
  // A third of the Deployments are not hardened; one pod in 50 drifted from its template.
  const hardened = d % 3 !== 0 && i % 50 !== 7;
  const ts = '2026-04-30T10:00:00Z';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      resourceVersion: String(100000 + i),
      creationTimestamp: ts,
      generateName: `${rs}-`,
      labels: { app: dep, 'pod-template-hash': hash, 'app.kubernetes.io/part-of': ns },
      annotations: { 'kubectl.kubernetes.io/restartedAt': ts, 'prometheus.io/scrape': 'true' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: rs,
          uid: `rs-${hash}`,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: ts,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': {
              'f:generateName': {},
              'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} },
              'f:ownerReferences': { '.': {}, [`k:{"uid":"rs-${hash}"}`]: {} },
            },
            'f:spec': {
              'f:containers': {
                'k:{"name":"app"}': {
                  '.': {},
                  'f:image': {},
                  'f:imagePullPolicy': {},
                  'f:name': {},
                  'f:ports': {},
                  'f:resources': {},
                  'f:securityContext': {},
                },
              },
              'f:dnsPolicy': {},
              'f:restartPolicy': {},
              'f:schedulerName': {},
              'f:securityContext': {},
            },
          },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          apiVersion: 'v1',
          time: ts,
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: {
            'f:status': {
              'f:conditions': {},
              'f:containerStatuses': {},
              'f:hostIP': {},
              'f:phase': {},
              'f:podIP': {},
              'f:podIPs': {},
              'f:startTime': {},
            },
          },
        },
      ],
    },
    spec: {
      ...(hardened
        ? { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } }
        : {}),
      containers: [
        {
          name: 'app',
          image: `registry.example/${ns}/${dep}:1.${i % 17}.0`,
          imagePullPolicy: 'IfNotPresent',
          ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          livenessProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, periodSeconds: 10 },
          readinessProbe: { httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' }, periodSeconds: 5 },
          securityContext: hardened
            ? {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                readOnlyRootFilesystem: true,
              }
            : {},
          volumeMounts: [
            {
              name: 'kube-api-access',
              mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
              readOnly: true,
            },
          ],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      volumes: [
        {
          name: 'kube-api-access',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              {
                downwardAPI: {
                  items: [
                    { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                  ],
                },
              },
            ],
          },
        },
      ],
      dnsPolicy: 'ClusterFirst',
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      serviceAccountName: 'default',
      nodeName: `aks-nodepool1-${i % 200}-vmss000000`,
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
    },
    status: {
      phase: 'Running',
      hostIP: `10.224.${i % 200}.4`,
      podIP: `10.244.${Math.floor(i / 250) % 256}.${i % 250}`,
      podIPs: [{ ip: `10.244.${Math.floor(i / 250) % 256}.${i % 250}` }],
      startTime: ts,
      qosClass: 'Burstable',
      conditions: [
        'PodReadyToStartContainers',
        'Initialized',
        'Ready',
        'ContainersReady',
        'PodScheduled',
      ].map((type) => ({
        type,
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: ts,
      })),
      containerStatuses: [
        {
          name: 'app',
          ready: true,
          started: true,
          restartCount: 0,
          image: `registry.example/${ns}/${dep}:1.${i % 17}.0`,
          imageID: `registry.example/${ns}/${dep}@sha256:${'ab'.repeat(32)}`,
          containerID: `containerd://${'cd'.repeat(32)}`,
          state: { running: { startedAt: ts } },
          lastState: {},
        },
      ],
    },
  };
}

export async function writePodList(path: string, count: number): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (s: string) => {
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  await write('{\n    "apiVersion": "v1",\n    "items": [\n');
  for (let i = 0; i < count; i++) {
    // One compact item per line (~4.1 KB): the 4-space indent of kubectl would triple the bytes.
    const text = `        ${JSON.stringify(makePod(i))}`;
    await write(i === count - 1 ? `${text}\n` : `${text},\n`);
  }
  await write('    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n');
  out.end();
  await once(out, 'finish');
  return bytes;
}

if (process.argv[1]?.endsWith('gen-pod-list.ts')) {
  const count = Number(process.argv[2] ?? 50_000);
  const path = process.argv[3] ?? 'bench/out/pods-50k.json';
  const bytes = await writePodList(path, count);
  console.log(
    `${path}: ${count} pods, ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${(bytes / count / 1024).toFixed(2)} KiB/pod`,
  );
}
