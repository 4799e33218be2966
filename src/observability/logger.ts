/**
 * Structured JSON logs (pino) on stderr, so stdout stays free for command output. Webhook
 * requests carry service-account tokens, kubeconfigs carry keys and client secrets: the
 * redaction list censors those fields wherever a caller nests them, and a hook scrubs bearer
 * tokens out of free-text messages, because a secret that reaches a log aggregator is leaked.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'idToken',
  'bearerToken',
  'password',
  'secret',
  'clientSecret',
  'client_secret',
  'key',
  'privateKey',
  'tlsKey',
  'keyData',
  'client-key-data',
  'cookie',
  'Cookie',
];

/** Field paths pino censors: each secret key at the top level and up to two levels down. */
export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((k) => {
  const p = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
  const dot = p.startsWith('[') ? p : `.${p}`;
  return [p, `*${dot}`, `*.*${dot}`];
});

const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

/** Removes bearer/basic credentials from free text. */
export function scrubSecrets(text: string): string {
  return text.replace(BEARER, '$1 [REDACTED]');
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export interface LoggerOptions {
  readonly level?: LogLevel | undefined;
  /** Where lines go (default stderr). Tests pass a stream to read them back. */
  readonly destination?: NodeJS.WritableStream | undefined;
  /** A `component` field on every line (e.g. `webhook`). */
  readonly component?: string | undefined;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level: LevelWithSilent = options.level ?? 'info';
  const destination = options.destination ?? pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level,
      base:
        options.component === undefined
          ? { pid: process.pid }
          : { pid: process.pid, component: options.component },
      redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<
            typeof method
          >;
          method.apply(this, scrubbed);
        },
      },
    },
    destination,
  );
}

/** A logger that writes nothing (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
