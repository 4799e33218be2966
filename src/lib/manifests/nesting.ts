/**
 * A cheap look at how deeply a YAML text nests, before the `yaml` package composes it. That
 * package composes collections recursively: a few thousand levels overflow its stack, which it
 * reports as "resource exhaustion", the same code as an alias bomb. Measuring first lets a
 * too-deep document get its own message, at the line where the limit is crossed, and keeps the
 * recursion away from the stack's edge.
 *
 * The measure is lexical and errs low: block nesting is the number of strictly growing
 * indentations (plus `- ` markers on one line), flow nesting the open `[`/`{` that start a node;
 * quoted scalars, comments and block scalar bodies are skipped. Constructs it counts low (a
 * sequence not indented under its key) only leave the check to the `yaml` package's own guard.
 */

/** Deepest nesting accepted in a manifest; Kubernetes objects stay far below it. */
export const MAX_NESTING = 512;

export function nestingMessage(max = MAX_NESTING): string {
  return `nesting deeper than ${max} levels`;
}

const SP = 32;
const TAB = 9;
const NL = 10;
const HASH = 35;
const SQUOTE = 39;
const DQUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const DASH = 45;
const QUESTION = 63;
const LBRACKET = 91;
const RBRACKET = 93;
const LBRACE = 123;
const RBRACE = 125;

function isFlowIndicator(c: number): boolean {
  return c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE;
}

const BLOCK_SCALAR_HEADER = /(?:^|[ \t])[|>][-+0-9]*[ \t]*(?:#.*)?$/;

/**
 * Offset in `text` where the nesting of `text.slice(start, end)` first goes deeper than `max`,
 * or -1 when it never does.
 */
export function findNestingOverflow(text: string, start = 0, end = text.length, max = MAX_NESTING): number {
  const indents: number[] = [];
  let flowDepth = 0;
  let flowBase = 0;
  let quote = 0;
  let blockScalarIndent = -1;
  let p = start;
  while (p < end) {
    let eol = text.indexOf('\n', p);
    if (eol === -1 || eol > end) eol = end;
    let i = p;
    let lineDepth = flowBase;
    if (quote === 0 && flowDepth === 0) {
      while (i < eol && text.charCodeAt(i) === SP) i++;
      const indent = i - p;
      while (i < eol && text.charCodeAt(i) === TAB) i++;
      const first = i < eol ? text.charCodeAt(i) : NL;
      const blank = first === NL || first === HASH; // empty or a comment line
      if (blank || (blockScalarIndent >= 0 && indent > blockScalarIndent)) {
        p = eol + 1;
        continue;
      }
      blockScalarIndent = -1;
      while (indents.length > 0 && (indents[indents.length - 1] ?? 0) >= indent) indents.pop();
      indents.push(indent);
      lineDepth = indents.length;
      // `- - - x`: each marker is one more level on this line.
      while (text.charCodeAt(i) === DASH && (i + 1 >= eol || text.charCodeAt(i + 1) === SP)) {
        lineDepth++;
        i += 2;
        while (i < eol && text.charCodeAt(i) === SP) i++;
      }
      if (lineDepth > max) return p + indent;
      if (BLOCK_SCALAR_HEADER.test(text.slice(i, eol))) blockScalarIndent = indent;
    }
    // Whether a plain scalar runs at i: there, brackets and quotes are just text (`a[0]`, `it's`).
    let plain = false;
    for (; i < eol; i++) {
      const c = text.charCodeAt(i);
      if (quote === SQUOTE) {
        if (c === SQUOTE) {
          if (text.charCodeAt(i + 1) === SQUOTE) i++;
          else quote = 0;
        }
        continue;
      }
      if (quote === DQUOTE) {
        if (c === BACKSLASH) i++;
        else if (c === DQUOTE) quote = 0;
        continue;
      }
      if (c === SP || c === TAB) continue;
      const before = i === p ? SP : text.charCodeAt(i - 1);
      if (c === HASH && (before === SP || before === TAB)) break;
      const next = i + 1 < eol ? text.charCodeAt(i + 1) : SP;
      const nextEnds = next === SP || next === TAB || (flowDepth > 0 && isFlowIndicator(next));
      if (c === COLON && nextEnds) plain = false;
      else if (flowDepth > 0 && c === COMMA) plain = false;
      else if ((c === LBRACKET || c === LBRACE) && (flowDepth > 0 || !plain)) {
        if (flowDepth === 0) flowBase = lineDepth;
        flowDepth++;
        if (flowBase + flowDepth > max) return i;
        plain = false;
      } else if ((c === RBRACKET || c === RBRACE) && flowDepth > 0) {
        flowDepth--;
        plain = false;
      } else if ((c === SQUOTE || c === DQUOTE) && !plain) quote = c;
      else if (!((c === DASH || c === QUESTION) && !plain && nextEnds)) plain = true;
    }
    p = eol + 1;
  }
  return -1;
}
