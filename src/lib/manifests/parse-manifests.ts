/**
 * Turns a manifest file's text into documents and problems. Each document is parsed on its own
 * (a broken one does not hide the others), first by the fast parser and, when it gives up, by
 * the `yaml` package. Positions are computed only when `locate` is called: the fast documents
 * re-parse their own slice once with position tracking, so a scan pays for positions only on the
 * documents that have something to report.
 */
import { parseFast } from './fast-yaml.js';
import type { PosTree } from './fast-yaml.js';
import { LineIndex } from './line-index.js';
import { splitDocuments } from './split-documents.js';
import { TEMPLATE_HINT, TEMPLATE_MESSAGE, templateValueProblem } from './template-syntax.js';
import type {
  ManifestDocument,
  ManifestPath,
  ManifestProblem,
  ParsedManifests,
  SourcePosition,
} from './types.js';
import { parseChunkWithYaml, parseStreamWithYaml } from './yaml-fallback.js';
import type { FallbackResult } from './yaml-fallback.js';

/**
 * The position tree of the one document located last. Keeping a tree per document made a scan of
 * 10,000 documents spend more time in the garbage collector (moving retained trees) than parsing;
 * scanners locate one document's fields together, so one slot per file is enough.
 */
interface PositionSlot {
  doc: FastDocument | undefined;
  tree: PosTree | null;
}

class FastDocument implements ManifestDocument {
  constructor(
    readonly index: number,
    readonly value: unknown,
    private readonly text: string,
    private readonly start: number,
    private readonly end: number,
    private readonly contentOffset: number,
    private readonly lines: LineIndex,
    private readonly lenientKeys: boolean,
    private readonly slot: PositionSlot,
  ) {}

  private tree(): PosTree | null {
    if (this.slot.doc !== this) {
      const r = parseFast(this.text, this.start, this.end, { track: true, lenientKeys: this.lenientKeys });
      this.slot.tree = r.ok ? (r.pos ?? null) : null;
      this.slot.doc = this;
    }
    return this.slot.tree;
  }

  get line(): number {
    return this.lines.at(this.contentOffset).line;
  }

  locate(path: ManifestPath): SourcePosition & { exact: boolean } {
    // The document's own position needs no parsing.
    if (path.length === 0) return { ...this.lines.at(this.contentOffset), exact: true };
    let node = this.tree();
    if (node === null) return { ...this.lines.at(this.contentOffset), exact: false };
    let exact = true;
    for (const seg of path) {
      let next: PosTree | undefined;
      if (typeof node !== 'number') {
        if (node.keys !== undefined) {
          // From the end: in JSON the last of duplicate keys is the value.
          if (typeof seg === 'string') next = node.kids[node.keys.lastIndexOf(seg)];
        } else if (typeof seg === 'number') next = node.kids[seg];
      }
      if (next === undefined) {
        exact = false;
        break;
      }
      node = next;
    }
    return { ...this.lines.at(typeof node === 'number' ? node : node.off), exact };
  }
}

function firstNonSpace(text: string): number {
  const m = /\S/.exec(text);
  return m === null ? -1 : m.index;
}

/** JSON (a text whose first character is `{` or `[`) that JSON.parse accepts: one document. */
function tryJson(text: string, lines: LineIndex): ManifestDocument | undefined {
  const first = firstNonSpace(text);
  if (first === -1) return undefined;
  const c = text.charCodeAt(first);
  if (c !== 0x7b && c !== 0x5b) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not strict JSON: read it as YAML (JSON's superset), whose errors carry a line.
    return undefined;
  }
  return new FastDocument(0, value, text, 0, text.length, first, lines, true, { doc: undefined, tree: null });
}

/** What sends a whole stream to the `yaml` package: constructs that span documents. */
function needsWholeStreamParse(text: string): boolean {
  return text.includes('\r') || text.includes('\uFEFF') || /^%/m.test(text);
}

function collect(results: FallbackResult[], out: ParsedManifests): void {
  for (const r of results) {
    if (r.ok) out.documents.push(r.doc);
    else out.problems.push(r.problem);
  }
}

/** Parse a file's text (multi-document YAML, or JSON) into documents and problems. */
export function parseManifests(input: string): ParsedManifests {
  let text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  if (text.includes('\r\n')) text = text.replace(/\r\n/g, '\n');
  const lines = new LineIndex(text);
  const out: ParsedManifests = { documents: [], problems: [] };
  const slot: PositionSlot = { doc: undefined, tree: null };

  const json = tryJson(text, lines);
  if (json) {
    const template = templateValueProblem(json, text, 0, text.length, lines);
    if (template) out.problems.push(template);
    else out.documents.push(json);
    return out;
  }
  const { chunks, badEndMarker } = splitDocuments(text);
  if (badEndMarker || needsWholeStreamParse(text)) {
    collect(parseStreamWithYaml(text, lines), out);
    return out;
  }
  chunks.forEach((chunk, index) => {
    if (!chunk.inlineHeader) {
      const r = parseFast(text, chunk.bodyStart, chunk.end);
      if (r.ok) {
        const doc = new FastDocument(
          index,
          r.value,
          text,
          chunk.bodyStart,
          chunk.end,
          r.empty ? chunk.start : r.contentOffset,
          lines,
          false,
          slot,
        );
        const template = templateValueProblem(doc, text, chunk.bodyStart, chunk.end, lines);
        if (template) out.problems.push(template);
        else out.documents.push(doc);
        return;
      }
      if (r.template) {
        const problem: ManifestProblem = {
          ...lines.at(r.offset),
          message: TEMPLATE_MESSAGE,
          hint: TEMPLATE_HINT,
          documentIndex: index,
        };
        out.problems.push(problem);
        return;
      }
    }
    collect([parseChunkWithYaml(text, chunk.start, chunk.end, index, lines)], out);
  });
  return out;
}
