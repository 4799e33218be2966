/**
 * Flag values shared by the serving commands (webhook, identity issuer, controller, NMI, up):
 * one reading of a listening port and of --log-level, so every command accepts the same
 * spellings and answers a bad value with the same usage error (exit 2).
 */
import { UsageError } from '../lib/errors.js';
import { isLogLevel, type LogLevel } from '../observability/logger.js';

/** A TCP port to listen on: `P` or `P/TCP`, 0 (any free port) to 65535. */
export function parseListenPort(text: string, flag = '--port'): number {
  const m = /^(\d{1,5})(?:\/tcp)?$/i.exec(text.trim());
  const port = m === null ? NaN : Number(m[1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`${flag} must be a TCP port (0-65535, optionally /TCP), got "${text}"`);
  }
  return port;
}

/** --log-level, or `fallback` when it was not given. */
export function parseLogLevelFlag(text: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  if (text === undefined) return fallback;
  if (!isLogLevel(text)) {
    throw new UsageError(
      `--log-level must be one of fatal, error, warn, info, debug, trace, silent; got "${text}"`,
    );
  }
  return text;
}
