/** The shared 422 Invalid answer: the API server's message wording for one and several causes. */
import { describe, expect, it } from 'vitest';
import { invalidResponse } from './invalid.js';
import type { AdmissionRequest, StatusCause } from './types.js';

function requestFor(group: string, kind: string): AdmissionRequest {
  return {
    uid: 'u1',
    kind: { group, version: 'v1', kind },
    resource: { group, version: 'v1', resource: `${kind.toLowerCase()}s` },
    subResource: '',
    name: 'x',
    namespace: '',
    operation: 'CREATE',
    userInfo: {},
    object: null,
    oldObject: null,
    dryRun: false,
  };
}

const FIELD: StatusCause = {
  reason: 'FieldValueInvalid',
  message: 'Invalid value: "a": bad',
  field: 'spec.a',
};
const WHOLE: StatusCause = { reason: 'FieldValueInvalid', message: 'object is broken', field: '' };

const CASES: readonly {
  name: string;
  group: string;
  kind: string;
  causes: StatusCause[];
  message: string;
}[] = [
  {
    name: 'core kind, one cause: no group, no brackets',
    group: '',
    kind: 'Namespace',
    causes: [FIELD],
    message: 'Namespace "team" is invalid: spec.a: Invalid value: "a": bad',
  },
  {
    name: 'grouped kind, several causes in brackets; a cause with no field has no path',
    group: 'aadpodidentity.k8s.io',
    kind: 'AzureIdentity',
    causes: [FIELD, WHOLE],
    message:
      'AzureIdentity.aadpodidentity.k8s.io "team" is invalid: [spec.a: Invalid value: "a": bad, object is broken]',
  },
];

describe('invalidResponse', () => {
  it.each(CASES)('$name', ({ group, kind, causes, message }) => {
    expect(invalidResponse(requestFor(group, kind), 'team', causes)).toEqual({
      allowed: false,
      status: { code: 422, reason: 'Invalid', message, details: { name: 'team', group, kind, causes } },
    });
  });
});
