/**
 * The bridge-CNI guard of `--redirect` over a fake sysfs and a fake `ip` (no kernel here; a real
 * bridge in a network namespace is in test/integration/identity-netns.test.ts): which patterns
 * reach a bridge or its ports, the refusal with its hint, the warning with --allow-bridge-cni,
 * the `ip -j link` fallback, and failing closed when the interfaces cannot be listed.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../observability/logger.js';
import { guardBridgeCni, listNodeBridges, matchBridges, type ListDir, type NodeBridge } from './bridges.js';
import { RedirectError } from './errors.js';
import { DEFAULT_POD_INTERFACES } from './rules.js';
import type { Exec } from './runner.js';

const enoent = (path: string): Error => Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });

/** A fake /sys/class/net: interface -> its bridge ports (an array) when it is a bridge, else null. */
function sysfs(interfaces: Record<string, string[] | null>): ListDir {
  return (path) => {
    if (path === '/sys/class/net') return Promise.resolve(Object.keys(interfaces));
    const m = /^\/sys\/class\/net\/([^/]+)\/brif$/.exec(path);
    const ports = m === null ? undefined : interfaces[m[1] ?? ''];
    return ports === undefined || ports === null ? Promise.reject(enoent(path)) : Promise.resolve(ports);
  };
}

const noSysfs: ListDir = (path) => Promise.reject(enoent(path));
const noIp: Exec = () => Promise.reject(enoent('ip'));

function capture(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return { logger: createLogger({ level: 'warn', destination: sink }), text: () => out };
}

describe('matchBridges', () => {
  const cases: { name: string; patterns: readonly string[]; bridges: NodeBridge[]; want: string[] }[] = [
    {
      name: 'routed CNI (Calico): no bridge, nothing matches',
      patterns: DEFAULT_POD_INTERFACES,
      bridges: [],
      want: [],
    },
    {
      name: 'kubenet: cbr0 itself matches the default patterns (and so do its veth ports)',
      patterns: ['cbr0'],
      bridges: [{ name: 'cbr0', ports: ['veth1a2b', 'veth3c4d'] }],
      want: ['cbr0:cbr0:'],
    },
    {
      name: 'bridge plugin: veth* reaches cni0 through a port',
      patterns: ['veth*'],
      bridges: [{ name: 'cni0', ports: ['veth9f'] }],
      want: ['veth*:cni0:veth9f'],
    },
    {
      name: 'a bridge no pattern names, with ports no pattern names (docker0 with no containers)',
      patterns: ['cali*', 'lxc*'],
      bridges: [{ name: 'docker0', ports: [] }],
      want: [],
    },
    {
      name: 'Azure CNI bridge mode: azv* ports of azure0',
      patterns: DEFAULT_POD_INTERFACES,
      bridges: [{ name: 'azure0', ports: ['azv0a1', 'eth0'] }],
      want: ['azv*:azure0:azv0a1'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(
        matchBridges(c.patterns, c.bridges).map((m) => `${m.pattern}:${m.bridge}:${m.port ?? ''}`),
      ).toEqual(c.want);
    });
  }
});

describe('listNodeBridges', () => {
  it('reads bridges and their ports from sysfs (brif exists only for bridges)', async () => {
    const bridges = await listNodeBridges({
      listDir: sysfs({ lo: null, eth0: null, cni0: ['vethb', 'vetha'], veth1: null }),
      exec: noIp,
    });
    expect(bridges).toEqual([{ name: 'cni0', ports: ['vetha', 'vethb'] }]);
  });

  it('falls back to ip -j link when sysfs cannot be listed', async () => {
    const calls: string[] = [];
    const exec: Exec = (file, args) => {
      calls.push(`${file} ${args.join(' ')}`);
      const out = args.includes('type')
        ? [{ ifname: 'cbr0' }]
        : args.includes('master')
          ? [{ ifname: 'veth1' }, { ifname: 'veth2' }]
          : [];
      return Promise.resolve({ code: 0, stdout: JSON.stringify(out), stderr: '' });
    };
    expect(await listNodeBridges({ listDir: noSysfs, exec })).toEqual([
      { name: 'cbr0', ports: ['veth1', 'veth2'] },
    ]);
    expect(calls).toEqual(['ip -j link show type bridge', 'ip -j link show master cbr0']);
  });
});

describe('guardBridgeCni', () => {
  const onCni0 = sysfs({ eth0: null, cni0: ['veth1'], veth1: null });

  it('refuses a bridge CNI with the spoofing risk and the way out (RedirectError bridge-cni)', async () => {
    const { logger } = capture();
    const err = await guardBridgeCni({
      podInterfaces: ['veth*', 'cni0'],
      allow: false,
      logger,
      listDir: onCni0,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RedirectError);
    const e = err as RedirectError;
    expect(e.reason).toBe('bridge-cni');
    expect(e.message).toMatch(/'veth\*' matches veth1, a port of bridge cni0; 'cni0' matches bridge cni0/);
    expect(e.message).toMatch(/CAP_NET_RAW can send from another pod's IP address/);
    expect(e.hint).toMatch(/restricted Pod Security.*NET_RAW.*--allow-bridge-cni/);
  });

  it('with --allow-bridge-cni: starts and logs a warning naming the bridge', async () => {
    const { logger, text } = capture();
    const matches = await guardBridgeCni({ podInterfaces: ['cni0'], allow: true, logger, listDir: onCni0 });
    expect(matches).toEqual([{ pattern: 'cni0', bridge: 'cni0' }]);
    expect(text()).toMatch(/"level":"warn".*allow-bridge-cni/);
  });

  it('no bridge behind the patterns: nothing logged, nothing refused', async () => {
    const { logger, text } = capture();
    const listDir = sysfs({ eth0: null, cali1: null, docker0: [] });
    expect(
      await guardBridgeCni({ podInterfaces: DEFAULT_POD_INTERFACES, allow: false, logger, listDir }),
    ).toEqual([]);
    expect(text()).toBe('');
  });

  it('fails closed when the interfaces cannot be listed, unless --allow-bridge-cni', async () => {
    const { logger, text } = capture();
    await expect(
      guardBridgeCni({ podInterfaces: ['veth*'], allow: false, logger, listDir: noSysfs, exec: noIp }),
    ).rejects.toThrow(/could not check whether the pod interfaces are on a Linux bridge/);
    expect(
      await guardBridgeCni({ podInterfaces: ['veth*'], allow: true, logger, listDir: noSysfs, exec: noIp }),
    ).toEqual([]);
    expect(text()).toMatch(/could not check for bridge CNIs/);
  });
});
