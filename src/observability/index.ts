/** Public surface of observability: structured logs, Prometheus metrics, health conditions. */
export { createLogger, silentLogger, isLogLevel, scrubSecrets, LOG_LEVELS, REDACT_PATHS } from './logger.js';
export type { Logger, LogLevel, LoggerOptions } from './logger.js';
export { WebhookMetrics, DECISIONS, OTHER } from './metrics.js';
export type { Decision, MetricsOptions, RequestObservation } from './metrics.js';
export { Health, WEBHOOK_CONDITIONS } from './health.js';
export type { Condition, Readiness } from './health.js';
