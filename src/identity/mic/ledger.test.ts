/**
 * The ledger of identities podsec added: ConfigMap round trip (directory source), decoding, and
 * corrupt content reported (never read as an empty ledger, which a save would then overwrite).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDirectorySource } from '../../kube/cluster-source/directory.js';
import { configMapLedger, decodeLedger, LEDGER_CONFIGMAP, LedgerCorruptError } from './ledger.js';

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
    ['absent: an empty ledger', undefined, 0],
    ['an empty object', '{}', 0],
    ['one entry, mixed case', '{"/Subs/VM": ["/Id/A"]}', 1],
  ] as const)('%s', (_n, text, size) => {
    const out = decodeLedger(text);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.entries.size).toBe(size);
    if (size === 1) expect(out.entries.get('/subs/vm')).toEqual(new Set(['/id/a']));
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['a string value', '{"a": "x"}', /not a list of identity IDs/],
    ['a number among the IDs', '{"/subs/vm": ["/id/a", 3]}', /not a list of identity IDs/],
  ] as const)('corrupt, never read as empty: %s', (_n, text, reason) => {
    const out = decodeLedger(text);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.reason).toMatch(reason);
  });
});

describe('configMapLedger with corrupt content', () => {
  it('load throws LedgerCorruptError naming the ConfigMap and leaves it unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podsec-ledger-'));
    const source = createDirectorySource(dir);
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'podsec-system', name: LEDGER_CONFIGMAP };
    try {
      await source.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: LEDGER_CONFIGMAP, namespace: 'podsec-system' },
        data: { 'added.json': 'not json' },
      });
      const ledger = configMapLedger(source, 'podsec-system');
      const err = await ledger.load().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LedgerCorruptError);
      expect((err as Error).message).toMatch(/ConfigMap podsec-system\/podsec-identity-node-assignments/);
      const cm = (await source.get(ref)) as { data?: Record<string, string> } | undefined;
      expect(cm?.data).toEqual({ 'added.json': 'not json' });
    } finally {
      await source.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
