import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCertificates, servingNames, type KeyAlgorithm } from './generate.js';
import { checkKeyPair } from './key-pair.js';

const dir = mkdtempSync(join(tmpdir(), 'podsec-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function handshake(server: Server, ca: string, servername: string): Promise<string | null> {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: address.port, ca, servername }, () => {
      socket.end();
      resolve(null);
    });
    socket.on('error', (err) => resolve(err.message));
  });
}

describe('servingNames', () => {
  it.each([
    {
      name: 'service names only',
      req: { service: 'web', namespace: 'ns' },
      dns: ['web', 'web.ns', 'web.ns.svc', 'web.ns.svc.cluster.local'],
      ips: [] as string[],
    },
    {
      name: 'localhost adds loopback names',
      req: { service: 'web', namespace: 'ns', localhost: true },
      dns: ['web', 'web.ns', 'web.ns.svc', 'web.ns.svc.cluster.local', 'localhost'],
      ips: ['127.0.0.1', '::1'],
    },
    {
      name: 'extra names split into DNS and IP',
      req: { service: 'web', namespace: 'ns', extraNames: ['hook.example', '10.0.0.9', 'web.ns'] },
      dns: ['web', 'web.ns', 'web.ns.svc', 'web.ns.svc.cluster.local', 'hook.example'],
      ips: ['10.0.0.9'],
    },
  ])('$name', ({ req, dns, ips }) => {
    expect(servingNames(req)).toEqual({ dnsNames: dns, ipAddresses: ips });
  });
});

describe('generateCertificates', () => {
  const algorithms: KeyAlgorithm[] = ['ecdsa-p256', 'rsa-2048'];

  it.each(algorithms)(
    '%s: a CA and a serving certificate that node and openssl accept',
    async (algorithm) => {
      const g = await generateCertificates({
        service: 'podsec-webhook',
        namespace: 'podsec-system',
        days: 30,
        localhost: true,
        algorithm,
      });
      const ca = new X509Certificate(g.caCert);
      const leaf = new X509Certificate(g.cert);
      expect(ca.ca).toBe(true);
      expect(leaf.ca).toBe(false);
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.checkHost('podsec-webhook.podsec-system.svc')).toBe('podsec-webhook.podsec-system.svc');
      expect(leaf.checkHost('podsec-webhook.podsec-system.svc.cluster.local')).toBeDefined();
      expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(leaf.checkHost('other.podsec-system.svc')).toBeUndefined();
      const days = (new Date(leaf.validTo).getTime() - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(29.9);
      expect(days).toBeLessThan(30.1);
      expect(checkKeyPair(g.cert, g.key).ok).toBe(true);

      if (hasOpenssl()) {
        const caFile = join(dir, `${algorithm}-ca.crt`);
        const certFile = join(dir, `${algorithm}-tls.crt`);
        writeFileSync(caFile, g.caCert);
        writeFileSync(certFile, g.cert);
        const out = execFileSync(
          'openssl',
          ['verify', '-CAfile', caFile, '-purpose', 'sslserver', certFile],
          {
            encoding: 'utf8',
          },
        );
        expect(out.trim()).toBe(`${certFile}: OK`);
      }

      const server = createServer({ cert: g.cert, key: g.key, minVersion: 'TLSv1.2' }, (_q, s) => s.end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        expect(await handshake(server, g.caCert, 'podsec-webhook.podsec-system.svc')).toBeNull();
        expect(await handshake(server, g.caCert, 'wrong.podsec-system.svc')).toMatch(/altnames|Hostname/i);
        const other = await generateCertificates({ service: 'x', namespace: 'y' });
        expect(await handshake(server, other.caCert, 'podsec-webhook.podsec-system.svc')).toMatch(
          /self.signed|unable to verify|local issuer/i,
        );
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );

  it.each([0, -1, 1.5, 5000])('refuses days=%s', async (days) => {
    await expect(generateCertificates({ service: 's', namespace: 'n', days })).rejects.toThrow(RangeError);
  });
});

describe('checkKeyPair', () => {
  it('names what is wrong', async () => {
    const a = await generateCertificates({ service: 'a', namespace: 'n' });
    const b = await generateCertificates({ service: 'b', namespace: 'n' });
    const cases = [
      { name: 'matching', cert: a.cert, key: a.key, want: null },
      { name: 'garbage cert', cert: 'nope', key: a.key, want: /certificate does not parse/ },
      { name: 'garbage key', cert: a.cert, key: 'nope', want: /private key does not parse/ },
      { name: 'mismatched', cert: a.cert, key: b.key, want: /does not belong/ },
    ];
    for (const c of cases) {
      const r = checkKeyPair(c.cert, c.key);
      if (c.want === null) expect(r.ok, c.name).toBe(true);
      else expect(r.ok ? '' : r.message, c.name).toMatch(c.want);
    }
    const expired = checkKeyPair(a.cert, a.key, new Date(Date.now() + 400 * 86_400_000));
    expect(expired.ok ? '' : expired.message).toMatch(/expired/);
  });
});
