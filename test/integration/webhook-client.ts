/**
 * Test kit for the webhook: generated certificates in a temp dir, an HTTPS client that trusts
 * them, raw TLS sockets for misbehaving clients, and AdmissionReview builders. Loopback only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import {
  generateCertificates,
  writeFileAtomic,
  type GeneratedCertificates,
} from '../../src/lib/tls/index.js';

export interface CertDir {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly certs: GeneratedCertificates;
  /** Writes a new pair (same names) and returns it. */
  rotate(): Promise<GeneratedCertificates>;
  remove(): void;
}

export async function makeCertDir(): Promise<CertDir> {
  const dir = mkdtempSync(join(tmpdir(), 'podsec-webhook-'));
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  const gen = (): Promise<GeneratedCertificates> =>
    generateCertificates({ service: 'podsec-webhook', namespace: 'podsec-system', localhost: true });
  const certs = await gen();
  await writeFileAtomic(certFile, certs.cert);
  await writeFileAtomic(keyFile, certs.key, 0o600);
  return {
    dir,
    certFile,
    keyFile,
    certs,
    async rotate() {
      const next = await gen();
      await writeFileAtomic(keyFile, next.key, 0o600);
      await writeFileAtomic(certFile, next.cert);
      return next;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json(): unknown;
}

/** One HTTPS request (no keep-alive) that trusts every CA given. */
export function call(
  port: number,
  ca: string | string[],
  options: { method?: string; path?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        ca,
        agent: false,
        headers: options.headers ?? {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as unknown,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}

export function postReview(port: number, ca: string, body: unknown): Promise<Reply> {
  return call(port, ca, {
    method: 'POST',
    path: '/validate',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
}

/** A raw TLS socket (for slow clients and protocol tests). */
export function rawTls(
  port: number,
  ca: string,
  extra: {
    minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2';
    maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
    ciphers?: string;
  } = {},
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...extra }, () => resolve(s));
    s.once('error', reject);
  });
}

/** The fingerprint of the certificate the server presents. */
export async function servedFingerprint(port: number, ca: string[]): Promise<string> {
  const s = await new Promise<TLSSocket>((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => resolve(sock));
    sock.once('error', reject);
  });
  const fp = s.getPeerCertificate().fingerprint256;
  s.destroy();
  return fp;
}

export interface PodSpecLike {
  readonly privileged?: boolean;
  readonly containers?: number;
}

/** A pod as a Deployment's ReplicaSet creates it. */
export function makePodObject(name = 'web-7d9f8-abcde', opts: PodSpecLike = {}): Record<string, unknown> {
  const n = opts.containers ?? 3;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'app',
      labels: { app: 'web', 'pod-template-hash': '7d9f8' },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8', uid: 'rs-uid', controller: true },
      ],
    },
    spec: {
      serviceAccountName: 'web',
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: Array.from({ length: n }, (_, i) => ({
        name: `c${i}`,
        image: `registry.example/app/c${i}:1.2.${i}`,
        ports: [{ containerPort: 8080 + i }],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
        securityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          privileged: i === 0 && opts.privileged === true ? true : undefined,
          readOnlyRootFilesystem: true,
        },
        env: [{ name: 'MODE', value: 'production' }],
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      })),
      volumes: [{ name: 'tmp', emptyDir: {} }],
    },
  };
}

export function makeReview(uid: string, object: unknown, namespace = 'app'): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      name: 'web-7d9f8-abcde',
      namespace,
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        groups: ['system:serviceaccounts'],
      },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 8_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
