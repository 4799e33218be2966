/**
 * A fixed-size set of small integers (pod indices) in 32-bit words. Selectors resolve once
 * to these sets, so a matrix row is a handful of word-wise ORs and ANDs instead of selector
 * matching per pod pair, and a data plane can read the members straight off.
 */
export class Bitset {
  readonly size: number;
  readonly words: Uint32Array;

  constructor(size: number) {
    this.size = size;
    this.words = new Uint32Array((size + 31) >>> 5);
  }

  static of(size: number, members: Iterable<number>): Bitset {
    const set = new Bitset(size);
    for (const m of members) set.add(m);
    return set;
  }

  static full(size: number): Bitset {
    const set = new Bitset(size);
    set.words.fill(0xffffffff);
    const extra = set.words.length * 32 - size;
    if (extra > 0) set.words[set.words.length - 1] = 0xffffffff >>> extra;
    return set;
  }

  add(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
  }

  has(i: number): boolean {
    return i >= 0 && i < this.size && ((this.words[i >>> 5]! >>> (i & 31)) & 1) === 1;
  }

  /** this |= other */
  or(other: Bitset): this {
    const w = this.words;
    const o = other.words;
    for (let k = 0; k < w.length; k++) w[k]! |= o[k]!;
    return this;
  }

  /** this &= other */
  and(other: Bitset): this {
    const w = this.words;
    const o = other.words;
    for (let k = 0; k < w.length; k++) w[k]! &= o[k]!;
    return this;
  }

  /** this &= ~other */
  andNot(other: Bitset): this {
    const w = this.words;
    const o = other.words;
    for (let k = 0; k < w.length; k++) w[k]! &= ~o[k]!;
    return this;
  }

  clone(): Bitset {
    const copy = new Bitset(this.size);
    copy.words.set(this.words);
    return copy;
  }

  isEmpty(): boolean {
    for (const word of this.words) if (word !== 0) return false;
    return true;
  }

  count(): number {
    let n = 0;
    for (let word of this.words) {
      while (word !== 0) {
        word &= word - 1;
        n++;
      }
    }
    return n;
  }

  /** Members in increasing order. */
  *[Symbol.iterator](): IterableIterator<number> {
    const w = this.words;
    for (let k = 0; k < w.length; k++) {
      let word = w[k]!;
      while (word !== 0) {
        const low = word & -word;
        yield (k << 5) + 31 - Math.clz32(low);
        word ^= low;
      }
    }
  }

  toArray(): number[] {
    return [...this];
  }
}
