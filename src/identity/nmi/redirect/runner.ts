/**
 * The thin I/O edge of the redirect: it feeds the scripts built in rules.ts to `nft -f -`, lists
 * the table and flushes conntrack. Commands are run without a shell (arguments as an array, the
 * script on stdin). Failures become RedirectError values with a hint, except the two expected
 * outcomes: an absent table (a value) and conntrack finding nothing to delete (0 entries).
 */
import { spawn } from 'node:child_process';
import { RedirectError } from './errors.js';
import { conntrackFlushArgs } from './rules.js';

export interface ExecResult {
  /** Exit code; null when killed by a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program (no shell); rejects with the spawn error (ENOENT when it is not installed). */
export type Exec = (file: string, args: readonly string[], stdin?: string) => Promise<ExecResult>;

const EXEC_TIMEOUT_MS = 10_000;

export const spawnExec: Exec = (file, args, stdin) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    // Our own timer, unref'd and cleared on every outcome: spawn's `timeout` option keeps the
    // process alive for its whole duration when the program is missing (no 'exit' ever comes).
    const timer = setTimeout(() => child.kill('SIGKILL'), EXEC_TIMEOUT_MS);
    timer.unref();
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A failed spawn closes stdin under us; the 'error' event above carries the reason.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
  });

const NFT_HINT_MISSING =
  'install nftables (Debian/Ubuntu: apt-get install nftables), or run the NMI without --redirect';
const NFT_HINT_PERMISSION =
  'run the NMI as root or with the NET_ADMIN capability (the deploy/identity DaemonSet grants it), ' +
  'in the node network namespace (hostNetwork)';

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

function isPermissionDenied(stderr: string): boolean {
  return /operation not permitted|permission denied/i.test(stderr);
}

async function runNft(exec: Exec, args: readonly string[], stdin?: string): Promise<ExecResult> {
  try {
    return await exec('nft', args, stdin);
  } catch (err) {
    if (isNotFound(err)) {
      throw new RedirectError(
        'nft-missing',
        'the nft command (nftables) was not found; --redirect and --cleanup need it',
        {
          hint: NFT_HINT_MISSING,
          cause: err,
        },
      );
    }
    throw new RedirectError('nft-failed', `could not run nft: ${(err as Error).message}`, { cause: err });
  }
}

function nftFault(what: string, result: ExecResult): RedirectError {
  if (isPermissionDenied(result.stderr)) {
    return new RedirectError('permission', `${what}: not permitted (nftables changes need CAP_NET_ADMIN)`, {
      hint: NFT_HINT_PERMISSION,
    });
  }
  const detail = firstLine(result.stderr) || `exit code ${String(result.code)}`;
  return new RedirectError('nft-failed', `${what}: nft failed: ${detail}`);
}

/** Applies one `nft -f` script as a single transaction. */
export async function applyNftScript(exec: Exec, script: string, what: string): Promise<void> {
  const result = await runNft(exec, ['-f', '-'], script);
  if (result.code !== 0) throw nftFault(what, result);
}

/** `nft list table ip <table>` text, or undefined when the table does not exist. */
export async function listNftTable(exec: Exec, table: string): Promise<string | undefined> {
  const result = await runNft(exec, ['list', 'table', 'ip', table]);
  if (result.code === 0) return result.stdout;
  if (/no such file or directory/i.test(result.stderr)) return undefined;
  throw nftFault(`listing table ip ${table}`, result);
}

export type ConntrackOutcome =
  | { readonly kind: 'flushed'; readonly deleted: number }
  | { readonly kind: 'unavailable'; readonly reason: string };

/**
 * Deletes the tracked connections to 169.254.169.254:80. A connection opened before the DNAT
 * existed keeps its old translation (none) and would bypass the NMI until it closes. conntrack
 * exits 1 when it deletes nothing: that is the normal case, not a failure. A missing conntrack
 * tool or a refusal is reported as a value for the caller to log; the rules still hold for new
 * connections.
 */
export async function flushMetadataConntrack(exec: Exec): Promise<ConntrackOutcome> {
  let result: ExecResult;
  try {
    result = await exec('conntrack', conntrackFlushArgs());
  } catch (err) {
    const reason = isNotFound(err)
      ? 'conntrack not found (install conntrack); connections opened before the redirect keep bypassing it until they close'
      : `could not run conntrack: ${(err as Error).message}`;
    return { kind: 'unavailable', reason };
  }
  const m = /(\d+) flow entries have been deleted/.exec(result.stderr + result.stdout);
  if (m !== null) return { kind: 'flushed', deleted: Number(m[1]) };
  if (result.code === 0) return { kind: 'flushed', deleted: 0 };
  return {
    kind: 'unavailable',
    reason: `conntrack failed: ${firstLine(result.stderr) || `exit code ${String(result.code)}`}`,
  };
}
