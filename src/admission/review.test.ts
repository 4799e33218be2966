import { describe, expect, it } from 'vitest';
import {
  decodeReview,
  encodeResponse,
  isValidAuditAnnotationKey,
  limitWarnings,
  WARNING_ITEM_LIMIT,
  WARNINGS_TOTAL_LIMIT,
} from './review.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at nested fields freely
type Obj = Record<string, any>;

function review(tweak: (r: Obj) => void = () => {}): Obj {
  const r: Obj = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      name: 'web',
      namespace: 'app',
      operation: 'CREATE',
      userInfo: { username: 'alice', groups: ['dev'] },
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: {} },
      oldObject: null,
      dryRun: false,
    },
  };
  tweak(r);
  return r;
}

const runes = (s: string) => Array.from(s).length;

describe('decodeReview', () => {
  it('decodes a valid v1 review', () => {
    const d = decodeReview(review());
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.request).toMatchObject({
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      subResource: '',
      name: 'web',
      namespace: 'app',
      operation: 'CREATE',
      userInfo: { username: 'alice' },
      oldObject: null,
      dryRun: false,
    });
    expect(d.request.object).toEqual({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: {} });
    expect(d.request.requestKind).toEqual({ group: '', version: 'v1', kind: 'Pod' });
  });

  it.each([
    { name: 'dryRun true', tweak: (r: Obj) => (r.request.dryRun = true), check: { dryRun: true } },
    {
      name: 'missing group is the core group',
      tweak: (r: Obj) => delete r.request.kind.group,
      check: { kind: { group: '', version: 'v1', kind: 'Pod' } },
    },
    {
      name: 'subresource',
      tweak: (r: Obj) => (r.request.subResource = 'ephemeralcontainers'),
      check: { subResource: 'ephemeralcontainers' },
    },
    {
      name: 'no userInfo',
      tweak: (r: Obj) => delete r.request.userInfo,
      check: { userInfo: {} },
    },
    {
      name: 'cluster-scoped: no namespace',
      tweak: (r: Obj) => delete r.request.namespace,
      check: { namespace: '' },
    },
  ])('$name', ({ tweak, check }) => {
    const d = decodeReview(review(tweak));
    expect(d.ok).toBe(true);
    if (d.ok) expect(d.request).toMatchObject(check);
  });

  it.each([
    {
      name: 'not an object',
      value: 'hello',
      message: 'an AdmissionReview must be a JSON object, got "hello"',
    },
    { name: 'an array', value: [], message: 'an AdmissionReview must be a JSON object, got an array' },
    { name: 'null', value: null, message: 'an AdmissionReview must be a JSON object, got null' },
    {
      name: 'v1beta1 is refused with the fix',
      value: review((r) => (r.apiVersion = 'admission.k8s.io/v1beta1')),
      message:
        'apiVersion admission.k8s.io/v1beta1 is not supported: set admissionReviewVersions: ["v1"] in the webhook configuration',
    },
    {
      name: 'other apiVersion',
      value: review((r) => (r.apiVersion = 'v1')),
      message: 'unsupported apiVersion "v1" (expected admission.k8s.io/v1)',
    },
    {
      name: 'no apiVersion',
      value: review((r) => delete r.apiVersion),
      message: 'apiVersion is missing (expected admission.k8s.io/v1)',
    },
    {
      name: 'wrong kind',
      value: review((r) => (r.kind = 'Pod')),
      message: 'unsupported kind "Pod" (expected AdmissionReview)',
    },
    {
      name: 'no request',
      value: review((r) => delete r.request),
      message: 'request is missing: an AdmissionReview to review needs one',
    },
    {
      name: 'request not an object',
      value: review((r) => (r.request = 42)),
      message: 'request must be an object, got number',
    },
    { name: 'no uid', value: review((r) => delete r.request.uid), message: 'request.uid is missing' },
    { name: 'empty uid', value: review((r) => (r.request.uid = '')), message: 'request.uid is empty' },
    {
      name: 'uid not a string',
      value: review((r) => (r.request.uid = 7)),
      message: 'request.uid must be a string, got number',
    },
    {
      name: 'no operation',
      value: review((r) => delete r.request.operation),
      message: 'request.operation is missing',
    },
    {
      name: 'unknown operation',
      value: review((r) => (r.request.operation = 'PATCH')),
      message: 'request.operation "PATCH" is not one of CREATE, UPDATE, DELETE, CONNECT',
    },
    {
      name: 'no kind',
      value: review((r) => delete r.request.kind),
      message: 'request.kind is missing (expected {group, version, kind})',
    },
    {
      name: 'empty kind.kind',
      value: review((r) => (r.request.kind.kind = '')),
      message: 'request.kind.kind must be a non-empty string',
    },
    {
      name: 'no resource',
      value: review((r) => delete r.request.resource),
      message: 'request.resource is missing (expected {group, version, resource})',
    },
    {
      name: 'resource.group not a string',
      value: review((r) => (r.request.resource.group = 1)),
      message: 'request.resource.group must be a string, got number',
    },
    {
      name: 'object not an object',
      value: review((r) => (r.request.object = 'pod')),
      message: 'request.object must be an object, got "pod"',
    },
    {
      name: 'oldObject an array',
      value: review((r) => (r.request.oldObject = [])),
      message: 'request.oldObject must be an object, got an array',
    },
    {
      name: 'namespace not a string',
      value: review((r) => (r.request.namespace = {})),
      message: 'request.namespace must be a string, got object',
    },
  ])('400: $name', ({ value, message }) => {
    expect(decodeReview(value)).toEqual({ ok: false, status: 400, message });
  });
});

