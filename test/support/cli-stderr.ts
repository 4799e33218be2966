/**
 * Runs the whole CLI (`main`) in process and returns its exit code with what it wrote to stderr,
 * for tests of usage errors; stderr is silenced meanwhile and process.exitCode is reset after.
 */
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export async function runCliForStderr(argv: readonly string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stderr };
  } finally {
    spy.mockRestore();
    process.exitCode = undefined;
  }
}
