/**
 * The Azure NodeAssigner (real @azure/arm-compute client) against a local HTTPS stand-in for ARM
 * (test/support/fake-arm.ts): VM and scale-set paths, union with existing identities, SystemAssigned
 * kept, removals, 429 Retry-After honoured and bounded, persistent 5xx reported. The credential is
 * a static in-memory token: nothing here can reach Azure or the metadata address.
 */
import type { TokenCredential } from '@azure/core-auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeArm, type FakeArm } from '../../../test/support/fake-arm.js';
import { createAzureNodeAssigner, retryAfterMs } from './azure-assigner.js';
import { parseProviderId } from './node-assignment.js';

const SUB = '00000000-0000-0000-0000-0000000000aa';
const mi = (name: string): string =>
  `/subscriptions/${SUB}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

const credential: TokenCredential = {
  getToken: () => Promise.resolve({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

describe('createAzureNodeAssigner against a local ARM stand-in', () => {
  let arm: FakeArm;
  const sleeps: number[] = [];
  beforeAll(async () => {
    arm = await startFakeArm();
  });
  afterAll(async () => {
    await arm.close();
  });
  beforeEach(() => {
    arm.requests.length = 0;
    sleeps.length = 0;
    arm.failAlways('GET', undefined);
    arm.failAlways('PATCH', undefined);
  });

  const assigner = (extra: { maxRetryAfterMs?: number } = {}): ReturnType<typeof createAzureNodeAssigner> =>
    createAzureNodeAssigner({
      credential,
      armEndpoint: arm.url,
      ca: arm.ca,
      retryBaseMs: 10,
      pollIntervalMs: 10,
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise((r) => setTimeout(r, Math.min(ms, 50)));
      },
      ...extra,
    });

  it('adds to a VM, keeping its existing user-assigned and system-assigned identities', async () => {
    const id = arm.addResource(SUB, 'rg', 'virtualMachines/vm1', {
      type: 'SystemAssigned, UserAssigned',
      userAssignedIdentities: { [mi('kubelet')]: { principalId: 'p', clientId: 'c' } },
    });
    const target = parseProviderId(`azure://${id}`)!;
    const out = await assigner().apply({ target, add: [mi('a'), mi('b')], remove: [] });
    expect(out).toMatchObject({ ok: true, updated: true, added: [mi('a'), mi('b')] });
    const after = arm.identityOf(id)!;
    expect(after.type).toBe('SystemAssigned, UserAssigned');
    expect(Object.keys(after.userAssignedIdentities ?? {}).sort()).toEqual(
      [mi('a'), mi('b'), mi('kubelet')].sort(),
    );
    const patches = arm.requests.filter((r) => r.method === 'PATCH');
    expect(patches).toHaveLength(1);
    expect(patches[0]!.path).toBe(id);
    expect(patches[0]!.apiVersion).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(arm.requests[0]!.authorization).toBe('Bearer test-token');
  });

  it('sets the type to UserAssigned on a VM without identities', async () => {
    const id = arm.addResource(SUB, 'rg', 'virtualMachines/bare');
    const out = await assigner().apply({
      target: parseProviderId(`azure://${id}`)!,
      add: [mi('a')],
      remove: [],
    });
    expect(out.ok).toBe(true);
    expect(arm.identityOf(id)).toMatchObject({ type: 'UserAssigned' });
  });

  it('updates the scale set (not the instance) for a VMSS node', async () => {
    const ss = arm.addResource(SUB, 'rg', 'virtualMachineScaleSets/pool1', { type: 'SystemAssigned' });
    const target = parseProviderId(`azure://${ss}/virtualMachines/3`)!;
    expect(target).toMatchObject({ kind: 'vmss', name: 'pool1', instanceId: '3' });
    const out = await assigner().apply({ target, add: [mi('a')], remove: [] });
    expect(out).toMatchObject({ ok: true, updated: true });
    expect(arm.identityOf(ss)).toMatchObject({
      type: 'SystemAssigned, UserAssigned',
      userAssignedIdentities: { [mi('a')]: {} },
    });
    expect(arm.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${ss}`, `PATCH ${ss}`]);
  });

  it('sends no PATCH when everything is already there (any casing)', async () => {
    const id = arm.addResource(SUB, 'rg', 'virtualMachines/has', {
      type: 'UserAssigned',
      userAssignedIdentities: { [mi('a').toLowerCase()]: { principalId: 'p', clientId: 'c' } },
    });
    const out = await assigner().apply({
      target: parseProviderId(`azure://${id}`)!,
      add: [mi('a')],
      remove: [],
    });
    expect(out).toMatchObject({ ok: true, updated: false, added: [] });
    expect(arm.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('removes only what it is asked to, and drops to SystemAssigned when none is left', async () => {
    const id = arm.addResource(SUB, 'rg', 'virtualMachines/rm', {
      type: 'SystemAssigned, UserAssigned',
      userAssignedIdentities: {
        [mi('a')]: { principalId: 'p', clientId: 'c' },
        [mi('other')]: { principalId: 'p', clientId: 'c' },
      },
    });
    const target = parseProviderId(`azure://${id}`)!;
    let out = await assigner().apply({ target, add: [], remove: [mi('a').toUpperCase()] });
    expect(out).toMatchObject({ ok: true, removed: [mi('a').toLowerCase()] });
    expect(Object.keys(arm.identityOf(id)!.userAssignedIdentities ?? {})).toEqual([mi('other')]);
    out = await assigner().apply({ target, add: [], remove: [mi('other')] });
    expect(out.ok).toBe(true);
    expect(arm.identityOf(id)).toEqual({ type: 'SystemAssigned' });
  });

  it('honours a 429 Retry-After, then succeeds', async () => {
    const id = arm.addResource(SUB, 'rg', 'virtualMachines/busy');
    arm.failNext('PATCH', [{ status: 429, headers: { 'Retry-After': '2' }, code: 'TooManyRequests' }]);
    const out = await assigner().apply({
      target: parseProviderId(`azure://${id}`)!,
      add: [mi('a')],
      remove: [],
    });
    expect(out).toMatchObject({ ok: true, updated: true });
    expect(sleeps).toEqual([2000]);
    expect(arm.requests.map((r) => r.method)).toEqual(['GET', 'PATCH', 'PATCH']);
  });

  it('gives up at once on a Retry-After beyond the bound and reports it', async () => {
    const id = arm.addResource(SUB, 'rg', 'virtualMachines/throttled');
    arm.failNext('GET', [{ status: 429, headers: { 'Retry-After': '3600' } }]);
    const out = await assigner({ maxRetryAfterMs: 30_000 }).apply({
      target: parseProviderId(`azure://${id}`)!,
      add: [mi('a')],
      remove: [],
    });
    expect(out).toMatchObject({ ok: false, status: 429, retryAfterMs: 3_600_000 });
    expect(sleeps).toEqual([]);
    expect(arm.requests).toHaveLength(1);
  });

  it('reports a persistent 5xx after a bounded number of attempts', async () => {
    const id = arm.addResource(SUB, 'rg', 'virtualMachines/broken');
    arm.failAlways('PATCH', { status: 500, code: 'InternalServerError' });
    const out = await assigner().apply({
      target: parseProviderId(`azure://${id}`)!,
      add: [mi('a')],
      remove: [],
    });
    expect(out).toMatchObject({ ok: false, status: 500, present: new Set() });
    if (!out.ok) expect(out.error).toContain('500');
    expect(arm.requests.filter((r) => r.method === 'PATCH')).toHaveLength(3);
    expect(sleeps).toEqual([10, 20]);
    expect(arm.identityOf(id)).toEqual({ type: 'None' });
  });

  it('leaves out an identity ARM refuses (400 naming it) and attaches the others', async () => {
    const id = arm.addResource(SUB, 'rg', 'virtualMachines/partial');
    arm.rejectIdentity(mi('deleted'));
    const out = await assigner().apply({
      target: parseProviderId(`azure://${id}`)!,
      add: [mi('a'), mi('deleted')],
      remove: [],
    });
    expect(out).toMatchObject({ ok: true, updated: true, added: [mi('a')], rejected: [mi('deleted')] });
    expect(Object.keys(arm.identityOf(id)!.userAssignedIdentities ?? {})).toEqual([mi('a')]);
    expect(arm.requests.map((r) => r.method)).toEqual(['GET', 'PATCH', 'PATCH']);
  });

  it('follows a long-running update (202 + Azure-AsyncOperation) to its end', async () => {
    const id = arm.addResource(SUB, 'rg', 'virtualMachineScaleSets/slow');
    arm.asyncUpdates(2);
    try {
      const out = await assigner().apply({
        target: parseProviderId(`azure://${id}/virtualMachines/0`)!,
        add: [mi('a')],
        remove: [],
      });
      expect(out).toMatchObject({ ok: true, updated: true });
      const polls = arm.requests.filter((r) => r.path.includes('/operations/'));
      expect(polls.length).toBeGreaterThanOrEqual(2);
    } finally {
      arm.asyncUpdates(undefined);
    }
  });

  it('gives up on an update ARM never finishes, within the operation bound', async () => {
    const id = arm.addResource(SUB, 'rg', 'virtualMachineScaleSets/stuck');
    arm.asyncUpdates('never');
    try {
      const out = await createAzureNodeAssigner({
        credential,
        armEndpoint: arm.url,
        ca: arm.ca,
        pollIntervalMs: 20,
        operationTimeoutMs: 400,
      }).apply({ target: parseProviderId(`azure://${id}/virtualMachines/0`)!, add: [mi('a')], remove: [] });
      expect(out).toMatchObject({ ok: false });
      if (!out.ok) expect(out.error).toContain('no answer within');
    } finally {
      arm.asyncUpdates(undefined);
    }
  });

  it('does not retry a 4xx other than 429', async () => {
    const out = await assigner().apply({
      target: parseProviderId(
        `azure:///subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/missing`,
      )!,
      add: [mi('a')],
      remove: [],
    });
    expect(out).toMatchObject({ ok: false, status: 404 });
    expect(arm.requests).toHaveLength(1);
  });
});

describe('retryAfterMs', () => {
  const h = (o: Record<string, string>) => ({ get: (n: string) => o[n] });
  it.each([
    ['seconds', { 'retry-after': '3' }, 3000],
    ['milliseconds header first', { 'retry-after-ms': '250', 'retry-after': '3' }, 250],
    ['x-ms header', { 'x-ms-retry-after-ms': '40' }, 40],
    ['absent', {}, undefined],
    ['garbage', { 'retry-after': 'soon' }, undefined],
  ] as const)('%s', (_name, headers, want) => {
    expect(retryAfterMs(h(headers))).toBe(want);
  });
});
