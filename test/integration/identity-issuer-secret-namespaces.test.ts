/**
 * `podsec identity issuer --secret-namespace`, in process over a --state directory: an identity
 * whose Secret is in a listed namespace is served (a client secret buys a token), one whose Secret
 * is in another namespace is refused with a warning naming the identity, the Secret and the flag
 * (never the secret), and bad flag values are usage errors. Loopback only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSecretNamespaces, type RunningIssuer } from '../../src/cli/commands/identity-issuer.js';
import { UsageError } from '../../src/lib/errors.js';
import {
  clientSecretYaml,
  requestToken,
  spIdentityYaml,
  startStateIssuer,
  type StateIssuer,
} from '../support/state-issuer.js';

const identityYaml = (name: string, secretNs: string): string =>
  spIdentityYaml({ name, clientID: name, secretName: `${name}-secret`, secretNamespace: secretNs });
const secretYaml = clientSecretYaml;

let running: StateIssuer;
let issuer: RunningIssuer;
const logLines = (): string => running.logs();
const token = async (clientId: string, secret: string): Promise<number> =>
  (await requestToken(running, clientId, secret)).status;

beforeAll(async () => {
  running = await startStateIssuer(
    'podsec-issuer-secret-ns-',
    {
      'identities.yaml': [
        identityYaml('local', 'app'),
        secretYaml('local-secret', 'app', 'local-value'),
        identityYaml('remote', 'shared'),
        secretYaml('remote-secret', 'shared', 'remote-value'),
      ].join('---\n'),
    },
    () => ({ secretNamespaces: ['app', 'ops'] }),
  );
  ({ issuer } = running);
}, 30_000);

afterAll(async () => {
  await running.close();
});

describe('podsec identity issuer --secret-namespace', () => {
  it('serves the identity whose Secret is in a listed namespace', async () => {
    expect(issuer.feed.identities().map((i) => i.name)).toEqual(['local']);
    expect(await token('local', 'local-value')).toBe(200);
  });

  it('refuses the identity whose Secret is elsewhere, with a log naming it, the Secret and the flag', async () => {
    expect(await token('remote', 'remote-value')).toBe(400); // unknown client, as Azure AD answers
    const refusal = logLines()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['msg'] === 'AzureIdentity refused: not served' && l['identity'] === 'app/remote');
    expect(refusal?.['level']).toBe('warn');
    const text = JSON.stringify(refusal);
    expect(text).toContain('Secret shared/remote-secret');
    expect(text).toContain('--secret-namespace app, ops');
    expect(logLines()).not.toContain('remote-value');
    expect(logLines()).toContain('reading Secrets only in these namespaces');
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
