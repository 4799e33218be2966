#!/usr/bin/env node
/**
 * podsec's command line. Each verb is imported only when it runs, so `podsec scan` never
 * loads what a cluster-facing command needs (the Kubernetes client costs ~0.8 s to import).
 * This file owns the edge: it turns errors into exit codes and keeps stack traces behind --debug.
 */
import { Command, CommanderError } from 'commander';
import { podsecVersion } from './version.js';
import { PodsecError } from '../lib/errors.js';
import { EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { COMMANDS } from './commands/index.js';

function isDebug(argv: readonly string[]): boolean {
  return argv.includes('--debug');
}

export function buildProgram(): Command {
  const program = new Command('podsec');
  program
    .description('Pod security for Kubernetes and AKS: admission policy, pod identity, network policy')
    .version(podsecVersion(), '--version', "print podsec's version")
    .option('--debug', 'show stack traces for internal errors')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) })
    .showSuggestionAfterError(true);

  for (const define of COMMANDS) define(program);

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
      if (err.code === 'commander.help') return EXIT_OK;
      return EXIT_USAGE;
    }
    if (err instanceof PodsecError) {
      process.stderr.write(`podsec: ${err.message}\n`);
      if (err.hint !== undefined) process.stderr.write(`hint: ${err.hint}\n`);
      if (isDebug(argv) && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
      // Every error that stops a command is exit 2; exit 1 means findings, never a fault.
      return EXIT_USAGE;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`podsec: internal error: ${e.message}\n`);
    if (isDebug(argv)) process.stderr.write(`${e.stack ?? ''}\n`);
    else process.stderr.write('hint: run again with --debug for details, and report it\n');
    return EXIT_USAGE;
  }
}

/**
 * `podsec scan ... | head` closes the pipe early: that is the reader's choice, not an error,
 * so EPIPE ends the process quietly with the exit code it would have had.
 */
function exitQuietlyOnBrokenPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK);
    process.exitCode = EXIT_USAGE;
  });
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith('/cli/main.js');
if (invokedDirectly) {
  exitQuietlyOnBrokenPipe(process.stdout);
  exitQuietlyOnBrokenPipe(process.stderr);
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`podsec: ${String(err)}\n`);
      process.exitCode = EXIT_USAGE;
    },
  );
}