describe('encodeResponse', () => {
  it('echoes the uid and omits what is empty', () => {
    expect(encodeResponse('abc', { allowed: true, warnings: [], auditAnnotations: {} })).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'abc', allowed: true },
    });
  });

  it('carries status, warnings and annotations', () => {
    const encoded = encodeResponse('abc', {
      allowed: false,
      status: { code: 403, reason: 'Forbidden', message: 'pods "x" is forbidden: no' },
      warnings: ['w1'],
      auditAnnotations: { 'audit-violations': 'v' },
    });
    expect(encoded.response).toEqual({
      uid: 'abc',
      allowed: false,
      status: { code: 403, reason: 'Forbidden', message: 'pods "x" is forbidden: no' },
      warnings: ['w1'],
      auditAnnotations: { 'audit-violations': 'v' },
    });
  });

  it('drops audit annotation keys the API server would refuse', () => {
    const encoded = encodeResponse('abc', {
      allowed: true,
      auditAnnotations: {
        'audit-violations': 'kept',
        'podsec.io/exempt': 'has a slash: the API server already adds the webhook name and a slash',
        '-leading-dash': 'x',
        ['k'.repeat(64)]: 'too long',
        ['k'.repeat(63)]: 'just fits',
      },
    });
    expect(encoded.response.auditAnnotations).toEqual({
      'audit-violations': 'kept',
      ['k'.repeat(63)]: 'just fits',
    });
  });
});

describe('isValidAuditAnnotationKey', () => {
  it.each([
    ['enforce-policy', true],
    ['exempted-violations', true],
    ['a', true],
    ['a.b_c-d', true],
    ['podsec.io/exempt', false],
    ['', false],
    ['trailing-', false],
    ['with space', false],
  ])('%s -> %s', (key, valid) => {
    expect(isValidAuditAnnotationKey(key)).toBe(valid);
  });
});

describe('limitWarnings', () => {
  it('keeps short lists as they are', () => {
    expect(limitWarnings(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('drops duplicates and empty warnings', () => {
    expect(limitWarnings(['a', '', 'a', '  ', 'b'])).toEqual(['a', 'b']);
  });

  it('replaces control characters (the API server would drop the whole warning)', () => {
    expect(limitWarnings(['line1\nline2\ttab\u0085'])).toEqual(['line1 line2 tab ']);
  });

  it('keeps a single long warning whole while the total is within 4096 runes', () => {
    const long = 'x'.repeat(1000);
    expect(limitWarnings([long])).toEqual([long]);
  });

  it('cuts each warning to 256 runes and stops at the total when over 4096', () => {
    const input = Array.from({ length: 40 }, (_, i) => `${i}:`.padEnd(300, 'é'));
    const out = limitWarnings(input);
    const total = out.reduce((n, w) => n + runes(w), 0);
    expect(total).toBeLessThanOrEqual(WARNINGS_TOTAL_LIMIT);
    for (const w of out) expect(runes(w)).toBeLessThanOrEqual(WARNING_ITEM_LIMIT);
    expect(out[0]!.startsWith('0:')).toBe(true);
    expect(out[0]!.endsWith('…')).toBe(true);
    const kept = out.length - 1;
    expect(out.at(-1)).toBe(`(${40 - kept} more warnings not shown)`);
  });

  it('counts surrogate pairs as one rune', () => {
    const emoji = '😀'.repeat(300);
    const out = limitWarnings(Array.from({ length: 20 }, (_, i) => `${i}${emoji}`));
    for (const w of out) expect(runes(w)).toBeLessThanOrEqual(WARNING_ITEM_LIMIT);
    expect(out[0]!.includes('\ud83d…')).toBe(false);
  });
});
