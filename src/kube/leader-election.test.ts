/** Leader election: the pure decision as a table, then two runners against one directory source. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/cluster-source-suite.js';
import { createDirectorySource } from './cluster-source/directory.js';
import type { ClusterSource } from './cluster-source/types.js';
import {
  decide,
  LEASE_KIND,
  microTime,
  runWithLease,
  type LeaseObject,
  type Observation,
} from './leader-election.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const CONFIG = { leaseDurationMs: 15_000, maxClockSkewMs: 2_000 };

function lease(
  holder: string,
  renewedAgoMs: number,
  extra: Partial<LeaseObject['spec']> = {},
  rv = '7',
): LeaseObject {
  return {
    ...LEASE_KIND,
    metadata: { name: 'l', namespace: 'ns', resourceVersion: rv },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 15,
      acquireTime: microTime(NOW - 60_000),
      renewTime: microTime(NOW - renewedAgoMs),
      leaseTransitions: 3,
      ...extra,
    },
  };
}

describe('decide', () => {
  it.each<{
    case: string;
    lease: LeaseObject | undefined;
    observed?: Observation;
    action: string;
    transitions?: number;
  }>([
    { case: 'no lease: create it', lease: undefined, action: 'create', transitions: 0 },
    {
      case: 'my lease: renew, transitions unchanged',
      lease: lease('me', 5_000),
      action: 'renew',
      transitions: 3,
    },
    { case: 'fresh lease of another: wait', lease: lease('other', 5_000), action: 'wait' },
    { case: 'expired but within clock skew tolerance: wait', lease: lease('other', 16_000), action: 'wait' },
    {
      case: 'expired beyond the skew tolerance: take over',
      lease: lease('other', 17_001),
      action: 'takeover',
      transitions: 4,
    },
    {
      case: 'released (empty holder): take over at once',
      lease: lease('', 0),
      action: 'takeover',
      transitions: 4,
    },
    {
      case: "holder's clock far ahead, but unchanged since observed 16 s ago: take over",
      lease: lease('other', -3_600_000),
      observed: { resourceVersion: '7', at: NOW - 16_000 },
      action: 'takeover',
      transitions: 4,
    },
    {
      case: 'renewTime long past but a new version was only just observed: wait',
      lease: lease('other', 3_600_000),
      observed: { resourceVersion: '7', at: NOW - 1_000 },
      action: 'wait',
    },
    {
      case: 'observation of an older version does not count',
      lease: lease('other', 5_000, {}, '8'),
      observed: { resourceVersion: '7', at: NOW - 60_000 },
      action: 'wait',
    },
    {
      case: 'no renewTime: give the holder a full duration',
      lease: lease('other', 0, { renewTime: undefined, acquireTime: undefined }),
      action: 'wait',
    },
  ])('$case', ({ lease: l, observed, action, transitions }) => {
    const d = decide(l, 'me', NOW, CONFIG, observed);
    expect(d.action).toBe(action);
    if (d.action !== 'wait') {
      expect(d.spec.holderIdentity).toBe('me');
      expect(d.spec.renewTime).toBe(microTime(NOW));
      expect(d.spec.leaseTransitions).toBe(transitions);
    } else {
      expect(d.holder).toBe('other');
      expect(d.retryInMs).toBeGreaterThan(0);
    }
  });

  it('keeps acquireTime on renew and resets it on takeover', () => {
    const mine = decide(lease('me', 1000), 'me', NOW, CONFIG);
    expect(mine.action === 'renew' && mine.spec.acquireTime).toBe(microTime(NOW - 60_000));
    const taken = decide(lease('', 0), 'me', NOW, CONFIG);
    expect(taken.action === 'takeover' && taken.spec.acquireTime).toBe(microTime(NOW));
  });

  it('writes MicroTime with six fractional digits', () => {
    expect(microTime(Date.parse('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05.678000Z');
  });
});

describe('runWithLease', () => {
  let dir: string;
  const sources: ClusterSource[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podsec-lease-'));
  });
  afterEach(async () => {
    for (const s of sources.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  function runner(identity: string, log: string[]) {
    const source = createDirectorySource(dir);
    sources.push(source);
    const controller = new AbortController();
    const done = runWithLease({
      source,
      namespace: 'podsec',
      name: 'audit',
      identity,
      leaseDurationMs: 600,
      renewDeadlineMs: 400,
      retryPeriodMs: 40,
      onStartedLeading: async (signal) => {
        log.push(`start ${identity}`);
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      },
      onStoppedLeading: () => log.push(`stop ${identity}`),
      signal: controller.signal,
    });
    return { stop: () => controller.abort(), done, source };
  }

  it('exactly one of two runners leads; the other takes over when the leader stops', async () => {
    const log: string[] = [];
    const a = runner('a', log);
    const b = runner('b', log);
    await eventually('a leader', () => log.length > 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(log).toHaveLength(1);
    const first = log[0]!.slice('start '.length);
    const [leader, follower] = first === 'a' ? [a, b] : [b, a];
    leader.stop();
    await leader.done;
    await eventually('takeover', () => log.length === 3);
    const second = first === 'a' ? 'b' : 'a';
    expect(log).toEqual([`start ${first}`, `stop ${first}`, `start ${second}`]);
    const stored = (await follower.source.get({
      ...LEASE_KIND,
      namespace: 'podsec',
      name: 'audit',
    })) as LeaseObject;
    expect(stored.spec?.holderIdentity).toBe(second);
    expect(stored.spec?.leaseTransitions).toBe(1);
    follower.stop();
    await follower.done;
    const released = (await follower.source.get({
      ...LEASE_KIND,
      namespace: 'podsec',
      name: 'audit',
    })) as LeaseObject;
    expect(released.spec?.holderIdentity).toBe('');
  });

  it('takes over a lease whose holder died without releasing it, after it expires', async () => {
    const seedSource = createDirectorySource(dir);
    sources.push(seedSource);
    await seedSource.create({
      ...LEASE_KIND,
      metadata: { name: 'audit', namespace: 'podsec' },
      spec: {
        holderIdentity: 'dead',
        leaseDurationSeconds: 1,
        renewTime: microTime(Date.now()),
        leaseTransitions: 2,
      },
    });
    const log: string[] = [];
    const c = runner('c', log);
    await new Promise((r) => setTimeout(r, 300));
    expect(log).toEqual([]);
    await eventually('takeover after expiry', () => log.includes('start c'));
    const stored = (await seedSource.get({
      ...LEASE_KIND,
      namespace: 'podsec',
      name: 'audit',
    })) as LeaseObject;
    expect(stored.spec?.leaseTransitions).toBe(3);
    c.stop();
    await c.done;
    expect(log).toEqual(['start c', 'stop c']);
  });
});
