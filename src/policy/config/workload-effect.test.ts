import { describe, expect, it } from 'vitest';
import type { Effect, WorkloadEffect } from './types.js';
import { defaultWorkloadsFor, workloadsConflict } from './workload-effect.js';

describe('workloadsConflict: every effect x workloads pair', () => {
  // true = the pair is refused (workloads stricter than effect).
  const table: { effect: Effect; workloads: WorkloadEffect; refused: boolean }[] = [
    { effect: 'deny', workloads: 'deny', refused: false },
    { effect: 'deny', workloads: 'warn', refused: false },
    { effect: 'deny', workloads: 'audit', refused: false },
    { effect: 'warn', workloads: 'deny', refused: true },
    { effect: 'warn', workloads: 'warn', refused: false },
    { effect: 'warn', workloads: 'audit', refused: false },
    { effect: 'audit', workloads: 'deny', refused: true },
    { effect: 'audit', workloads: 'warn', refused: true },
    { effect: 'audit', workloads: 'audit', refused: false },
    { effect: 'disabled', workloads: 'deny', refused: false },
    { effect: 'disabled', workloads: 'warn', refused: false },
    { effect: 'disabled', workloads: 'audit', refused: false },
  ];
  it.each(table)(
    'effect $effect, workloads $workloads: refused $refused',
    ({ effect, workloads, refused }) => {
      const why = workloadsConflict(workloads, effect);
      expect(why !== null).toBe(refused);
      if (why !== null) expect(why).toMatch(new RegExp(`use effect: ${workloads} or workloads: ${effect}$`));
    },
  );
});

describe('defaultWorkloadsFor: warn, capped at the effect', () => {
  it.each([
    { effect: 'deny', want: 'warn' },
    { effect: 'warn', want: 'warn' },
    { effect: 'audit', want: 'audit' },
    { effect: 'disabled', want: 'warn' },
  ] as const)('$effect -> $want', ({ effect, want }) => {
    expect(defaultWorkloadsFor(effect)).toBe(want);
    expect(workloadsConflict(defaultWorkloadsFor(effect), effect)).toBeNull();
  });
});
