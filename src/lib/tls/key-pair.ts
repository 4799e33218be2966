/**
 * Reads and checks a serving certificate and key before a server uses them: both parse, the
 * key belongs to the certificate, and the certificate is within its validity. A reload that
 * fails any of these keeps the pair in use (a half-written or mismatched rotation must not
 * take the webhook down, which with failurePolicy Fail would block every pod in the cluster).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
  /** SHA-256 fingerprint of the leaf certificate, for logs. */
  readonly fingerprint: string;
  readonly subject: string;
  readonly notAfter: Date;
}

export type KeyPairResult =
  { readonly ok: true; readonly pair: KeyPair } | { readonly ok: false; readonly message: string };

function reason(err: unknown): string {
  if (err instanceof Error) return 'code' in err && typeof err.code === 'string' ? err.code : err.message;
  return String(err);
}

/** Checks PEM text; `now` is for tests. */
export function checkKeyPair(cert: string, key: string, now: Date = new Date()): KeyPairResult {
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch (err) {
    return { ok: false, message: `the certificate does not parse (${reason(err)})` };
  }
  let k;
  try {
    k = createPrivateKey(key);
  } catch (err) {
    return { ok: false, message: `the private key does not parse (${reason(err)})` };
  }
  if (!x.checkPrivateKey(k))
    return { ok: false, message: 'the private key does not belong to the certificate' };
  const notAfter = new Date(x.validTo);
  if (notAfter.getTime() < now.getTime()) {
    return { ok: false, message: `the certificate expired on ${notAfter.toISOString()}` };
  }
  return { ok: true, pair: { cert, key, fingerprint: x.fingerprint256, subject: x.subject, notAfter } };
}

/** Reads both files and checks them; never throws. */
export async function readKeyPair(certFile: string, keyFile: string): Promise<KeyPairResult> {
  let cert: string;
  let key: string;
  try {
    cert = await readFile(certFile, 'utf8');
  } catch (err) {
    return { ok: false, message: `cannot read ${certFile} (${reason(err)})` };
  }
  try {
    key = await readFile(keyFile, 'utf8');
  } catch (err) {
    return { ok: false, message: `cannot read ${keyFile} (${reason(err)})` };
  }
  return checkKeyPair(cert, key);
}
