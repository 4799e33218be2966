/** The API server source against the in-process list/watch test server: the shared contract, then what only a real API server does (410 Gone, dropped watches, expired continue tokens, kubeconfig). */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../../../test/support/fake-apiserver.js';
import { eventually, pod, runClusterSourceSuite } from '../../../test/support/cluster-source-suite.js';
import { UsageError } from '../../lib/errors.js';
import { createApiServerSource } from './api-server.js';
import { ExpiredError } from './errors.js';
import type { ClusterSource, WatchEvent } from './types.js';

const FAST = { backoffInitialMs: 20, backoffMaxMs: 100, watchTimeoutSeconds: 30 } as const;

runClusterSourceSuite('api-server', async () => {
  const fake = await startFakeApiServer();
  const kubeconfig = await fake.writeKubeconfig();
  const source = await createApiServerSource({ kubeconfig, ...FAST });
  return {
    source,
    seed: (objects) => Promise.resolve(fake.seed(objects)),
    another: () => createApiServerSource({ kubeconfig, ...FAST }),
    changeOutside: ({ put = [], remove = [] }) => {
      fake.seed(put);
      for (const r of remove) fake.remove(r.apiVersion, r.kind, r.namespace, r.name);
      return Promise.resolve();
    },
    cleanup: () => fake.close(),
  };
});

describe('api-server source: what only a real API server does', () => {
  let fake: FakeApiServer;
  let source: ClusterSource;
  beforeEach(async () => {
    fake = await startFakeApiServer();
    source = await createApiServerSource({ kubeconfig: await fake.writeKubeconfig(), ...FAST });
  });
  afterEach(async () => {
    await source.close();
    await fake.close();
  });

  function record(events: string[]): (e: WatchEvent) => void {
    return (e) =>
      events.push(
        e.type === 'SYNCED' || e.type === 'ERROR' ? e.type : `${e.type} ${e.object.metadata?.name}`,
      );
  }

  it('relists after 410 Gone on the watch and ends with the right cache', async () => {
    fake.seed([pod('a'), pod('b')]);
    const inf = source.informer({ apiVersion: 'v1', kind: 'Pod' });
    const seen: string[] = [];
    inf.onEvent(record(seen));
    await inf.synced;
    await eventually('watch open', () => fake.openWatches === 1);
    // Changes that happen while the watch is expired reach the client only through the relist.
    fake.expireWatch();
    fake.remove('v1', 'Pod', 'default', 'a');
    fake.seed([pod('c'), { ...pod('b'), metadata: { name: 'b', namespace: 'default', labels: { v: '2' } } }]);
    await eventually('relist', () => seen.filter((s) => s === 'SYNCED').length === 2);
    expect(seen).toContain('ERROR');
    expect(seen).toContain('DELETED a');
    expect(seen).toContain('ADDED c');
    expect(seen).toContain('MODIFIED b');
    expect(
      inf
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['b', 'c']);
    expect(inf.get('default', 'b')?.metadata?.labels).toEqual({ v: '2' });
    // The relist is a new LIST followed by a new watch.
    expect(
      fake.requests.filter(
        (r) => r.method === 'GET' && r.query.watch === undefined && r.path === '/api/v1/pods',
      ).length,
    ).toBe(2);
    inf.stop();
  });

  it('reconnects a dropped watch from its resourceVersion without relisting', async () => {
    fake.seed([pod('a')]);
    const inf = source.informer({ apiVersion: 'v1', kind: 'Pod' });
    const seen: string[] = [];
    inf.onEvent(record(seen));
    await inf.synced;
    await eventually('watch open', () => fake.openWatches === 1);
    fake.dropConnections();
    fake.seed([pod('during-drop')]);
    await eventually('ADDED during-drop', () => seen.includes('ADDED during-drop'));
    await eventually('watch reopened', () => fake.openWatches === 1);
    expect(seen.filter((s) => s === 'SYNCED')).toHaveLength(1);
    const watches = fake.requests.filter((r) => r.query.watch === 'true');
    expect(watches.length).toBeGreaterThanOrEqual(2);
    expect(Number(watches[1]?.query.resourceVersion)).toBeGreaterThan(0);
    inf.stop();
    await eventually('watch closed after stop', () => fake.openWatches === 0);
  });

  it('reports an expired continue token as a clear ExpiredError', async () => {
    fake.seed(Array.from({ length: 5 }, (_, i) => pod(`p${i}`)));
    const pages = source.listPages({ apiVersion: 'v1', kind: 'Pod' }, { pageSize: 2 });
    const it = pages[Symbol.asyncIterator]();
    expect((await it.next()).value).toHaveLength(2);
    fake.expireContinueTokens();
    const failure = await it.next().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExpiredError);
    expect((failure as ExpiredError).message).toMatch(/after 1 page; start the listing again/);
  });

  it('sends limit, continue and dryRun=All as the API server expects', async () => {
    fake.seed(Array.from({ length: 3 }, (_, i) => pod(`p${i}`)));
    for await (const _ of source.listPages(
      { apiVersion: 'v1', kind: 'Pod' },
      { pageSize: 2, namespace: 'default' },
    )) {
      // drain
    }
    await source.create(pod('dry'), { dryRun: true });
    const lists = fake.requests.filter(
      (r) => r.path === '/api/v1/namespaces/default/pods' && r.method === 'GET',
    );
    expect(lists.map((r) => [r.query.limit, r.query.continue === undefined])).toEqual([
      ['2', true],
      ['2', false],
    ]);
    expect(fake.requests.find((r) => r.method === 'POST')?.query.dryRun).toBe('All');
  });

  it('finds unknown kinds through discovery', async () => {
    fake.addKind({ apiVersion: 'example.io/v1', kind: 'Widget', plural: 'widgets', namespaced: true });
    await source.create({
      apiVersion: 'example.io/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'x' },
    });
    expect(fake.object('example.io/v1', 'Widget', 'x', 'w')).toBeDefined();
    expect(fake.requests.some((r) => r.path === '/apis/example.io/v1')).toBe(true);
    await expect(source.get({ apiVersion: 'example.io/v1', kind: 'Gadget', name: 'g' })).rejects.toThrow(
      /does not serve Gadget/,
    );
  });
});

