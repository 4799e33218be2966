/**
 * The one piece of I/O in the policy area: read podsec.yaml and hand the text to the pure
 * loader. An unreadable file is reported the same way as an invalid one (a ConfigError with
 * the file name), so callers have a single failure path; its message is one plain sentence
 * (`cannot read podsec.yaml: no such file`) rather than an errno and a fake position.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../lib/errors.js';
import { loadConfigText } from './load.js';
import type { LoadOptions, LoadResult } from './load.js';

/** What the common errno codes mean to someone who typed a path. */
const READ_FAILURES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the path is too long',
};

/** Why a read failed, in words (falls back to the errno code). */
export function readFailure(cause: unknown): string {
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : null;
  if (code === null) return cause instanceof Error ? cause.message : String(cause);
  return READ_FAILURES[code] ?? `error ${code}`;
}

function unreadable(path: string, message: string, cause?: unknown, hint?: string): LoadResult {
  const issue = { file: path, line: 1, column: 1, path: '', message };
  const options = {
    message,
    ...(hint === undefined ? {} : { hint }),
    ...(cause === undefined ? {} : { cause }),
  };
  return { error: new ConfigError(path, [issue], options), warnings: [] };
}

export async function loadConfigFile(path: string, options: LoadOptions = {}): Promise<LoadResult> {
  if (path === '-') {
    return unreadable(
      path,
      'the configuration must be a file: "-" (standard input) is not accepted for it',
      undefined,
      'standard input carries the manifests to scan; pass podsec.yaml by its path',
    );
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    return unreadable(path, `cannot read ${path}: ${readFailure(cause)}`, cause);
  }
  return loadConfigText(text, path, options);
}
