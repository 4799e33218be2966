/**
 * Kubernetes label selectors in their object form (matchLabels plus matchExpressions with
 * In / NotIn / Exists / DoesNotExist) and the one matching core every selector runs, whether it
 * came from podsec.yaml or from selector text (parse-text.ts). Keys and values follow
 * Kubernetes' own syntax, so a selector the API server would reject is rejected here too
 * instead of silently matching nothing.
 */

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type SelectorOperator = (typeof SELECTOR_OPERATORS)[number];

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelSelectorRequirement[];
}

export const EMPTY_SELECTOR: LabelSelector = { matchLabels: {}, matchExpressions: [] };

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label key, or null when it is. */
export function labelKeyProblem(key: string): string | null {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? null : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== null && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key prefix "${prefix}" must be a DNS subdomain (lower case, at most 253 characters)`;
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `label key "${key}" must be at most 63 characters of letters, digits, '-', '_' or '.' (after an optional "prefix/"), starting and ending with a letter or digit`;
  }
  return null;
}

/** Why `value` is not a valid label value, or null when it is. */
export function labelValueProblem(value: string): string | null {
  if (value === '') return null;
  if (value.length > 63 || !NAME.test(value)) {
    return `label value "${value}" must be empty or at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return null;
}

/** True when the empty selector (which matches everything). */
export function isEmptySelector(selector: LabelSelector): boolean {
  return selector.matchExpressions.length === 0 && Object.keys(selector.matchLabels).length === 0;
}

/** One requirement, as the API server evaluates it (a missing key satisfies NotIn). */
export function matchesRequirement(
  req: LabelSelectorRequirement,
  labels: Readonly<Record<string, string>>,
): boolean {
  const has = Object.hasOwn(labels, req.key);
  switch (req.operator) {
    case 'In':
      return has && req.values.includes(labels[req.key]!);
    case 'NotIn':
      return !has || !req.values.includes(labels[req.key]!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

/** Kubernetes semantics: every matchLabels pair and every expression must hold. */
export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const key in selector.matchLabels) {
    if (!Object.hasOwn(labels, key) || labels[key] !== selector.matchLabels[key]) return false;
  }
  for (const req of selector.matchExpressions) {
    if (!matchesRequirement(req, labels)) return false;
  }
  return true;
}
