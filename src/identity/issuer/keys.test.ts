/**
 * The key set on disk (`--keys-dir`): what is written, what a restart reads back, rotation and
 * pruning persisted, private key files readable by the owner only, and damaged directories
 * refused with a clear error rather than a silently new key.
 */
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeySet } from './keys.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podsec-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('KeySet on disk', () => {
  it.each([['RS256' as const], ['ES256' as const]])(
    '%s: writes PEM + metadata and reads the same keys back',
    async (alg) => {
      const clock = { t: Date.parse('2026-01-01T00:00:00Z') };
      const opts = { dir, retentionSeconds: 3900, alg, now: () => new Date(clock.t) };
      const first = await KeySet.loadOrCreate(opts);
      const kid = first.active().kid;
      expect(kid).toBe(await calculateJwkThumbprint(first.active().publicJwk, 'sha256'));
      expect(first.active().publicJwk).toMatchObject({ alg, kid, use: 'sig' });
      expect(first.active().publicJwk).not.toHaveProperty('d');

      const files = (await readdir(dir)).sort();
      expect(files).toEqual([`${kid}.pem`, 'keys.json'].sort());
      expect((await stat(join(dir, `${kid}.pem`))).mode & 0o777).toBe(0o600);
      expect(await readFile(join(dir, `${kid}.pem`), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);

      const again = await KeySet.loadOrCreate(opts);
      expect(again.active().kid).toBe(kid);
      expect(again.jwks()).toEqual(first.jwks());
    },
  );

  it('persists rotation and drops the retired key (and its file) after the retention', async () => {
    const clock = { t: Date.parse('2026-01-01T00:00:00Z') };
    const opts = { dir, retentionSeconds: 3900, now: () => new Date(clock.t) };
    const set = await KeySet.loadOrCreate(opts);
    const oldKid = set.active().kid;
    const fresh = await set.rotate();

    const reloaded = await KeySet.loadOrCreate(opts);
    expect(reloaded.active().kid).toBe(fresh.kid);
    expect(reloaded.jwks().keys.map((k) => k.kid)).toEqual([fresh.kid, oldKid]);
    expect(reloaded.find(oldKid)?.retiredAt?.toISOString()).toBe('2026-01-01T00:00:00.000Z');

    clock.t += 3900_000;
    expect(await reloaded.prune()).toEqual([oldKid]);
    expect((await readdir(dir)).sort()).toEqual([`${fresh.kid}.pem`, 'keys.json'].sort());
    const afterPrune = await KeySet.loadOrCreate(opts);
    expect(afterPrune.jwks().keys.map((k) => k.kid)).toEqual([fresh.kid]);
  });

  it.each([
    ['metadata is not JSON', async () => writeFile(join(dir, 'keys.json'), '{'), /not valid JSON/],
    [
      'a key file does not match its kid',
      async (kid: string, other: string) => {
        await writeFile(
          join(dir, `${kid}.pem`),
          await readFile(join(other, (await readdir(other)).find((f) => f.endsWith('.pem')) ?? ''), 'utf8'),
        );
      },
      /does not match kid/,
    ],
    [
      'the active key is missing',
      async () => {
        const meta = JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8')) as { active: string };
        meta.active = 'nope';
        await writeFile(join(dir, 'keys.json'), JSON.stringify(meta));
      },
      /active key nope missing/,
    ],
  ])('refuses a directory where %s', async (_name, damage, message) => {
    const set = await KeySet.loadOrCreate({ dir, retentionSeconds: 60 });
    const otherDir = await mkdtemp(join(tmpdir(), 'podsec-keys-other-'));
    try {
      await KeySet.loadOrCreate({ dir: otherDir, retentionSeconds: 60 });
      await damage(set.active().kid, otherDir);
      await expect(KeySet.loadOrCreate({ dir, retentionSeconds: 60 })).rejects.toThrow(message);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('an in-memory set writes nothing', async () => {
    const set = await KeySet.generate({ retentionSeconds: 60 });
    await set.rotate();
    expect(await readdir(dir)).toEqual([]);
    expect(set.jwks().keys).toHaveLength(2);
  });
});
