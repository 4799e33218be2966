/**
 * Public surface of the policy area: configuration (podsec.yaml), the engine that applies it,
 * and the Pod Security Standards checks underneath. Callers (CLI, webhook, audit) import from here.
 */
export * from './config/index.js';
export {
  applicableAssignments,
  compilePolicy,
  evaluateObject,
  inScope,
  labelAssignments,
  namespaceLabelPolicy,
  policyFromLevel,
  PSA_LABEL_PREFIX,
} from './engine.js';
export type {
  AppliedEffect,
  AssignmentMessage,
  CompiledAssignment,
  EvaluationContext,
  ExemptedBy,
  NamespaceLabelPolicy,
  ObjectEvaluation,
  Policy,
  PolicyInfo,
  ResultStatus,
  Violation,
} from './engine.js';
export {
  checksFor,
  evaluatePod,
  formatDenial,
  formatVersion,
  formatWarning,
  LATEST_MINOR,
  LEVELS,
  parseLevel,
  parseVersion,
} from './pss/index.js';
export type { ActiveCheck, CheckFailure, Finding, Level, PolicyVersion } from './pss/index.js';
