/**
 * The webhook's Prometheus metrics. Each server owns a Registry (never prom-client's global
 * one) so two servers in one process, or tests, do not share counters. Label values that come
 * from requests are bounded: after `maxNamespaces` distinct namespaces (and `maxKinds` kinds,
 * `maxChecks` checks) new values collapse to "other", so a flood of made-up namespaces cannot
 * grow memory or the scrape without limit.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const DECISIONS = ['allow', 'deny', 'warn', 'audit', 'exempt', 'skip', 'error'] as const;
export type Decision = (typeof DECISIONS)[number];

export const OTHER = 'other';

export interface MetricsOptions {
  readonly maxNamespaces?: number | undefined;
  readonly maxKinds?: number | undefined;
  readonly maxChecks?: number | undefined;
  /** Metric name prefix (default `podsec_`). */
  readonly prefix?: string | undefined;
}

export interface RequestObservation {
  readonly kind: string;
  readonly namespace: string;
  readonly decision: Decision;
  readonly violations: readonly string[];
  readonly seconds: number;
}

/** Keeps the first `max` distinct values; later ones become "other". */
class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}
  value(v: string): string {
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return OTHER;
    this.seen.add(v);
    return v;
  }
}

export class WebhookMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'decision' | 'kind' | 'namespace'>;
  private readonly latency: Histogram<'decision'>;
  private readonly violations: Counter<'check'>;
  private readonly httpErrors: Counter<'code'>;
  private readonly configReloads: Counter<'result'>;
  private readonly certificateReloads: Counter<'result'>;
  private readonly certificateExpiry: Gauge;
  private readonly namespaces: BoundedLabel;
  private readonly kinds: BoundedLabel;
  private readonly checks: BoundedLabel;
  private readonly requestChildren = new Map<string, Counter.Internal>();
  private readonly latencyChildren = new Map<string, Histogram.Internal<'decision'>>();

  constructor(options: MetricsOptions = {}) {
    const p = options.prefix ?? 'podsec_';
    const registers = [this.registry];
    this.namespaces = new BoundedLabel(options.maxNamespaces ?? 200);
    this.kinds = new BoundedLabel(options.maxKinds ?? 50);
    this.checks = new BoundedLabel(options.maxChecks ?? 100);
    this.requests = new Counter({
      name: `${p}webhook_requests_total`,
      help: 'Admission requests answered, by decision, kind and namespace (namespaces beyond the limit are "other")',
      labelNames: ['decision', 'kind', 'namespace'],
      registers,
    });
    this.latency = new Histogram({
      name: `${p}webhook_request_duration_seconds`,
      help: 'Time from the end of the request body to the answer, by decision',
      labelNames: ['decision'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.violations = new Counter({
      name: `${p}webhook_violations_total`,
      help: 'Violations found in admission requests, by check',
      labelNames: ['check'],
      registers,
    });
    this.httpErrors = new Counter({
      name: `${p}webhook_http_errors_total`,
      help: 'Requests refused before admission (bad input, size, timeouts), by HTTP status',
      labelNames: ['code'],
      registers,
    });
    this.configReloads = new Counter({
      name: `${p}config_reloads_total`,
      help: 'podsec.yaml reloads: ok, or failed (the last good configuration stays in force)',
      labelNames: ['result'],
      registers,
    });
    this.certificateReloads = new Counter({
      name: `${p}certificate_reloads_total`,
      help: 'Serving certificate reloads: ok, or failed (the previous pair stays in use)',
      labelNames: ['result'],
      registers,
    });
    this.certificateExpiry = new Gauge({
      name: `${p}certificate_expiry_timestamp_seconds`,
      help: 'When the serving certificate in use expires (Unix time)',
      registers,
    });
    for (const result of ['ok', 'failed']) {
      this.configReloads.inc({ result }, 0);
      this.certificateReloads.inc({ result }, 0);
    }
  }

  observeRequest(o: RequestObservation): void {
    // Bound children are cached per label combination: prom-client hashes label objects on
    // every inc() otherwise, which shows in the webhook's per-request cost.
    const key = `${o.decision}\u0000${o.kind}\u0000${o.namespace}`;
    let child = this.requestChildren.get(key);
    if (child === undefined) {
      child = this.requests.labels({
        decision: o.decision,
        kind: this.kinds.value(o.kind),
        namespace: this.namespaces.value(o.namespace),
      });
      // The cache itself stays bounded: beyond the limits every new combination is "other".
      if (this.requestChildren.size < 4096) this.requestChildren.set(key, child);
    }
    child.inc();
    let timer = this.latencyChildren.get(o.decision);
    if (timer === undefined) {
      timer = this.latency.labels({ decision: o.decision });
      this.latencyChildren.set(o.decision, timer);
    }
    timer.observe(o.seconds);
    for (const check of o.violations) this.violations.inc({ check: this.checks.value(check) });
  }

  httpError(code: number): void {
    this.httpErrors.inc({ code: String(code) });
  }

  configReload(ok: boolean): void {
    this.configReloads.inc({ result: ok ? 'ok' : 'failed' });
  }

  certificateReload(ok: boolean, notAfter?: Date): void {
    this.certificateReloads.inc({ result: ok ? 'ok' : 'failed' });
    if (ok && notAfter !== undefined) this.certificateExpiry.set(notAfter.getTime() / 1000);
  }

  /** Records the certificate in use at start-up (not a reload). */
  certificateLoaded(notAfter: Date): void {
    this.certificateExpiry.set(notAfter.getTime() / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }
}
