/**
 * The one contract test suite every ClusterSource implementation runs (hono's habit: one suite,
 * many implementations), so the API server and the directory behave the same for every caller:
 * paging, reads, writes with conflicts, status updates and informer events, including changes
 * made by a second source on the same store and by someone outside podsec.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../src/kube/cluster-source/errors.js';
import type { ClusterSource, Informer, ObjectRef, WatchEvent } from '../../src/kube/cluster-source/types.js';
import type { KubeObject } from '../../src/kube/types.js';

export interface SourceHarness {
  readonly source: ClusterSource;
  /** Objects that exist before the test, put there the way a user would (manifests, kubectl). */
  seed(objects: readonly KubeObject[]): Promise<void>;
  /** A second, independent source on the same store (another podsec process). */
  another(): Promise<ClusterSource>;
  /** A change made outside podsec: a user editing manifests, kubectl against the cluster. */
  changeOutside(change: { put?: readonly KubeObject[]; remove?: readonly ObjectRef[] }): Promise<void>;
  cleanup(): Promise<void>;
}

export function pod(name: string, namespace = 'default', labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] },
  };
}

const POD = { apiVersion: 'v1', kind: 'Pod' } as const;

/** Polls until `check` holds; fails with `what` after a few seconds. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function collect(
  source: ClusterSource,
  ...args: Parameters<ClusterSource['listPages']>
): Promise<KubeObject[][]> {
  const pages: KubeObject[][] = [];
  for await (const page of source.listPages(...args)) pages.push([...page]);
  return pages;
}

function names(objects: readonly KubeObject[]): string[] {
  return objects.map((o) => o.metadata?.name ?? '').sort();
}

/** Records the events of an informer as `TYPE name` strings. */
function recorder(informer: Informer): { events: WatchEvent[]; seen: string[]; off: () => void } {
  const events: WatchEvent[] = [];
  const seen: string[] = [];
  const off = informer.onEvent((e) => {
    events.push(e);
    seen.push(e.type === 'SYNCED' || e.type === 'ERROR' ? e.type : `${e.type} ${e.object.metadata?.name}`);
  });
  return { events, seen, off };
}

