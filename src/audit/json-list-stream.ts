/**
 * Reads a `kubectl get ... -o json` List as a stream: the bytes are scanned once for the
 * structure (strings, escapes, brackets), each element of the top-level `items` array is cut out
 * and handed to JSON.parse on its own, and nothing else is kept. A 200 MB List never sits in
 * memory; only one item does.
 *
 * Why not stream-json's tokenizer: it builds a JavaScript token per string and number, several
 * times slower than the native JSON.parse of a 4 KB item, and it stops at the first syntax error.
 * Here a broken item is reported with its line and column and the scan goes on with the next one;
 * a truncated file keeps every complete item before the cut.
 *
 * A top-level object without `items` (one object as JSON) is returned as one item, and a
 * top-level array is read like `items`.
 */

export type ListEvent =
  | { readonly type: 'item'; readonly value: unknown; readonly index: number; readonly line: number }
  | { readonly type: 'error'; readonly line: number; readonly column: number; readonly message: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const NEWLINE = 0x0a;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** The outer document is kept only for single objects; a List's own fields are tiny. */
const MAX_OUTER_BYTES = 64 * 1024 * 1024;

export class JsonListSplitter {
  private depth = 0;
  private inString = false;
  private escape = false;
  private line = 1;
  private lineStart = 0;
  private offset = 0;
  /** Depth of the array whose elements are items; 0 until found. */
  private itemsDepth = 0;
  private itemsDone = false;
  private itemsSeen = false;
  private expectKey = false;
  private keyBytes: number[] | null = null;
  private lastKey = '';
  private afterColon = false;
  private itemParts: Buffer[] = [];
  private inItem = false;
  private itemStartLine = 0;
  private itemStartColumn = 0;
  private itemIndex = 0;
  private scalarItem = false;
  private outer: Buffer[] = [];
  private outerBytes = 0;
  private outerTooBig = false;
  private started = false;
  private ended = false;
  private trailingReported = false;

  /** Feeds bytes; returns the events they complete. */
  push(chunk: Buffer): ListEvent[] {
    const events: ListEvent[] = [];
    let itemFrom = this.inItem ? 0 : -1;
    let outerFrom = this.collectingOuter() ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.inString) {
        if (this.keyBytes !== null && !(b === QUOTE && !this.escape)) this.keyBytes.push(b);
        if (this.escape) this.escape = false;
        else if (b === BACKSLASH) this.escape = true;
        else if (b === QUOTE) {
          this.inString = false;
          if (this.keyBytes !== null) {
            this.lastKey = Buffer.from(this.keyBytes).toString('utf8');
            this.keyBytes = null;
          }
        } else if (b === NEWLINE) this.newline(i);
        continue;
      }
      if (b === NEWLINE) {
        this.newline(i);
        continue;
      }
      if (isSpace(b)) continue;

      if (this.ended) {
        if (!this.trailingReported) {
          this.trailingReported = true;
          events.push(this.error(i, 'unexpected data after the end of the JSON document'));
        }
        continue;
      }

      // The first value inside the items array at its depth starts an item.
      if (this.itemsDepth > 0 && this.depth === this.itemsDepth && !this.inItem) {
        if (b === CLOSE_BRACKET) {
          // end of the items array: handled below as a normal bracket
        } else if (b === COMMA) {
          continue;
        } else {
          this.inItem = true;
          this.itemParts = [];
          itemFrom = i;
          this.itemStartLine = this.line;
          this.itemStartColumn = this.column(i);
          this.scalarItem = b !== OPEN_BRACE && b !== OPEN_BRACKET;
        }
      }

      if (this.scalarItem && this.inItem && this.depth === this.itemsDepth) {
        if (b === COMMA || b === CLOSE_BRACKET) {
          events.push(this.finishItem(chunk, itemFrom, i));
          itemFrom = -1;
          if (b === COMMA) continue;
        } else {
          if (b === QUOTE) this.inString = true;
          continue;
        }
      }

      switch (b) {
        case QUOTE:
          this.inString = true;
          if (this.depth === 1 && this.expectKey && this.itemsDepth !== 1) {
            this.keyBytes = [];
            this.expectKey = false;
          }
          break;
        case OPEN_BRACE:
        case OPEN_BRACKET: {
          if (!this.started) {
            this.started = true;
            if (b === OPEN_BRACKET) {
              this.itemsDepth = 1;
              this.itemsSeen = true;
            } else outerFrom = i;
          }
          if (
            this.depth === 1 &&
            this.afterColon &&
            this.lastKey === 'items' &&
            b === OPEN_BRACKET &&
            this.itemsDepth === 0 &&
            !this.itemsDone
          ) {
            // Stop keeping the outer document while inside items; a null stands in for them.
            if (outerFrom >= 0) this.appendOuter(chunk.subarray(outerFrom, i));
            this.appendOuter(Buffer.from('null'));
            outerFrom = -1;
            this.itemsDepth = 2;
            this.itemsSeen = true;
          }
          this.afterColon = false;
          this.depth++;
          if (this.depth === 1 && b === OPEN_BRACE) this.expectKey = true;
          break;
        }
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          this.depth--;
          if (this.depth < 0) {
            this.depth = 0;
            events.push(this.error(i, `unexpected "${String.fromCharCode(b)}"`));
            break;
          }
          if (this.inItem && this.depth === this.itemsDepth) {
            events.push(this.finishItem(chunk, itemFrom, i + 1));
            itemFrom = -1;
          } else if (this.itemsDepth > 1 && this.depth === this.itemsDepth - 1 && b === CLOSE_BRACKET) {
            this.itemsDepth = 0;
            this.itemsDone = true;
            outerFrom = i + 1;
          }
          if (this.depth === 0) {
            this.ended = true;
            if (this.itemsDepth === 1) this.itemsDepth = 0;
            if (outerFrom >= 0) this.appendOuter(chunk.subarray(outerFrom, i + 1));
            outerFrom = -1;
          }
          break;
        case COMMA:
          if (this.depth === 1) this.expectKey = true;
          this.afterColon = false;
          break;
        case COLON:
          if (this.depth === 1) this.afterColon = true;
          break;
        default:
          if (!this.started) {
            this.started = true;
            events.push(this.error(i, 'not a JSON object or array'));
            this.ended = true;
          }
          this.afterColon = false;
      }
    }
    if (this.inItem && itemFrom >= 0) this.itemParts.push(chunk.subarray(itemFrom));
    if (outerFrom >= 0) this.appendOuter(chunk.subarray(outerFrom));
    this.offset += chunk.length;
    this.lineStart -= chunk.length;
    return events;
  }

  /** Ends the input; reports truncation and returns a single object when there was no List. */
  end(): ListEvent[] {
    const events: ListEvent[] = [];
    if (!this.started) {
      events.push({ type: 'error', line: this.line, column: 1, message: 'empty input: no JSON document' });
      return events;
    }
    if (this.depth > 0 || this.inString) {
      const what = this.inItem
        ? `item ${this.itemIndex + 1} (from line ${this.itemStartLine}) is cut off`
        : 'the document is cut off';
      events.push({
        type: 'error',
        line: this.line,
        column: -this.lineStart + 1,
        message: `unexpected end of JSON input: ${what}; the ${this.itemIndex} complete item${
          this.itemIndex === 1 ? '' : 's'
        } before it were read`,
      });
      return events;
    }
    if (!this.itemsSeen) {
      if (this.outerTooBig) {
        events.push({ type: 'error', line: 1, column: 1, message: 'a single JSON object over 64 MiB' });
        return events;
      }
      const text = Buffer.concat(this.outer).toString('utf8');
      try {
        events.push({ type: 'item', value: JSON.parse(text) as unknown, index: 0, line: 1 });
      } catch (err) {
        const pos = parsePosition(err, text);
        const at = pos === null ? { line: 1, column: 1 } : lineColumn(text, pos, 1, 1);
        events.push({ type: 'error', ...at, message: jsonMessage(err) });
      }
    }
    return events;
  }

  private collectingOuter(): boolean {
    return this.started && !this.ended && this.itemsDepth === 0 && !this.outerTooBig;
  }

  private appendOuter(buf: Buffer): void {
    if (this.itemsSeen && this.itemsDone) return; // a List's trailing fields are not needed
    this.outerBytes += buf.length;
    if (this.outerBytes > MAX_OUTER_BYTES) {
      this.outerTooBig = true;
      this.outer = [];
      return;
    }
    this.outer.push(buf);
  }

  private newline(i: number): void {
    this.line++;
    this.lineStart = i + 1;
  }

  private column(i: number): number {
    return i - this.lineStart + 1;
  }

  private error(i: number, message: string): ListEvent {
    return { type: 'error', line: this.line, column: this.column(i), message };
  }

  private finishItem(chunk: Buffer, from: number, to: number): ListEvent {
    if (from >= 0) this.itemParts.push(chunk.subarray(from, to));
    const buf = this.itemParts.length === 1 ? this.itemParts[0]! : Buffer.concat(this.itemParts);
    this.itemParts = [];
    this.inItem = false;
    this.scalarItem = false;
    const index = this.itemIndex++;
    const text = buf.toString('utf8');
    try {
      return { type: 'item', value: JSON.parse(text) as unknown, index, line: this.itemStartLine };
    } catch (err) {
      const pos = parsePosition(err, text);
      const at =
        pos === null
          ? { line: this.itemStartLine, column: this.itemStartColumn }
          : lineColumn(text, pos, this.itemStartLine, this.itemStartColumn);
      return { type: 'error', ...at, message: `item ${index + 1}: ${jsonMessage(err)}` };
    }
  }
}

function jsonMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  // Drop V8's own position and excerpt: ours are file positions.
  return m
    .replace(/,? ".*" is not valid JSON$/s, ' is not valid JSON')
    .replace(/ in JSON at position \d+.*$/s, '');
}

function parsePosition(err: unknown, text: string): number | null {
  const m = err instanceof Error ? /at position (\d+)/.exec(err.message) : null;
  // Node 20's V8 names no position for an unexpected token: find it ourselves (failures only).
  return m === null ? jsonErrorOffset(text) : Number(m[1]);
}

/** Offset of the first syntax error in JSON text (a small validator, run only after JSON.parse failed). */
export function jsonErrorOffset(text: string): number | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const literal = (word: string): boolean => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return true;
    }
    return false;
  };
  const string = (): boolean => {
    if (text[i] !== '"') return false;
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === BACKSLASH) {
        i++;
        const e = text[i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) return false;
          i += 5;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) return false;
      }
      i++;
    }
    return false;
  };
  const number = (): boolean => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m === null) return false;
    i += m[0].length;
    return true;
  };
  const value = (depth: number): boolean => {
    ws();
    if (depth > 10_000) return false;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return (i++, true);
      for (;;) {
        ws();
        if (!string()) return false;
        ws();
        if (text[i] !== ':') return false;
        i++;
        if (!value(depth + 1)) return false;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return (i++, true);
        else return false;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return (i++, true);
      for (;;) {
        if (!value(depth + 1)) return false;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return (i++, true);
        else return false;
      }
    }
    if (c === '"') return string();
    return literal('true') || literal('false') || literal('null') || number();
  };
  if (!value(0)) return i;
  ws();
  return i < text.length ? i : null;
}

function lineColumn(
  text: string,
  pos: number,
  line: number,
  column: number,
): { line: number; column: number } {
  let l = line;
  let c = column;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === NEWLINE) {
      l++;
      c = 1;
    } else c++;
  }
  return { line: l, column: c };
}

/** Reads a stream of bytes as a List, yielding items and problems as they complete. */
export async function* readJsonList(input: AsyncIterable<Buffer | string>): AsyncGenerator<ListEvent> {
  const splitter = new JsonListSplitter();
  for await (const chunk of input) {
    yield* splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  yield* splitter.end();
}
