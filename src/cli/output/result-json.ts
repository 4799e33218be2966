/** The result JSON moved to src/policy/result-json.ts (audit shares it); this keeps the CLI's imports. */
export * from '../../policy/result-json.js';
