/**
 * `--token-provider` flag checking: which provider is chosen, and that flags belonging to another
 * provider are refused (exit 2) instead of silently ignored.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/errors.js';
import { parseTokenProviderChoice, type TokenProviderFlags } from './identity-nmi-provider.js';

const REMOTE = {
  issuerCa: '/etc/podsec/issuer-ca.crt',
  clientCert: '/etc/podsec/nmi.crt',
  clientKey: '/etc/podsec/nmi.key',
};

describe('parseTokenProviderChoice', () => {
  const chosen: { name: string; flags: TokenProviderFlags; kind: string; url?: string }[] = [
    { name: 'issuer-local (default)', flags: { tokenProvider: 'issuer-local' }, kind: 'issuer-local' },
    {
      name: 'issuer-local with --keys-dir',
      flags: { tokenProvider: 'issuer-local', keysDir: '/var/lib/podsec/keys' },
      kind: 'issuer-local',
    },
    {
      name: 'issuer=URL with its TLS files',
      flags: { tokenProvider: 'issuer=https://podsec-issuer.podsec-system.svc:8444', ...REMOTE },
      kind: 'issuer',
      url: 'https://podsec-issuer.podsec-system.svc:8444/',
    },
  ];
  it.each(chosen)('chooses $name', (c) => {
    const got = parseTokenProviderChoice(c.flags);
    expect(got.kind).toBe(c.kind);
    if (c.url !== undefined) expect(got.kind === 'issuer' && got.url.href).toBe(c.url);
  });

  it('chooses issuer=URL with a ServiceAccount token instead of a certificate', () => {
    expect(
      parseTokenProviderChoice({
        tokenProvider: 'issuer=https://issuer:8444',
        issuerCa: 'a',
        issuerTokenFile: '/var/run/secrets/podsec/token',
      }).kind,
    ).toBe('issuer');
  });

  const refused: { name: string; flags: TokenProviderFlags; says: RegExp }[] = [
    { name: 'an unknown kind', flags: { tokenProvider: 'vault' }, says: /must be issuer-local, issuer=/ },
    {
      name: 'issuer= over http',
      flags: { tokenProvider: 'issuer=http://issuer:8444', ...REMOTE },
      says: /https/,
    },
    { name: 'issuer= without a URL', flags: { tokenProvider: 'issuer=', ...REMOTE }, says: /not a URL/ },
    {
      name: 'issuer=URL without the client key',
      flags: { tokenProvider: 'issuer=https://issuer:8444', issuerCa: 'a', clientCert: 'b' },
      says: /--client-cert and --client-key go together/,
    },
    {
      name: 'issuer=URL without any node credential',
      flags: { tokenProvider: 'issuer=https://issuer:8444', issuerCa: 'a' },
      says: /or --issuer-token-file/,
    },
    {
      name: 'issuer=URL without --issuer-ca',
      flags: { tokenProvider: 'issuer=https://issuer:8444', clientCert: 'b', clientKey: 'c' },
      says: /needs --issuer-ca/,
    },
    {
      name: 'issuer=URL with --keys-dir',
      flags: { tokenProvider: 'issuer=https://issuer:8444', ...REMOTE, keysDir: '/k' },
      says: /--keys-dir only applies/,
    },
    {
      name: 'issuer-local with --client-cert',
      flags: { tokenProvider: 'issuer-local', clientCert: 'b' },
      says: /--client-cert only apply to --token-provider issuer=URL/,
    },
  ];
  it.each(refused)('refuses $name', (c) => {
    let err: unknown;
    try {
      parseTokenProviderChoice(c.flags);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(c.says);
  });
});
