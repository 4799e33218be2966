/**
 * `--secret-namespace`: the issuer reads Secrets only in the listed namespaces (one namespaced
 * informer each, never a cluster-wide list or watch, so RoleBindings suffice), and an AzureIdentity
 * whose clientPassword names a Secret elsewhere is refused with a problem naming the namespace and
 * the flag, even when that Secret exists. Pure mapping first, then the feed over the fake API server
 * and over the directory source (the two ClusterSources), loopback and temp directories only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeApiServer } from '../../../test/support/fake-apiserver.js';
import { createApiServerSource, createDirectorySource } from '../../kube/cluster-source/index.js';
import type { ClusterSource, Informer, KindRef, WatchEvent } from '../../kube/cluster-source/types.js';
import type { KubeObject } from '../../kube/types.js';
import { mapIdentities, secretNamespaceProblem, watchIdentities, type SecretLookup } from './sources.js';

const TENANT = 'contoso.onmicrosoft.com';

function identity(name: string, namespace: string, secretNs: string, secretName: string): KubeObject {
  return {
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentity',
    metadata: { name, namespace },
    spec: {
      type: 1,
      clientID: `client-${name}`,
      tenantID: TENANT,
      clientPassword: { name: secretName, namespace: secretNs },
    },
  };
}
function secret(namespace: string, name: string, value: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    data: { clientSecret: Buffer.from(value).toString('base64') },
  };
}
function lookup(...secrets: KubeObject[]): SecretLookup {
  return (ns, name) => secrets.find((s) => s.metadata?.namespace === ns && s.metadata.name === name);
}

describe('mapIdentities with secretNamespaces', () => {
  const secrets = [secret('app', 's', 'in-app'), secret('shared', 's', 'in-shared')];
  const objects = [identity('local', 'app', 'app', 's'), identity('remote', 'app', 'shared', 's')];
  const cases: [string, readonly string[] | undefined, string[], string[]][] = [
    ['absent: every namespace is read', undefined, ['local', 'remote'], []],
    ['both namespaces listed', ['app', 'shared'], ['local', 'remote'], []],
    ['only app: the identity whose Secret is in shared is refused', ['app'], ['local'], ['remote']],
    ['only shared', ['shared'], ['remote'], ['local']],
    ['an unrelated namespace only', ['other'], [], ['local', 'remote']],
  ];
  it.each(cases)('%s', (_name, secretNamespaces, served, refused) => {
    const m = mapIdentities(objects, lookup(...secrets), { secretNamespaces });
    expect(m.identities.map((i) => i.name)).toEqual(served);
    expect(m.refused.map((r) => r.name)).toEqual(refused);
  });

  it('the refusal names the Secret, its namespace and the flag, never the secret value', () => {
    const m = mapIdentities(objects, lookup(...secrets), { secretNamespaces: ['app', 'ops'] });
    expect(m.refused).toEqual([
      {
        namespace: 'app',
        name: 'remote',
        problems: [
          {
            path: 'spec.clientPassword.namespace',
            message: secretNamespaceProblem('shared', 's', ['app', 'ops']),
          },
        ],
      },
    ]);
    const text = m.refused[0]?.problems[0]?.message ?? '';
    expect(text).toContain('Secret shared/s is in namespace "shared"');
    expect(text).toContain('--secret-namespace app, ops');
    expect(JSON.stringify(m.refused)).not.toContain('in-shared');
  });
});

interface Harness {
  readonly source: ClusterSource;
  /** Paths of the Secret lists and watches the server saw (the fake API server only). */
  secretPaths(): string[] | undefined;
  close(): Promise<void>;
}

const harnesses: [string, () => Promise<Harness>][] = [
  [
    'fake API server',
    async () => {
      const api = await startFakeApiServer();
      const source = await createApiServerSource({
        kubeconfig: await api.writeKubeconfig(),
        backoffInitialMs: 20,
        backoffMaxMs: 200,
      });
      return {
        source,
        secretPaths: () =>
          api.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/secrets')).map((r) => r.path),
        close: async () => {
          await source.close();
          await api.close();
        },
      };
    },
  ],
  [
    'directory source',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'podsec-secret-ns-'));
      const source = createDirectorySource(dir, { pollIntervalMs: 50 });
      return {
        source,
        secretPaths: () => undefined,
        close: async () => {
          await source.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  ],
];

