/**
 * Kubernetes label selector text (`app=web,tier!=db,env in (a,b),!legacy`), as list calls and
 * the directory source take it. It parses into the same requirements the object form uses
 * (`app=web` is `app In [web]`, `!legacy` is `legacy DoesNotExist`), so both run one matching
 * core. A selector that does not parse is a fault of the caller and throws a usage error.
 */
import { PodsecError } from '../errors.js';
import { labelKeyProblem, labelValueProblem, matchesSelector } from './selector.js';
import type { LabelSelector, LabelSelectorRequirement } from './selector.js';

export type LabelPredicate = (labels: Readonly<Record<string, string>> | undefined) => boolean;

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const TOKEN = '[^\\s!=(),]+';
const SET_TERM = new RegExp(`^(${TOKEN})\\s+(in|notin)\\s+\\(([^()]*)\\)$`);
const EQUALITY_TERM = new RegExp(`^(${TOKEN})\\s*(==|=|!=)\\s*([^\\s!=(),]*)$`);
const NOT_EXISTS_TERM = new RegExp(`^!\\s*(${TOKEN})$`);
const EXISTS_TERM = new RegExp(`^(${TOKEN})$`);

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

function invalid(whole: string, why: string): PodsecError {
  return new PodsecError('USAGE', `invalid label selector ${JSON.stringify(whole)}: ${why}`);
}

function parseTerm(term: string, whole: string): LabelSelectorRequirement {
  let req: LabelSelectorRequirement | null = null;
  const set = SET_TERM.exec(term);
  const equality = set === null ? EQUALITY_TERM.exec(term) : null;
  const notExists = set === null && equality === null ? NOT_EXISTS_TERM.exec(term) : null;
  if (set !== null) {
    const values = (set[3] ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    req = { key: set[1] ?? '', operator: set[2] === 'in' ? 'In' : 'NotIn', values };
  } else if (equality !== null) {
    req = {
      key: equality[1] ?? '',
      operator: equality[2] === '!=' ? 'NotIn' : 'In',
      values: [equality[3] ?? ''],
    };
  } else if (notExists !== null) {
    req = { key: notExists[1] ?? '', operator: 'DoesNotExist', values: [] };
  } else if (EXISTS_TERM.test(term)) {
    req = { key: term, operator: 'Exists', values: [] };
  }
  if (req === null) throw invalid(whole, `cannot parse ${JSON.stringify(term)}`);
  const problem =
    labelKeyProblem(req.key) ?? req.values.map(labelValueProblem).find((p) => p !== null) ?? null;
  if (problem !== null) throw invalid(whole, problem);
  return req;
}

/** Selector text as an object-form selector (every term a matchExpressions requirement). */
export function parseSelectorText(text: string): LabelSelector {
  const matchExpressions = text.trim() === '' ? [] : splitTerms(text).map((t) => parseTerm(t, text));
  return { matchLabels: {}, matchExpressions };
}

/** A predicate for selector text; absent or empty text matches everything. */
export function parseLabelSelector(text: string | undefined): LabelPredicate {
  if (text === undefined || text.trim() === '') return () => true;
  const selector = parseSelectorText(text);
  return (labels) => matchesSelector(selector, labels ?? NO_LABELS);
}
