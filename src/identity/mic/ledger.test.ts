/** The ledger of identities podsec added: ConfigMap round trip (directory source) and safe decoding. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDirectorySource } from '../../kube/cluster-source/directory.js';
import { configMapLedger, decodeLedger, LEDGER_CONFIGMAP } from './ledger.js';

describe('configMapLedger', () => {
  it('saves, updates and loads the entries (normalized) through a ClusterSource', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podsec-ledger-'));
    const source = createDirectorySource(dir);
    try {
      const ledger = configMapLedger(source, 'podsec-system');
      expect(await ledger.load()).toEqual(new Map());
      await ledger.save(new Map([['/subscriptions/s/vm', new Set(['/ID/A'])]]));
      await ledger.save(
        new Map([
          ['/subscriptions/s/vm', new Set(['/id/a', '/id/b'])],
          ['/subscriptions/s/empty', new Set<string>()],
        ]),
      );
      expect(await ledger.load()).toEqual(new Map([['/subscriptions/s/vm', new Set(['/id/a', '/id/b'])]]));
      const cm = await source.get({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: 'podsec-system',
        name: LEDGER_CONFIGMAP,
      });
      expect(cm?.metadata?.labels).toEqual({ 'app.kubernetes.io/managed-by': 'podsec' });
    } finally {
      await source.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('decodeLedger', () => {
  it.each([
    ['absent', undefined, 0],
    ['not JSON', '{', 0],
    ['an array', '[]', 0],
    ['wrong value types', '{"a": "x", "b": [1]}', 0],
    ['one entry, mixed case', '{"/Subs/VM": ["/Id/A", 3]}', 1],
  ] as const)('%s', (_n, text, size) => {
    const out = decodeLedger(text);
    expect(out.size).toBe(size);
    if (size === 1) expect(out.get('/subs/vm')).toEqual(new Set(['/id/a']));
  });
});
