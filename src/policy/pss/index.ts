/** Public surface of the Pod Security Standards engine: registry lookups, pod evaluation, message text. */
export type {
  ActiveCheck,
  CheckDefinition,
  CheckFailure,
  CheckFn,
  CheckResult,
  Finding,
  Level,
  PolicyVersion,
  VersionedCheck,
} from './types.js';
export { LATEST_MINOR, LEVELS } from './types.js';
export {
  allCheckDefinitions,
  buildTable,
  checksFor,
  effectiveMinor,
  formatVersion,
  parseLevel,
  parseVersion,
  validateDefinitions,
} from './registry.js';
export type { ParseResult } from './registry.js';
export { evaluatePod, formatDenial, formatFailures, formatWarning } from './evaluate.js';
export type { PodEvaluation } from './evaluate.js';
