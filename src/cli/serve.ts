/**
 * How a long-running podsec server command runs: start it (a usage error exits 2 with its
 * message), serve until SIGTERM or SIGINT, then stop gracefully; a timer bounds the stop so a
 * hung drain cannot keep a terminating pod alive.
 */
import { UsageError } from '../lib/errors.js';
import { EXIT_OK, EXIT_USAGE } from './exit-codes.js';

export async function serveUntilSignal(
  start: () => Promise<{ stop(): Promise<void> }>,
  forceExitAfterMs: number,
): Promise<number> {
  let running: { stop(): Promise<void> };
  try {
    running = await start();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`podsec: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  const force = setTimeout(() => process.exit(EXIT_OK), forceExitAfterMs);
  force.unref();
  await running.stop();
  return EXIT_OK;
}
