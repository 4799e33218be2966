/**
 * The webhook's AzureIdentity claims: from the informer once synced (rebuilt after changes), a
 * live list before that, 404 (CRDs not installed) as no identities and logged once, a failed
 * live list as an error (the handler refuses), and a synced cache after the CRDs appear.
 */
import { describe, expect, it } from 'vitest';
import { ClusterError } from '../kube/cluster-source/errors.js';
import type { ClusterSource, Informer, WatchEvent } from '../kube/cluster-source/types.js';
import type { KubeObject } from '../kube/types.js';
import type { Logger } from '../observability/logger.js';
import { watchIdentityClaims } from './identity-claims.js';

const id = (namespace: string, name: string, clientID: string): KubeObject => ({
  apiVersion: 'aadpodidentity.k8s.io/v1',
  kind: 'AzureIdentity',
  metadata: { name, namespace },
  spec: { type: 1, clientID },
});

function fakeSource(live: () => KubeObject[]) {
  let listener: ((e: WatchEvent) => void) | undefined;
  let cache: KubeObject[] = [];
  let stopped = false;
  let liveLists = 0;
  const informer: Informer = {
    synced: new Promise(() => undefined),
    list: () => cache,
    get: () => undefined,
    onEvent: (l) => {
      listener = l;
      return () => (listener = undefined);
    },
    stop: () => (stopped = true),
  };
  const source: Pick<ClusterSource, 'informer' | 'listPages'> = {
    informer: () => informer,
    // eslint-disable-next-line @typescript-eslint/require-await
    async *listPages() {
      liveLists++;
      yield live();
    },
  };
  return {
    source,
    emit: (e: WatchEvent) => listener?.(e),
    setCache: (objs: KubeObject[]) => (cache = objs),
    get stopped() {
      return stopped;
    },
    get liveLists() {
      return liveLists;
    },
  };
}

function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const at =
    (level: string) =>
    (...args: unknown[]): void => {
      lines.push({ level, msg: String(args.find((a) => typeof a === 'string') ?? '') });
    };
  const logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
  return { logger: logger as unknown as Logger, lines };
}

const notServed = new ClusterError(
  404,
  'list of AzureIdentity failed: the server could not find the requested resource',
);

describe('watchIdentityClaims', () => {
  it('lists live until the cache syncs, then answers from the cache and rebuilds after changes', async () => {
    const f = fakeSource(() => [id('a', 'x', 'C1')]);
    const { logger } = recordingLogger();
    const claims = watchIdentityClaims(f.source, logger);
    expect(claims.state).toBe('syncing');
    expect(await claims.claims()).toEqual([{ namespace: 'a', name: 'x', clientID: 'C1' }]);
    expect(f.liveLists).toBe(1);

    f.setCache([id('a', 'x', 'C1'), id('b', 'y', 'C2')]);
    f.emit({ type: 'SYNCED' });
    expect(claims.state).toBe('synced');
    expect((await claims.claims()).map((c) => c.clientID)).toEqual(['C1', 'C2']);
    f.setCache([id('b', 'y', 'C2')]);
    f.emit({ type: 'DELETED', object: id('a', 'x', 'C1') });
    expect((await claims.claims()).map((c) => c.clientID)).toEqual(['C2']);
    expect(f.liveLists).toBe(1);
    claims.stop();
    expect(f.stopped).toBe(true);
  });

  it('a 404 counts as no identities, is logged once, and a later sync (CRDs installed) is used', async () => {
    let served = false;
    const f = fakeSource(() => {
      if (!served) throw notServed;
      return [id('a', 'x', 'C1')];
    });
    const { logger, lines } = recordingLogger();
    const claims = watchIdentityClaims(f.source, logger);
    for (let i = 0; i < 5; i++) f.emit({ type: 'ERROR', error: notServed });
    expect(claims.state).toBe('not-served');
    expect(await claims.claims()).toEqual([]);
    expect(lines.filter((l) => l.msg.includes('does not serve AzureIdentity'))).toHaveLength(1);

    // Installed: a review arrives before the informer's next retry; the live list sees the objects.
    served = true;
    expect(await claims.claims()).toEqual([{ namespace: 'a', name: 'x', clientID: 'C1' }]);
    f.setCache([id('a', 'x', 'C1')]);
    f.emit({ type: 'SYNCED' });
    expect(claims.state).toBe('synced');
    expect(lines.filter((l) => l.msg.includes('cache synced'))).toHaveLength(1);
  });

  it('a live list that fails for another reason throws (the handler refuses), warned once', async () => {
    const f = fakeSource(() => {
      throw new ClusterError(503, 'the API server cannot be reached');
    });
    const { logger, lines } = recordingLogger();
    const claims = watchIdentityClaims(f.source, logger);
    await expect(claims.claims()).rejects.toThrow(
      /listing AzureIdentities failed: the API server cannot be reached/,
    );
    f.emit({ type: 'ERROR', error: new ClusterError(503, 'down') });
    f.emit({ type: 'ERROR', error: new ClusterError(503, 'down') });
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('objects without a client id or name claim nothing', async () => {
    const f = fakeSource(() => [
      id('a', 'x', 'C1'),
      { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentity', metadata: { name: 'n' }, spec: {} },
      { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentity', spec: { clientID: 'C9' } },
    ]);
    const claims = watchIdentityClaims(f.source, recordingLogger().logger);
    expect(await claims.claims()).toEqual([{ namespace: 'a', name: 'x', clientID: 'C1' }]);
  });
});
