/**
 * The nftables ruleset behind `podsec identity nmi --redirect`, as a pure function: a validated
 * configuration in, the text of one `nft -f` transaction out. Nothing here runs a command.
 *
 * Why this shape:
 * - A DNAT in a nat chain at prerouting, not a `redirect` statement: `redirect` rewrites the
 *   destination to the primary address of the incoming interface, and pod-side veths in routed
 *   CNIs (Calico-style /32 pods, Azure CNI) carry no address, so the kernel drops the packet.
 *   DNAT to a concrete node address is delivered locally whatever the interface.
 * - Priority dstnat - 10, so the chain runs before kube-proxy's and any other DNAT at that hook;
 *   the first NAT binding of a connection is the one that sticks.
 * - Only traffic entering from pod interfaces (iifname patterns): the node's own processes and
 *   hostNetwork pods leave through the output hook and are never rewritten here.
 * - Fail closed: filter chains at forward and input reject tcp to the metadata address from pod
 *   interfaces with a reset, in both modes. While the redirect is in place they see nothing
 *   (DNAT already changed the destination); once the NMI stops, the ruleset is swapped for the
 *   reject form alone, so pods are refused instead of falling through to the real IMDS.
 * - The whole podsec-owned table is replaced in one transaction (add; delete; define), so a
 *   switch between the two forms leaves no stale chain and is never half applied.
 */
import { isIPv4 } from 'node:net';

export const METADATA_ADDRESS = '169.254.169.254';
export const METADATA_PORT = 80;
export const DEFAULT_TABLE = 'podsec-nmi';

/**
 * Pod-side host interfaces of the common CNIs: Azure CNI (`azv*`), Calico (`cali*`), Cilium
 * (`lxc*`), generic veth-based plugins such as kindnet and flannel's pods (`veth*`), and the
 * bridges of kubenet (`cbr0`) and the bridge/flannel plugins (`cni0`). Traffic bridged through
 * cbr0/cni0 enters the IP layer with the bridge as its input interface.
 */
export const DEFAULT_POD_INTERFACES = ['azv*', 'cali*', 'lxc*', 'veth*', 'cbr0', 'cni0'] as const;

/** `redirect`: DNAT to the NMI plus the reject backstop; `reject`: the backstop alone (NMI down). */
export const RULESET_MODES = ['redirect', 'reject'] as const;
export type RulesetMode = (typeof RULESET_MODES)[number];

export interface RedirectConfig {
  /** A table podsec owns; its name starts with `podsec`. */
  readonly table: string;
  /** Interface names or prefixes ending in `*`, never empty. */
  readonly podInterfaces: readonly string[];
  /** Where the DNAT sends pod traffic: the NMI's concrete IPv4 listen (node) address and port. */
  readonly targetAddress: string;
  readonly targetPort: number;
}

export interface RedirectConfigInput {
  readonly table?: string | undefined;
  readonly podInterfaces?: readonly string[] | undefined;
  readonly targetAddress: string;
  readonly targetPort: number;
}

