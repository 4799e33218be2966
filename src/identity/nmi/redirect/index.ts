/** Public surface of the NMI's metadata redirect (nftables DNAT of pod traffic to the NMI). */
export {
  buildCleanupScript,
  buildRulesetScript,
  conntrackFlushArgs,
  DEFAULT_POD_INTERFACES,
  DEFAULT_TABLE,
  METADATA_ADDRESS,
  METADATA_PORT,
  RULESET_MODES,
  validateInterfacePattern,
  validateRedirectConfig,
  validateTargetAddress,
} from './rules.js';
export type { RedirectConfig, RedirectConfigInput, RedirectConfigResult, RulesetMode } from './rules.js';
export { applyNftScript, flushMetadataConntrack, listNftTable, spawnExec } from './runner.js';
export type { ConntrackOutcome, Exec, ExecResult } from './runner.js';
export { DEFAULT_REDIRECT_INTERVAL_MS, ImdsRedirect, removeRedirect } from './redirect.js';
export type { ImdsRedirectOptions, ReassertOutcome } from './redirect.js';
export { redirectSettingsFromFlags, splitPatterns } from './flags.js';
export type { RedirectFlags, RedirectSettings } from './flags.js';
export {
  describeBridgeMatch,
  guardBridgeCni,
  interfaceMatches,
  listNodeBridges,
  matchBridges,
} from './bridges.js';
export type { BridgeGuardOptions, BridgeMatch, BridgeProbe, ListDir, NodeBridge } from './bridges.js';
export { RedirectError, REDIRECT_FAULTS } from './errors.js';
export type { RedirectFault } from './errors.js';
