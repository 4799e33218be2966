import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Health } from './health.js';
import { createLogger, scrubSecrets } from './logger.js';
import { WebhookMetrics } from './metrics.js';

function capture(): { stream: PassThrough; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
  return {
    stream,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logger', () => {
  it('writes JSON lines with level names and drops lines below the level', () => {
    const c = capture();
    const log = createLogger({ level: 'warn', destination: c.stream, component: 'webhook' });
    log.info('hidden');
    log.warn({ port: 8443 }, 'shown');
    const lines = c.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'shown', port: 8443, component: 'webhook' });
  });

  it.each([
    { name: 'top-level token', fields: { token: 's3cr3t' } },
    { name: 'Authorization header', fields: { headers: { authorization: 'Bearer s3cr3t' } } },
    { name: 'nested request header', fields: { req: { headers: { Authorization: 's3cr3t' } } } },
    { name: 'kubeconfig user key data', fields: { user: { 'client-key-data': 's3cr3t' } } },
    { name: 'TLS key', fields: { tls: { key: 's3cr3t' } } },
    { name: 'client secret', fields: { clientSecret: 's3cr3t' } },
  ])('redacts $name', ({ fields }) => {
    const c = capture();
    createLogger({ destination: c.stream }).info(fields, 'x');
    const raw = JSON.stringify(c.lines());
    expect(raw).not.toContain('s3cr3t');
    expect(raw).toContain('[REDACTED]');
  });

  it('scrubs bearer tokens from messages', () => {
    const c = capture();
    createLogger({ destination: c.stream }).warn('upstream said: Authorization: Bearer abc.def-ghi');
    expect(c.lines()[0]?.['msg']).toBe('upstream said: Authorization: Bearer [REDACTED]');
    expect(scrubSecrets('Basic dXNlcjpwdw==')).toBe('Basic [REDACTED]');
  });
});

describe('metrics', () => {
  it('counts requests, violations, reloads and errors in its own registry', async () => {
    const m = new WebhookMetrics();
    const other = new WebhookMetrics();
    m.observeRequest({
      kind: 'Pod',
      namespace: 'app',
      decision: 'deny',
      violations: ['privileged', 'hostPorts'],
      seconds: 0.002,
    });
    m.observeRequest({ kind: 'Pod', namespace: 'app', decision: 'allow', violations: [], seconds: 0.001 });
    m.configReload(false);
    m.certificateReload(true, new Date(2_000_000_000_000));
    m.httpError(413);
    const text = await m.render();
    expect(text).toContain('podsec_webhook_requests_total{decision="deny",kind="Pod",namespace="app"} 1');
    expect(text).toContain('podsec_webhook_requests_total{decision="allow",kind="Pod",namespace="app"} 1');
    expect(text).toContain('podsec_webhook_violations_total{check="privileged"} 1');
    expect(text).toContain('podsec_config_reloads_total{result="failed"} 1');
    expect(text).toContain('podsec_config_reloads_total{result="ok"} 0');
    expect(text).toContain('podsec_certificate_reloads_total{result="ok"} 1');
    expect(text).toContain('podsec_certificate_expiry_timestamp_seconds 2000000000');
    expect(text).toContain('podsec_webhook_http_errors_total{code="413"} 1');
    expect(text).toContain('podsec_webhook_request_duration_seconds_count{decision="deny"} 1');
    expect(await other.render()).not.toContain('namespace="app"');
  });

  it('collapses namespaces beyond the limit to "other"', async () => {
    const m = new WebhookMetrics({ maxNamespaces: 3 });
    for (let i = 0; i < 10; i++) {
      m.observeRequest({ kind: 'Pod', namespace: `ns-${i}`, decision: 'allow', violations: [], seconds: 0 });
    }
    m.observeRequest({ kind: 'Pod', namespace: 'ns-1', decision: 'allow', violations: [], seconds: 0 });
    const text = await m.render();
    const series = text.split('\n').filter((l) => l.startsWith('podsec_webhook_requests_total{'));
    expect(series).toEqual([
      'podsec_webhook_requests_total{decision="allow",kind="Pod",namespace="ns-0"} 1',
      'podsec_webhook_requests_total{decision="allow",kind="Pod",namespace="ns-1"} 2',
      'podsec_webhook_requests_total{decision="allow",kind="Pod",namespace="ns-2"} 1',
      'podsec_webhook_requests_total{decision="allow",kind="Pod",namespace="other"} 7',
    ]);
  });
});

describe('health', () => {
  it('is ready only when every condition holds, and names the failing ones', () => {
    const h = new Health(['config', 'certificate', 'caches']);
    expect(h.readiness().ready).toBe(false);
    h.set('config', true);
    h.set('certificate', true);
    expect(h.failing()).toEqual([{ name: 'caches', ok: false, message: 'not yet' }]);
    h.set('caches', true, 'synced');
    expect(h.readiness()).toEqual({
      ready: true,
      conditions: [
        { name: 'config', ok: true, message: 'ok' },
        { name: 'certificate', ok: true, message: 'ok' },
        { name: 'caches', ok: true, message: 'synced' },
      ],
    });
  });
});
