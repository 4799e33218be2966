/**
 * The slow, complete path: documents the fast parser gives up on are parsed with the `yaml`
 * package's document model, which knows all of YAML 1.2 (anchors, tags, merge keys, multi-line
 * scalars) and produces exact errors. Its errors are rewritten into plain sentences with a line,
 * and alias expansion is capped so an alias bomb becomes a problem (at the alias that crossed
 * the cap) instead of exhausting memory. Nesting is measured before composing (see nesting.ts):
 * a too-deep document is its own problem, never mistaken for an alias bomb.
 */
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, visit } from 'yaml';
import type {
  Alias,
  Document,
  Node as YamlNode,
  ParseOptions,
  DocumentOptions,
  SchemaOptions,
  Pair,
} from 'yaml';
import type { LineIndex } from './line-index.js';
import { findNestingOverflow, nestingMessage } from './nesting.js';
import {
  findTemplateStart,
  hasMappingKeyFromTemplate,
  TEMPLATE_HINT,
  TEMPLATE_MESSAGE,
  templateValueProblem,
} from './template-syntax.js';
import type { ManifestDocument, ManifestPath, ManifestProblem, SourcePosition } from './types.js';

/** Alias expansions allowed per document (the `yaml` package's own default, made explicit). */
export const MAX_ALIAS_COUNT = 100;

// Merge keys (`<<`) are not part of YAML 1.2 but Kubernetes' decoder honours them.
const OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  merge: true,
  uniqueKeys: true,
  prettyErrors: false,
  strict: true,
};

type YamlDoc = Document.Parsed;

function keyOf(pair: Pair): string | undefined {
  const k = pair.key;
  if (!isScalar(k)) return undefined;
  const v: unknown = k.value;
  if (v === null) return '';
  if (typeof v === 'string') return v;
  // With `merge: true` the `<<` key's value is a symbol.
  if (typeof v === 'symbol') return v.description === '<<' ? '<<' : undefined;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

function startOf(node: unknown): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node) {
    const r = (node as { range?: [number, number, number] | null }).range;
    if (r) return r[0];
  }
  return undefined;
}

/** Find `key` in a map, then in the maps merged into it with `<<` (reporting the `<<` key's position). */
function findInMap(
  doc: YamlDoc,
  node: YamlNode,
  key: string,
  depth = 0,
): { off: number; value: unknown } | undefined {
  if (!isMap(node) || depth > 20) return undefined;
  for (const pair of node.items) {
    if (keyOf(pair) === key) return { off: startOf(pair.key) ?? startOf(pair.value) ?? 0, value: pair.value };
  }
  for (const pair of node.items) {
    if (keyOf(pair) !== '<<') continue;
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (let src of sources) {
      if (isAlias(src)) src = src.resolve(doc);
      const found = src === undefined ? undefined : findInMap(doc, src as YamlNode, key, depth + 1);
      if (found) return { off: startOf(pair.key) ?? found.off, value: found.value };
    }
  }
  return undefined;
}

class YamlDocument implements ManifestDocument {
  constructor(
    readonly index: number,
    readonly value: unknown,
    private readonly doc: YamlDoc,
    private readonly base: number,
    private readonly fallbackOffset: number,
    private readonly lines: LineIndex,
  ) {}

  get line(): number {
    const off = startOf(this.doc.contents);
    return this.lines.at(off === undefined ? this.fallbackOffset : this.base + off).line;
  }

  locate(path: ManifestPath): SourcePosition & { exact: boolean } {
    let node: unknown = this.doc.contents;
    let off = startOf(node) ?? this.fallbackOffset - this.base;
    let exact = true;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (typeof seg === 'string' && isMap(node)) {
        const found = findInMap(this.doc, node, seg);
        if (!found) {
          exact = false;
          break;
        }
        off = found.off;
        node = found.value;
      } else if (typeof seg === 'number' && isSeq(node) && seg >= 0 && seg < node.items.length) {
        node = node.items[seg];
        off = startOf(node) ?? off;
      } else {
        exact = false;
        break;
      }
    }
    return { ...this.lines.at(this.base + off), exact };
  }
}

function firstSentence(message: string): string {
  const cut = message.search(/ at line \d+/);
  return (cut === -1 ? message : message.slice(0, cut)).trim();
}

