/**
 * Engine benchmark: Pod Security Standards evaluations per second at restricted/latest for a 3-container pod
 * that passes and for one that fails exactly 3 checks (failures build messages and findings, so they cost
 * more). Warms up, then runs each case for about 2 s. Pin it to one core for comparable figures:
 *   taskset -c 0 npx tsx bench/engine.ts
 */
import type { Container, ObjectMeta, PodSpec } from '../src/kube/types.js';
import { evaluateObject, policyFromLevel } from '../src/policy/engine.js';
import { checksFor, evaluatePod } from '../src/policy/pss/index.js';

function container(name: string): Container {
  return {
    name,
    image: `registry.example/${name}:1.2.3`,
    ports: [{ containerPort: 8080, protocol: 'TCP' }],
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
}

function passingPod(): { meta: ObjectMeta; spec: PodSpec } {
  return {
    meta: { name: 'web', namespace: 'shop', labels: { app: 'web' }, annotations: { team: 'payments' } },
    spec: {
      containers: [container('app'), container('sidecar')],
      initContainers: [container('migrate')],
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      volumes: [
        { name: 'tmp', emptyDir: {} },
        { name: 'config', configMap: { name: 'web' } },
      ],
    },
  };
}

/** Fails exactly privileged, hostPorts and runAsUser. */
function failingPod(): { meta: ObjectMeta; spec: PodSpec } {
  const pod = passingPod();
  const [app, sidecar] = pod.spec.containers!;
  app!.securityContext!.privileged = true;
  sidecar!.ports = [{ containerPort: 8080, hostPort: 8080 }];
  pod.spec.securityContext!.runAsUser = 0;
  return pod;
}

const checks = checksFor('restricted', { latest: true });

const policy = policyFromLevel('restricted', { latest: true });

/** The PSS evaluator alone (what admission runs per mode), or the whole engine with violations and effects. */
type Runner = (pod: { meta: ObjectMeta; spec: PodSpec }) => number;
const pssOnly: Runner = (pod) => evaluatePod(checks, pod.meta, pod.spec).failures.length;
const wholeEngine: Runner = (pod) => {
  const obj = { apiVersion: 'v1', kind: 'Pod', metadata: pod.meta, spec: pod.spec };
  return new Set(evaluateObject(policy, obj).violations.map((v) => v.check)).size;
};

function measure(
  label: string,
  pod: { meta: ObjectMeta; spec: PodSpec },
  expectFailures: number,
  evaluate: Runner = pssOnly,
): void {
  const first = evaluate(pod);
  if (first !== expectFailures) {
    throw new Error(`${label}: expected ${expectFailures} failing checks, got ${first}`);
  }
  let sink = 0;
  const run = (ms: number): { n: number; seconds: number } => {
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(ms) * 1_000_000n;
    let n = 0;
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < 1000; i++) sink += evaluate(pod);
      n += 1000;
      now = process.hrtime.bigint();
    }
    return { n, seconds: Number(now - start) / 1e9 };
  };
  run(500); // warm-up: let the JIT settle
  const { n, seconds } = run(2000);
  const perSecond = n / seconds;
  console.log(
    `engine ${label}: ${Math.round(perSecond).toLocaleString('en-US')} evaluations/s ` +
      `(${((1e6 * seconds) / n).toFixed(2)} µs each, ${n.toLocaleString('en-US')} in ${seconds.toFixed(2)} s)`,
  );
  if (sink < 0) console.log(sink); // keeps the work observable
}

console.log(`restricted/latest: ${checks.length} checks; Node ${process.version}`);
measure('restricted/latest, 3-container pod, passing', passingPod(), 0);
measure('restricted/latest, 3-container pod, failing 3 checks', failingPod(), 3);
measure('(whole engine: evaluateObject) restricted/latest, passing', passingPod(), 0, wholeEngine);
measure('(whole engine: evaluateObject) restricted/latest, failing 3 checks', failingPod(), 3, wholeEngine);
