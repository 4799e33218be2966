/** Public surface of podsec.yaml handling: types, defaults, the loader and label selectors. */
export type {
  Assignment,
  AssignmentExemption,
  AssignmentParameters,
  ClusterExemptions,
  Effect,
  PodsecConfig,
  PodTemplatePath,
  WorkloadEffect,
} from './types.js';
export {
  API_VERSION,
  DEFAULT_EFFECT,
  DEFAULT_EXCLUDED_NAMESPACES,
  DEFAULT_WORKLOADS,
  EFFECTS,
  INITIATIVES,
  KIND,
  WORKLOAD_EFFECTS,
} from './types.js';
export { loadConfigText } from './load.js';
export { defaultWorkloadsFor, workloadsConflict } from './workload-effect.js';
export { expiryInstant, isCalendarDate, parseVersionText } from './field-values.js';
export type { LoadOptions, LoadResult } from './load.js';
export { loadConfigFile } from './load-file.js';
export {
  isEmptySelector,
  labelKeyProblem,
  labelValueProblem,
  matchesSelector,
  SELECTOR_OPERATORS,
} from '../../lib/label-selector/index.js';
export type {
  LabelSelector,
  LabelSelectorRequirement,
  SelectorOperator,
} from '../../lib/label-selector/index.js';
export { activeChecks, knownCheckIds } from './active-checks.js';
