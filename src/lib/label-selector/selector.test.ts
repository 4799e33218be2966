import { describe, expect, it } from 'vitest';
import { labelKeyProblem, labelValueProblem, matchesSelector } from './selector.js';
import type { LabelSelector } from './selector.js';

const sel = (s: Partial<LabelSelector>): LabelSelector => ({ matchLabels: {}, matchExpressions: [], ...s });

describe('matchesSelector', () => {
  it.each([
    { name: 'empty matches all', s: sel({}), labels: {}, want: true },
    {
      name: 'matchLabels equal',
      s: sel({ matchLabels: { app: 'web' } }),
      labels: { app: 'web', x: 'y' },
      want: true,
    },
    {
      name: 'matchLabels differs',
      s: sel({ matchLabels: { app: 'web' } }),
      labels: { app: 'db' },
      want: false,
    },
    { name: 'matchLabels missing', s: sel({ matchLabels: { app: 'web' } }), labels: {}, want: false },
    {
      name: 'In present',
      s: sel({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] }),
      labels: { tier: 'b' },
      want: true,
    },
    {
      name: 'In absent key',
      s: sel({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] }),
      labels: {},
      want: false,
    },
    {
      name: 'NotIn absent key matches (as Kubernetes)',
      s: sel({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }),
      labels: {},
      want: true,
    },
    {
      name: 'NotIn listed value',
      s: sel({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }),
      labels: { tier: 'a' },
      want: false,
    },
    {
      name: 'Exists',
      s: sel({ matchExpressions: [{ key: 'tier', operator: 'Exists', values: [] }] }),
      labels: { tier: '' },
      want: true,
    },
    {
      name: 'DoesNotExist',
      s: sel({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist', values: [] }] }),
      labels: { tier: 'x' },
      want: false,
    },
    {
      name: 'inherited properties are not labels',
      s: sel({ matchExpressions: [{ key: 'toString', operator: 'Exists', values: [] }] }),
      labels: {},
      want: false,
    },
    {
      name: 'all requirements AND-ed',
      s: sel({
        matchLabels: { app: 'web' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }],
      }),
      labels: { app: 'web', tier: 'back' },
      want: false,
    },
  ])('$name', ({ s, labels, want }) => {
    expect(matchesSelector(s, labels)).toBe(want);
  });
});

describe('label syntax', () => {
  it.each([
    { name: 'plain', key: 'app', ok: true },
    { name: 'prefixed', key: 'app.kubernetes.io/name', ok: true },
    { name: 'upper-case prefix', key: 'Example.com/x', ok: false },
    { name: 'empty name', key: 'example.com/', ok: false },
    { name: 'space', key: 'my app', ok: false },
    { name: 'too long', key: 'a'.repeat(64), ok: false },
  ])('key $name', ({ key, ok }) => {
    expect(labelKeyProblem(key) === null).toBe(ok);
  });

  it.each([
    { name: 'empty', value: '', ok: true },
    { name: 'dotted', value: 'v1.2_3-x', ok: true },
    { name: 'leading dash', value: '-x', ok: false },
    { name: 'slash', value: 'a/b', ok: false },
  ])('value $name', ({ value, ok }) => {
    expect(labelValueProblem(value) === null).toBe(ok);
  });
});
