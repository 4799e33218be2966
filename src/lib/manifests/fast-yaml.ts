/**
 * A fast parser for the YAML that Kubernetes manifests are written in: block mappings and
 * sequences (including the `key:\n- item` style), single-line plain and quoted scalars, literal
 * and folded block scalars, flow collections and comments. The `yaml` package's full document
 * model costs about a millisecond per 1 KB manifest; this pass is several times faster because it
 * builds plain values directly and records source positions only when asked (`track`), which the
 * loader does lazily for the documents whose violations need a line.
 *
 * It is a recogniser of a strict subset: anything outside it (anchors, aliases, tags, merge keys,
 * multi-line plain or quoted scalars, complex keys, tabs as indentation, duplicate keys, broken
 * syntax) makes it give up on the document, and the caller parses that document with the `yaml`
 * package instead, which produces the right value or the right error. Giving up is signalled by
 * an internal exception class that never leaves this module.
 */
import { plainKey, resolvePlain } from './core-schema.js';

/**
 * Where nodes start, kept small because a scan keeps one per reported document: a scalar is just
 * its offset; a collection is a branch with its children (and, for a mapping, their keys in
 * parallel; duplicates, allowed only in JSON, are resolved by searching from the end).
 * `off` is the key's offset for a mapping entry and the item's for a sequence item.
 */
export type PosTree = number | PosBranch;
export interface PosBranch {
  off: number;
  readonly keys: string[] | undefined;
  readonly kids: PosTree[];
}

export type FastResult =
  | {
      readonly ok: true;
      readonly value: unknown;
      /** Offset of the first content, or of `start` when the document is empty. */
      readonly contentOffset: number;
      readonly empty: boolean;
      readonly pos: PosTree | undefined;
    }
  | { readonly ok: false; readonly reason: string; readonly offset: number; readonly template: boolean };

/** Internal: the input left the supported subset (or is a template). Caught in parseFast. */
class GiveUp extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly template = false,
  ) {
    super(reason);
  }
}

const NL = 10;
const SP = 32;
const TAB = 9;
const HASH = 35;
const COLON = 58;
const DASH = 45;
const COMMA = 44;
const DQUOTE = 34;
const SQUOTE = 39;
const LBRACKET = 91;
const RBRACKET = 93;
const LBRACE = 123;
const RBRACE = 125;
const PIPE = 124;
const GT = 62;
const QUESTION = 63;
const BACKSLASH = 92;

const MAX_DEPTH = 256;
const MAX_IMPLICIT_KEY = 1024;

function isFlowIndicator(c: number): boolean {
  return c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE;
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  '\t': '\t',
};

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else obj[key] = value;
}

class FastParser {
  private pos: number;
  /** Column of the content at `pos` after skipBlank; -1 at the end of the document. */
  private indent = -1;
  private depth = 0;
  /** Children of the node parsed last, when tracking positions. */
  private lastKids: PosBranch | undefined = undefined;
  /** Set by skipFlowSpace when it crossed a line break. */
  private crossedLine = false;

  constructor(
    private readonly s: string,
    start: number,
    private readonly end: number,
    private readonly track: boolean,
    /** JSON mode: duplicate keys keep the last value, as JSON.parse does. */
    private readonly lenientKeys: boolean,
  ) {
    this.pos = start;
  }

  /** The position entry of the node parsed last, starting at `off`. */
  private place(off: number): PosTree {
    const branch = this.lastKids;
    if (branch === undefined) return off;
    branch.off = off;
    return branch;
  }

  private giveUp(reason: string, offset = this.pos): never {
    throw new GiveUp(reason, offset);
  }

  private code(p: number): number {
    return p < this.end ? this.s.charCodeAt(p) : -1;
  }

  /** True when position p ends a token: space, tab, line break or the end of the document. */
  private isBreakOrSpace(p: number): boolean {
    const c = this.code(p);
    return c === SP || c === NL || c === -1 || c === TAB;
  }

  parseDocument(): { value: unknown; contentOffset: number; empty: boolean; pos: PosTree | undefined } {
    const start = this.pos;
    this.skipBlank();
    if (this.indent === -1) {
      return {
        value: null,
        contentOffset: start,
        empty: true,
        pos: this.track ? start : undefined,
      };
    }
    const contentOffset = this.pos;
    const value = this.parseNode(this.indent, -1);
    if (this.indent !== -1) this.giveUp('content after the document');
    return {
      value,
      contentOffset,
      empty: false,
      pos: this.track ? this.place(contentOffset) : undefined,
    };
  }