describe('api-server source: kubeconfig loading', () => {
  let fake: FakeApiServer;
  let dir: string;
  beforeEach(async () => {
    fake = await startFakeApiServer();
    dir = await mkdtemp(join(tmpdir(), 'podsec-kc-'));
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function works(source: ClusterSource): Promise<void> {
    fake.seed([pod('k')]);
    expect(
      (await source.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'k' }))?.metadata?.name,
    ).toBe('k');
    await source.close();
  }

  it('reads --kubeconfig and describes the server', async () => {
    const source = await createApiServerSource({ kubeconfig: await fake.writeKubeconfig(), homeDir: dir });
    expect(source.description).toBe(`api-server ${fake.url}`);
    await works(source);
  });

  it('reads KUBECONFIG', async () => {
    vi.stubEnv('KUBECONFIG', await fake.writeKubeconfig());
    await works(await createApiServerSource({ homeDir: dir }));
  });

  it('reads ~/.kube/config when nothing else is given', async () => {
    vi.stubEnv('KUBECONFIG', '');
    await mkdir(join(dir, '.kube'));
    const { readFile } = await import('node:fs/promises');
    await writeFile(join(dir, '.kube', 'config'), await readFile(await fake.writeKubeconfig()));
    await works(await createApiServerSource({ homeDir: dir, serviceAccountDir: join(dir, 'no-sa') }));
  });

  it('selects --context and refuses an unknown one', async () => {
    const path = await fake.writeKubeconfig({ contextName: 'second' });
    await works(await createApiServerSource({ kubeconfig: path, context: 'second' }));
    await expect(createApiServerSource({ kubeconfig: path, context: 'nope' })).rejects.toBeInstanceOf(
      UsageError,
    );
  });

  it('says clearly when no cluster is configured', async () => {
    vi.stubEnv('KUBECONFIG', '');
    await expect(
      createApiServerSource({ homeDir: dir, serviceAccountDir: join(dir, 'no-sa') }),
    ).rejects.toThrow(/no cluster configured/);
    await expect(
      createApiServerSource({ inCluster: true, serviceAccountDir: join(dir, 'no-sa') }),
    ).rejects.toBeInstanceOf(UsageError);
  });

  it('reports an unreadable kubeconfig as an input error', async () => {
    await expect(createApiServerSource({ kubeconfig: join(dir, 'missing') })).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
    });
  });
});
