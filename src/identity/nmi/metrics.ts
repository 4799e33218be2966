/**
 * The NMI's Prometheus metrics, in a Registry of its own (never prom-client's global one) so
 * several servers in one process, or tests, do not share counters. Labels are fixed small sets:
 * nothing from the request (pod names, resources) becomes a label value.
 */
import { Counter, Histogram, Registry } from 'prom-client';

export const ROUTES = ['token', 'instance', 'passthrough', 'healthz', 'metrics', 'other'] as const;
export type Route = (typeof ROUTES)[number];

export class NmiMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'code'>;
  private readonly latency: Histogram<'route'>;
  private readonly cache: Counter<'outcome'>;
  private readonly throttled: Counter;
  /** Label children resolved once: prom-client hashes the label object on every inc otherwise. */
  private readonly requestChildren = new Map<string, Counter.Internal>();
  private readonly latencyChildren = new Map<Route, Histogram.Internal<'route'>>();

  constructor(prefix = 'podsec_') {
    const registers = [this.registry];
    this.requests = new Counter({
      name: `${prefix}nmi_requests_total`,
      help: 'Requests answered by the NMI, by route and HTTP status',
      labelNames: ['route', 'code'],
      registers,
    });
    this.latency = new Histogram({
      name: `${prefix}nmi_request_duration_seconds`,
      help: 'Time to answer, by route',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 2.5, 5],
      registers,
    });
    this.cache = new Counter({
      name: `${prefix}nmi_token_cache_total`,
      help: 'Token cache lookups: hit, stale (served while refreshing), miss',
      labelNames: ['outcome'],
      registers,
    });
    this.throttled = new Counter({
      name: `${prefix}nmi_rate_limited_total`,
      help: 'Token requests refused by the per-pod rate limit',
      registers,
    });
  }

  observe(route: Route, status: number, seconds: number): void {
    const key = `${route} ${status}`;
    let counter = this.requestChildren.get(key);
    if (counter === undefined) {
      counter = this.requests.labels({ route, code: String(status) });
      this.requestChildren.set(key, counter);
    }
    counter.inc();
    let histogram = this.latencyChildren.get(route);
    if (histogram === undefined) {
      histogram = this.latency.labels({ route });
      this.latencyChildren.set(route, histogram);
    }
    histogram.observe(seconds);
  }

  cacheOutcome(outcome: 'hit' | 'stale' | 'miss'): void {
    this.cache.inc({ outcome });
  }

  rateLimited(): void {
    this.throttled.inc();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
