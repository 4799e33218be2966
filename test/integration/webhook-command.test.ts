/**
 * `podsec webhook` run in process with the real admission handler and a small in-memory cluster
 * view: readiness once caches sync, real decisions from podsec.yaml and namespace labels,
 * podsec.yaml reloads (valid applied; invalid refused, counted, last good kept), and the graceful
 * stop SIGTERM runs (not ready at once, serving through the shutdown delay, then closed).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  namespaceLabelsOf,
  parseShutdownDelay,
  startWebhook,
  type RunningWebhook,
} from '../../src/cli/commands/webhook.js';
import type { ClusterSource, Informer, KindRef } from '../../src/kube/cluster-source/types.js';
import type { KubeObject } from '../../src/kube/types.js';
import { ConfigError, UsageError } from '../../src/lib/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import {
  call,
  makeCertDir,
  makePodObject,
  makeReview,
  postReview,
  waitFor,
  type CertDir,
} from './webhook-client.js';

/** A read-only in-memory cluster whose caches sync when `sync()` is called. */
function memorySource(objects: KubeObject[]): ClusterSource & { sync(): void } {
  let release: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (release = resolve));
  const informer = (kind: KindRef): Informer => {
    const of = (): KubeObject[] => objects.filter((o) => o.kind === kind.kind);
    return {
      synced,
      list: (ns) => of().filter((o) => ns === undefined || o.metadata?.namespace === ns),
      get: (ns, name) => of().find((o) => o.metadata?.name === name && o.metadata?.namespace === ns),
      onEvent: () => () => undefined,
      stop: () => undefined,
    };
  };
  const unsupported = (): Promise<never> => Promise.reject(new Error('read-only'));
  return {
    description: 'memory',
    sync: () => release(),
    // eslint-disable-next-line @typescript-eslint/require-await
    async *listPages() {
      yield objects;
    },
    get: () => Promise.resolve(undefined),
    informer,
    create: unsupported,
    update: unsupported,
    updateStatus: unsupported,
    delete: unsupported,
    close: () => Promise.resolve(),
  };
}

const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
});

const config = (effect: string): string => `apiVersion: podsec.io/v1alpha1
kind: PodsecConfig
assignments:
  - name: apps
    initiative: restricted
    version: latest
    effect: ${effect}
    namespaces: [app]
`;

let certs: CertDir;
let configFile: string;
let source: ReturnType<typeof memorySource>;
let hook: RunningWebhook;
let ca: string;

beforeAll(async () => {
  certs = await makeCertDir();
  ca = certs.certs.caCert;
  configFile = join(certs.dir, 'podsec.yaml');
  writeFileSync(configFile, config('deny'));
  source = memorySource([
    namespace('app'),
    namespace('labelled', { 'pod-security.kubernetes.io/enforce': 'baseline' }),
    namespace('free'),
    // As a --state directory may hold it: no labels at all, not even kubernetes.io/metadata.name.
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bare' } },
  ]);
  hook = await startWebhook(
    {
      tlsCert: certs.certFile,
      tlsKey: certs.keyFile,
      port: '0',
      host: '127.0.0.1',
      config: configFile,
      shutdownDelay: '0',
    },
    { logger: silentLogger(), openSource: () => Promise.resolve(source), configPollMs: 200 },
  );
});

afterAll(async () => {
  await hook?.stop();
  certs?.remove();
});

const privileged = (uid: string, ns = 'app'): Record<string, unknown> =>
  makeReview(
    uid,
    { ...makePodObject('p', { privileged: true }), metadata: { name: 'p', namespace: ns } },
    ns,
  );

