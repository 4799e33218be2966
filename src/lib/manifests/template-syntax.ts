/**
 * Go/Helm template detection. `{{` inside quoted strings and block scalars is legitimate (alert
 * annotations, configuration files held in ConfigMaps), so only `{{` where a YAML node starts
 * counts: at a line's start, after `- `, or after `key: `.
 */

export const TEMPLATE_HINT = 'render it first: helm template <chart> | podsec scan -';
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
