/** canonicalPath: every spelling reduced to one form or refused; isForwardableQuery. */
import { describe, expect, it } from 'vitest';
import { canonicalPath, isForwardableQuery } from './path.js';

const canonical: [string, string][] = [
  ['/', '/'],
  ['/metadata/identity/oauth2/token', '/metadata/identity/oauth2/token'],
  ['/metadata/identity/oauth2/token/', '/metadata/identity/oauth2/token/'],
  ['/metadata/identity/oauth2/%74oken', '/metadata/identity/oauth2/token'],
  ['/metadata/%69dentity/oauth2/token', '/metadata/identity/oauth2/token'],
  ['/metadata/%69nstance/compute', '/metadata/instance/compute'],
  ['/Metadata/Instance/compute/vmId', '/Metadata/Instance/compute/vmId'],
  ['/a/%7e%2D%5f%2E', '/a/~-_.'],
  ['/a/b.c/d..e', '/a/b.c/d..e'],
];

const refused: [string, RegExp][] = [
  ['', /must start with/],
  ['metadata/instance', /must start with/],
  ['http://169.254.169.254/metadata', /must start with/],
  ['/metadata//identity/oauth2/token', /empty segment/],
  ['//metadata', /empty segment/],
  ['/metadata/identity/oauth2/token//', /empty segment/],
  ['/metadata/./instance', /dot segment/],
  ['/metadata/identity/../instance', /dot segment/],
  ['/metadata/...', /dot segment/],
  ['/metadata/%2e%2E/instance', /dot segment/],
  ['/metadata/%2E/', /dot segment/],
  ['/metadata/identity%2Foauth2', /escaped character \(%2F\)/],
  ['/metadata/identity%2foauth2', /escaped character \(%2F\)/],
  ['/metadata%5Cinstance', /escaped character \(%5C\)/],
  ['/metadata/%25', /escaped character/],
  ['/metadata/%00', /escaped character/],
  ['/metadata/%C3%A9', /escaped character/],
  ['/metadata/%2', /malformed/],
  ['/metadata/%g1', /malformed/],
  ['/metadata\\instance', /backslash/],
  ['/metadata/instanc\u00e9', /non-ASCII/],
  ['/metadata/in stance', /non-ASCII or control/],
  ['/metadata/\u0000', /control/],
  ['/metadata/instance;a=b', /character \(;\)/],
  ['/metadata/instance#x', /character \(#\)/],
  ['/metadata/instance?x', /character \(\?\)/],
];

describe('canonicalPath', () => {
  for (const [raw, want] of canonical) {
    it(`${JSON.stringify(raw)} -> ${want}`, () => {
      expect(canonicalPath(raw)).toEqual({ ok: true, path: want });
    });
  }
  for (const [raw, reason] of refused) {
    it(`${JSON.stringify(raw)} refused`, () => {
      const got = canonicalPath(raw);
      expect(got.ok).toBe(false);
      if (!got.ok) expect(got.reason).toMatch(reason);
    });
  }
});

describe('isForwardableQuery', () => {
  const table: [string, boolean][] = [
    ['', true],
    ['api-version=2020-07-01&x=a%20b+c', true],
    ["a=!$&'()*,;:@/?", true],
    ['a=b c', false],
    ['a=b#c', false],
    ['a=\u00e9', false],
    ['a=\r\nX: 1', false],
  ];
  for (const [q, ok] of table) {
    it(`${JSON.stringify(q)} -> ${ok}`, () => expect(isForwardableQuery(q)).toBe(ok));
  }
});
