/** Public surface of Azure Policy parameters: parse them, document them, turn them into checks. */
export { buildChecks } from './build.js';
export { parseParameters, parsePortRange, VOLUME_TYPES } from './parse.js';
export {
  AZURE_ALLOWED_CAPABILITIES,
  AZURE_ALLOWED_VOLUME_TYPES,
  initiativeDefaults,
  PARAMETERS,
} from './parameters.js';
export { renderParametersDoc } from './render-docs.js';
export { INITIATIVE_NAMES } from './types.js';
export type {
  GroupRule,
  HostPathRule,
  IdRange,
  InitiativeName,
  ParameterDoc,
  ParameterIssue,
  ParameterName,
  ParsedParameters,
  PortRange,
  ProcMountType,
  SELinuxRule,
  UserRule,
} from './types.js';
