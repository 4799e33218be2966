/**
 * The pure nftables builder: exact script text for both modes, interface and address validation,
 * and nothing a user types can break out of the quoted strings of the script.
 */
import { describe, expect, it } from 'vitest';
import {
  buildCleanupScript,
  buildRulesetScript,
  conntrackFlushArgs,
  DEFAULT_POD_INTERFACES,
  validateRedirectConfig,
  type RedirectConfig,
  type RedirectConfigInput,
} from './rules.js';
import { redirectSettingsFromFlags, splitPatterns } from './flags.js';
import { UsageError } from '../../../lib/errors.js';

function config(over: Partial<RedirectConfigInput> = {}): RedirectConfig {
  const r = validateRedirectConfig({ targetAddress: '10.240.0.4', targetPort: 2579, ...over });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.config;
}

const REDIRECT_ONE_INTERFACE = `# podsec identity nmi: generated, replaced as a whole; 'podsec identity nmi --cleanup' removes it
table ip podsec-nmi
delete table ip podsec-nmi
table ip podsec-nmi {
\tchain imds-dnat {
\t\ttype nat hook prerouting priority dstnat - 10; policy accept;
\t\tiifname "azv*" ip daddr 169.254.169.254 tcp dport 80 dnat to 10.240.0.4:2579
\t}
\tchain imds-reject-forward {
\t\ttype filter hook forward priority filter - 10; policy accept;
\t\tiifname "azv*" ip daddr 169.254.169.254 tcp dport 80 reject with tcp reset
\t}
\tchain imds-reject-input {
\t\ttype filter hook input priority filter - 10; policy accept;
\t\tiifname "azv*" ip daddr 169.254.169.254 tcp dport 80 reject with tcp reset
\t}
}
`;