  /** From a line start, skip blank and comment lines; leave pos on the next content. */
  private skipBlank(): void {
    const s = this.s;
    const end = this.end;
    let p = this.pos;
    while (p < end) {
      let q = p;
      while (q < end && s.charCodeAt(q) === SP) q++;
      if (q >= end) break;
      let c = s.charCodeAt(q);
      if (c === TAB) {
        while (q < end && (s.charCodeAt(q) === SP || s.charCodeAt(q) === TAB)) q++;
        if (q >= end) break;
        c = s.charCodeAt(q);
        if (c !== NL && c !== HASH) this.giveUp('tab in indentation', q);
      }
      if (c === NL) {
        p = q + 1;
        continue;
      }
      if (c === HASH) {
        const eol = s.indexOf('\n', q);
        if (eol === -1 || eol >= end) break;
        p = eol + 1;
        continue;
      }
      this.pos = q;
      this.indent = q - p;
      return;
    }
    this.pos = end;
    this.indent = -1;
  }

  /** After a value: only spaces and a comment may follow on its line; then move to the next content. */
  private finishLine(): void {
    const s = this.s;
    const start = this.pos;
    let p = start;
    while (p < this.end && (s.charCodeAt(p) === SP || s.charCodeAt(p) === TAB)) p++;
    const c = this.code(p);
    if (c === -1) {
      this.pos = this.end;
      this.indent = -1;
      return;
    }
    if (c === HASH) {
      const before = p > 0 ? s.charCodeAt(p - 1) : NL;
      if (before !== SP && before !== TAB && before !== NL)
        this.giveUp('comment without a space before it', p);
      const eol = s.indexOf('\n', p);
      if (eol === -1 || eol >= this.end) {
        this.pos = this.end;
        this.indent = -1;
        return;
      }
      p = eol;
    } else if (c !== NL) this.giveUp('unexpected content after a value', p);
    this.pos = p + 1;
    this.skipBlank();
  }

  private skipSpaces(): void {
    while (this.code(this.pos) === SP) this.pos++;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.giveUp('nesting too deep');
  }

  /** A block node whose first character is at pos, in column `col`. */
  private parseNode(col: number, parentIndent: number): unknown {
    this.enter();
    const s = this.s;
    const c = s.charCodeAt(this.pos);
    let value: unknown;
    if (c === DASH && this.isBreakOrSpace(this.pos + 1)) {
      if (this.code(this.pos + 1) === TAB) this.giveUp('tab after a sequence indicator');
      value = this.parseSeq(col, false);
    } else if (c === LBRACKET || c === LBRACE) {
      value = this.parseFlowCollection(parentIndent);
      this.skipSpaces();
      if (this.code(this.pos) === COLON) this.giveUp('collection used as a key');
      this.finishLine();
    } else if (c === PIPE || c === GT) {
      value = this.parseBlockScalar(parentIndent);
    } else {
      const keyOff = this.pos;
      const scalar = this.scanBlockScalarToken();
      this.skipSpaces();
      if (this.code(this.pos) === COLON && this.isBreakOrSpace(this.pos + 1)) {
        if (this.pos - keyOff > MAX_IMPLICIT_KEY) this.giveUp('key too long', keyOff);
        value = this.parseMap(col, scalar.key, keyOff);
      } else {
        this.finishLine();
        this.lastKids = undefined;
        value = scalar.value;
      }
    }
    this.depth--;
    return value;
  }

  /** A plain or quoted scalar in block context; both its value and its meaning as a key. */
  private scanBlockScalarToken(): { value: unknown; key: string } {
    const c = this.s.charCodeAt(this.pos);
    if (c === DQUOTE) {
      const v = this.scanDoubleQuoted();
      return { value: v, key: v };
    }
    if (c === SQUOTE) {
      const v = this.scanSingleQuoted();
      return { value: v, key: v };
    }
    this.checkPlainStart(false);
    const raw = this.scanPlain(false);
    return { value: resolvePlain(raw), key: plainKey(raw) };
  }

