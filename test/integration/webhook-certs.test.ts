/**
 * `podsec certs`: files and modes, a chain openssl accepts, caBundle injection into manifests
 * (only webhooks pointing at our Service, comments kept), and --patch-webhooks through a
 * `--state` directory ClusterSource.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCerts } from '../../src/cli/commands/certs.js';
import { openClusterSource } from '../../src/kube/cluster-source/index.js';
import { PodsecError, UsageError } from '../../src/lib/errors.js';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'podsec-certs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quiet = { write: (): boolean => true };

function webhooksOf(text: string): { name: string; caBundle: string | undefined }[] {
  return parseAllDocuments(text).flatMap((d) => {
    const o = d.toJS() as { webhooks?: { name: string; clientConfig: { caBundle?: string } }[] } | null;
    return (o?.webhooks ?? []).map((w) => ({ name: w.name, caBundle: w.clientConfig.caBundle }));
  });
}

const foreign = `# someone else's webhook
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: other
webhooks:
  - name: other.example.com
    clientConfig:
      service: {name: other-webhook, namespace: other}
    admissionReviewVersions: [v1]
    sideEffects: None
  - name: ours.podsec.io
    clientConfig:
      service: {name: podsec-webhook, namespace: podsec-system}
    admissionReviewVersions: [v1]
    sideEffects: None
`;

describe('podsec certs', () => {
  it('writes ca.crt, tls.crt and tls.key (0600) that openssl verifies, and injects the CA', async () => {
    const out = join(dir, 'out');
    const manifest = join(dir, 'validating-webhooks.yaml');
    const mixed = join(dir, 'mixed.yaml');
    copyFileSync(join(root, 'deploy/base/validating-webhooks.yaml'), manifest);
    writeFileSync(mixed, foreign);
    const lines: string[] = [];
    const code = await runCerts(
      { service: 'podsec-webhook', namespace: 'podsec-system', out, days: '30', inject: [manifest, mixed] },
      { stdout: { write: (t: string) => lines.push(t) } },
    );
    expect(code).toBe(0);
    expect(statSync(join(out, 'tls.key')).mode & 0o777).toBe(0o600);
    const ca = readFileSync(join(out, 'ca.crt'), 'utf8');
    const leaf = new X509Certificate(readFileSync(join(out, 'tls.crt')));
    expect(leaf.checkHost('podsec-webhook.podsec-system.svc')).toBeDefined();
    expect(leaf.checkIssued(new X509Certificate(ca))).toBe(true);
    let opensslOk = true;
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
    } catch {
      opensslOk = false;
    }
    if (opensslOk) {
      const verdict = execFileSync(
        'openssl',
        ['verify', '-CAfile', join(out, 'ca.crt'), join(out, 'tls.crt')],
        {
          encoding: 'utf8',
        },
      );
      expect(verdict).toContain(': OK');
    }

    const bundle = Buffer.from(ca).toString('base64');
    const injected = readFileSync(manifest, 'utf8');
    expect(webhooksOf(injected)).toEqual([
      { name: 'enforce.podsec.io', caBundle: bundle },
      { name: 'advisory.podsec.io', caBundle: bundle },
    ]);
    expect(injected).toContain('# Two registrations, as the upstream pod-security-webhook ships them');
    expect(webhooksOf(readFileSync(mixed, 'utf8'))).toEqual([
      { name: 'other.example.com', caBundle: undefined },
      { name: 'ours.podsec.io', caBundle: bundle },
    ]);
    expect(lines.join('')).toContain('injected caBundle into 2 webhooks');
  });

  it('refuses to inject into a file with no webhook for the Service', async () => {
    const file = join(dir, 'nothing.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    await expect(
      runCerts(
        { service: 'podsec-webhook', namespace: 'podsec-system', out: join(dir, 'o2'), inject: [file] },
        { stdout: quiet },
      ),
    ).rejects.toThrow(PodsecError);
    expect(readFileSync(file, 'utf8')).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
  });

  it('patches the podsec registrations through a --state directory', async () => {
    const state = join(dir, 'state');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(state);
    copyFileSync(join(root, 'deploy/base/validating-webhooks.yaml'), join(state, 'webhooks.yaml'));
    writeFileSync(join(state, 'other.yaml'), foreign);
    const before = readFileSync(join(state, 'webhooks.yaml'), 'utf8');
    const out = join(dir, 'o3');
    expect(
      await runCerts(
        { service: 'podsec-webhook', namespace: 'podsec-system', out, patchWebhooks: true, state },
        { stdout: quiet },
      ),
    ).toBe(0);
    const bundle = Buffer.from(readFileSync(join(out, 'ca.crt'), 'utf8')).toString('base64');
    const source = await openClusterSource({ state });
    try {
      for (const name of ['podsec-enforce', 'podsec-advisory']) {
        const o = (await source.get({
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingWebhookConfiguration',
          name,
        })) as {
          webhooks: { clientConfig: { caBundle?: string } }[];
        };
        expect(o.webhooks.map((w) => w.clientConfig.caBundle)).toEqual([bundle]);
      }
      // not labelled app.kubernetes.io/name=podsec: untouched
      const other = (await source.get({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        name: 'other',
      })) as {
        webhooks: { clientConfig: { caBundle?: string } }[];
      };
      expect(other.webhooks.map((w) => w.clientConfig.caBundle)).toEqual([undefined, undefined]);
    } finally {
      await source.close();
    }
    expect(readFileSync(join(state, 'webhooks.yaml'), 'utf8')).toBe(before); // the user's files stay as they were
  });

  it.each([
    { name: 'days 0', opts: { days: '0' }, message: /--days/ },
    { name: 'days not a number', opts: { days: 'a year' }, message: /--days/ },
    { name: 'bad algorithm', opts: { algorithm: 'dsa' }, message: /--algorithm/ },
    { name: 'service not a DNS label', opts: { service: 'Podsec_Webhook' }, message: /--service/ },
    { name: '--state without --patch-webhooks', opts: { state: dir }, message: /--patch-webhooks/ },
    {
      name: '--state with --kubeconfig',
      opts: { state: dir, kubeconfig: 'k', patchWebhooks: true },
      message: /cannot be combined/,
    },
  ])('usage error: $name', async ({ opts, message }) => {
    const run = runCerts(
      { service: 'podsec-webhook', namespace: 'podsec-system', out: join(dir, 'never'), ...opts },
      { stdout: quiet },
    );
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(message);
  });
});