describe('buildRulesetScript', () => {
  it('redirect mode, one interface: the exact transaction', () => {
    expect(buildRulesetScript(config({ podInterfaces: ['azv*'] }), 'redirect')).toBe(REDIRECT_ONE_INTERFACE);
  });

  const cases: {
    name: string;
    input: Partial<RedirectConfigInput>;
    mode: 'redirect' | 'reject';
    contains: string[];
    absent: string[];
  }[] = [
    {
      name: 'default interfaces as one anonymous set',
      input: {},
      mode: 'redirect',
      contains: [
        `iifname { "azv*", "cali*", "lxc*", "veth*", "cbr0", "cni0" } ip daddr 169.254.169.254 tcp dport 80 dnat to 10.240.0.4:2579`,
      ],
      absent: [' redirect ', 'masquerade'],
    },
    {
      name: 'the target address and port come from the config',
      input: { targetAddress: '192.168.7.9', targetPort: 8080, podInterfaces: ['vp1'] },
      mode: 'redirect',
      contains: ['dnat to 192.168.7.9:8080', 'iifname "vp1"'],
      absent: ['10.240.0.4'],
    },
    {
      name: 'reject mode: no nat chain, reset at forward and input',
      input: { podInterfaces: ['cali*', 'cbr0'] },
      mode: 'reject',
      contains: [
        'type filter hook forward priority filter - 10',
        'type filter hook input priority filter - 10',
        'iifname { "cali*", "cbr0" } ip daddr 169.254.169.254 tcp dport 80 reject with tcp reset',
      ],
      absent: ['dnat', 'imds-dnat', 'prerouting'],
    },
    {
      name: 'a custom podsec table, replaced as a whole',
      input: { table: 'podsec-nmi-test' },
      mode: 'reject',
      contains: ['table ip podsec-nmi-test\ndelete table ip podsec-nmi-test\ntable ip podsec-nmi-test {'],
      absent: ['table ip podsec-nmi\n'],
    },
    {
      name: 'duplicate patterns are written once',
      input: { podInterfaces: ['veth*', 'veth*'] },
      mode: 'redirect',
      contains: ['iifname "veth*" ip daddr'],
      absent: ['"veth*", "veth*"'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const text = buildRulesetScript(config(c.input), c.mode);
      for (const s of c.contains) expect(text).toContain(s);
      for (const s of c.absent) expect(text).not.toContain(s);
    });
  }

  it('never flushes the whole ruleset and touches only its table', () => {
    for (const mode of ['redirect', 'reject'] as const) {
      const text = buildRulesetScript(config(), mode);
      expect(text).not.toMatch(/flush ruleset/);
      for (const line of text.split('\n').filter((l) => /^(table|delete|flush)/.test(l))) {
        expect(line).toMatch(/ ip podsec-nmi( \{)?$/);
      }
    }
  });
});

describe('validateRedirectConfig', () => {
  const invalid: { name: string; input: Partial<RedirectConfigInput>; error: RegExp }[] = [
    { name: 'empty interface list', input: { podInterfaces: [] }, error: /no pod interface/ },
    { name: 'empty pattern', input: { podInterfaces: [''] }, error: /empty interface pattern/ },
    { name: 'bare wildcard', input: { podInterfaces: ['*'] }, error: /every interface/ },
    { name: 'quote injection', input: { podInterfaces: ['eth0" accept; #'] }, error: /invalid interface/ },
    { name: 'brace injection', input: { podInterfaces: ['a} flush ruleset {'] }, error: /invalid interface/ },
    { name: 'newline injection', input: { podInterfaces: ['veth*\nflush ruleset'] }, error: /invalid/ },
    { name: 'backslash', input: { podInterfaces: ['veth\\'] }, error: /invalid interface/ },
    { name: 'wildcard in the middle', input: { podInterfaces: ['ve*th'] }, error: /invalid interface/ },
    { name: 'name over 15 bytes', input: { podInterfaces: ['abcdefghijklmnop'] }, error: /invalid/ },
    { name: 'space', input: { podInterfaces: ['veth 1'] }, error: /invalid interface/ },
    {
      name: 'colon (an alias, not an interface)',
      input: { podInterfaces: ['eth0:1'] },
      error: /invalid interface/,
    },
    { name: 'slash', input: { podInterfaces: ['a/b'] }, error: /invalid interface/ },
    { name: 'wildcard address', input: { targetAddress: '0.0.0.0' }, error: /0\.0\.0\.0/ },
    { name: 'loopback target', input: { targetAddress: '127.0.0.1' }, error: /loopback/ },
    { name: 'IPv6 target', input: { targetAddress: '::1' }, error: /IPv4/ },
    { name: 'hostname target', input: { targetAddress: 'node-1' }, error: /IPv4/ },
    { name: 'address injection', input: { targetAddress: '10.0.0.1:80 accept' }, error: /IPv4/ },
    { name: 'the metadata address', input: { targetAddress: '169.254.169.254' }, error: /metadata/ },
    { name: 'multicast target', input: { targetAddress: '224.0.0.1' }, error: /multicast/ },
    { name: 'port 0', input: { targetPort: 0 }, error: /port/ },
    { name: 'port too big', input: { targetPort: 70000 }, error: /port/ },
    { name: 'table not podsec-owned', input: { table: 'filter' }, error: /table name/ },
    { name: 'table injection', input: { table: 'podsec x; flush ruleset' }, error: /table name/ },
  ];
  for (const c of invalid) {
    it(`refuses ${c.name}`, () => {
      const r = validateRedirectConfig({ targetAddress: '10.240.0.4', targetPort: 2579, ...c.input });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errors.join('\n')).toMatch(c.error);
    });
  }

  it('reports every problem at once', () => {
    const r = validateRedirectConfig({ podInterfaces: ['*', 'a"b'], targetAddress: 'x', targetPort: 0 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toHaveLength(4);
  });

  const valid: { name: string; patterns: string[] }[] = [
    { name: 'defaults', patterns: [...DEFAULT_POD_INTERFACES] },
    { name: 'exact name', patterns: ['cbr0'] },
    { name: '15-byte name', patterns: ['abcdefghijklmno'] },
    { name: 'punctuation Linux allows', patterns: ['eth0.100', 'br-1a2b', 'veth_x@if3', 'a+b*'] },
  ];
  for (const c of valid) {
    it(`accepts ${c.name}`, () => {
      expect(
        validateRedirectConfig({ podInterfaces: c.patterns, targetAddress: '10.1.2.3', targetPort: 1 }).ok,
      ).toBe(true);
    });
  }
});

describe('cleanup and conntrack', () => {
  it('cleanup deletes only the podsec table and tolerates its absence', () => {
    expect(buildCleanupScript()).toBe('table ip podsec-nmi\ndelete table ip podsec-nmi\n');
    expect(() => buildCleanupScript('nat')).toThrow(/not owned by podsec/);
  });

  it('conntrack deletes tcp flows to 169.254.169.254:80 only', () => {
    expect(conntrackFlushArgs()).toEqual([
      '-D',
      '-p',
      'tcp',
      '--orig-dst',
      '169.254.169.254',
      '--dport',
      '80',
    ]);
  });
});

describe('redirect flags', () => {
  const base = { listenAddress: '10.240.0.4', port: 2579 };

  it('splits repeated and comma-separated --pod-interface values', () => {
    expect(splitPatterns(['azv*,cali*', ' veth* '])).toEqual(['azv*', 'cali*', 'veth*']);
  });

  it('targets the listen address and parses the interval', () => {
    const s = redirectSettingsFromFlags({ ...base, podInterfaces: ['vp*'], redirectInterval: '2' });
    expect(s.config).toMatchObject({ targetAddress: '10.240.0.4', targetPort: 2579, podInterfaces: ['vp*'] });
    expect(s.intervalMs).toBe(2000);
    expect(redirectSettingsFromFlags(base).intervalMs).toBe(10_000);
  });

  it('a wildcard listener targets --node-address', () => {
    const s = redirectSettingsFromFlags({
      ...base,
      listenAddress: '0.0.0.0',
      nodeAddresses: ['fd00::5', '10.240.0.5'],
    });
    expect(s.config.targetAddress).toBe('10.240.0.5');
  });

  const bad: {
    name: string;
    over: Partial<Parameters<typeof redirectSettingsFromFlags>[0]>;
    error: RegExp;
  }[] = [
    {
      name: 'wildcard listener without --node-address',
      over: { listenAddress: '0.0.0.0' },
      error: /--node-address/,
    },
    { name: 'loopback listener', over: { listenAddress: '127.0.0.1' }, error: /loopback/ },
    { name: 'port 0', over: { port: 0 }, error: /fixed --port/ },
    { name: 'empty --pod-interface', over: { podInterfaces: [''] }, error: /empty interface/ },
    { name: 'zero interval', over: { redirectInterval: '0' }, error: /--redirect-interval/ },
    { name: 'text interval', over: { redirectInterval: 'soon' }, error: /--redirect-interval/ },
  ];
  for (const c of bad) {
    it(`usage error: ${c.name}`, () => {
      let caught: unknown;
      try {
        redirectSettingsFromFlags({ ...base, ...c.over });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(UsageError);
      expect((caught as Error).message).toMatch(c.error);
    });
  }
});
