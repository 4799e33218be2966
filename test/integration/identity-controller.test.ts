/**
 * `podsec identity controller` in process on a --state directory, with leader election on (the
 * default): it takes the Lease, assigns the matching pod its identity, and stops on its signal.
 * Bad flags are usage errors (exit 2) before anything is opened.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runIdentityController } from '../../src/cli/commands/identity-controller.js';
import { createDirectorySource } from '../../src/kube/cluster-source/directory.js';
import { silentLogger } from '../../src/observability/logger.js';

const API = 'aadpodidentity.k8s.io/v1';
const objects = [
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'app', labels: { aadpodidbinding: 'x' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'nginx' }] },
    status: { phase: 'Running' },
  },
  {
    apiVersion: API,
    kind: 'AzureIdentity',
    metadata: { name: 'sp', namespace: 'app' },
    spec: { type: 1, clientID: 'c', tenantID: 't', clientPassword: { name: 's', namespace: 'app' } },
  },
  {
    apiVersion: API,
    kind: 'AzureIdentityBinding',
    metadata: { name: 'b', namespace: 'app' },
    spec: { azureIdentity: 'sp', selector: 'x' },
  },
];

describe('podsec identity controller', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podsec-micctl-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leads through the Lease and assigns the identity', async () => {
    await writeFile(join(dir, 'all.yaml'), objects.map((o) => stringify(o)).join('---\n'));
    const stop = new AbortController();
    const done = runIdentityController(
      { state: dir, leaseNamespace: 'podsec-system' },
      {
        logger: silentLogger(),
        signal: stop.signal,
        openSource: (o) => Promise.resolve(createDirectorySource(o.state ?? '', { pollIntervalMs: 100 })),
      },
    );
    const probe = createDirectorySource(dir, { pollIntervalMs: 100 });
    try {
      const ref = {
        apiVersion: API,
        kind: 'AzureAssignedIdentity',
        namespace: 'app',
        name: 'web-app-sp',
      };
      const deadline = Date.now() + 15_000;
      let got: { status?: { status?: string } } | undefined;
      while (Date.now() < deadline) {
        got = (await probe.get(ref)) as typeof got;
        if (got?.status?.status === 'Assigned') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(got?.status?.status).toBe('Assigned');
      const lease = (await probe.get({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        namespace: 'podsec-system',
        name: 'podsec-identity-controller',
      })) as { spec?: { holderIdentity?: string } } | undefined;
      expect(lease?.spec?.holderIdentity).toMatch(/-\d+$/);
    } finally {
      stop.abort();
      expect(await done).toBe(0);
      await probe.close();
    }
  });

  it.each([
    ['--state with --kubeconfig', { state: 'x', kubeconfig: 'y' }],
    ['--leader-elect not a boolean', { leaderElect: 'maybe' }],
    ['--resync not a number', { resync: 'soon' }],
    ['--log-level unknown', { logLevel: 'loud' }],
  ])('%s is a usage error', async (_name, opts) => {
    let opened = false;
    const code = await runIdentityController(opts, {
      logger: silentLogger(),
      openSource: () => {
        opened = true;
        return Promise.reject(new Error('must not open'));
      },
    });
    expect(code).toBe(2);
    expect(opened).toBe(false);
  });
});
