/**
 * The one spelling of a request path the NMI routes on and forwards. Routing on the raw target
 * let `/metadata/%69dentity/...`, `/metadata//identity/...` or `/metadata/./instance` slip past
 * the token route and the instance block to the real IMDS, which decodes and normalises them
 * itself. Here every such spelling is either reduced to its single canonical form or refused:
 * percent-escapes of unreserved characters (RFC 3986 section 2.3) are decoded, since they mean
 * the same thing; any other escape, a backslash, an empty or dot-only segment, or a character
 * outside letters, digits, `-._~` and `/` is refused. No IMDS path needs anything else.
 */

export type CanonicalPath =
  { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string };

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;

function refuse(reason: string): CanonicalPath {
  return { ok: false, reason };
}

/**
 * `raw` is the path part of the request target as received (before `?`). A single trailing
 * slash is kept (`/metadata/identity/oauth2/token/` is what MSAL sends); the root `/` is valid.
 */
export function canonicalPath(raw: string): CanonicalPath {
  if (!raw.startsWith('/')) return refuse('The request path must start with /');
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charAt(i);
    if (ch === '%') {
      const hex = raw.slice(i + 1, i + 3);
      if (!HEX2.test(hex)) return refuse('The request path has a malformed percent-escape');
      const decoded = String.fromCharCode(parseInt(hex, 16));
      if (!UNRESERVED.test(decoded)) {
        return refuse(
          `The request path has an escaped character (%${hex.toUpperCase()}) that is not allowed`,
        );
      }
      out += decoded;
      i += 2;
      continue;
    }
    if (ch === '\\') return refuse('The request path has a backslash');
    if (ch !== '/' && !UNRESERVED.test(ch)) {
      const code = ch.charCodeAt(0);
      return refuse(
        code < 0x21 || code > 0x7e
          ? 'The request path has a non-ASCII or control character'
          : `The request path has a character (${ch}) that is not allowed`,
      );
    }
    out += ch;
  }
  if (out === '/') return { ok: true, path: out };
  const segments = out.slice(1).split('/');
  for (let k = 0; k < segments.length; k++) {
    const s = segments[k] ?? '';
    if (s === '') {
      // Only the last segment may be empty: one trailing slash.
      if (k === segments.length - 1) continue;
      return refuse('The request path has an empty segment (//)');
    }
    if (/^\.+$/.test(s)) return refuse('The request path has a dot segment (. or ..)');
  }
  return { ok: true, path: out };
}

/** Characters a forwarded query may hold: printable ASCII without `#`. */
export function isForwardableQuery(raw: string): boolean {
  return /^[\x21-\x22\x24-\x7e]*$/.test(raw);
}
