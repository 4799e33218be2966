/**
 * The one piece of I/O in the policy area: read podsec.yaml and hand the text to the pure
 * loader. An unreadable file is reported the same way as an invalid one (a ConfigError with
 * the file name), so callers have a single failure path.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../lib/errors.js';
import { loadConfigText } from './load.js';
import type { LoadOptions, LoadResult } from './load.js';

export async function loadConfigFile(path: string, options: LoadOptions = {}): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const reason = cause instanceof Error && 'code' in cause ? String(cause.code) : String(cause);
    const error = new ConfigError(path, [
      { file: path, line: 1, column: 1, path: '', message: `cannot read the configuration file (${reason})` },
    ]);
    return { error, warnings: [] };
  }
  return loadConfigText(text, path, options);
}
