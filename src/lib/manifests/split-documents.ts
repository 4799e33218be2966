/**
 * Splits a YAML stream into document chunks at `---` and `...` lines. In YAML 1.2 a line that
 * starts with either marker followed by a space, tab or line end always ends the current document,
 * whatever it is inside, so this can be done line by line, before any parsing, and each document
 * can then be parsed (or fail) on its own.
 */

export interface DocumentChunk {
  /** Offset of the chunk: its `---` line, or where the bare document begins. */
  readonly start: number;
  /** Offset just after the `---` line (or `start` for a bare document). */
  readonly bodyStart: number;
  /** Offset of the next marker line or the end of the text. */
  readonly end: number;
  /** Whether the `---` line carries content after the marker (`--- |`, `--- !tag`, `--- {a: 1}`). */
  readonly inlineHeader: boolean;
}

const MARKER = /^(---|\.\.\.)(?=[ \t\n]|$)/gm;
const CONTENT = /^[ \t]*[^ \t\n#]/m;

function hasContent(text: string, from: number, to: number): boolean {
  if (from >= to) return false;
  return CONTENT.test(text.slice(from, to));
}

/** Content after a marker on its own line, other than a comment. */
function restOfLineHasContent(text: string, from: number): boolean {
  let eol = text.indexOf('\n', from);
  if (eol === -1) eol = text.length;
  const rest = text.slice(from, eol).trim();
  return rest !== '' && !rest.startsWith('#');
}

export function splitDocuments(text: string): { chunks: DocumentChunk[]; badEndMarker: boolean } {
  const chunks: DocumentChunk[] = [];
  let start = 0;
  let bodyStart = 0;
  let explicit = false;
  let inlineHeader = false;
  let badEndMarker = false;
  const close = (end: number): void => {
    if (explicit || inlineHeader || hasContent(text, bodyStart, end))
      chunks.push({ start, bodyStart, end, inlineHeader });
  };
  MARKER.lastIndex = 0;
  for (let m = MARKER.exec(text); m !== null; m = MARKER.exec(text)) {
    const at = m.index;
    close(at);
    let eol = text.indexOf('\n', at);
    eol = eol === -1 ? text.length : eol + 1;
    if (m[1] === '---') {
      start = at;
      bodyStart = eol;
      explicit = true;
      inlineHeader = restOfLineHasContent(text, at + 3);
    } else {
      if (restOfLineHasContent(text, at + 3)) badEndMarker = true;
      start = eol;
      bodyStart = eol;
      explicit = false;
      inlineHeader = false;
    }
  }
  close(text.length);
  return { chunks, badEndMarker };
}
