/** awaitKinds against the list/watch test server, which serves only the kinds it is given. */
import { afterEach, describe, expect, it } from 'vitest';
import { pino, type Logger } from 'pino';
import { startFakeApiServer, type FakeApiServer } from '../../test/support/fake-apiserver.js';
import { createApiServerSource } from '../kube/cluster-source/api-server.js';
import type { ClusterSource, KindRef } from '../kube/cluster-source/types.js';
import { awaitKinds, crdName, KindNotServedError, type KindNeed } from './served-kinds.js';
import { UsageError } from '../lib/errors.js';

const G = 'aadpodidentity.k8s.io/v1';
const ALL = ['AzureIdentity', 'AzureIdentityBinding', 'AzureAssignedIdentity', 'AzurePodIdentityException'];

let fake: FakeApiServer | undefined;
let source: ClusterSource | undefined;
afterEach(async () => {
  await source?.close();
  await fake?.close();
  source = undefined;
  fake = undefined;
});

/** A required Pod kind whose informer never syncs. */
function neverSyncedPods() {
  return {
    kind: { apiVersion: 'v1', kind: 'Pod' },
    informer: {
      synced: new Promise<void>(() => undefined),
      list: () => [],
      get: () => undefined,
      onEvent: () => () => undefined,
      stop: () => undefined,
    },
    need: 'required' as const,
  };
}

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { log, lines };
}

async function open(served: readonly string[]): Promise<ClusterSource> {
  const without = ALL.filter((k) => !served.includes(k)).map((k) => `${G}/${k}`);
  fake = await startFakeApiServer({ without });
  source = await createApiServerSource({
    kubeconfig: await fake.writeKubeconfig(),
    backoffInitialMs: 20,
    backoffMaxMs: 100,
    watchTimeoutSeconds: 30,
  });
  return source;
}

const WATCH: readonly [string, KindNeed][] = [
  ['AzureIdentity', 'required'],
  ['AzureIdentityBinding', 'required'],
  ['AzureAssignedIdentity', 'required'],
  ['AzurePodIdentityException', 'optional'],
];

function watch(
  s: ClusterSource,
): { kind: KindRef; informer: ReturnType<ClusterSource['informer']>; need: KindNeed }[] {
  return [
    {
      kind: { apiVersion: 'v1', kind: 'Pod' },
      informer: s.informer({ apiVersion: 'v1', kind: 'Pod' }),
      need: 'required',
    },
    ...WATCH.map(([kind, need]) => {
      const ref = { apiVersion: G, kind };
      return { kind: ref, informer: s.informer(ref), need };
    }),
  ];
}

describe('awaitKinds', () => {
  it('names the CRD of each kind as aad-pod-identity does', () => {
    expect(WATCH.map(([kind]) => crdName({ apiVersion: G, kind }))).toEqual([
      'azureidentities.aadpodidentity.k8s.io',
      'azureidentitybindings.aadpodidentity.k8s.io',
      'azureassignedidentities.aadpodidentity.k8s.io',
      'azurepodidentityexceptions.aadpodidentity.k8s.io',
    ]);
  });

  const cases: {
    name: string;
    served: string[];
    notServed?: string[];
    failsWith?: string[];
  }[] = [
    { name: 'every CRD installed: all synced, no warning', served: ALL, notServed: [] },
    {
      name: 'exceptions CRD missing: counted as empty, one warning',
      served: ['AzureIdentity', 'AzureIdentityBinding', 'AzureAssignedIdentity'],
      notServed: ['AzurePodIdentityException'],
    },
    {
      name: 'assigned identities CRD missing: fails fast naming it',
      served: ['AzureIdentity', 'AzureIdentityBinding', 'AzurePodIdentityException'],
      failsWith: ['AzureAssignedIdentity'],
    },
    {
      name: 'no CRD at all: fails fast naming the required ones',
      served: [],
      failsWith: ['AzureIdentity', 'AzureIdentityBinding', 'AzureAssignedIdentity'],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const s = await open(c.served);
      const { log, lines } = capture();
      // The timeout is far above the test's run time: a hang would fail the test by timeout.
      const waiting = awaitKinds(watch(s), { log, timeoutMs: 20_000, what: 'caches' });
      if (c.failsWith !== undefined) {
        const err = await waiting.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(KindNotServedError);
        expect(err).toBeInstanceOf(UsageError);
        const e = err as KindNotServedError;
        expect(e.kinds.map((k) => k.kind).sort()).toEqual([...c.failsWith].sort());
        for (const k of c.failsWith) expect(e.message).toContain(crdName({ apiVersion: G, kind: k }));
        expect(e.message).toContain('kubectl apply -k deploy/identity');
        return;
      }
      const result = await waiting;
      expect(result.notServed.map((k) => k.kind)).toEqual(c.notServed);
      const warnings = lines.filter((l) => l['level'] === 40);
      expect(warnings).toHaveLength(c.notServed?.length ?? 0);
      for (const k of c.notServed ?? []) {
        expect(String(warnings[0]?.['msg'])).toContain(crdName({ apiVersion: G, kind: k }));
        expect(String(warnings[0]?.['msg'])).toContain('deploy/identity');
      }
    });
  }

  it('an optional kind installed later fills its cache without a restart', async () => {
    const s = await open(['AzureIdentity', 'AzureIdentityBinding', 'AzureAssignedIdentity']);
    const { log } = capture();
    const watched = watch(s);
    const result = await awaitKinds(watched, { log, timeoutMs: 20_000 });
    expect(result.notServed.map((k) => k.kind)).toEqual(['AzurePodIdentityException']);
    const exceptions = watched[watched.length - 1]?.informer;
    expect(exceptions?.list()).toEqual([]);
    fake?.addKind({
      apiVersion: G,
      kind: 'AzurePodIdentityException',
      plural: 'azurepodidentityexceptions',
      namespaced: true,
    });
    fake?.seed([
      {
        apiVersion: G,
        kind: 'AzurePodIdentityException',
        metadata: { name: 'e', namespace: 'app' },
        spec: { podLabels: { app: 'x' } },
      },
    ]);
    const start = Date.now();
    while ((exceptions?.list().length ?? 0) === 0 && Date.now() - start < 10_000)
      await new Promise((r) => setTimeout(r, 20));
    expect(exceptions?.list().map((o) => o.metadata?.name)).toEqual(['e']);
  });

  it('times out with the name of what did not sync when a served kind never lists', async () => {
    const { log } = capture();
    const never = neverSyncedPods();
    await expect(awaitKinds([never], { log, timeoutMs: 50, what: 'the pod cache' })).rejects.toThrow(
      'the pod cache did not sync within 50 ms',
    );
  });

  it('resolves when aborted before anything synced', async () => {
    const { log } = capture();
    const stop = new AbortController();
    const never = neverSyncedPods();
    const waiting = awaitKinds([never], { log, signal: stop.signal });
    stop.abort();
    await expect(waiting).resolves.toEqual({ notServed: [] });
  });
});