  /** Refuse what cannot start a plain scalar, or what this parser leaves to `yaml`. */
  private checkPlainStart(flow: boolean): void {
    const c = this.s.charCodeAt(this.pos);
    switch (c) {
      case LBRACE:
        if (this.code(this.pos + 1) === LBRACE) throw new GiveUp('template', this.pos, true);
        this.giveUp('unexpected flow collection');
        break;
      case 0x26: // & anchor
      case 0x2a: // * alias
      case 0x21: // ! tag
      case 0x25: // % directive
      case 0x40: // @ reserved
      case 0x60: // ` reserved
      case PIPE:
      case GT:
      case HASH:
      case COMMA:
      case LBRACKET:
      case RBRACKET:
      case RBRACE:
      case DQUOTE:
      case SQUOTE:
      case TAB:
        this.giveUp('unsupported start of a scalar');
        break;
      case DASH:
      case QUESTION:
      case COLON: {
        const n = this.code(this.pos + 1);
        if (n === SP || n === NL || n === TAB || n === -1 || (flow && isFlowIndicator(n))) {
          this.giveUp('indicator where a scalar was expected');
        }
        break;
      }
      default:
    }
  }

  /** A single-line plain scalar; pos ends after its last non-space character. */
  private scanPlain(flow: boolean): string {
    const s = this.s;
    const end = this.end;
    const start = this.pos;
    let p = start;
    while (p < end) {
      const c = s.charCodeAt(p);
      if (c === NL) break;
      if (c === COLON) {
        const n = p + 1 < end ? s.charCodeAt(p + 1) : -1;
        if (n === SP || n === NL || n === -1 || n === TAB || (flow && isFlowIndicator(n))) break;
      } else if (c === SP) {
        if (p + 1 < end && s.charCodeAt(p + 1) === HASH) break;
      } else if (c === TAB) {
        this.giveUp('tab in a plain scalar', p);
      } else if (flow && isFlowIndicator(c)) break;
      p++;
    }
    let q = p;
    while (q > start && s.charCodeAt(q - 1) === SP) q--;
    this.pos = q;
    // A plain scalar continued on the next line is left to `yaml`; callers see the more-indented line.
    return s.slice(start, q);
  }

  private scanSingleQuoted(): string {
    const s = this.s;
    let p = this.pos + 1;
    let out = '';
    let from = p;
    for (;;) {
      const q = s.indexOf("'", p);
      const nl = s.indexOf('\n', p);
      if (q === -1 || q >= this.end || (nl !== -1 && nl < q))
        this.giveUp('multi-line or unterminated quoted scalar');
      if (s.charCodeAt(q + 1) === SQUOTE) {
        out += s.slice(from, q + 1);
        p = q + 2;
        from = p;
        continue;
      }
      out += s.slice(from, q);
      this.pos = q + 1;
      return out;
    }
  }

  private scanDoubleQuoted(): string {
    const s = this.s;
    const end = this.end;
    let p = this.pos + 1;
    let out = '';
    let from = p;
    while (p < end) {
      const c = s.charCodeAt(p);
      if (c === DQUOTE) {
        out += s.slice(from, p);
        this.pos = p + 1;
        return out;
      }
      if (c === NL) break;
      if (c === BACKSLASH) {
        out += s.slice(from, p);
        const e = s[p + 1] ?? '';
        const simple = ESCAPES[e];
        if (simple !== undefined) {
          out += simple;
          p += 2;
        } else {
          const len = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
          const hex = s.substr(p + 2, len);
          if (len === 0 || hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) this.giveUp('bad escape', p);
          const cp = parseInt(hex, 16);
          if (cp > 0x10ffff) this.giveUp('bad escape', p);
          out += String.fromCodePoint(cp);
          p += 2 + len;
        }
        from = p;
        continue;
      }
      p++;
    }
    return this.giveUp('multi-line or unterminated quoted scalar');
  }