describe('podsec webhook (in process)', () => {
  it('is ready once the caches sync', async () => {
    const before = await call(hook.port, ca, { path: '/readyz' });
    expect(before.status).toBe(503);
    expect(before.text).toContain('"name":"caches","ok":false');
    source.sync();
    await waitFor(async () =>
      (await call(hook.port, ca, { path: '/readyz' })).status === 200 ? true : undefined,
    );
  });

  it.each([
    { name: 'config denies a privileged pod in app', review: privileged('u1'), allowed: false, code: 403 },
    {
      name: 'namespace label (enforce=baseline) denies it elsewhere',
      review: privileged('u2', 'labelled'),
      allowed: false,
      code: 403,
    },
    {
      name: 'a namespace without any labels is privileged by PSA defaults, not unknown',
      review: privileged('u3b', 'bare'),
      allowed: true,
    },
    {
      name: 'an unlabelled namespace outside the config allows it',
      review: privileged('u3', 'free'),
      allowed: true,
    },
    {
      name: 'a namespace missing from the cache fails closed',
      review: privileged('u5', 'ghost'),
      allowed: false,
    },
    { name: 'a restricted pod passes', review: makeReview('u4', makePodObject()), allowed: true },
  ])('$name', async ({ review, allowed, code }) => {
    const r = await postReview(hook.port, ca, review);
    expect(r.status).toBe(200);
    const body = r.json() as {
      response: { uid: string; allowed: boolean; status?: { code: number; message: string } };
    };
    expect(body.response.uid).toBe((review['request'] as { uid: string }).uid);
    expect(body.response.allowed).toBe(allowed);
    if (code === 403) {
      expect(body.response.status?.code).toBe(403);
      expect(body.response.status?.message).toContain('privileged');
    }
  });

  it('applies a valid new podsec.yaml and refuses an invalid one, keeping the last good', async () => {
    writeFileSync(configFile, config('warn'));
    // the file watcher applies it by itself
    const warned = await waitFor(async () => {
      const r = (await postReview(hook.port, ca, privileged('r1'))).json() as {
        response: { allowed: boolean; warnings?: string[] };
      };
      return r.response.allowed ? r.response : undefined;
    });
    expect(warned.warnings?.join('\n')).toContain('privileged');

    writeFileSync(configFile, config('deny').replace('effect: deny', 'effect: deny\n    colour: blue'));
    expect(await hook.reloadConfig()).toBe(false);
    const still = (await postReview(hook.port, ca, privileged('r2'))).json() as {
      response: { allowed: boolean };
    };
    expect(still.response.allowed).toBe(true); // the warn config stays in force

    const metrics = (await call(hook.port, ca, { path: '/metrics' })).text;
    expect(metrics).toMatch(/podsec_config_reloads_total\{result="failed"\} [1-9]/);
    expect(metrics).toMatch(/podsec_config_reloads_total\{result="ok"\} [1-9]/);
    expect(metrics).toMatch(
      /podsec_webhook_requests_total\{decision="deny",kind="Pod",namespace="app"\} [1-9]/,
    );
  });
});

describe('podsec webhook start-up errors', () => {
  it.each([
    { name: 'bad port', opts: { port: '99999' }, error: UsageError, message: /--port/ },
    {
      name: 'bad body limit',
      opts: { maxBodyBytes: '12kb' },
      error: UsageError,
      message: /--max-body-bytes/,
    },
    { name: 'bad log level', opts: { logLevel: 'loud' }, error: UsageError, message: /--log-level/ },
    {
      name: 'bad connection limit',
      opts: { maxConnections: '0' },
      error: UsageError,
      message: /--max-connections/,
    },
    {
      name: 'bad shutdown delay',
      opts: { shutdownDelay: 'soon' },
      error: UsageError,
      message: /--shutdown-delay/,
    },
    {
      name: 'missing certificate',
      opts: { tlsCert: '/nonexistent/tls.crt' },
      error: UsageError,
      message: /certificate/,
    },
  ])('$name', async ({ opts, error, message }) => {
    const start = startWebhook(
      { tlsCert: certs.certFile, tlsKey: certs.keyFile, port: '0', host: '127.0.0.1', ...opts },
      {
        openSource: () => Promise.resolve(memorySource([])),
        ...(opts.logLevel === undefined ? { logger: silentLogger() } : {}),
      },
    );
    await expect(start).rejects.toThrow(error);
    await expect(start).rejects.toThrow(message);
  });

  it('an invalid podsec.yaml reports every issue', async () => {
    const bad = join(certs.dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: podsec.io/v1alpha1\nkind: PodsecConfig\nfoo: 1\nassignments:\n  - name: a\n    initiative: nope\n',
    );
    const start = startWebhook(
      { tlsCert: certs.certFile, tlsKey: certs.keyFile, port: '0', host: '127.0.0.1', config: bad },
      { logger: silentLogger(), openSource: () => Promise.resolve(memorySource([])) },
    );
    await expect(start).rejects.toThrow(ConfigError);
    const err = (await start.catch((e: unknown) => e)) as ConfigError;
    expect(err.issues.length).toBeGreaterThanOrEqual(2);
  });
});

