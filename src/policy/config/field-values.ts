/**
 * How podsec.yaml's dated and versioned values are read, shared by the loader (which validates
 * them) and the engine (which applies them), so the engine does not depend on the loader.
 */
import { parseVersion } from '../pss/index.js';
import type { PolicyVersion } from '../pss/index.js';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Parses `latest` / `v1.N` exactly as PSA does (no leading zeros, nothing else). */
export function parseVersionText(text: string): PolicyVersion | null {
  const parsed = parseVersion(text);
  return parsed.ok ? parsed.value : null;
}

/** The instant an exemption stops applying: the end of its `expires` day, UTC. */
export function expiryInstant(expires: string): number {
  return Date.parse(`${expires}T00:00:00Z`) + DAY_MS;
}

/** A real `YYYY-MM-DD` day (2027-02-30 is not one). */
export function isCalendarDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (m === null) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}
