/**
 * `podsec audit --interval --state DIR` at the command level: two replicas on one state directory
 * share a Lease under DIR/.podsec/, so only one audits and writes reports; a requested stop exits 0
 * with `stopping` and is not reported as a lost lease.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Capture } from '../support/capture.js';
import { runAuditCommand, type AuditCommandOptions } from '../../src/cli/commands/audit.js';
import { demoCluster } from '../../src/audit/testing/demo-cluster.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'podsec-audit-interval-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAST_LEASE = { durationMs: 1_000, renewDeadlineMs: 600, retryPeriodMs: 100 };

function replica(state: string, identity: string, signal: AbortSignal) {
  const stdout = new Capture();
  const stderr = new Capture();
  const opts: AuditCommandOptions = {
    state,
    format: 'json',
    writeReports: true,
    reportApi: 'wgpolicyk8s.io/v1alpha2',
    interval: '1s',
    color: false,
    versionGiven: false,
    stdout,
    stderr,
    signal,
    lease: { identity, timing: FAST_LEASE },
  };
  return { stdout, stderr, done: runAuditCommand([], opts) };
}

async function until(what: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !what(); i++) await sleep(50);
}

describe('podsec audit --interval --state', () => {
  it('two replicas on one state directory: only one audits; a requested stop exits 0', async () => {
    const state = join(dir, 'state');
    mkdirSync(state);
    writeFileSync(
      join(state, 'cluster.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: demoCluster() }),
    );
    const stopA = new AbortController();
    const stopB = new AbortController();
    const a = replica(state, 'replica-a', stopA.signal);
    await until(() => a.stdout.text !== '');
    const b = replica(state, 'replica-b', stopB.signal);
    await sleep(1_500);

    expect(a.stderr.text).toContain('leading: auditing every interval');
    expect(a.stdout.text).toContain('"schemaVersion"');
    expect(a.stderr.text).toMatch(/reports: \d+ created/);
    // b waits for the Lease: it neither audits nor writes.
    expect(b.stdout.text).toBe('');
    expect(b.stderr.text).not.toContain('reports:');
    expect(b.stderr.text).not.toContain('leading');

    stopA.abort();
    stopB.abort();
    // Every pass found denials (exit 1 alone), but a requested stop is a success.
    expect(await a.done).toBe(0);
    expect(await b.done).toBe(0);
    for (const r of [a, b]) {
      expect(r.stderr.text).toContain('podsec: stopping');
      expect(r.stderr.text).not.toContain('lost the lease');
    }
  });
});
