/**
 * `podsec identity nmi --redirect` flags turned into a validated RedirectConfig, with every
 * problem reported at once as a usage error. The DNAT target is the address the NMI listens on
 * (upstream used the node IP): a loopback listener is unreachable for forwarded pod traffic
 * without route_localnet, and a wildcard listener names no address, so then `--node-address`
 * must say which one.
 */
import { isIPv4 } from 'node:net';
import { UsageError } from '../../../lib/errors.js';
import { validateRedirectConfig, type RedirectConfig } from './rules.js';

export interface RedirectFlags {
  /** Repeated flags and/or comma lists; undefined means the default patterns. */
  readonly podInterfaces?: readonly string[] | undefined;
  /** Seconds between checks of the table, as typed. */
  readonly redirectInterval?: string | undefined;
  readonly listenAddress: string;
  /** --node-address: the node's own addresses; the first IPv4 one is the target of a wildcard listener. */
  readonly nodeAddresses?: readonly string[] | undefined;
  readonly port: number;
}

export interface RedirectSettings {
  readonly config: RedirectConfig;
  readonly intervalMs: number;
}

/** `--pod-interface a,b --pod-interface c` -> [a, b, c]. */
export function splitPatterns(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim());
}

function parseInterval(text: string | undefined, errors: string[]): number {
  if (text === undefined) return 10_000;
  const seconds = Number(text.trim().replace(/s$/, ''));
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600) {
    errors.push(`--redirect-interval must be a number of seconds between 1 and 3600, got '${text}'`);
    return 10_000;
  }
  return Math.round(seconds * 1000);
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

export function redirectSettingsFromFlags(flags: RedirectFlags): RedirectSettings {
  const errors: string[] = [];
  const intervalMs = parseInterval(flags.redirectInterval, errors);
  if (flags.port === 0) errors.push('--redirect needs a fixed --port (not 0): the DNAT names it');
  let target: string | undefined = flags.listenAddress;
  if (WILDCARD.has(flags.listenAddress)) {
    const nodeAddress = flags.nodeAddresses?.find((a) => isIPv4(a));
    if (nodeAddress === undefined) {
      errors.push(
        `--redirect with --listen-address ${flags.listenAddress || "''"} needs --node-address: ` +
          'the DNAT must send pod traffic to one concrete node address',
      );
      target = undefined;
    } else {
      target = nodeAddress;
    }
  }
  const result = validateRedirectConfig({
    podInterfaces: flags.podInterfaces === undefined ? undefined : splitPatterns(flags.podInterfaces),
    // Without a target the problem is already reported; a placeholder keeps the other checks.
    targetAddress: target ?? '192.0.2.1',
    targetPort: flags.port === 0 ? 1 : flags.port,
  });
  if (!result.ok) errors.push(...result.errors.map((e) => `--redirect: ${e}`));
  if (errors.length > 0 || !result.ok) {
    throw new UsageError(
      errors.join('; '),
      'with --redirect, listen on the node address (e.g. --listen-address 10.240.0.4) and name the pod interfaces (--pod-interface)',
    );
  }
  return { config: result.config, intervalMs };
}
