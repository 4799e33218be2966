/**
 * Go/Helm template detection: a chart template scanned as if it were rendered would be judged on
 * placeholder text (`image: "{{ .Values.image }}"`), so such a document is a problem instead.
 *
 * Two rules, because `{{` is also legitimate data (Prometheus alert annotations, Alertmanager and
 * application templates carried in ConfigMaps, Argo parameters):
 * 1. Structure: `{{` where a YAML node starts (at a line's start, after `- `, after `key: `) is
 *    always a template: it cannot be valid rendered YAML anyway.
 * 2. Values: a string value, quoted or plain, is a template when it holds Helm's own syntax:
 *    `{{-` (whitespace trimming), or `{{` followed (after blanks) by `.`, `$.`, `include`,
 *    `template` or `tpl`. `{{ $labels.instance }}` or `{{inputs.parameters.x}}` are not Helm's
 *    and stay plain text. Exempt are the `data`, `stringData` and `binaryData` of a ConfigMap or
 *    a Secret (at any depth, so items of a List too): they carry other programs' templates.
 * The problem is reported at the `{{` of the first such value, in document order.
 */
import type { LineIndex } from './line-index.js';
import type { ManifestDocument, ManifestProblem } from './types.js';

export const TEMPLATE_HINT = 'render it first: helm template <chart> | podsec <command> -';
export const TEMPLATE_MESSAGE =
  'Go template syntax ({{ ... }}): this is a chart template, not a rendered manifest';

const NODE_START_TEMPLATE = /^[ \t]*(?:-[ \t]+)*(?:[^\s#'"-][^#\n]*?:[ \t]+)?\{\{/m;

/** Offset of the first `{{` that starts a node in `text`, or -1. */
export function findTemplateStart(text: string): number {
  if (!text.includes('{{')) return -1;
  const m = NODE_START_TEMPLATE.exec(text);
  return m === null ? -1 : m.index + m[0].length - 2;
}

/** Whether a parsed value has a mapping key that was itself a flow mapping (`{{ x }}` parsed as YAML). */
export function hasMappingKeyFromTemplate(value: unknown, depth = 0): boolean {
  if (depth > 100 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasMappingKeyFromTemplate(v, depth + 1));
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('{')) return true;
    if (hasMappingKeyFromTemplate(v, depth + 1)) return true;
  }
  return false;
}

/** Helm's syntax inside a string value (rule 2). */
const HELM_IN_VALUE = /\{\{-|\{\{[ \t]*(?:\.|\$\.|(?:include|template|tpl)\b)/;
const HELM_IN_TEXT = new RegExp(HELM_IN_VALUE.source, 'g');

const DATA_KINDS = new Set(['ConfigMap', 'Secret']);
const DATA_FIELDS = new Set(['data', 'stringData', 'binaryData']);

/** Whether a string value holds Helm template syntax. */
export function isHelmTemplateValue(s: string): boolean {
  return s.includes('{{') && HELM_IN_VALUE.test(s);
}

/**
 * Path of the first string value (in document order) holding Helm template syntax, skipping the
 * data of ConfigMaps and Secrets; undefined when there is none. Call it only on documents whose
 * text contains `{{`.
 */
export function findTemplateValue(value: unknown): (string | number)[] | undefined {
  const path: (string | number)[] = [];
  const walk = (v: unknown, depth: number): boolean => {
    if (typeof v === 'string') return isHelmTemplateValue(v);
    if (v === null || typeof v !== 'object' || depth > 1000) return false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        if (walk(v[i], depth + 1)) return true;
        path.pop();
      }
      return false;
    }
    const obj = v as Record<string, unknown>;
    const isData = typeof obj.kind === 'string' && DATA_KINDS.has(obj.kind);
    for (const [k, child] of Object.entries(obj)) {
      if (isData && DATA_FIELDS.has(k)) continue;
      path.push(k);
      if (walk(child, depth + 1)) return true;
      path.pop();
    }
    return false;
  };
  return walk(value, 0) ? path : undefined;
}

/**
 * Offset of the first Helm `{{` in `text` between `from` and `end` (the located value's text), or
 * `from` when the value's text does not show it literally (escaped characters).
 */
export function templateOffsetIn(text: string, from: number, end: number): number {
  HELM_IN_TEXT.lastIndex = from;
  const m = HELM_IN_TEXT.exec(text);
  return m !== null && m.index < end ? m.index : from;
}

/**
 * The template problem of a parsed document whose text is `text.slice(start, end)`, by rule 2,
 * or undefined. Costs one search of the document's text for documents without `{{`.
 */
export function templateValueProblem(
  doc: ManifestDocument,
  text: string,
  start: number,
  end: number,
  lines: LineIndex,
): ManifestProblem | undefined {
  // A substring is a view in V8, so this costs the document's length, not the file's.
  if (!text.slice(start, end).includes('{{')) return undefined;
  const path = findTemplateValue(doc.value);
  if (path === undefined) return undefined;
  const from = Math.max(start, lines.offsetOf(doc.locate(path)));
  return {
    ...lines.at(templateOffsetIn(text, from, end)),
    message: TEMPLATE_MESSAGE,
    hint: TEMPLATE_HINT,
    documentIndex: doc.index,
  };
}