export type RedirectConfigResult =
  | { readonly ok: true; readonly config: RedirectConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Linux interface names are at most 15 bytes; nftables accepts a trailing `*` as a prefix match.
 * The character set is deliberately narrow: these strings are pasted into the nft script inside
 * double quotes, so quotes, backslashes, spaces, braces and semicolons must never get through.
 */
const INTERFACE_PATTERN = /^[A-Za-z0-9_.@+-]{1,15}\*?$/;
const TABLE_PATTERN = /^podsec[a-z0-9-]{0,40}$/;

export function validateInterfacePattern(pattern: string): string | undefined {
  if (pattern === '') return 'an empty interface pattern';
  if (pattern === '*') {
    return "'*' would match every interface (the node's uplink too): name the pod interfaces";
  }
  if (!INTERFACE_PATTERN.test(pattern)) {
    return (
      `invalid interface pattern '${pattern}': an interface name (at most 15 of A-Z a-z 0-9 _ . @ + -), ` +
      "optionally ending in '*'"
    );
  }
  return undefined;
}

/** Why a DNAT target address cannot be used, or undefined when it can. */
export function validateTargetAddress(address: string): string | undefined {
  if (!isIPv4(address)) {
    return `the redirect target must be a concrete IPv4 address (the node's), got '${address}'`;
  }
  const first = Number(address.split('.')[0]);
  if (address === '0.0.0.0') {
    return 'the redirect target cannot be 0.0.0.0: give the node address the NMI listens on';
  }
  if (first === 127) {
    return (
      `the redirect target cannot be a loopback address (${address}): the kernel does not deliver ` +
      'forwarded pod traffic to 127.0.0.0/8 (route_localnet), listen on the node address instead'
    );
  }
  if (address === METADATA_ADDRESS) return 'the redirect target cannot be the metadata address itself';
  if (first >= 224) return `the redirect target cannot be a multicast or reserved address (${address})`;
  return undefined;
}

/** Checks everything at once and reports every problem; duplicates among patterns are dropped. */
export function validateRedirectConfig(input: RedirectConfigInput): RedirectConfigResult {
  const errors: string[] = [];
  const table = input.table ?? DEFAULT_TABLE;
  if (!TABLE_PATTERN.test(table)) {
    errors.push(`invalid table name '${table}': podsec's tables are named podsec[a-z0-9-]*`);
  }
  const patterns = input.podInterfaces ?? DEFAULT_POD_INTERFACES;
  if (patterns.length === 0) errors.push('no pod interface pattern: the redirect would match nothing');
  for (const p of patterns) {
    const why = validateInterfacePattern(p);
    if (why !== undefined) errors.push(why);
  }
  const why = validateTargetAddress(input.targetAddress);
  if (why !== undefined) errors.push(why);
  if (!Number.isInteger(input.targetPort) || input.targetPort < 1 || input.targetPort > 65535) {
    errors.push(`the redirect target port must be 1-65535, got ${String(input.targetPort)}`);
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      table,
      podInterfaces: [...new Set(patterns)],
      targetAddress: input.targetAddress,
      targetPort: input.targetPort,
    },
  };
}

function interfaceMatch(patterns: readonly string[]): string {
  const quoted = patterns.map((p) => `"${p}"`);
  return quoted.length === 1 ? `iifname ${quoted[0]}` : `iifname { ${quoted.join(', ')} }`;
}

/**
 * The `nft -f` text that makes the table hold exactly `mode`'s ruleset. The leading `table`
 * line creates the table when absent so that the `delete` that follows never fails; the kernel
 * applies the whole file as one transaction.
 */
export function buildRulesetScript(config: RedirectConfig, mode: RulesetMode): string {
  const t = `ip ${config.table}`;
  const from = interfaceMatch(config.podInterfaces);
  const imds = `ip daddr ${METADATA_ADDRESS} tcp dport ${METADATA_PORT}`;
  const reject = `${from} ${imds} reject with tcp reset`;
  const lines = [
    `# podsec identity nmi: generated, replaced as a whole; 'podsec identity nmi --cleanup' removes it`,
    `table ${t}`,
    `delete table ${t}`,
    `table ${t} {`,
  ];
  if (mode === 'redirect') {
    lines.push(
      '\tchain imds-dnat {',
      '\t\ttype nat hook prerouting priority dstnat - 10; policy accept;',
      `\t\t${from} ${imds} dnat to ${config.targetAddress}:${config.targetPort}`,
      '\t}',
    );
  }
  lines.push(
    '\tchain imds-reject-forward {',
    '\t\ttype filter hook forward priority filter - 10; policy accept;',
    `\t\t${reject}`,
    '\t}',
    '\tchain imds-reject-input {',
    '\t\ttype filter hook input priority filter - 10; policy accept;',
    `\t\t${reject}`,
    '\t}',
    '}',
  );
  return `${lines.join('\n')}\n`;
}

/** Deletes podsec's table and nothing else; `add` first so that an absent table is no error. */
export function buildCleanupScript(table: string = DEFAULT_TABLE): string {
  if (!TABLE_PATTERN.test(table)) throw new Error(`refusing to delete a table not owned by podsec: ${table}`);
  return `table ip ${table}\ndelete table ip ${table}\n`;
}

/** `conntrack` arguments that delete the tracked connections to the metadata endpoint. */
export function conntrackFlushArgs(): readonly string[] {
  return ['-D', '-p', 'tcp', '--orig-dst', METADATA_ADDRESS, '--dport', String(METADATA_PORT)];
}
