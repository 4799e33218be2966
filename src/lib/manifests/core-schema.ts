/**
 * Plain-scalar resolution of the YAML 1.2 core schema, the rules the `yaml` package applies by
 * default, so the fast parser's values equal `yaml`'s: `yes`/`no`/`on`/`off` stay strings,
 * `0777` is the decimal 777, `0o17` octal, `0x1F` hex, `.inf`/`.nan` floats, `~`/`null`/empty null.
 */

const OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const INF_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

function resolveNumeric(s: string): string | number {
  if (INT.test(s)) return parseInt(s, 10);
  if (OCT.test(s)) return parseInt(s.substring(2), 8);
  if (HEX.test(s)) return parseInt(s.substring(2), 16);
  if (FLOAT.test(s)) return parseFloat(s);
  if (INF_NAN.test(s)) {
    if (s.slice(-3).toLowerCase() === 'nan') return NaN;
    return s.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return s;
}

/** The value of a plain (unquoted) scalar. */
export function resolvePlain(s: string): string | number | boolean | null {
  const c = s.charCodeAt(0);
  // Most scalars in manifests start with a letter that cannot begin a null, bool or number.
  if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) return resolveNumeric(s);
  switch (c) {
    case 0x7e: // ~
      return s.length === 1 ? null : s;
    case 0x6e: // n
    case 0x4e: // N
      return s === 'null' || s === 'Null' || s === 'NULL' ? null : s;
    case 0x74: // t
    case 0x54: // T
      return s === 'true' || s === 'True' || s === 'TRUE' ? true : s;
    case 0x66: // f
    case 0x46: // F
      return s === 'false' || s === 'False' || s === 'FALSE' ? false : s;
    default:
      return s;
  }
}

/** A mapping key as `yaml`'s toJS makes it: null becomes '', other scalars their String(). */
export function plainKey(s: string): string {
  const v = resolvePlain(s);
  if (typeof v === 'string') return v;
  return v === null ? '' : String(v);
}
