/**
 * `podsec webhook` against an API server (the fake list/watch server) through the real kubeconfig
 * path: caches fill from LIST + WATCH, a namespace labelled after start-up is seen through the
 * watch, and decisions follow it. This is the wiring users run in a cluster, minus the cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhook, type RunningWebhook } from '../../src/cli/commands/webhook.js';
import type { KubeObject } from '../../src/kube/types.js';
import { silentLogger } from '../../src/observability/logger.js';
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

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
});

let api: FakeApiServer;
let certs: CertDir;
let hook: RunningWebhook;

beforeAll(async () => {
  api = await startFakeApiServer();
  api.seed([ns('team', { 'pod-security.kubernetes.io/enforce': 'baseline' }), ns('later')]);
  certs = await makeCertDir();
  const kubeconfig = await api.writeKubeconfig();
  hook = await startWebhook(
    {
      tlsCert: certs.certFile,
      tlsKey: certs.keyFile,
      port: '0',
      host: '127.0.0.1',
      kubeconfig,
      shutdownDelay: '0',
    },
    { logger: silentLogger() },
  );
  await waitFor(async () =>
    (await call(hook.port, certs.certs.caCert, { path: '/readyz' })).status === 200 ? true : undefined,
  );
});

afterAll(async () => {
  await hook?.stop();
  await api?.close();
  certs?.remove();
});

const privilegedIn = (uid: string, namespace: string) =>
  makeReview(
    uid,
    { ...makePodObject('p', { privileged: true }), metadata: { name: 'p', namespace } },
    namespace,
  );

const response = (body: unknown): Record<string, unknown> =>
  (body as { response: Record<string, unknown> }).response;

describe('podsec webhook with an API server', () => {
  it('lists namespaces and pods through the kubeconfig, then watches', () => {
    const paths = api.requests.map(
      (r) => `${r.method} ${r.path}${r.query['watch'] === 'true' ? ' (watch)' : ''}`,
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        'GET /api/v1/namespaces',
        'GET /api/v1/pods',
        'GET /api/v1/namespaces (watch)',
      ]),
    );
  });

  it('denies by the namespace label it listed', async () => {
    const r = await postReview(hook.port, certs.certs.caCert, privilegedIn('a1', 'team'));
    expect(response(r.json())).toMatchObject({ uid: 'a1', allowed: false, status: { code: 403 } });
  });

  it('sees a label added after start-up through the watch', async () => {
    const before = await postReview(hook.port, certs.certs.caCert, privilegedIn('b1', 'later'));
    expect(response(before.json())).toMatchObject({ allowed: true });
    api.seed([ns('later', { 'pod-security.kubernetes.io/enforce': 'baseline' })]);
    await waitFor(async () => {
      const r = await postReview(hook.port, certs.certs.caCert, privilegedIn('b2', 'later'));
      return response(r.json())['allowed'] === false ? true : undefined;
    });
  });
});