async function eventually(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(harnesses)('watchIdentities with secretNamespaces (%s)', (_name, open) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('watches Secrets only in the listed namespaces and refuses an identity whose Secret is elsewhere', async () => {
    h = await open();
    const { source } = h;
    for (const obj of [
      secret('app', 's', 'in-app'),
      secret('ops', 's', 'in-ops'),
      secret('shared', 's', 'in-shared'),
      identity('local', 'app', 'app', 's'),
      identity('remote', 'app', 'shared', 's'),
    ]) {
      await source.create(obj);
    }
    const refusals: string[] = [];
    const feed = watchIdentities(source, {
      secretNamespaces: ['ops', 'app', 'app'],
      onRefused: (r) =>
        refusals.push(`${r.namespace}/${r.name}: ${r.problems.map((p) => p.message).join('; ')}`),
    });
    try {
      await feed.synced;
      expect(feed.identities().map((i) => i.name)).toEqual(['local']);
      expect(refusals).toEqual([`app/remote: ${secretNamespaceProblem('shared', 's', ['app', 'ops'])}`]);

      // a Secret created later in a watched namespace is picked up by that namespace's informer
      await source.create(identity('late', 'ops', 'ops', 'late'));
      await eventually('late refused (no Secret yet)', () =>
        feed.current().refused.some((r) => r.name === 'late'),
      );
      await source.create(secret('ops', 'late', 'late-value'));
      await eventually('late served', () => feed.identities().some((i) => i.name === 'late'));
      expect(feed.identities().map((i) => i.name)).toEqual(['local', 'late']);

      const paths = h.secretPaths();
      if (paths !== undefined) {
        expect(paths.length).toBeGreaterThan(0);
        expect([...new Set(paths)].sort()).toEqual([
          '/api/v1/namespaces/app/secrets',
          '/api/v1/namespaces/ops/secrets',
        ]);
      }
    } finally {
      feed.stop();
    }
  });

  it('without secretNamespaces, one cluster-wide Secret informer serves every namespace', async () => {
    h = await open();
    const { source } = h;
    await source.create(secret('shared', 's', 'in-shared'));
    await source.create(identity('remote', 'app', 'shared', 's'));
    const feed = watchIdentities(source);
    try {
      await feed.synced;
      expect(feed.identities().map((i) => i.name)).toEqual(['remote']);
      const paths = h.secretPaths();
      if (paths !== undefined) expect([...new Set(paths)]).toEqual(['/api/v1/secrets']);
    } finally {
      feed.stop();
    }
  });
});

describe('watchIdentities reports informer problems by namespace', () => {
  it('a Secret watch refused in one listed namespace is reported with that namespace; nothing is judged before sync', async () => {
    const listeners = new Map<string, (e: WatchEvent) => void>();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stub = {
      informer: (kind: KindRef, o?: { namespace?: string | undefined }): Informer => {
        const key = `${kind.kind}|${o?.namespace ?? '*'}`;
        return {
          // the ops Secret informer never syncs (its list is refused), the others sync at once
          synced: key === 'Secret|ops' ? gate : Promise.resolve(),
          list: () => (kind.kind === 'AzureIdentity' ? [identity('local', 'app', 'app', 's')] : []),
          get: () => undefined,
          onEvent: (l) => {
            listeners.set(key, l);
            return () => listeners.delete(key);
          },
          stop: () => undefined,
        };
      },
    } as unknown as ClusterSource;
    const problems: { kind: string; namespace?: string; error: Error }[] = [];
    const refused: string[] = [];
    const feed = watchIdentities(stub, {
      secretNamespaces: ['app', 'ops'],
      onError: (p) => problems.push(p),
      onRefused: (r) => refused.push(r.name),
    });
    expect([...listeners.keys()].sort()).toEqual(['AzureIdentity|*', 'Secret|app', 'Secret|ops']);
    const forbidden = new Error('secrets is forbidden: cannot list resource "secrets" in namespace "ops"');
    listeners.get('Secret|ops')?.({ type: 'ERROR', error: forbidden });
    listeners.get('AzureIdentity|*')?.({ type: 'ADDED', object: identity('local', 'app', 'app', 's') });
    expect(problems).toEqual([{ kind: 'Secret', namespace: 'ops', error: forbidden }]);
    // not synced: no judgement yet, so no false "Secret does not exist" refusal
    expect(refused).toEqual([]);
    release();
    await feed.synced;
    expect(refused).toEqual(['local']); // the stub holds no Secret: now it is a real refusal
    feed.stop();
  });
});
