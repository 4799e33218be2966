/**
 * `podsec identity issuer` started in process over a --state directory on loopback HTTPS, with the
 * YAML of AzureIdentity objects and their Secrets, a JSON log collected in memory, and a small
 * HTTPS client that trusts the test CA: the set-up the in-process issuer tests share.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  startIdentityIssuer,
  type IdentityIssuerOptions,
  type RunningIssuer,
} from '../../src/cli/commands/identity-issuer.js';
import { generateCertificates } from '../../src/lib/tls/index.js';
import { createLogger } from '../../src/observability/logger.js';

export const ISSUER_TENANT = 'contoso.onmicrosoft.com';

/** A service-principal AzureIdentity (type 1) in namespace `app` whose secret is in `secretNamespace`. */
export function spIdentityYaml(o: {
  name: string;
  clientID: string;
  secretName: string;
  secretNamespace: string;
  extra?: string;
}): string {
  return `apiVersion: aadpodidentity.k8s.io/v1
kind: AzureIdentity
metadata:
  name: ${o.name}
  namespace: app
spec:
  type: 1
  clientID: ${o.clientID}
  tenantID: ${ISSUER_TENANT}
  clientPassword:
    name: ${o.secretName}
    namespace: ${o.secretNamespace}
${o.extra ?? ''}`;
}

/** A Secret holding `clientSecret: value`. */
export function clientSecretYaml(name: string, namespace: string, value: string): string {
  return `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
  namespace: ${namespace}
data:
  clientSecret: ${Buffer.from(value, 'utf8').toString('base64')}
`;
}

export interface StateIssuer {
  /** The temporary directory: tls.crt, tls.key and state/. */
  readonly dir: string;
  readonly ca: string;
  readonly issuer: RunningIssuer;
  /** Everything logged so far (JSON lines, level info and above). */
  logs(): string;
  /** Stops the issuer and removes the directory. */
  close(): Promise<void>;
}

/**
 * Writes a test certificate and `files` (name -> YAML) into a fresh state directory, then starts
 * the issuer on 127.0.0.1 (an ephemeral port) with the options `options(dir)` adds and waits until
 * it has synced.
 */
export async function startStateIssuer(
  prefix: string,
  files: Readonly<Record<string, string>>,
  options: (dir: string) => Partial<IdentityIssuerOptions>,
): Promise<StateIssuer> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const state = join(dir, 'state');
  const certs = await generateCertificates({ service: 'issuer', namespace: 'podsec', localhost: true });
  writeFileSync(join(dir, 'tls.crt'), certs.cert);
  writeFileSync(join(dir, 'tls.key'), certs.key);
  mkdirSync(state);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(state, name), text);
  let logLines = '';
  const out = new PassThrough();
  out.on('data', (c: Buffer) => (logLines += c.toString('utf8')));
  const issuer = await startIdentityIssuer(
    {
      tlsCert: join(dir, 'tls.crt'),
      tlsKey: join(dir, 'tls.key'),
      port: '0',
      host: '127.0.0.1',
      state,
      ...options(dir),
    },
    { logger: createLogger({ level: 'info', destination: out }) },
  );
  await issuer.feed.synced;
  return {
    dir,
    ca: certs.caCert,
    issuer,
    logs: () => logLines,
    close: async () => {
      await issuer.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  body: string;
}

/** GET `path` (or POST `form` as a urlencoded body) to the issuer, trusting its test CA. */
export function callIssuer(s: StateIssuer, path: string, form?: Record<string, string>): Promise<Reply> {
  const body = form === undefined ? undefined : new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: s.issuer.port,
        path,
        method: body === undefined ? 'GET' : 'POST',
        ca: s.ca,
        servername: 'localhost',
        headers: body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A client_credentials token request for scope `api://orders/.default`. */
export function requestToken(s: StateIssuer, clientId: string, secret: string): Promise<Reply> {
  return callIssuer(s, `/${ISSUER_TENANT}/oauth2/v2.0/token`, {
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: secret,
    scope: 'api://orders/.default',
  });
}