/** The word at `offset` as a key, for a duplicate-key message. */
function keyTextAt(text: string, offset: number): string {
  const m = /^("(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^:\n#]*?)\s*:/.exec(text.slice(offset, offset + 200));
  return m?.[1]?.trim() ?? '';
}

export type FallbackResult = { ok: true; doc: ManifestDocument } | { ok: false; problem: ManifestProblem };

/** Convert one parsed `yaml` Document (offsets relative to `base` in `text`) into a result. */
function fromYamlDocument(
  doc: YamlDoc,
  text: string,
  base: number,
  chunkText: string,
  index: number,
  lines: LineIndex,
  fallbackOffset = base,
): FallbackResult {
  const problem = (off: number, message: string, hint?: string): FallbackResult => ({
    ok: false,
    problem: {
      ...lines.at(base + off),
      message,
      ...(hint === undefined ? {} : { hint }),
      documentIndex: index,
    },
  });
  const docStart = startOf(doc.contents) ?? 0;
  const template = findTemplateStart(chunkText);
  const error = doc.errors[0];
  if (error) {
    if (template !== -1) return problem(template, TEMPLATE_MESSAGE, TEMPLATE_HINT);
    if (error.code === 'DUPLICATE_KEY') {
      const key = keyTextAt(text, base + error.pos[0]);
      const quoted = /^["']/.test(key) ? key : JSON.stringify(key);
      return problem(error.pos[0], key === '' ? 'duplicate key' : `duplicate key ${quoted}`);
    }
    // The `yaml` package reports a stack overflow while composing as resource exhaustion.
    if (error.code === 'RESOURCE_EXHAUSTION') return problem(error.pos[0], nestingMessage());
    return problem(error.pos[0], `invalid YAML: ${firstSentence(error.message)}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (e instanceof ReferenceError) {
      const unresolved = /^Unresolved alias.*: (.*)$/.exec(e.message);
      if (unresolved)
        return problem(docStart, `alias *${unresolved[1]} has no anchor &${unresolved[1]} before it`);
      if (/resource exhaustion|alias/i.test(e.message)) {
        return problem(aliasBombOffset(doc) ?? docStart, aliasBombMessage());
      }
    }
    if (e instanceof RangeError) return problem(docStart, nestingMessage());
    throw e;
  }
  if (template !== -1 && hasMappingKeyFromTemplate(value)) {
    return problem(template, TEMPLATE_MESSAGE, TEMPLATE_HINT);
  }
  const parsed = new YamlDocument(index, value, doc, base, fallbackOffset, lines);
  const templated = templateValueProblem(
    parsed,
    text,
    fallbackOffset,
    fallbackOffset + chunkText.length,
    lines,
  );
  return templated ? { ok: false, problem: templated } : { ok: true, doc: parsed };
}

/**
 * Offset of the alias whose expansion crossed the cap: the conversion is run again with each
 * alias node's `resolve` wrapped to note the innermost one that throws. Only run on the error
 * path; undefined when the conversion does not fail again that way.
 */
function aliasBombOffset(doc: YamlDoc): number | undefined {
  let culprit: Alias | undefined;
  visit(doc, {
    Alias(_, node) {
      const resolve = node.resolve.bind(node);
      node.resolve = (...args: Parameters<Alias['resolve']>) => {
        try {
          return resolve(...args);
        } catch (e) {
          culprit ??= node;
          throw e;
        }
      };
    },
  });
  try {
    doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch {
    // Expected: the same failure, now with its alias noted.
  }
  return culprit === undefined ? undefined : startOf(culprit);
}

function aliasBombMessage(): string {
  return `too many alias expansions (more than ${MAX_ALIAS_COUNT}): this looks like an alias bomb ("billion laughs")`;
}

/** Parse `text.slice(start, end)`, one document, with the `yaml` package. */
export function parseChunkWithYaml(
  text: string,
  start: number,
  end: number,
  index: number,
  lines: LineIndex,
): FallbackResult {
  const deep = findNestingOverflow(text, start, end);
  if (deep !== -1) {
    return { ok: false, problem: { ...lines.at(deep), message: nestingMessage(), documentIndex: index } };
  }
  const chunkText = text.slice(start, end);
  let doc: YamlDoc;
  try {
    doc = parseDocument(chunkText, OPTIONS);
  } catch (e) {
    if (e instanceof RangeError) {
      return { ok: false, problem: { ...lines.at(start), message: nestingMessage(), documentIndex: index } };
    }
    throw e;
  }
  return fromYamlDocument(doc, text, start, chunkText, index, lines);
}

/** Parse a whole stream with the `yaml` package (directives, stray carriage returns and the like). */
export function parseStreamWithYaml(text: string, lines: LineIndex): FallbackResult[] {
  // Stream-wide constructs (directives, stray carriage returns) keep the whole text together, so
  // a too-deep document here is reported for the stream, where the limit is crossed.
  const deep = findNestingOverflow(text);
  if (deep !== -1) return [{ ok: false, problem: { ...lines.at(deep), message: nestingMessage() } }];
  let docs: YamlDoc[];
  try {
    const parsed = parseAllDocuments(text, OPTIONS);
    docs = Array.isArray(parsed) ? parsed : [];
  } catch (e) {
    if (e instanceof RangeError)
      return [{ ok: false, problem: { line: 1, column: 1, message: nestingMessage() } }];
    throw e;
  }
  return docs.map((doc, i) => {
    const [start, , end] = doc.range;
    return fromYamlDocument(doc, text, 0, text.slice(start, end), i, lines, start);
  });
}
