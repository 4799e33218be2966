import { describe, expect, it } from 'vitest';
import { parseLabelSelector, parseSelectorText } from './parse-text.js';

describe('parseSelectorText: the text form becomes object-form requirements', () => {
  it.each([
    { name: 'empty', text: '  ', want: [] },
    { name: 'equality', text: 'app=web', want: [{ key: 'app', operator: 'In', values: ['web'] }] },
    { name: 'double equals', text: 'app==web', want: [{ key: 'app', operator: 'In', values: ['web'] }] },
    { name: 'inequality', text: 'tier!=db', want: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] },
    { name: 'empty value', text: 'app=', want: [{ key: 'app', operator: 'In', values: [''] }] },
    {
      name: 'set membership',
      text: 'env in (a, b)',
      want: [{ key: 'env', operator: 'In', values: ['a', 'b'] }],
    },
    {
      name: 'set exclusion',
      text: 'env notin (c)',
      want: [{ key: 'env', operator: 'NotIn', values: ['c'] }],
    },
    { name: 'exists', text: 'legacy', want: [{ key: 'legacy', operator: 'Exists', values: [] }] },
    {
      name: 'does not exist',
      text: '!legacy',
      want: [{ key: 'legacy', operator: 'DoesNotExist', values: [] }],
    },
    {
      name: 'several terms, commas inside parentheses kept',
      text: 'app=web,env in (a,b), !legacy ,example.com/team',
      want: [
        { key: 'app', operator: 'In', values: ['web'] },
        { key: 'env', operator: 'In', values: ['a', 'b'] },
        { key: 'legacy', operator: 'DoesNotExist', values: [] },
        { key: 'example.com/team', operator: 'Exists', values: [] },
      ],
    },
  ])('$name', ({ text, want }) => {
    expect(parseSelectorText(text)).toEqual({ matchLabels: {}, matchExpressions: want });
  });

  it.each([
    { name: 'dangling operator', text: 'app=web,=x', want: 'cannot parse "=x"' },
    { name: 'unclosed set', text: 'env in (a', want: 'cannot parse "env in (a"' },
    { name: 'invalid key', text: '-app=web', want: 'label key "-app"' },
    { name: 'invalid value', text: 'app=-web', want: 'label value "-web"' },
    { name: 'invalid key prefix', text: 'Example.com/team', want: 'label key prefix "Example.com"' },
  ])('rejects $name as a usage error', ({ text, want }) => {
    expect(() => parseSelectorText(text)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => parseSelectorText(text)).toThrow(want);
  });
});

describe('parseLabelSelector: matching through the shared core', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each([
    { name: 'absent selector matches all', text: undefined, labels: undefined, want: true },
    { name: 'equality holds', text: 'app=web', labels, want: true },
    { name: 'equality fails', text: 'app=api', labels, want: false },
    { name: 'inequality holds for a missing key', text: 'env!=prod', labels, want: true },
    { name: 'inequality fails', text: 'tier!=front', labels, want: false },
    { name: 'set membership', text: 'tier in (back,front)', labels, want: true },
    { name: 'set exclusion of a missing key', text: 'env notin (prod)', labels, want: true },
    { name: 'exists', text: 'tier', labels, want: true },
    { name: 'does not exist fails', text: '!tier', labels, want: false },
    { name: 'no labels: only negative terms hold', text: '!app,env!=x', labels: undefined, want: true },
    { name: 'all terms must hold', text: 'app=web,tier=back', labels, want: false },
  ])('$name', ({ text, labels: l, want }) => {
    expect(parseLabelSelector(text)(l)).toBe(want);
  });
});
