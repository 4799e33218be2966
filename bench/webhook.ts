/**
 * Webhook benchmark (issue 3, section 5): autocannon against `/validate` over HTTPS on loopback
 * with a realistic AdmissionReview (a Deployment's pod, 3 containers, managedFields), and
 * against bare node:https servers in the same run: "bare" reads the body and answers a canned
 * AdmissionReview; "bare+parse" also parses it and echoes the uid (the least a correct webhook
 * does). "podsec edge" is podsec's server with a handler that allows at once, which splits
 * podsec's cost into the HTTP edge and the policy evaluation. Prints requests/s, p50 and p99 for both at 10 and 50
 * connections, and the ratios against the targets (>= 0.8x req/s; p99 <= 1.3x bare at 50
 * connections and <= 5 ms at 10).
 *
 * The servers run in a child process so the load generator does not share their event loop.
 *   npm run bench:webhook            (10 s per measurement)
 *   npx tsx bench/webhook.ts --duration 5
 *   npm run build && npx tsx bench/webhook.ts --dist   (podsec as built, the production code)
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type * as handlerModule from '../src/admission/handler.js';
import type * as serverModule from '../src/admission/server.js';
import type * as tlsModule from '../src/lib/tls/index.js';
import type * as obsModule from '../src/observability/index.js';
import type * as policyModule from '../src/policy/index.js';

type HandlerModule = typeof handlerModule;
type ServerModule = typeof serverModule;
type TlsModule = typeof tlsModule;
type ObsModule = typeof obsModule;
type PolicyModule = typeof policyModule;

/**
 * podsec's modules, from src/ (through tsx) or, with --dist, from the tsc build as production
 * runs them (tsx wraps every closure in a naming helper, which costs on a per-request path).
 */
async function podsecModules(
  fromDist: boolean,
): Promise<HandlerModule & ServerModule & TlsModule & ObsModule & PolicyModule> {
  const base = fromDist ? '../dist/' : '../src/';
  return {
    ...((await import(`${base}admission/handler.js`)) as HandlerModule),
    ...((await import(`${base}admission/server.js`)) as ServerModule),
    ...((await import(`${base}lib/tls/index.js`)) as TlsModule),
    ...((await import(`${base}observability/index.js`)) as ObsModule),
    ...((await import(`${base}policy/index.js`)) as PolicyModule),
  };
}

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const NAMESPACE = 'shop';

function container(name: string, i: number): Record<string, unknown> {
  return {
    name,
    image: `registry.example/shop/${name}:1.4.${i}`,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'http', containerPort: 8080 + i, protocol: 'TCP' }],
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    ],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
    readinessProbe: { httpGet: { path: '/healthz', port: 8080 + i, scheme: 'HTTP' }, periodSeconds: 10 },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      {
        name: 'kube-api-access-x7k2p',
        mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
        readOnly: true,
      },
    ],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
}

/** The pod a ReplicaSet controller creates for a Deployment, as the API server sends it. */
function deploymentPod(): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'web-6d4cf56db6-',
      namespace: NAMESPACE,
      labels: { app: 'web', 'pod-template-hash': '6d4cf56db6', 'app.kubernetes.io/part-of': 'shop' },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-6d4cf56db6',
          uid: '0c6f5b8e-3f5a-4d2e-9d7a-8c1f2b3e4d5f',
          controller: true,
        },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2025-01-01T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': {
              'f:generateName': {},
              'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} },
            },
            'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
          },
        },
      ],
    },
    spec: {
      serviceAccountName: 'web',
      automountServiceAccountToken: true,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        fsGroup: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [container('app', 0), container('metrics-exporter', 1), container('log-shipper', 2)],
      volumes: [
        { name: 'tmp', emptyDir: {} },
        {
          name: 'kube-api-access-x7k2p',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            ],
          },
        },
      ],
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      terminationGracePeriodSeconds: 30,
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
    },
  };
}

export function review(): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      name: '',
      namespace: NAMESPACE,
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        uid: 'b7a1c3d4-0000-0000-0000-000000000000',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
      },
      object: deploymentPod(),
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

