/**
 * Kubernetes label selector text (`app=web,tier!=db,env in (a,b),!legacy`) parsed once into a
 * predicate. The directory source and the test API server filter with it the way the API server
 * does; a selector that does not parse is a fault of the caller and throws.
 */
import { PodsecError } from '../../lib/errors.js';

type Requirement =
  | { readonly op: 'exists' | 'notExists'; readonly key: string }
  | { readonly op: 'in' | 'notIn'; readonly key: string; readonly values: ReadonlySet<string> };

export type LabelPredicate = (labels: Readonly<Record<string, string>> | undefined) => boolean;

/** Splits on commas that are not inside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

function parseTerm(term: string, whole: string): Requirement {
  const setMatch = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^()]*)\)$/.exec(term);
  if (setMatch !== null) {
    const values = new Set(
      (setMatch[3] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    );
    return { op: setMatch[2] === 'in' ? 'in' : 'notIn', key: setMatch[1] ?? '', values };
  }
  const eqMatch = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(term);
  if (eqMatch !== null) {
    const values = new Set([eqMatch[3] ?? '']);
    return { op: eqMatch[2] === '!=' ? 'notIn' : 'in', key: eqMatch[1] ?? '', values };
  }
  const notExists = /^!\s*([^\s!=(),]+)$/.exec(term);
  if (notExists !== null) return { op: 'notExists', key: notExists[1] ?? '' };
  if (/^[^\s!=(),]+$/.test(term)) return { op: 'exists', key: term };
  throw new PodsecError(
    'USAGE',
    `invalid label selector ${JSON.stringify(whole)}: cannot parse ${JSON.stringify(term)}`,
  );
}

/** A predicate for a selector; the empty selector matches everything. */
export function parseLabelSelector(text: string | undefined): LabelPredicate {
  if (text === undefined || text.trim() === '') return () => true;
  const reqs = splitTerms(text).map((t) => parseTerm(t, text));
  return (labels) =>
    reqs.every((r) => {
      const has = labels !== undefined && Object.hasOwn(labels, r.key);
      const value = has ? labels[r.key] : undefined;
      switch (r.op) {
        case 'exists':
          return has;
        case 'notExists':
          return !has;
        case 'in':
          return value !== undefined && r.values.has(value);
        case 'notIn':
          return value === undefined || !r.values.has(value);
      }
    });
}
