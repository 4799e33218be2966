/**
 * Public surface of the NetworkPolicy engine: the model and verdict types, building and
 * compiling a model, the evaluator (tiers), matrix and explain. Other netpol modules (load,
 * generate, lint) add their exports here with one line each.
 */
export type * from './model/types.js';
export { POLICY_TYPES, PROTOCOLS } from './model/types.js';
export { buildModel, findPod, findPodsByIp, nodesByIp, NAMESPACE_NAME_LABEL } from './model/build.js';
export type { NetpolModel } from './model/build.js';
export { labelSelectorFromObject, portNameProblem, toNetpolPolicy } from './model/policy.js';
export type { ConvertOptions } from './model/policy.js';
export { formatCidr, formatIp, parseCidr, parseIp } from './model/cidr.js';
export type { Cidr, IpAddress } from './model/cidr.js';
export { Bitset } from './model/bitset.js';
export { compile, matchingPortIndex, portSpecMatches, resolveNamedPort } from './compile.js';
export type {
  CompiledCluster,
  CompiledIpBlock,
  CompiledPeer,
  CompiledPolicy,
  CompiledRule,
  CidrSet,
  PortRange,
  RuleDataPlane,
} from './compile.js';
export {
  DEFAULT_TIERS,
  evaluate,
  networkPolicyV1Tier,
  PortContext,
  tierAllows,
  tierRow,
} from './evaluate.js';
export type { Evaluation, RowAnswer, Tier, TierJudgement } from './evaluate.js';
export { matrix, matrixRow } from './matrix.js';
export { describeEndpoint, explain } from './explain.js';
export {
  LINT_CODES,
  lintNetpol,
  selectorWithin,
  type LintCode,
  type LintFinding,
  type LintReport,
} from './lint.js';
export {
  formatLoadProblem,
  formatLoadProblemWithPath,
  loadFromClusterSource,
  loadManifests,
  loadManifestTexts,
  loadObjects,
  parsePodCidr,
} from './load.js';
export type { LoadOptions, LoadProblem, LoadResult, LoadSummary } from './load.js';
export { generatePolicies, parseGenerateArgs, parsePortArg, renderJson, renderYaml } from './generate.js';
export type { GenerateArgs, GenerateRequest, GeneratedPolicy, PortArg } from './generate.js';