  private parseMap(m: number, firstKey: string, firstKeyOff: number): Record<string, unknown> {
    const s = this.s;
    const obj: Record<string, unknown> = {};
    const branch: PosBranch | undefined = this.track ? { off: 0, keys: [], kids: [] } : undefined;
    let key = firstKey;
    let keyOff = firstKeyOff;
    for (;;) {
      // pos is on the ':' after the key
      if (key === '<<') this.giveUp('merge key', keyOff);
      if (!this.lenientKeys && Object.hasOwn(obj, key)) this.giveUp('duplicate key', keyOff);
      this.pos++;
      this.skipSpaces();
      const c = this.code(this.pos);
      let value: unknown;
      if (c === -1 || c === NL || c === HASH || c === TAB) {
        this.finishLine();
        const n = this.indent;
        if (n > m) value = this.parseNode(n, m);
        else if (n === m && s.charCodeAt(this.pos) === DASH && this.isBreakOrSpace(this.pos + 1)) {
          value = this.parseSeq(m, true);
        } else {
          value = null;
          this.lastKids = undefined;
        }
      } else value = this.parseInlineValue(m);
      setKey(obj, key, value);
      if (branch) {
        branch.keys?.push(key);
        branch.kids.push(this.place(keyOff));
      }

      const n = this.indent;
      if (n < m) break;
      if (n > m) this.giveUp('unexpected indentation');
      keyOff = this.pos;
      const k = s.charCodeAt(keyOff);
      if (k === DASH && this.isBreakOrSpace(keyOff + 1)) this.giveUp('sequence item inside a mapping');
      if (k === LBRACKET || k === LBRACE) this.checkPlainStart(false);
      const token = this.scanBlockScalarToken();
      this.skipSpaces();
      if (this.code(this.pos) !== COLON || !this.isBreakOrSpace(this.pos + 1)) this.giveUp('expected a key');
      if (this.pos - keyOff > MAX_IMPLICIT_KEY) this.giveUp('key too long', keyOff);
      key = token.key;
    }
    this.lastKids = branch;
    return obj;
  }

  /** A mapping value that starts on the key's line. */
  private parseInlineValue(m: number): unknown {
    const c = this.s.charCodeAt(this.pos);
    if (c === PIPE || c === GT) return this.parseBlockScalar(m);
    if (c === LBRACKET || c === LBRACE) {
      const v = this.parseFlowCollection(m);
      this.finishLine();
      return v;
    }
    let value: unknown;
    if (c === DQUOTE) value = this.scanDoubleQuoted();
    else if (c === SQUOTE) value = this.scanSingleQuoted();
    else {
      this.checkPlainStart(false);
      value = resolvePlain(this.scanPlain(false));
    }
    this.finishLine();
    this.lastKids = undefined;
    return value;
  }

  private parseSeq(col: number, compact: boolean): unknown[] {
    const s = this.s;
    const arr: unknown[] = [];
    const branch: PosBranch | undefined = this.track ? { off: 0, keys: undefined, kids: [] } : undefined;
    for (;;) {
      // pos is on the '-'
      const dash = this.pos;
      this.pos++;
      this.skipSpaces();
      const c = this.code(this.pos);
      let item: unknown;
      let itemOff = dash;
      if (c === -1 || c === NL || c === HASH || c === TAB) {
        this.finishLine();
        if (this.indent > col) {
          itemOff = this.pos;
          item = this.parseNode(this.indent, col);
        } else {
          item = null;
          this.lastKids = undefined;
        }
      } else {
        itemOff = this.pos;
        item = this.parseNode(col + (this.pos - dash), col);
      }
      arr.push(item);
      branch?.kids.push(this.place(itemOff));

      const n = this.indent;
      if (n < col) break;
      if (n > col) this.giveUp('unexpected indentation');
      if (s.charCodeAt(this.pos) !== DASH || !this.isBreakOrSpace(this.pos + 1)) {
        if (compact) break;
        this.giveUp('expected a sequence item');
      }
      if (this.code(this.pos + 1) === TAB) this.giveUp('tab after a sequence indicator');
    }
    this.lastKids = branch;
    return arr;
  }

