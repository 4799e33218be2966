/** Reading the inputs of CLI commands: the public surface of src/lib/input. */
export { collectInputs, decodeManifest, DEFAULT_MAX_FILE_BYTES } from './collect-inputs.js';
export type { CollectedInputs, CollectOptions, InputFile, InputProblem } from './collect-inputs.js';
export { globToRegExp, GlobSet } from './glob.js';
