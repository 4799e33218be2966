/**
 * `podsec identity issuer --secret-namespace`, in process over a --state directory: an identity
 * whose Secret is in a listed namespace is served (a client secret buys a token), one whose Secret
 * is in another namespace is refused with a warning naming the identity, the Secret and the flag
 * (never the secret), and bad flag values are usage errors. Loopback only.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseSecretNamespaces,
  startIdentityIssuer,
  type RunningIssuer,
} from '../../src/cli/commands/identity-issuer.js';
import { UsageError } from '../../src/lib/errors.js';
import { generateCertificates } from '../../src/lib/tls/index.js';
import { createLogger } from '../../src/observability/logger.js';

const TENANT = 'contoso.onmicrosoft.com';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function identityYaml(name: string, secretNs: string): string {
  return `apiVersion: aadpodidentity.k8s.io/v1
kind: AzureIdentity
metadata:
  name: ${name}
  namespace: app
spec:
  type: 1
  clientID: ${name}
  tenantID: ${TENANT}
  clientPassword:
    name: ${name}-secret
    namespace: ${secretNs}
`;
}
function secretYaml(name: string, namespace: string, value: string): string {
  return `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
  namespace: ${namespace}
data:
  clientSecret: ${b64(value)}
`;
}

let dir: string;
let ca: string;
let issuer: RunningIssuer;
let logLines = '';

function token(clientId: string, secret: string): Promise<number> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: secret,
    scope: 'api://orders/.default',
  }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: issuer.port,
        path: `/${TENANT}/oauth2/v2.0/token`,
        method: 'POST',
        ca,
        servername: 'localhost',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'podsec-issuer-secret-ns-'));
  const state = join(dir, 'state');
  const certs = await generateCertificates({ service: 'issuer', namespace: 'podsec', localhost: true });
  ca = certs.caCert;
  writeFileSync(join(dir, 'tls.crt'), certs.cert);
  writeFileSync(join(dir, 'tls.key'), certs.key);
  mkdirSync(state);
  writeFileSync(
    join(state, 'identities.yaml'),
    [
      identityYaml('local', 'app'),
      secretYaml('local-secret', 'app', 'local-value'),
      identityYaml('remote', 'shared'),
      secretYaml('remote-secret', 'shared', 'remote-value'),
    ].join('---\n'),
  );
  const out = new PassThrough();
  out.on('data', (c: Buffer) => (logLines += c.toString('utf8')));
  issuer = await startIdentityIssuer(
    {
      tlsCert: join(dir, 'tls.crt'),
      tlsKey: join(dir, 'tls.key'),
      port: '0',
      host: '127.0.0.1',
      state,
      secretNamespaces: ['app', 'ops'],
    },
    { logger: createLogger({ level: 'info', destination: out }) },
  );
  await issuer.feed.synced;
}, 30_000);

afterAll(async () => {
  await issuer.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('podsec identity issuer --secret-namespace', () => {
  it('serves the identity whose Secret is in a listed namespace', async () => {
    expect(issuer.feed.identities().map((i) => i.name)).toEqual(['local']);
    expect(await token('local', 'local-value')).toBe(200);
  });

  it('refuses the identity whose Secret is elsewhere, with a log naming it, the Secret and the flag', async () => {
    expect(await token('remote', 'remote-value')).toBe(400); // unknown client, as Azure AD answers
    const refusal = logLines
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['msg'] === 'AzureIdentity refused: not served' && l['identity'] === 'app/remote');
    expect(refusal?.['level']).toBe('warn');
    const text = JSON.stringify(refusal);
    expect(text).toContain('Secret shared/remote-secret');
    expect(text).toContain('--secret-namespace app, ops');
    expect(logLines).not.toContain('remote-value');
    expect(logLines).toContain('reading Secrets only in these namespaces');
  });

  const flags: [string, string[] | undefined, string[] | string][] = [
    ['absent', undefined, []],
    ['repeated and comma-separated, deduplicated and sorted', ['ops', 'app,ops'], ['app', 'ops']],
    ['an upper-case name', ['Apps'], '--secret-namespace must be a namespace name, got "Apps"'],
    ['an empty item', ['app,'], '--secret-namespace must be a namespace name, got ""'],
    ['a name with a slash', ['a/b'], '--secret-namespace must be a namespace name, got "a/b"'],
  ];
  it.each(flags)('--secret-namespace %s', (_name, values, want) => {
    if (typeof want === 'string') {
      expect(() => parseSecretNamespaces(values)).toThrow(UsageError);
      expect(() => parseSecretNamespaces(values)).toThrow(want);
    } else {
      expect(parseSecretNamespaces(values)).toEqual(values === undefined ? undefined : want);
    }
  });
});
