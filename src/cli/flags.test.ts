import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors.js';
import { parseListenPort, parseLogLevelFlag } from './flags.js';

describe('parseListenPort', () => {
  it.each([
    ['8443', 8443],
    [' 2579 ', 2579],
    ['0', 0],
    ['65535', 65535],
    ['8444/TCP', 8444],
    ['8444/tcp', 8444],
  ])('%s -> %d', (text, want) => {
    expect(parseListenPort(text)).toBe(want);
  });

  it.each(['', '65536', '-1', 'http', '80/udp', '8.5', '123456'])('refuses "%s" naming the flag', (text) => {
    expect(() => parseListenPort(text, '--nmi-port')).toThrow(UsageError);
    expect(() => parseListenPort(text, '--nmi-port')).toThrow(/^--nmi-port must be a TCP port/);
  });
});

describe('parseLogLevelFlag', () => {
  it('uses the fallback when not given, and accepts every pino level', () => {
    expect(parseLogLevelFlag(undefined)).toBe('info');
    expect(parseLogLevelFlag(undefined, 'warn')).toBe('warn');
    for (const l of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) {
      expect(parseLogLevelFlag(l)).toBe(l);
    }
  });

  it('refuses an unknown level with the list', () => {
    expect(() => parseLogLevelFlag('verbose')).toThrow(/--log-level must be one of fatal, error/);
  });
});