describe('graceful stop (what SIGTERM runs)', () => {
  it('answers 503 on /readyz at once, keeps answering reviews through the delay, then closes', async () => {
    const src = memorySource([namespace('app')]);
    src.sync();
    const h = await startWebhook(
      {
        tlsCert: certs.certFile,
        tlsKey: certs.keyFile,
        port: '0',
        host: '127.0.0.1',
        shutdownDelay: '1500ms',
      },
      { logger: silentLogger(), openSource: () => Promise.resolve(src) },
    );
    await waitFor(async () =>
      (await call(h.port, ca, { path: '/readyz' })).status === 200 ? true : undefined,
    );
    let stopped = false;
    const stopping = h.stop().then(() => (stopped = true));

    const ready = await call(h.port, ca, { path: '/readyz' });
    expect(ready.status).toBe(503);
    expect(ready.json()).toMatchObject({
      status: 'not ready',
      conditions: expect.arrayContaining([{ name: 'shutdown', ok: false, message: 'shutting down' }]),
    });
    const review = await postReview(h.port, ca, makeReview('during-delay', makePodObject()));
    expect(review.status).toBe(200);
    expect(review.json()).toMatchObject({ response: { uid: 'during-delay', allowed: true } });
    // Each answer closes its connection, so the API server reconnects through the Service.
    expect(review.headers['connection']).toBe('close');
    expect(stopped).toBe(false);

    await stopping;
    await expect(call(h.port, ca, { path: '/healthz' })).rejects.toThrow();
  });

  it.each([
    { name: 'default', text: undefined, ms: 5_000 },
    { name: 'zero', text: '0', ms: 0 },
    { name: 'seconds', text: '5s', ms: 5_000 },
    { name: 'milliseconds', text: '250ms', ms: 250 },
    { name: 'minutes', text: '1m', ms: 60_000 },
    { name: 'no unit', text: '5', ms: null },
    { name: 'negative', text: '-1s', ms: null },
    { name: 'over ten minutes', text: '11m', ms: null },
    { name: 'words', text: 'soon', ms: null },
  ])('--shutdown-delay $name', ({ text, ms }) => {
    if (ms === null) expect(() => parseShutdownDelay(text)).toThrow(UsageError);
    else expect(parseShutdownDelay(text)).toBe(ms);
  });
});

describe('namespaceLabelsOf', () => {
  const ns = (name: string, labels?: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: labels === undefined ? { name } : { name, labels },
  });
  const cacheOf = (objects: KubeObject[]) => ({
    get: (_: undefined, name: string) => objects.find((o) => o.metadata?.name === name),
  });
  const live = (objects: KubeObject[]) => ({
    get: (ref: { name: string }) => Promise.resolve(objects.find((o) => o.metadata?.name === ref.name)),
  });

  it.each([
    [
      'labels plus the name label',
      [ns('a', { team: 'x' })],
      [],
      'a',
      { team: 'x', 'kubernetes.io/metadata.name': 'a' },
    ],
    ['no labels: only the name label', [ns('a')], [], 'a', { 'kubernetes.io/metadata.name': 'a' }],
    [
      'not cached yet: read live',
      [],
      [ns('new', { x: 'y' })],
      'new',
      { x: 'y', 'kubernetes.io/metadata.name': 'new' },
    ],
    ['nowhere: unknown', [], [], 'gone', undefined],
  ])('%s', async (_name, cached, stored, name, expected) => {
    expect(await namespaceLabelsOf(name, cacheOf(cached), live(stored))).toEqual(expected);
  });
});
