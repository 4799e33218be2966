/** The NMI's Azure flags: local mode never defaults to the real IMDS address; bad values name the flag. */
import { describe, expect, it } from 'vitest';
import { parseAzureNmiFlags } from './azure-options.js';

describe('parseAzureNmiFlags', () => {
  const cases: {
    name: string;
    flags: Parameters<typeof parseAzureNmiFlags>[0];
    imds?: string | null;
    authority?: string;
    error?: RegExp;
  }[] = [
    {
      name: 'local mode: no IMDS address',
      flags: { local: true },
      imds: null,
      authority: 'https://login.microsoftonline.com/',
    },
    {
      name: 'API-server mode: the Azure IMDS address by default',
      flags: { local: false },
      imds: '169.254.169.254:80',
    },
    { name: 'none disables it', flags: { local: false, imdsAddress: 'none' }, imds: null },
    {
      name: 'an explicit address in local mode',
      flags: { local: true, imdsAddress: '127.0.0.1:9999' },
      imds: '127.0.0.1:9999',
    },
    {
      name: 'authority host kept as given',
      flags: { local: true, authorityHost: 'https://127.0.0.1:8443/' },
      authority: 'https://127.0.0.1:8443/',
    },
    {
      name: 'address without port',
      flags: { local: true, imdsAddress: '127.0.0.1' },
      error: /--imds-address must be HOST:PORT/,
    },
    {
      name: 'plain-HTTP authority',
      flags: { local: true, authorityHost: 'http://login.example/' },
      error: /--authority-host must be an https:\/\/ URL/,
    },
    { name: 'not a URL', flags: { local: true, authorityHost: 'login' }, error: /--authority-host/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.error !== undefined) {
        expect(() => parseAzureNmiFlags(c.flags)).toThrow(c.error);
        return;
      }
      const s = parseAzureNmiFlags(c.flags);
      if (c.imds !== undefined)
        expect(s.imds === undefined ? null : `${s.imds.host}:${s.imds.port}`).toBe(c.imds);
      if (c.authority !== undefined) expect(s.authorityHost).toBe(c.authority);
    });
  }
});
