/**
 * `podsec identity issuer` as a real process (the built CLI): it serves over HTTPS with --state,
 * turns ready, and on SIGTERM stops gracefully with exit code 0 and no stack trace. Loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { generateCertificates } from '../../src/lib/tls/index.js';
import { httpsStatus } from '../support/https-status.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = `${root}dist/cli/main.js`;

const get = httpsStatus;

describe.skipIf(!existsSync(bin))('podsec identity issuer process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'podsec-issuer-proc-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves with --state and stops gracefully on SIGTERM', async () => {
    const certs = await generateCertificates({ service: 'issuer', namespace: 'podsec', localhost: true });
    writeFileSync(join(dir, 'tls.crt'), certs.cert);
    writeFileSync(join(dir, 'tls.key'), certs.key);
    mkdirSync(join(dir, 'state'));
    const args = [
      'identity',
      'issuer',
      '--tls-cert',
      join(dir, 'tls.crt'),
      '--tls-key',
      join(dir, 'tls.key'),
    ];
    const proc = spawn(process.execPath, [bin, ...args, '--port', '0', '--state', join(dir, 'state')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

    const port = await vi.waitFor(
      () => {
        const m = /"port":(\d+)[^\n]*"msg":"issuer listening"/.exec(stderr);
        if (m === null) throw new Error('not listening yet');
        return Number(m[1]);
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(await get(port, certs.caCert, '/healthz')).toBe(200);
    await vi.waitFor(async () => expect(await get(port, certs.caCert, '/readyz')).toBe(200), {
      timeout: 10_000,
      interval: 100,
    });

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('"msg":"issuer stopped"');
    expect(stderr).not.toContain('    at ');
  }, 30_000);
});
