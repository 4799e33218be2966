import { describe, expect, it } from 'vitest';
import { expiryInstant, isCalendarDate, parseVersionText } from './field-values.js';

describe('parseVersionText', () => {
  it.each([
    { name: 'latest', text: 'latest', want: { latest: true } },
    { name: 'v1.N', text: 'v1.30', want: { latest: false, minor: 30 } },
    { name: 'leading zero', text: 'v1.030', want: null },
    { name: 'no v', text: '1.30', want: null },
    { name: 'major 2', text: 'v2.0', want: null },
  ])('$name', ({ text, want }) => {
    expect(parseVersionText(text)).toEqual(want);
  });
});

describe('isCalendarDate', () => {
  it.each([
    { name: 'ordinary day', text: '2027-02-28', want: true },
    { name: 'leap day', text: '2028-02-29', want: true },
    { name: 'February 30', text: '2027-02-30', want: false },
    { name: 'leap day in a common year', text: '2027-02-29', want: false },
    { name: 'month 13', text: '2027-13-01', want: false },
    { name: 'not zero-padded', text: '2027-2-3', want: false },
    { name: 'a timestamp', text: '2027-02-03T00:00:00Z', want: false },
  ])('$name', ({ text, want }) => {
    expect(isCalendarDate(text)).toBe(want);
  });
});

describe('expiryInstant', () => {
  it('is the end of the day, UTC', () => {
    expect(new Date(expiryInstant('2026-01-15')).toISOString()).toBe('2026-01-16T00:00:00.000Z');
  });
});
