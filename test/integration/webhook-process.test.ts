/**
 * The built `podsec webhook` as a process, with `--state` on a temp dir: it becomes ready,
 * answers a real AdmissionReview, and on SIGTERM turns not ready while still answering through
 * its shutdown delay, then stops cleanly (exit 0).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  call,
  makeCertDir,
  makePodObject,
  makeReview,
  postReview,
  waitFor,
  type CertDir,
} from './webhook-client.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = `${root}dist/cli/main.js`;

describe.skipIf(!existsSync(bin))('podsec webhook process', () => {
  let certs: CertDir | undefined;
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
    certs?.remove();
  });

  it('serves with --state, answers a review, and stops gracefully on SIGTERM', async () => {
    certs = await makeCertDir();
    const state = join(certs.dir, 'state');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(state);
    writeFileSync(
      join(state, 'namespaces.yaml'),
      [
        'apiVersion: v1',
        'kind: Namespace',
        'metadata:',
        '  name: app',
        '  labels:',
        '    kubernetes.io/metadata.name: app',
        '    pod-security.kubernetes.io/enforce: restricted',
        '',
      ].join('\n'),
    );
    child = spawn(
      process.execPath,
      [
        bin,
        'webhook',
        '--tls-cert',
        certs.certFile,
        '--tls-key',
        certs.keyFile,
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--state',
        state,
        '--shutdown-delay',
        '1500ms',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));

    const port = await waitFor(() => {
      for (const line of stderr.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'webhook listening') return Promise.resolve(entry.port);
      }
      return Promise.resolve(undefined);
    }, 15_000);
    const ca = certs.certs.caCert;
    await waitFor(
      async () => ((await call(port, ca, { path: '/readyz' })).status === 200 ? true : undefined),
      15_000,
    );

    const pod = { ...makePodObject('p', { privileged: true }), metadata: { name: 'p', namespace: 'app' } };
    const r = await postReview(port, ca, makeReview('proc-1', pod));
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ response: { uid: 'proc-1', allowed: false, status: { code: 403 } } });

    const ok = await postReview(port, ca, makeReview('proc-2', makePodObject()));
    expect(ok.json()).toMatchObject({ response: { uid: 'proc-2', allowed: true } });

    child.kill('SIGTERM');
    const unready = await waitFor(async () => {
      const r = await call(port, ca, { path: '/readyz' });
      return r.status === 503 ? r : undefined;
    });
    expect(unready.json()).toMatchObject({ status: 'not ready' });
    const during = await postReview(port, ca, makeReview('proc-3', makePodObject()));
    expect(during.json()).toMatchObject({ response: { uid: 'proc-3', allowed: true } });
    expect(await exited).toBe(0);
    expect(stderr).toContain('"msg":"webhook stopped"');
    expect(stderr).not.toContain('    at '); // no stack traces
  });
});
