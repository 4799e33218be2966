/**
 * Public surface of the NetworkPolicy engine: the model and verdict types, building and
 * compiling a model, the evaluator (tiers), matrix and explain. Other netpol modules (load,
 * generate, lint) add their exports here with one line each.
 */
export type * from './model/types.js';
export { POLICY_TYPES, PROTOCOLS } from './model/types.js';
