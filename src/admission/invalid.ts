/**
 * The API server's answer to an invalid object (apimachinery's NewInvalid), shared by every check
 * that refuses with field errors, so the wording of a 422 is written once.
 */
import type { AdmissionRequest, AdmissionResponse, StatusCause } from './types.js';

/**
 * 422 with reason Invalid: `<Kind>.<group> "<name>" is invalid: <errors>` (the kind alone for the
 * core group; several errors in brackets), one cause per field error; a cause with no field is a
 * problem of the whole object and is written without a path.
 */
export function invalidResponse(
  request: AdmissionRequest,
  name: string,
  causes: readonly StatusCause[],
): AdmissionResponse {
  const { group, kind } = request.kind;
  const qualified = group === '' ? kind : `${kind}.${group}`;
  const texts = causes.map((c) => (c.field === '' ? c.message : `${c.field}: ${c.message}`));
  return {
    allowed: false,
    status: {
      code: 422,
      reason: 'Invalid',
      message: `${qualified} ${JSON.stringify(name)} is invalid: ${texts.length === 1 ? texts[0]! : `[${texts.join(', ')}]`}`,
      details: { name, group, kind, causes },
    },
  };
}
