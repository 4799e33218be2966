/**
 * The one plain-object guard: manifests, admission reviews and parameters arrive as `unknown`
 * JSON, and every reader narrows them the same way (a list is not a record).
 */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
