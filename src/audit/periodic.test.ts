import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDirectorySource } from '../kube/cluster-source/directory.js';
import type { ClusterSource } from '../kube/cluster-source/types.js';
import { loop, runPeriodically } from './periodic.js';

const dirs: string[] = [];
const sources: ClusterSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'podsec-periodic-'));
  dirs.push(d);
  return d;
}

function source(dir: string): ClusterSource {
  const s = createDirectorySource(dir, { pollIntervalMs: 50 });
  sources.push(s);
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAST_LEASE = { durationMs: 1_000, renewDeadlineMs: 600, retryPeriodMs: 100 };

describe('loop', () => {
  it('runs every interval, survives a failed pass, and stops when aborted', async () => {
    const controller = new AbortController();
    const logs: string[] = [];
    let runs = 0;
    const done = loop(
      () => {
        runs++;
        if (runs === 2) return Promise.reject(new Error('API server unavailable'));
        if (runs === 4) controller.abort();
        return Promise.resolve(1);
      },
      10,
      controller.signal,
      (m) => logs.push(m),
    );
    expect(await done).toBe(1);
    expect(runs).toBe(4);
    expect(logs).toEqual([
      expect.stringMatching(/audit pass failed: API server unavailable; retrying in 10 ms/),
    ]);
  });
});

describe('runPeriodically with a Lease', () => {
  it('lets only one replica audit at a time, and hands over when the leader stops', async () => {
    const dir = stateDir();
    const runs = { a: 0, b: 0 };
    const stopA = new AbortController();
    const stopB = new AbortController();
    const replica = (name: 'a' | 'b', signal: AbortSignal) =>
      runPeriodically({
        source: source(dir),
        intervalMs: 20,
        useLease: true,
        leaseNamespace: 'podsec-system',
        identity: `replica-${name}`,
        lease: FAST_LEASE,
        run: () => {
          runs[name]++;
          return Promise.resolve(0);
        },
        log: () => {},
        signal,
      });
    const a = replica('a', stopA.signal);
    await sleep(300);
    const b = replica('b', stopB.signal);
    await sleep(800);
    // a leads; b only waits for the Lease.
    expect(runs.a).toBeGreaterThan(3);
    expect(runs.b).toBe(0);

    stopA.abort();
    await a;
    const before = runs.b;
    await sleep(1_500);
    expect(runs.b).toBeGreaterThan(before);
    stopB.abort();
    await b;

    const lease = await source(dir).get({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: 'podsec-system',
      name: 'podsec-audit',
    });
    // Released on a graceful stop.
    expect((lease?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity ?? '').toBe('');
  });
});

describe('runPeriodically: stopping and losing the lease', () => {
  const cases: { name: string; useLease: boolean; steal: boolean; want: RegExp[]; not: RegExp[] }[] = [
    {
      name: 'a requested stop without a Lease exits 0 and says stopping',
      useLease: false,
      steal: false,
      want: [/^stopping \(asked to stop\)$/],
      not: [/lost the lease/],
    },
    {
      name: 'a requested stop of the leader exits 0, says stopping, and does not claim a lost lease',
      useLease: true,
      steal: false,
      want: [/^leading/, /^stopping \(asked to stop\)$/],
      not: [/lost the lease/],
    },
    {
      name: 'a lease taken away while running is logged as lost',
      useLease: true,
      steal: true,
      want: [/^leading/, /^lost the lease: another replica audits now$/, /^stopping/],
      not: [],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const dir = stateDir();
      const stop = new AbortController();
      const logs: string[] = [];
      const done = runPeriodically({
        source: source(dir),
        intervalMs: 20,
        useLease: c.useLease,
        leaseNamespace: 'podsec-system',
        identity: 'replica-a',
        lease: FAST_LEASE,
        // Every pass finds something: a requested stop must still exit 0.
        run: () => Promise.resolve(1),
        log: (m) => logs.push(m),
        signal: stop.signal,
      });
      await sleep(300);
      if (c.steal) {
        const s = source(dir);
        const ref = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          namespace: 'podsec-system',
          name: 'podsec-audit',
        };
        const lease = await s.get(ref);
        const now = new Date().toISOString().replace('Z', '000Z');
        await s.update({
          ...lease!,
          spec: { holderIdentity: 'intruder', leaseDurationSeconds: 60, acquireTime: now, renewTime: now },
        });
        for (let i = 0; i < 40 && !logs.some((m) => m.startsWith('lost')); i++) await sleep(50);
      }
      stop.abort();
      expect(await done).toBe(0);
      for (const w of c.want) expect(logs).toContainEqual(expect.stringMatching(w));
      for (const n of c.not) expect(logs).not.toContainEqual(expect.stringMatching(n));
    });
  }
});
