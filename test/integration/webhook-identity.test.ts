/**
 * `podsec webhook` and the aad-pod-identity kinds, through the real HTTPS server and the fake
 * list/watch API server: a copy of another namespace's client id is refused (the first claimant
 * keeps working), including one claimed after start-up (seen through the watch), invalid objects
 * get 422 with field paths; and a cluster that does not serve the kinds (its CRDs not installed)
 * leaves the webhook ready, its pod answers unchanged, with one log line about it. With --state,
 * the directory's AzureIdentities are the claims.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startWebhook, type RunningWebhook } from '../../src/cli/commands/webhook.js';
import { createApiServerSource } from '../../src/kube/cluster-source/index.js';
import type { ClusterSource, KindRef } from '../../src/kube/cluster-source/types.js';
import type { KubeObject } from '../../src/kube/types.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import {
  call,
  makeCertDir,
  makePodObject,
  makeReview,
  postReview,
  waitFor,
  type CertDir,
} from './webhook-client.js';

const GROUP = 'aadpodidentity.k8s.io';
const CLIENT = '11111111-2222-3333-4444-555555555555';
const RESOURCE_ID =
  '/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/db';

const ns = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
});

const identity = (namespace: string, name: string, clientID: string): KubeObject => ({
  apiVersion: `${GROUP}/v1`,
  kind: 'AzureIdentity',
  metadata: { name, namespace },
  spec: { type: 0, clientID, resourceID: RESOURCE_ID },
});

const RESOURCES: Record<string, string> = {
  AzureIdentity: 'azureidentities',
  AzureIdentityBinding: 'azureidentitybindings',
  AzurePodIdentityException: 'azurepodidentityexceptions',
};

function identityReview(
  uid: string,
  object: KubeObject,
  operation: 'CREATE' | 'UPDATE' = 'CREATE',
  oldObject: KubeObject | null = null,
): Record<string, unknown> {
  const kind = object.kind ?? '';
  const gvk = { group: GROUP, version: 'v1', kind };
  const gvr = { group: GROUP, version: 'v1', resource: RESOURCES[kind] };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: object.metadata?.name,
      namespace: object.metadata?.namespace,
      operation,
      userInfo: { username: 'alice', groups: ['system:authenticated'] },
      object,
      oldObject,
      dryRun: false,
    },
  };
}

const response = (body: unknown): Record<string, unknown> =>
  (body as { response: Record<string, unknown> }).response;

async function ready(hook: RunningWebhook, certs: CertDir): Promise<void> {
  await waitFor(async () =>
    (await call(hook.port, certs.certs.caCert, { path: '/readyz' })).status === 200 ? true : undefined,
  );
}

describe('podsec webhook: AzureIdentity client ids with an API server', () => {
  let api: FakeApiServer;
  let certs: CertDir;
  let hook: RunningWebhook;

  beforeAll(async () => {
    api = await startFakeApiServer();
    api.seed([ns('payments'), ns('team-b'), identity('payments', 'db', CLIENT)]);
    certs = await makeCertDir();
    hook = await startWebhook(
      {
        tlsCert: certs.certFile,
        tlsKey: certs.keyFile,
        port: '0',
        host: '127.0.0.1',
        kubeconfig: await api.writeKubeconfig(),
        shutdownDelay: '0',
      },
      { logger: silentLogger() },
    );
    await ready(hook, certs);
  });

  afterAll(async () => {
    await hook?.stop();
    await api?.close();
    certs?.remove();
  });

  it('lists and watches AzureIdentities', async () => {
    await waitFor(() =>
      Promise.resolve(
        api.requests.some(
          (r) => r.path === `/apis/${GROUP}/v1/azureidentities` && r.query['watch'] === 'true',
        )
          ? true
          : undefined,
      ),
    );
  });

  it('refuses a copy of another namespace’s client id with 422, not naming that namespace', async () => {
    const r = await postReview(
      hook.port,
      certs.certs.caCert,
      identityReview('c1', identity('team-b', 'copy', CLIENT.toUpperCase())),
    );
    expect(r.status).toBe(200);
    const res = response(r.json());
    expect(res).toMatchObject({
      uid: 'c1',
      allowed: false,
      status: {
        code: 422,
        reason: 'Invalid',
        details: { name: 'copy', group: GROUP, kind: 'AzureIdentity' },
      },
      auditAnnotations: { 'duplicate-client-id': 'payments/db' },
    });
    const status = res['status'] as { message: string };
    expect(status.message).toContain(
      `AzureIdentity.${GROUP} "copy" is invalid: spec.clientID: Duplicate value: "${CLIENT.toUpperCase()}"`,
    );
    expect(status.message).not.toContain('payments');
  });

  it('allows the first claimant’s own updates and an unclaimed client id', async () => {
    const own = identity('payments', 'db', CLIENT);
    const update = await postReview(hook.port, certs.certs.caCert, identityReview('c2', own, 'UPDATE', own));
    expect(response(update.json())).toEqual({ uid: 'c2', allowed: true });
    const fresh = await postReview(
      hook.port,
      certs.certs.caCert,
      identityReview('c3', identity('team-b', 'mine', '99999999-2222-3333-4444-555555555555')),
    );
    expect(response(fresh.json())).toEqual({ uid: 'c3', allowed: true });
  });

  it('sees a client id claimed after start-up through the watch', async () => {
    const late = 'aaaaaaaa-2222-3333-4444-555555555555';
    api.seed([identity('payments', 'late', late)]);
    await waitFor(async () => {
      const r = await postReview(
        hook.port,
        certs.certs.caCert,
        identityReview('c4', identity('team-b', 'copy2', late)),
      );
      return response(r.json())['allowed'] === false ? true : undefined;
    });
  });

  it('refuses an invalid binding with the field path and why', async () => {
    const r = await postReview(
      hook.port,
      certs.certs.caCert,
      identityReview('c5', {
        apiVersion: `${GROUP}/v1`,
        kind: 'AzureIdentityBinding',
        metadata: { name: 'bind', namespace: 'team-b' },
        spec: { azureIdentity: 'mine', selector: 'not a label value' },
      }),
    );
    const res = response(r.json());
    expect(res).toMatchObject({ allowed: false, status: { code: 422, reason: 'Invalid' } });
    expect((res['status'] as { message: string }).message).toMatch(
      /^AzureIdentityBinding\.aadpodidentity\.k8s\.io "bind" is invalid: spec\.selector: /,
    );
  });

  it('counts identity decisions in the webhook metrics', async () => {
    const r = await call(hook.port, certs.certs.caCert, { path: '/metrics' });
    expect(r.text).toMatch(
      /kind="AzureIdentity"[^\n]*decision="deny"|decision="deny"[^\n]*kind="AzureIdentity"/,
    );
  });
});

describe('podsec webhook with --state', () => {
  it('judges client ids against the AzureIdentities of the state directory', async () => {
    const certs = await makeCertDir();
    const state = join(certs.dir, 'state');
    mkdirSync(state);
    writeFileSync(
      join(state, 'identities.yaml'),
      [ns('payments'), ns('team-b'), identity('payments', 'db', CLIENT)]
        .map((o) => stringify(o))
        .join('---\n'),
    );
    const hook = await startWebhook(
      {
        tlsCert: certs.certFile,
        tlsKey: certs.keyFile,
        port: '0',
        host: '127.0.0.1',
        state,
        shutdownDelay: '0',
      },
      { logger: silentLogger() },
    );
    try {
      await ready(hook, certs);
      const copy = await postReview(
        hook.port,
        certs.certs.caCert,
        identityReview('s1', identity('team-b', 'copy', CLIENT)),
      );
      expect(response(copy.json())).toMatchObject({ allowed: false, status: { code: 422 } });
      const own = await postReview(
        hook.port,
        certs.certs.caCert,
        identityReview('s2', identity('payments', 'db', CLIENT)),
      );
      expect(response(own.json())).toEqual({ uid: 's2', allowed: true });
    } finally {
      await hook.stop();
      certs.remove();
    }
  });
});

describe('podsec webhook on a cluster without the aad-pod-identity CRDs', () => {
  let api: FakeApiServer;
  let certs: CertDir;
  let hook: RunningWebhook;
  const lines: string[] = [];

  beforeAll(async () => {
    api = await startFakeApiServer();
    api.seed([ns('team-b')]);
    certs = await makeCertDir();
    const kubeconfig = await api.writeKubeconfig();
    // The fake serves every built-in kind; AzureIdentity is asked for under a kind name the API
    // server does not serve, so the real source meets the 404 a cluster without the CRD gives.
    const missing: KindRef = { apiVersion: `${GROUP}/v1`, kind: 'AzureIdentityNotInstalled' };
    const openSource = async (): Promise<ClusterSource> => {
      const real = await createApiServerSource({ kubeconfig, backoffInitialMs: 20, backoffMaxMs: 50 });
      const redirect = (kind: KindRef): KindRef => (kind.kind === 'AzureIdentity' ? missing : kind);
      return {
        ...real,
        description: real.description,
        informer: (kind, options) => real.informer(redirect(kind), options),
        listPages: (kind, options) => real.listPages(redirect(kind), options),
      };
    };
    const out = new PassThrough();
    out.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    hook = await startWebhook(
      {
        tlsCert: certs.certFile,
        tlsKey: certs.keyFile,
        port: '0',
        host: '127.0.0.1',
        kubeconfig,
        shutdownDelay: '0',
      },
      { logger: createLogger({ level: 'info', destination: out }), openSource },
    );
    await ready(hook, certs);
  });

  afterAll(async () => {
    await hook?.stop();
    await api?.close();
    certs?.remove();
  });

  it('is ready and judges pods as before', async () => {
    const r = await postReview(
      hook.port,
      certs.certs.caCert,
      makeReview('p1', { ...makePodObject('p'), metadata: { name: 'p', namespace: 'team-b' } }, 'team-b'),
    );
    expect(response(r.json())).toMatchObject({ uid: 'p1', allowed: true });
  });

  it('counts as no identities: a valid AzureIdentity is allowed, an invalid one still refused', async () => {
    const ok = await postReview(
      hook.port,
      certs.certs.caCert,
      identityReview('i1', identity('team-b', 'db', CLIENT)),
    );
    expect(response(ok.json())).toEqual({ uid: 'i1', allowed: true });
    const bad = await postReview(
      hook.port,
      certs.certs.caCert,
      identityReview('i2', { ...identity('team-b', 'db', CLIENT), spec: { type: 5, clientID: CLIENT } }),
    );
    expect(response(bad.json())).toMatchObject({ allowed: false, status: { code: 422 } });
  });

  it('says so once in the log, however often the informer retries', async () => {
    const notServed = (): string[] => lines.filter((l) => l.includes('does not serve AzureIdentity'));
    await waitFor(() => Promise.resolve(notServed().length > 0 ? true : undefined));
    // The informer retries every 20-50 ms here: give it several rounds.
    await new Promise((r) => setTimeout(r, 300));
    expect(notServed()).toHaveLength(1);
    expect(lines.filter((l) => l.includes('AzureIdentity watch failed'))).toEqual([]);
  });
});