  /** `|` or `>` with optional chomping indicator; content more indented than `parentIndent`. */
  private parseBlockScalar(parentIndent: number): string {
    const s = this.s;
    const end = this.end;
    const folded = s.charCodeAt(this.pos) === GT;
    let p = this.pos + 1;
    let chomp: 'clip' | 'strip' | 'keep' = 'clip';
    const h = this.code(p);
    if (h === DASH) {
      chomp = 'strip';
      p++;
    } else if (h === 0x2b) {
      chomp = 'keep';
      p++;
    }
    const after = this.code(p);
    if (after !== SP && after !== NL && after !== -1) this.giveUp('unsupported block scalar header', p);
    while (this.code(p) === SP) p++;
    if (this.code(p) === HASH) {
      const eol = s.indexOf('\n', p);
      p = eol === -1 || eol >= end ? end : eol;
    }
    if (p < end && s.charCodeAt(p) !== NL) this.giveUp('unexpected content after a block scalar header', p);
    p = Math.min(p + 1, end);

    const lines: string[] = [];
    let n = -1; // content indentation
    let leadingMax = 0;
    let lastContent = -1; // index in lines of the last non-empty line
    let lineStart = p;
    while (lineStart < end) {
      let q = lineStart;
      while (q < end && s.charCodeAt(q) === SP) q++;
      let eol = s.indexOf('\n', q);
      if (eol === -1 || eol > end) eol = end;
      const sp = q - lineStart;
      if (q >= end || s.charCodeAt(q) === NL) {
        // blank line (spaces only)
        if (n === -1) {
          if (sp > leadingMax) leadingMax = sp;
          lines.push('');
        } else if (sp > n) {
          lines.push(s.slice(lineStart + n, eol));
          lastContent = lines.length - 1;
        } else lines.push('');
      } else {
        if (n === -1) {
          if (sp <= parentIndent) break;
          if (leadingMax > sp) this.giveUp('more-indented leading empty lines in a block scalar', lineStart);
          n = sp;
        } else if (sp < n) break;
        lines.push(s.slice(lineStart + n, eol));
        lastContent = lines.length - 1;
      }
      lineStart = eol + 1;
    }
    this.pos = Math.min(lineStart, end);
    this.skipBlank();
    this.lastKids = undefined;

    const trailingBreaks = lines.length - (lastContent + 1);
    let body: string;
    if (lastContent === -1) body = '';
    else if (!folded) body = lines.slice(0, lastContent + 1).join('\n');
    else body = foldLines(lines, lastContent);
    if (chomp === 'strip') return body;
    if (chomp === 'clip') return lastContent === -1 ? '' : `${body}\n`;
    return lastContent === -1 ? '\n'.repeat(trailingBreaks) : `${body}\n${'\n'.repeat(trailingBreaks)}`;
  }

  // ---- flow collections ----

  /** Skip spaces, tabs, line breaks and comments inside a flow collection. */
  private skipFlowSpace(parentIndent: number): void {
    const s = this.s;
    const end = this.end;
    let p = this.pos;
    this.crossedLine = false;
    while (p < end) {
      const c = s.charCodeAt(p);
      if (c === SP || c === TAB) p++;
      else if (c === NL) {
        this.crossedLine = true;
        p++;
        let q = p;
        while (q < end && s.charCodeAt(q) === SP) q++;
        const k = this.code(q);
        if (k !== NL && k !== HASH && k !== -1 && q - p <= parentIndent) {
          this.giveUp('flow collection not indented enough', q);
        }
      } else if (c === HASH) {
        const before = p > 0 ? s.charCodeAt(p - 1) : NL;
        if (before !== SP && before !== TAB && before !== NL)
          this.giveUp('comment without a space before it', p);
        const eol = s.indexOf('\n', p);
        p = eol === -1 || eol >= end ? end : eol;
      } else break;
    }
    this.pos = p;
  }

  private parseFlowCollection(parentIndent: number): unknown {
    this.enter();
    const c = this.s.charCodeAt(this.pos);
    if (c === LBRACE && this.code(this.pos + 1) === LBRACE) throw new GiveUp('template', this.pos, true);
    const v = c === LBRACKET ? this.parseFlowSeq(parentIndent) : this.parseFlowMap(parentIndent);
    this.depth--;
    return v;
  }

  private parseFlowSeq(parentIndent: number): unknown[] {
    const arr: unknown[] = [];
    const branch: PosBranch | undefined = this.track ? { off: 0, keys: undefined, kids: [] } : undefined;
    this.pos++;
    for (;;) {
      this.skipFlowSpace(parentIndent);
      const c = this.code(this.pos);
      if (c === RBRACKET) break;
      if (c === -1) this.giveUp('unterminated flow sequence');
      const off = this.pos;
      arr.push(this.parseFlowValue(parentIndent));
      branch?.kids.push(this.place(off));
      this.skipFlowSpace(parentIndent);
      const d = this.code(this.pos);
      if (d === COMMA) this.pos++;
      else if (d === RBRACKET) break;
      else this.giveUp('expected , or ] in a flow sequence');
    }
    this.pos++;
    this.lastKids = branch;
    return arr;
  }

