/**
 * Bridge CNIs (kubenet's cbr0, the bridge plugin's and flannel's cni0) put pods on one layer-2
 * segment: a pod with CAP_NET_RAW can send packets from another pod's IP and answer ARP for it,
 * and the NMI, which knows callers only by source address, would then serve it the other pod's
 * identities (aad-pod-identity refused kubenet unless told otherwise for the same reason). So
 * before `--redirect` installs anything, the pod-interface patterns are checked against the
 * node's Linux bridges and their ports; a match stops the NMI unless `--allow-bridge-cni` says
 * the operator accepts it (pods under restricted Pod Security, which drops NET_RAW), and then it
 * is logged as a warning. Interfaces are read from sysfs (`/sys/class/net/<if>/brif` exists only
 * for bridges and lists their ports), or from `ip -j link` when sysfs cannot be read; both are
 * injected so the decision is unit-tested without a kernel.
 */
import { readdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { RedirectError } from './errors.js';
import { spawnExec, type Exec } from './runner.js';

/** A bridge on the node and its ports (enslaved interfaces). */
export interface NodeBridge {
  readonly name: string;
  readonly ports: readonly string[];
}

/** A pod-interface pattern that reaches a bridge, directly or through one of its ports. */
export interface BridgeMatch {
  readonly pattern: string;
  readonly bridge: string;
  /** The bridge port the pattern matched; undefined when it matched the bridge itself. */
  readonly port?: string | undefined;
}

/** Lists a directory's entries; rejects (ENOENT, ENOTDIR) when it is not there. */
export type ListDir = (path: string) => Promise<string[]>;

export interface BridgeProbe {
  readonly listDir?: ListDir | undefined;
  readonly exec?: Exec | undefined;
  /** Where the network interfaces are listed (default /sys/class/net). */
  readonly sysClassNet?: string | undefined;
}

const defaultListDir: ListDir = (path) => readdir(path);

/** nft's iifname semantics: a trailing '*' is a prefix, anything else an exact name. */
export function interfaceMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

async function bridgesFromSysfs(listDir: ListDir, root: string): Promise<NodeBridge[]> {
  const names = await listDir(root);
  const out: NodeBridge[] = [];
  for (const name of names.sort()) {
    let ports: string[];
    try {
      ports = await listDir(`${root}/${name}/brif`);
    } catch {
      continue; // not a bridge
    }
    out.push({ name, ports: ports.sort() });
  }
  return out;
}

function ifnames(stdout: string): string[] {
  const parsed: unknown = JSON.parse(stdout === '' ? '[]' : stdout);
  if (!Array.isArray(parsed)) return [];
  return parsed
    .map((l: unknown) => (l as { ifname?: unknown } | null)?.ifname)
    .filter((n): n is string => typeof n === 'string');
}

async function bridgesFromIp(exec: Exec): Promise<NodeBridge[]> {
  const run = async (args: readonly string[]): Promise<string[]> => {
    const r = await exec('ip', args);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: exit code ${String(r.code)}`);
    return ifnames(r.stdout);
  };
  const out: NodeBridge[] = [];
  for (const name of (await run(['-j', 'link', 'show', 'type', 'bridge'])).sort()) {
    out.push({ name, ports: (await run(['-j', 'link', 'show', 'master', name])).sort() });
  }
  return out;
}

/** The node's bridges: sysfs first, `ip -j link` when sysfs cannot be listed. Throws when neither works. */
export async function listNodeBridges(probe: BridgeProbe = {}): Promise<NodeBridge[]> {
  try {
    return await bridgesFromSysfs(probe.listDir ?? defaultListDir, probe.sysClassNet ?? '/sys/class/net');
  } catch (sysfsErr) {
    try {
      return await bridgesFromIp(probe.exec ?? spawnExec);
    } catch (ipErr) {
      throw new Error(
        `cannot list the network interfaces (sysfs: ${(sysfsErr as Error).message}; ip: ${(ipErr as Error).message})`,
        { cause: ipErr },
      );
    }
  }
}

/** Pure: which patterns reach which bridges (the bridge's own name or one of its ports). */
export function matchBridges(patterns: readonly string[], bridges: readonly NodeBridge[]): BridgeMatch[] {
  const out: BridgeMatch[] = [];
  for (const b of bridges) {
    for (const pattern of patterns) {
      if (interfaceMatches(pattern, b.name)) {
        out.push({ pattern, bridge: b.name });
        continue;
      }
      const port = b.ports.find((p) => interfaceMatches(pattern, p));
      if (port !== undefined) out.push({ pattern, bridge: b.name, port });
    }
  }
  return out;
}

export function describeBridgeMatch(m: BridgeMatch): string {
  return m.port === undefined
    ? `'${m.pattern}' matches bridge ${m.bridge}`
    : `'${m.pattern}' matches ${m.port}, a port of bridge ${m.bridge}`;
}

const SPOOFING =
  "on a bridge, a pod with CAP_NET_RAW can send from another pod's IP address (and answer ARP for it) " +
  "and get that pod's identities from the NMI";
const BRIDGE_HINT =
  'run pods under the restricted Pod Security Standard (podsec admission webhook; it drops NET_RAW) and ' +
  'start the NMI with --allow-bridge-cni to accept the risk, or narrow --pod-interface to non-bridge interfaces';

export interface BridgeGuardOptions extends BridgeProbe {
  readonly podInterfaces: readonly string[];
  /** --allow-bridge-cni: start anyway and log a warning. */
  readonly allow: boolean;
  readonly logger: Logger;
}

/**
 * Refuses (RedirectError 'bridge-cni', exit 2) when a pod-interface pattern reaches a Linux
 * bridge, or when the interfaces cannot be listed, unless `allow`; with `allow` it warns.
 * Returns the matches found.
 */
export async function guardBridgeCni(opts: BridgeGuardOptions): Promise<BridgeMatch[]> {
  let bridges: NodeBridge[];
  try {
    bridges = await listNodeBridges(opts);
  } catch (err) {
    if (opts.allow) {
      opts.logger.warn(
        { err: (err as Error).message },
        'nmi redirect: could not check for bridge CNIs; starting because of --allow-bridge-cni',
      );
      return [];
    }
    throw new RedirectError(
      'bridge-cni',
      `--redirect: could not check whether the pod interfaces are on a Linux bridge: ${(err as Error).message}`,
      { hint: BRIDGE_HINT, cause: err },
    );
  }
  const matches = matchBridges(opts.podInterfaces, bridges);
  if (matches.length === 0) return matches;
  const found = matches.map(describeBridgeMatch).join('; ');
  if (!opts.allow) {
    throw new RedirectError('bridge-cni', `--redirect refused on a bridge CNI (${found}): ${SPOOFING}`, {
      hint: BRIDGE_HINT,
    });
  }
  opts.logger.warn(
    { matches: matches.map(describeBridgeMatch) },
    `nmi redirect: pod interfaces are on a Linux bridge (--allow-bridge-cni): ${SPOOFING}; ` +
      'keep pods under restricted Pod Security (no NET_RAW)',
  );
  return matches;
}