const CONFIG = `apiVersion: podsec.io/v1alpha1
kind: PodsecConfig
assignments:
  - name: restricted-apps
    initiative: restricted
    version: latest
    effect: deny
    namespaces: [${NAMESPACE}]
  - name: azure-baseline-audit
    initiative: azure-baseline
    effect: audit
`;

/** Child mode: both servers, ports on stdout, until stdin closes. */
async function serve(fromDist: boolean): Promise<void> {
  const {
    createAdmissionHandler,
    startWebhookServer,
    generateCertificates,
    Health,
    silentLogger,
    WebhookMetrics,
    compilePolicy,
    loadConfigText,
  } = await podsecModules(fromDist);
  const dir = mkdtempSync(join(tmpdir(), 'podsec-bench-'));
  const certs = await generateCertificates({
    service: 'podsec-webhook',
    namespace: 'podsec-system',
    localhost: true,
  });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(certFile, certs.cert);
  writeFileSync(keyFile, certs.key, { mode: 0o600 });

  const loaded = loadConfigText(CONFIG, 'bench.yaml');
  if ('error' in loaded) throw loaded.error;
  const snapshot = { policy: compilePolicy(loaded.config), config: loaded.config };
  const labels = {
    'kubernetes.io/metadata.name': NAMESPACE,
    'pod-security.kubernetes.io/warn': 'restricted',
  };
  const handler = createAdmissionHandler({
    policy: () => snapshot,
    namespaceLabels: () => Promise.resolve(labels),
    podsInNamespace: () => [],
    now: () => Date.now(),
  });
  const health = new Health(['config', 'certificate', 'caches']);
  const webhook = await startWebhookServer({
    port: 0,
    host: '127.0.0.1',
    tlsCertFile: certFile,
    tlsKeyFile: keyFile,
    handler,
    metrics: new WebhookMetrics(),
    health,
    logger: silentLogger(),
  });
  // The same edge with a handler that allows at once: separates the HTTP/decode cost from the policy's.
  const edge = await startWebhookServer({
    port: 0,
    host: '127.0.0.1',
    tlsCertFile: certFile,
    tlsKeyFile: keyFile,
    handler: (request) =>
      Promise.resolve({
        response: { allowed: true },
        metrics: { kind: request.kind.kind, namespace: request.namespace, decision: 'allow', violations: [] },
      }),
    metrics: new WebhookMetrics(),
    health,
    logger: silentLogger(),
  });

  // The bare servers: "bare" reads the body and answers a canned AdmissionReview (no parsing);
  // "bare+parse" is the least a correct webhook does: JSON.parse the review and echo its uid.
  const canned = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true },
  });
  const bareServer = (parse: boolean): Server =>
    createServer({ cert: certs.cert, key: certs.key, minVersion: 'TLSv1.2' }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let answer = canned;
        if (parse) {
          const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: { uid: string } };
          answer = JSON.stringify({
            apiVersion: 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            response: { uid: r.request.uid, allowed: true },
          });
        }
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(answer),
        });
        res.end(answer);
      });
    });
  const listen = async (server: Server): Promise<number> => {
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  };
  const bare = bareServer(false);
  const bareParse = bareServer(true);
  const ports = {
    webhook: webhook.port,
    edge: edge.port,
    bare: await listen(bare),
    bareParse: await listen(bareParse),
  };
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  // Each line on stdin asks for the process's CPU time so far (user + system, microseconds).
  createInterface({ input: process.stdin }).on('line', () => {
    const u = process.cpuUsage();
    process.stdout.write(`${u.user + u.system}\n`);
  });
  process.stdin.on('end', () => {
    void Promise.all([webhook.close(), edge.close()]).then(() => {
      bare.close();
      bareParse.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const fromDist = args.includes('--dist');
  if (args.includes('--serve')) return serve(fromDist);
  const durationArg = args.indexOf('--duration');
  const duration = durationArg === -1 ? 10 : Number(args[durationArg + 1]);

  const require = createRequire(import.meta.url);
  const autocannon = require('autocannon') as Autocannon;
  const body = JSON.stringify(review());

  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--serve', ...(fromDist ? ['--dist'] : [])],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
  });
  const ports = JSON.parse(first) as { webhook: number; edge: number; bare: number; bareParse: number };

  // Check that podsec really evaluates the review (and allows it) before measuring.
  const check = await fetchOnce(ports.webhook, body);
  if (!check.includes('"allowed":true')) throw new Error(`unexpected webhook answer: ${check}`);

  const cpuNow = (): Promise<number> =>
    new Promise((resolve) => {
      lines.once('line', (l) => resolve(Number(l)));
      child.stdin.write('cpu\n');
    });
  /** One measurement, with the server process's CPU time per request (robust on a shared machine). */
  const run = async (
    port: number,
    connections: number,
    seconds: number,
  ): Promise<AutocannonResult & { cpuUs: number }> => {
    const before = await cpuNow();
    const r = await autocannon({
      url: `https://127.0.0.1:${port}/validate`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections,
      pipelining: 1,
      duration: seconds,
    });
    const used = (await cpuNow()) - before;
    return { ...r, cpuUs: used / Math.max(1, r.requests.total) };
  };

  process.stdout.write(
    `AdmissionReview: ${body.length} bytes (Pod, 3 containers, managedFields); ${duration} s per measurement; ` +
      `servers in one child process (podsec from ${fromDist ? 'dist/' : 'src/ through tsx'}), autocannon in this one (2 cores)\n\n`,
  );
  const rows: string[] = [];
  rows.push('server        conns    req/s   p50 ms   p99 ms  mean ms  server CPU us/req   non-2xx/errors');
  const ratios: string[] = [];
  const fmt = (name: string, connections: number, r: AutocannonResult & { cpuUs: number }): string =>
    `${name.padEnd(12)} ${String(connections).padStart(6)} ${r.requests.average.toFixed(0).padStart(8)} ` +
    `${r.latency.p50.toFixed(2).padStart(8)} ${r.latency.p99.toFixed(2).padStart(8)} ${r.latency.average.toFixed(2).padStart(8)} ${r.cpuUs.toFixed(1).padStart(18)}` +
    `   ${r.non2xx}/${r.errors + r.timeouts}`;
  const ratio = (
    connections: number,
    w: AutocannonResult & { cpuUs: number },
    b: AutocannonResult & { cpuUs: number },
    against: string,
  ): string => {
    const rps = w.requests.average / b.requests.average;
    const p99 = w.latency.p99 / Math.max(b.latency.p99, 0.001);
    const target =
      connections === 50
        ? `target <= 1.30x: ${p99 <= 1.3 ? 'met' : 'MISSED'}`
        : `target <= 5 ms: ${w.latency.p99 <= 5 ? 'met' : 'MISSED'}`;
    return (
      `${connections} connections vs ${against}: req/s ${rps.toFixed(2)}x (target >= 0.80: ${rps >= 0.8 ? 'met' : 'MISSED'}); ` +
      `p99 ${w.latency.p99.toFixed(2)} ms = ${p99.toFixed(2)}x (${target}); CPU per request ${(w.cpuUs / b.cpuUs).toFixed(2)}x`
    );
  };
  for (const connections of [10, 50]) {
    for (const port of [ports.bare, ports.bareParse, ports.edge, ports.webhook])
      await run(port, connections, 2); // warm-up
    const b = await run(ports.bare, connections, duration);
    const bp = await run(ports.bareParse, connections, duration);
    const e = await run(ports.edge, connections, duration);
    const w = await run(ports.webhook, connections, duration);
    rows.push(
      fmt('bare', connections, b),
      fmt('bare+parse', connections, bp),
      fmt('podsec edge', connections, e),
      fmt('podsec', connections, w),
    );
    ratios.push(ratio(connections, w, b, 'bare'), ratio(connections, w, bp, 'bare+parse'));
  }
  process.stdout.write(`${rows.join('\n')}\n\n${ratios.join('\n')}\n`);
  child.stdin.end();
  await new Promise((resolve) => child.once('exit', resolve));
}

function fetchOnce(port: number, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    import('node:https')
      .then(({ request }) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/validate',
            rejectUnauthorized: false,
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString('utf8')));
            res.on('end', () => resolve(text));
          },
        );
        req.on('error', reject);
        req.end(body);
      })
      .catch(reject);
  });
}

const invoked = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invoked)
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