  private parseFlowMap(parentIndent: number): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    const branch: PosBranch | undefined = this.track ? { off: 0, keys: [], kids: [] } : undefined;
    this.pos++;
    for (;;) {
      this.skipFlowSpace(parentIndent);
      const c = this.code(this.pos);
      if (c === RBRACE) break;
      if (c === -1) this.giveUp('unterminated flow mapping');
      const keyOff = this.pos;
      let key: string;
      if (c === DQUOTE) key = this.scanDoubleQuoted();
      else if (c === SQUOTE) key = this.scanSingleQuoted();
      else {
        this.checkPlainStart(true);
        if (c === LBRACKET || c === LBRACE) this.giveUp('collection used as a key');
        key = plainKey(this.scanPlain(true));
      }
      if (key === '<<') this.giveUp('merge key', keyOff);
      if (!this.lenientKeys && Object.hasOwn(obj, key)) this.giveUp('duplicate key', keyOff);
      this.skipFlowSpace(parentIndent);
      if (this.crossedLine) this.giveUp('multi-line flow key', keyOff);
      let value: unknown = null;
      this.lastKids = undefined;
      const d = this.code(this.pos);
      if (d === COLON) {
        this.pos++;
        this.skipFlowSpace(parentIndent);
        const e = this.code(this.pos);
        if (e !== COMMA && e !== RBRACE) value = this.parseFlowValue(parentIndent);
      } else if (d !== COMMA && d !== RBRACE) this.giveUp('expected : in a flow mapping');
      setKey(obj, key, value);
      if (branch) {
        branch.keys?.push(key);
        branch.kids.push(this.place(keyOff));
      }
      this.skipFlowSpace(parentIndent);
      const e = this.code(this.pos);
      if (e === COMMA) this.pos++;
      else if (e === RBRACE) break;
      else this.giveUp('expected , or } in a flow mapping');
    }
    this.pos++;
    this.lastKids = branch;
    return obj;
  }

  private parseFlowValue(parentIndent: number): unknown {
    const c = this.s.charCodeAt(this.pos);
    this.lastKids = undefined;
    if (c === LBRACKET || c === LBRACE) return this.parseFlowCollection(parentIndent);
    if (c === DQUOTE) return this.scanDoubleQuoted();
    if (c === SQUOTE) return this.scanSingleQuoted();
    this.checkPlainStart(true);
    const raw = this.scanPlain(true);
    if (this.code(this.pos) === NL) {
      // A plain scalar may continue on the next line; only a closing or separating indicator may follow.
      const at = this.pos;
      this.skipFlowSpace(parentIndent);
      const d = this.code(this.pos);
      this.pos = at;
      if (d !== COMMA && d !== RBRACKET && d !== RBRACE) this.giveUp('multi-line plain scalar', at);
    }
    return resolvePlain(raw);
  }
}

/**
 * Folded block scalar content: a line break between two non-empty lines that are not more
 * indented becomes a space; empty lines in between become line breaks; line breaks next to
 * more-indented lines (those starting with a space or tab) are kept.
 */
function foldLines(lines: readonly string[], last: number): string {
  let out = '';
  let empties = 0;
  let seenContent = false;
  let prevMoreIndented = false;
  for (let i = 0; i <= last; i++) {
    const line = lines[i] ?? '';
    if (line === '') {
      empties++;
      continue;
    }
    const first = line.charCodeAt(0);
    const moreIndented = first === SP || first === TAB;
    if (!seenContent) out += '\n'.repeat(empties);
    else if (moreIndented || prevMoreIndented) out += '\n'.repeat(empties + 1);
    else out += empties === 0 ? ' ' : '\n'.repeat(empties);
    out += line;
    seenContent = true;
    empties = 0;
    prevMoreIndented = moreIndented;
  }
  return out;
}

/**
 * Parse one document's text, `text.slice(start, end)`, which starts at a line start and holds no
 * document markers. `track` also records where every node starts (for locate).
 */
export function parseFast(
  text: string,
  start: number,
  end: number,
  options: { track?: boolean; lenientKeys?: boolean } = {},
): FastResult {
  const parser = new FastParser(text, start, end, options.track === true, options.lenientKeys === true);
  try {
    return { ok: true, ...parser.parseDocument() };
  } catch (e) {
    if (e instanceof GiveUp) return { ok: false, reason: e.reason, offset: e.offset, template: e.template };
    if (e instanceof RangeError) return { ok: false, reason: 'too deep', offset: start, template: false };
    throw e;
  }
}
