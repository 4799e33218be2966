/** The directory source: the shared contract against a temp dir, then what only a directory does (user files untouched, tombstones, bad manifests, several processes). */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { eventually, pod, runClusterSourceSuite } from '../../../test/support/cluster-source-suite.js';
import type { KubeObject } from '../types.js';
import { createDirectorySource, stateFileOf, type DirectoryProblem } from './directory.js';
import { refKey, refOf } from './kinds.js';

function manifest(objects: readonly KubeObject[]): string {
  return objects.map((o) => `---\n${stringify(o)}`).join('');
}

runClusterSourceSuite('directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'podsec-state-'));
  // Which user file holds which object, so outside changes rewrite the right file.
  const files = new Map<string, KubeObject[]>();
  let n = 0;
  const writeUserFile = (name: string): Promise<void> =>
    writeFile(join(dir, name), manifest(files.get(name) ?? []));
  return {
    source: createDirectorySource(dir, { pollIntervalMs: 50 }),
    async seed(objects) {
      const name = `seed-${n++}.yaml`;
      files.set(name, [...objects]);
      await writeUserFile(name);
    },
    another: () => Promise.resolve(createDirectorySource(dir, { pollIntervalMs: 50 })),
    async changeOutside({ put = [], remove = [] }) {
      const gone = new Set(remove.map((r) => refKey({ ...r, namespace: r.namespace ?? 'default' })));
      for (const obj of put) gone.add(refKey(refOf(obj)!));
      const earlier = [...files];
      // The new file first: `outside-*` sorts before `seed-*`, so until the old file is rewritten the
      // old copy still wins and a watcher never sees an edited object vanish in between.
      if (put.length > 0) {
        const name = `outside-${n++}.yaml`;
        files.set(name, [...put]);
        await writeUserFile(name);
      }
      for (const [name, objects] of earlier) {
        const kept = objects.filter((o) => !gone.has(refKey(refOf(o)!)));
        if (kept.length !== objects.length) {
          files.set(name, kept);
          await writeUserFile(name);
        }
      }
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('directory source: user files and podsec state', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podsec-state-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('never touches user files: updates and deletes go under .podsec', async () => {
    const userText = manifest([pod('web', 'app')]);
    await writeFile(join(dir, 'app.yaml'), userText);
    const source = createDirectorySource(dir);
    const ref = { apiVersion: 'v1', kind: 'Pod', namespace: 'app', name: 'web' };
    const current = (await source.get(ref))!;
    const updated = await source.update({
      ...current,
      metadata: { ...current.metadata, labels: { x: '1' } },
    });
    expect(updated.metadata?.resourceVersion).toBe('1');
    const stored = JSON.parse(await readFile(join(dir, stateFileOf(ref)), 'utf8'));
    expect(stored.metadata.labels).toEqual({ x: '1' });
    expect(await source.delete(ref)).toBe(true);
    expect(await source.get(ref)).toBeUndefined();
    expect(await readFile(join(dir, 'app.yaml'), 'utf8')).toBe(userText);
    expect(
      (await readdir(join(dir, '.podsec', 'tombstones'), { recursive: true })).some((f) =>
        f.endsWith('web.json'),
      ),
    ).toBe(true);
    // podsec's state is never read back as user manifests.
    const all = [];
    for await (const page of source.listPages({ apiVersion: 'v1', kind: 'Pod' })) all.push(...page);
    expect(all).toEqual([]);
    await source.close();
  });

  it.each([
    { case: 'broken YAML', text: 'apiVersion: v1\nkind: Pod\nmetadata: {name: [\n', message: /./ },
    {
      case: 'an object without a name',
      text: 'apiVersion: v1\nkind: Pod\nmetadata: {}\n',
      message: /without metadata.name/,
    },
  ])('reports $case through onProblem and keeps serving the rest', async ({ text, message }) => {
    await writeFile(join(dir, 'bad.yaml'), text);
    await writeFile(join(dir, 'good.yaml'), manifest([pod('ok')]));
    const problems: DirectoryProblem[] = [];
    const source = createDirectorySource(dir, { onProblem: (p) => problems.push(p) });
    expect(
      await source.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'ok' }),
    ).toBeDefined();
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.file).toBe(join(dir, 'bad.yaml'));
    expect(problems.map((p) => p.message).join('\n')).toMatch(message);
    await source.close();
  });

  it('expands List objects', async () => {
    await writeFile(
      join(dir, 'list.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod('a'), pod('b')] }),
    );
    const source = createDirectorySource(dir);
    const names = [];
    for await (const page of source.listPages({ apiVersion: 'v1', kind: 'Pod' }))
      names.push(...page.map((o) => o.metadata?.name));
    expect(names).toEqual(['a', 'b']);
    await source.close();
  });

  it('keeps resourceVersions monotonic and exactly one winner across concurrent writers', async () => {
    const sources = Array.from({ length: 4 }, () => createDirectorySource(dir));
    const first = await sources[0]!.create(pod('counter'));
    // Every writer updates from the same version: exactly one may win.
    const results = await Promise.allSettled(
      sources.map((s, i) =>
        s.update({ ...first, metadata: { ...first.metadata, labels: { by: String(i) } } }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const creates = await Promise.all(sources.map((s, i) => s.create(pod(`c${i}`))));
    const rvs = creates.map((o) => Number(o.metadata?.resourceVersion));
    expect(new Set(rvs).size).toBe(4);
    expect(Math.min(...rvs)).toBeGreaterThan(Number(first.metadata?.resourceVersion));
    for (const s of sources) await s.close();
  });

  it('takes over a lock left by a dead process', async () => {
    const source = createDirectorySource(dir, { lockTimeoutMs: 2000 });
    await source.create(pod('before'));
    await writeFile(
      join(dir, '.podsec', 'write.lock'),
      JSON.stringify({ pid: 2 ** 22 + 12345, at: 'long ago' }),
    );
    await source.create(pod('after'));
    expect(
      await source.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'after' }),
    ).toBeDefined();
    await source.close();
  });

  it('sees a user file appear through the informer', async () => {
    const source = createDirectorySource(dir, { pollIntervalMs: 50 });
    const inf = source.informer({ apiVersion: 'v1', kind: 'Pod' });
    await inf.synced;
    await writeFile(join(dir, 'late.yaml'), manifest([pod('late')]));
    await eventually('late pod in the cache', () => inf.get('default', 'late') !== undefined);
    await source.close();
  });
});
