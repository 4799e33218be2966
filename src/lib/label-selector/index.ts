/** Public surface of Kubernetes label selectors: object form, text form, one matching core. */
export {
  EMPTY_SELECTOR,
  isEmptySelector,
  labelKeyProblem,
  labelValueProblem,
  matchesRequirement,
  matchesSelector,
  SELECTOR_OPERATORS,
} from './selector.js';
export type { LabelSelector, LabelSelectorRequirement, SelectorOperator } from './selector.js';
export { parseLabelSelector, parseSelectorText } from './parse-text.js';
export type { LabelPredicate } from './parse-text.js';
