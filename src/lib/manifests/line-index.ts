/**
 * Offsets to 1-based line and column. Built once per file on first use, so files whose
 * documents never need a position (no violation, no problem) never pay for it.
 */

export interface LineColumn {
  line: number;
  column: number;
}

export class LineIndex {
  private starts: Int32Array | undefined;

  constructor(private readonly text: string) {}

  private build(): Int32Array {
    const text = this.text;
    let count = 1;
    for (let p = text.indexOf('\n'); p !== -1; p = text.indexOf('\n', p + 1)) count++;
    const starts = new Int32Array(count);
    let i = 1;
    for (let p = text.indexOf('\n'); p !== -1; p = text.indexOf('\n', p + 1)) starts[i++] = p + 1;
    this.starts = starts;
    return starts;
  }

  /** Line and column (both 1-based, column in UTF-16 code units) of `offset`, clamped to the text. */
  at(offset: number): LineColumn {
    const starts = this.starts ?? this.build();
    const off = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((starts[mid] ?? 0) <= off) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: off - (starts[lo] ?? 0) + 1 };
  }

  /** Offset of a 1-based line and column (the inverse of `at`), clamped to the text. */
  offsetOf(pos: LineColumn): number {
    const starts = this.starts ?? this.build();
    const lineStart = starts[Math.max(0, Math.min(pos.line, starts.length) - 1)] ?? 0;
    return Math.min(lineStart + pos.column - 1, this.text.length);
  }
}