export function runClusterSourceSuite(name: string, makeSource: () => Promise<SourceHarness>): void {
  describe(`ClusterSource contract: ${name}`, () => {
    let h: SourceHarness;
    const extra: ClusterSource[] = [];
    beforeEach(async () => {
      h = await makeSource();
    });
    afterEach(async () => {
      for (const s of extra.splice(0)) await s.close();
      await h.source.close();
      await h.cleanup();
    });

    describe('listPages', () => {
      it.each([
        { case: '1,200 pods in pages of 500', count: 1200, pageSize: 500, sizes: [500, 500, 200] },
        { case: 'exact multiple of the page size', count: 6, pageSize: 3, sizes: [3, 3] },
        { case: 'one page when the page is larger', count: 4, pageSize: 10, sizes: [4] },
      ])('$case', async ({ count, pageSize, sizes }) => {
        await h.seed(Array.from({ length: count }, (_, i) => pod(`p-${String(i).padStart(5, '0')}`, 'big')));
        const pages = await collect(h.source, POD, { pageSize });
        expect(pages.map((p) => p.length)).toEqual(sizes);
        const all = pages.flat();
        expect(new Set(all.map((o) => o.metadata?.name)).size).toBe(count);
        expect(all.every((o) => o.apiVersion === 'v1' && o.kind === 'Pod')).toBe(true);
      });

      it('filters by namespace and label selector, and lists nothing for an empty kind', async () => {
        await h.seed([
          pod('a', 'ns1', { app: 'web' }),
          pod('b', 'ns1', { app: 'db' }),
          pod('c', 'ns2', { app: 'web' }),
        ]);
        expect(names((await collect(h.source, POD, { namespace: 'ns1' })).flat())).toEqual(['a', 'b']);
        expect(names((await collect(h.source, POD, { labelSelector: 'app=web' })).flat())).toEqual([
          'a',
          'c',
        ]);
        expect(
          names((await collect(h.source, POD, { labelSelector: 'app in (db),!missing' })).flat()),
        ).toEqual(['b']);
        const deployments = await collect(h.source, { apiVersion: 'apps/v1', kind: 'Deployment' });
        expect(deployments.flat()).toEqual([]);
      });
    });

    describe('reads and writes', () => {
      it('gets an object, and undefined for a missing one', async () => {
        await h.seed([pod('web', 'app')]);
        const got = await h.source.get({ ...POD, namespace: 'app', name: 'web' });
        expect(got?.metadata?.name).toBe('web');
        expect(got?.kind).toBe('Pod');
        expect(await h.source.get({ ...POD, namespace: 'app', name: 'nope' })).toBeUndefined();
        expect(await h.source.get({ ...POD, namespace: 'other', name: 'web' })).toBeUndefined();
      });

      it('creates, then refuses to create the same object again', async () => {
        const created = await h.source.create(pod('new', 'app'));
        expect(created.metadata?.resourceVersion).toMatch(/.+/);
        expect(
          (await h.source.get({ ...POD, namespace: 'app', name: 'new' }))?.metadata?.resourceVersion,
        ).toBe(created.metadata?.resourceVersion);
        await expect(h.source.create(pod('new', 'app'))).rejects.toBeInstanceOf(AlreadyExistsError);
      });

      it('creates and reads cluster-scoped objects', async () => {
        const ns: KubeObject = {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'team-a', labels: { x: 'y' } },
        };
        await h.source.create(ns);
        const got = await h.source.get({ apiVersion: 'v1', kind: 'Namespace', name: 'team-a' });
        expect(got?.metadata?.labels).toEqual({ x: 'y' });
        expect(got?.metadata?.namespace).toBeUndefined();
      });

      it('updates with the current resourceVersion and refuses a stale one', async () => {
        const v1 = await h.source.create(pod('u', 'app'));
        const v2 = await h.source.update({ ...v1, metadata: { ...v1.metadata, labels: { v: '2' } } });
        expect(v2.metadata?.labels).toEqual({ v: '2' });
        expect(v2.metadata?.resourceVersion).not.toBe(v1.metadata?.resourceVersion);
        expect(v2.metadata?.uid).toBe(v1.metadata?.uid);
        await expect(
          h.source.update({ ...v1, metadata: { ...v1.metadata, labels: { v: 'stale' } } }),
        ).rejects.toBeInstanceOf(ConflictError);
        const now = await h.source.get({ ...POD, namespace: 'app', name: 'u' });
        expect(now?.metadata?.labels).toEqual({ v: '2' });
      });

      it('refuses to update a missing object', async () => {
        await expect(h.source.update(pod('ghost', 'app'))).rejects.toBeInstanceOf(NotFoundError);
        await expect(h.source.updateStatus(pod('ghost', 'app'))).rejects.toBeInstanceOf(NotFoundError);
      });

      it('updates the status subresource only through updateStatus', async () => {
        const v1 = await h.source.create(pod('s', 'app'));
        const v2 = await h.source.updateStatus({ ...v1, status: { phase: 'Running', podIP: '127.0.0.9' } });
        expect(v2.status).toEqual({ phase: 'Running', podIP: '127.0.0.9' });
        // A main-resource update keeps the stored status, as the API server does.
        const v3 = await h.source.update({
          ...v2,
          metadata: { ...v2.metadata, labels: { a: 'b' } },
          status: { phase: 'Failed' },
        });
        expect(v3.status).toEqual({ phase: 'Running', podIP: '127.0.0.9' });
        await expect(h.source.updateStatus({ ...v2, status: { phase: 'Stale' } })).rejects.toBeInstanceOf(
          ConflictError,
        );
      });

      it('deletes, reports an absent object, and honours a resourceVersion precondition', async () => {
        const v1 = await h.source.create(pod('d', 'app'));
        const ref = { ...POD, namespace: 'app', name: 'd' };
        await h.source.update({ ...v1, metadata: { ...v1.metadata, labels: { n: '2' } } });
        await expect(
          h.source.delete(ref, { resourceVersion: v1.metadata?.resourceVersion ?? '' }),
        ).rejects.toBeInstanceOf(ConflictError);
        expect(await h.source.delete(ref)).toBe(true);
        expect(await h.source.get(ref)).toBeUndefined();
        expect(await h.source.delete(ref)).toBe(false);
      });

      it('deletes a seeded object and can create it again', async () => {
        await h.seed([pod('seeded', 'app')]);
        const ref = { ...POD, namespace: 'app', name: 'seeded' };
        expect(await h.source.delete(ref)).toBe(true);
        expect(await h.source.get(ref)).toBeUndefined();
        expect((await collect(h.source, POD, { namespace: 'app' })).flat()).toEqual([]);
        await h.source.create(pod('seeded', 'app', { again: 'yes' }));
        expect((await h.source.get(ref))?.metadata?.labels).toEqual({ again: 'yes' });
      });

      it('stores nothing on a dry run', async () => {
        const ref = { ...POD, namespace: 'app', name: 'dry' };
        const answer = await h.source.create(pod('dry', 'app'), { dryRun: true });
        expect(answer.metadata?.name).toBe('dry');
        expect(await h.source.get(ref)).toBeUndefined();
        const real = await h.source.create(pod('dry', 'app'));
        await h.source.update(
          { ...real, metadata: { ...real.metadata, labels: { dry: 'run' } } },
          { dryRun: true },
        );
        expect((await h.source.get(ref))?.metadata?.labels ?? {}).toEqual({});
        expect(await h.source.delete(ref, { dryRun: true })).toBe(true);
        expect(await h.source.get(ref)).toBeDefined();
      });

      it('sees writes made by another source on the same store', async () => {
        const other = await h.another();
        extra.push(other);
        const created = await other.create(pod('shared', 'app'));
        expect(
          (await h.source.get({ ...POD, namespace: 'app', name: 'shared' }))?.metadata?.resourceVersion,
        ).toBe(created.metadata?.resourceVersion);
        await h.source.update({ ...created, metadata: { ...created.metadata, labels: { by: 'first' } } });
        await expect(
          other.update({ ...created, metadata: { ...created.metadata, labels: { by: 'second' } } }),
        ).rejects.toBeInstanceOf(ConflictError);
      });
    });

    describe('informer', () => {
      it('syncs the existing objects, then reports adds, updates and deletes made through the source', async () => {
        await h.seed([pod('a', 'app'), pod('b', 'app')]);
        const inf = h.source.informer(POD);
        const rec = recorder(inf);
        await inf.synced;
        expect(names(inf.list())).toEqual(['a', 'b']);
        expect(rec.seen.slice(0, 3).sort()).toEqual(['ADDED a', 'ADDED b', 'SYNCED']);
        const c = await h.source.create(pod('c', 'app'));
        await eventually('ADDED c', () => rec.seen.includes('ADDED c'));
        await h.source.update({ ...c, metadata: { ...c.metadata, labels: { v: '2' } } });
        await eventually('MODIFIED c', () => rec.seen.includes('MODIFIED c'));
        expect(inf.get('app', 'c')?.metadata?.labels).toEqual({ v: '2' });
        await h.source.delete({ ...POD, namespace: 'app', name: 'a' });
        await eventually('DELETED a', () => rec.seen.includes('DELETED a'));
        expect(names(inf.list())).toEqual(['b', 'c']);
        expect(names(inf.list('other'))).toEqual([]);
        inf.stop();
      });

      it('reports changes made by another source and outside podsec', async () => {
        await h.seed([pod('kept', 'app'), pod('gone', 'app')]);
        const inf = h.source.informer(POD, { namespace: 'app' });
        const rec = recorder(inf);
        await inf.synced;
        const other = await h.another();
        extra.push(other);
        await other.create(pod('from-other', 'app'));
        await eventually('ADDED from-other', () => rec.seen.includes('ADDED from-other'));
        await h.changeOutside({ put: [pod('kept', 'app', { edited: 'yes' }), pod('outside', 'app')] });
        await eventually(
          'outside edits',
          () => rec.seen.includes('ADDED outside') && rec.seen.includes('MODIFIED kept'),
        );
        expect(inf.get('app', 'kept')?.metadata?.labels).toEqual({ edited: 'yes' });
        await h.changeOutside({ remove: [{ ...POD, namespace: 'app', name: 'gone' }] });
        await eventually('DELETED gone', () => rec.seen.includes('DELETED gone'));
        expect(names(inf.list())).toEqual(['from-other', 'kept', 'outside']);
        inf.stop();
      });

      it('shares one informer per kind and replays the cache to late listeners', async () => {
        await h.seed([pod('x', 'app')]);
        const first = h.source.informer(POD);
        await first.synced;
        const second = h.source.informer(POD);
        await second.synced;
        const late = recorder(second);
        expect(late.seen).toEqual(['ADDED x', 'SYNCED']);
        first.stop();
        await h.source.create(pod('y', 'app'));
        await eventually('ADDED y on the remaining handle', () => late.seen.includes('ADDED y'));
        second.stop();
      });

      it('stops: no events after stop()', async () => {
        const inf = h.source.informer(POD);
        const rec = recorder(inf);
        await inf.synced;
        inf.stop();
        const before = rec.events.length;
        await h.source.create(pod('after-stop', 'app'));
        await new Promise((r) => setTimeout(r, 150));
        expect(rec.events.length).toBe(before);
      });
    });
  });
}
