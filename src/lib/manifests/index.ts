/** Manifest loading with source positions: the public surface of src/lib/manifests. */
export { parseManifests } from './parse-manifests.js';
export { MAX_ALIAS_COUNT } from './yaml-fallback.js';
export { MAX_NESTING } from './nesting.js';
export { TEMPLATE_HINT } from './template-syntax.js';
export type {
  ManifestDocument,
  ManifestPath,
  ManifestProblem,
  ParsedManifests,
  SourcePosition,
} from './types.js';
