/** The AzureIdentity + Secret -> issuer identity mapping: what is served, refused and skipped, and why. */
import { describe, expect, it } from 'vitest';
import { generateCertificates } from '../../lib/tls/index.js';
import type { KubeObject } from '../../kube/types.js';
import { mapIdentities, secretValue, type SecretLookup } from './sources.js';

const TENANT = 'contoso.onmicrosoft.com';

function identity(name: string, spec: Record<string, unknown>, namespace = 'app'): KubeObject {
  return {
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentity',
    metadata: { name, namespace },
    spec,
  };
}
function sp(clientID: string, secret: string, type = 1): Record<string, unknown> {
  return { type, clientID, tenantID: TENANT, clientPassword: { name: secret, namespace: 'app' } };
}
function secret(name: string, fields: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'app' }, ...fields };
}
function lookup(...secrets: KubeObject[]): SecretLookup {
  return (ns, name) => secrets.find((s) => s.metadata?.namespace === ns && s.metadata.name === name);
}
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

describe('secretValue', () => {
  const cases: [string, KubeObject, ReturnType<typeof secretValue>][] = [
    ['base64 data', secret('s', { data: { clientSecret: b64('p@ss') } }), { ok: true, value: 'p@ss' }],
    [
      'stringData wins over data',
      secret('s', { stringData: { clientSecret: 'plain' }, data: { clientSecret: b64('x') } }),
      { ok: true, value: 'plain' },
    ],
    [
      'missing key',
      secret('s', { data: { other: b64('x') } }),
      { ok: false, message: 'has no "clientSecret" key' },
    ],
    ['no data at all', secret('s', {}), { ok: false, message: 'has no "clientSecret" key' }],
    [
      'data that is not base64',
      secret('s', { data: { clientSecret: 'not base64!' } }),
      { ok: false, message: 'data.clientSecret is not base64' },
    ],
    [
      'a non-string value',
      secret('s', { data: { clientSecret: 42 } }),
      { ok: false, message: '"clientSecret" is not a string' },
    ],
  ];
  it.each(cases)('%s', (_name, s, want) => {
    expect(secretValue(s, 'clientSecret')).toEqual(want);
  });
});

describe('mapIdentities', () => {
  it('serves a type 1 identity with its decoded client secret', () => {
    const m = mapIdentities(
      [identity('reporting', sp('reporting', 'rs'))],
      lookup(secret('rs', { data: { clientSecret: b64('s3cret') } })),
    );
    expect(m.identities).toEqual([
      { namespace: 'app', name: 'reporting', clientId: 'reporting', tenantId: TENANT, secret: 's3cret' },
    ]);
    expect(m.refused).toEqual([]);
  });

  it('serves a type 2 identity with the PEM certificate, refuses one whose certificate is not PEM', async () => {
    const certs = await generateCertificates({ service: 'x', namespace: 'app' });
    const m = mapIdentities(
      [identity('cert-ok', sp('cert-ok', 'good', 2)), identity('cert-bad', sp('cert-bad', 'bad', 2))],
      lookup(
        secret('good', { data: { certificate: b64(certs.cert) } }),
        secret('bad', { stringData: { certificate: 'hello' } }),
      ),
    );
    expect(m.identities).toEqual([
      {
        namespace: 'app',
        name: 'cert-ok',
        clientId: 'cert-ok',
        tenantId: TENANT,
        certificatePem: certs.cert,
      },
    ]);
    expect(m.refused).toEqual([
      {
        namespace: 'app',
        name: 'cert-bad',
        problems: [
          { path: 'spec.clientPassword', message: 'Secret app/bad "certificate" is not a PEM certificate' },
        ],
      },
    ]);
  });

  const refusals: [string, KubeObject, KubeObject[], string][] = [
    [
      'invalid spec (no tenant)',
      identity('x', { type: 1, clientID: 'x', clientPassword: { name: 's', namespace: 'app' } }),
      [],
      'spec.tenantID',
    ],
    ['unknown type', identity('x', { ...sp('x', 's'), type: 7 }), [], 'spec.type'],
    ['missing Secret', identity('x', sp('x', 'nope')), [], 'spec.clientPassword'],
    [
      'Secret without the key',
      identity('x', sp('x', 's')),
      [secret('s', { data: { password: b64('p') } })],
      'spec.clientPassword',
    ],
  ];
  it.each(refusals)('refuses: %s, naming the field', (_name, obj, secrets, path) => {
    const m = mapIdentities([obj], lookup(...secrets));
    expect(m.identities).toEqual([]);
    expect(m.refused).toHaveLength(1);
    expect(m.refused[0]?.problems.map((p) => p.path)).toContain(path);
  });

  it('skips type 0 managed identities without refusing them', () => {
    const msi = identity('msi', {
      type: 0,
      clientID: '11111111-1111-1111-1111-111111111111',
      resourceID:
        '/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/n',
    });
    const m = mapIdentities([msi], lookup());
    expect(m).toMatchObject({ identities: [], refused: [], skipped: [{ namespace: 'app', name: 'msi' }] });
  });

  // A client id claimed twice: every claimant is refused (the controller and the mint path apply
  // the same rule), whatever the input order, and the reason names the objects, never a secret.
  const s = [
    secret('s1', { stringData: { clientSecret: 'one' } }),
    secret('s2', { stringData: { clientSecret: 'two' } }),
  ];
  const a = identity('a', sp('dup', 's1'));
  const duplicates: [string, KubeObject, string[], string][] = [
    ['same namespace and tenant', identity('b', sp('dup', 's2')), ['a', 'b'], 'app/a, app/b'],
    ['another namespace', identity('b', sp('dup', 's2'), 'evil'), ['a', 'b'], 'app/a, evil/b'],
    [
      'another tenant',
      identity('b', { ...sp('dup', 's2'), tenantID: 'other.onmicrosoft.com' }, 'evil'),
      ['a', 'b'],
      'app/a, evil/b',
    ],
    ['another letter case', identity('b', sp('DUP', 's2'), 'evil'), ['a', 'b'], 'app/a, evil/b'],
    [
      'a type 0 copy (not served here, still a claim)',
      identity('b', { type: 0, clientID: 'dup', resourceID: '/subscriptions/s/x' }, 'evil'),
      ['a', 'b'],
      'app/a, evil/b',
    ],
    [
      'a malformed copy (no tenant): the original is still refused',
      identity('b', { type: 1, clientID: 'dup' }, 'evil'),
      ['a', 'b'],
      'app/a, evil/b',
    ],
  ];
  it.each(duplicates)('a client id claimed twice (%s): nobody is served', (_name, b, names, says) => {
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const m = mapIdentities(order, lookup(...s));
      expect(m.identities).toEqual([]);
      expect(m.refused.map((r) => r.name).sort()).toEqual(names);
      const reason = JSON.stringify(m.refused.find((r) => r.name === 'a'));
      expect(reason).toContain(`claimed by more than one AzureIdentity (${says})`);
      expect(reason).not.toMatch(/"(one|two)"/); // the secrets
    }
  });
});
