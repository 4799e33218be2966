/** The pod-index set: membership, word-wise operations and iteration across word boundaries. */
import { describe, expect, it } from 'vitest';
import { Bitset } from './bitset.js';

describe('Bitset', () => {
  it('adds, tests, iterates and counts across word boundaries (incl. bit 31)', () => {
    const s = Bitset.of(70, [0, 31, 32, 63, 69]);
    expect(s.toArray()).toEqual([0, 31, 32, 63, 69]);
    expect(s.count()).toBe(5);
    expect(s.has(31)).toBe(true);
    expect(s.has(30)).toBe(false);
    expect(s.has(70)).toBe(false);
  });

  it('full has exactly size members', () => {
    expect(Bitset.full(33).count()).toBe(33);
    expect(Bitset.full(64).count()).toBe(64);
    expect(Bitset.full(0).isEmpty()).toBe(true);
  });

  it('or, and, andNot', () => {
    const a = Bitset.of(40, [1, 2, 33]);
    const b = Bitset.of(40, [2, 33, 39]);
    expect(a.clone().or(b).toArray()).toEqual([1, 2, 33, 39]);
    expect(a.clone().and(b).toArray()).toEqual([2, 33]);
    expect(a.clone().andNot(b).toArray()).toEqual([1]);
  });
});
