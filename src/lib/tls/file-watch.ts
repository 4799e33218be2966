/**
 * Notices when files change, for hot reloads (serving certificate, podsec.yaml). fs.watch alone
 * misses changes on some filesystems and loses track of a file replaced by rename, and a
 * Kubernetes Secret or ConfigMap volume swaps a `..data` symlink instead of writing the file;
 * so the parent directories are watched (fast path) and every file is also stat-ed on an
 * interval (safety net). A change is reported once the files have been quiet for `debounceMs`.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface FileWatchOptions {
  /** Safety-net polling interval (default 2000 ms). */
  readonly intervalMs?: number | undefined;
  /** Quiet time before reporting, so a cert and key written one after the other reload once (default 100 ms). */
  readonly debounceMs?: number | undefined;
}

export interface FileWatch {
  close(): void;
}

async function signature(file: string): Promise<string> {
  try {
    const s = await stat(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return 'missing';
  }
}

async function signatures(files: readonly string[]): Promise<string> {
  return (await Promise.all(files.map(signature))).join('|');
}

/** Calls `onChange` (never concurrently) whenever the content of any of `files` may have changed. */
export function watchFiles(
  files: readonly string[],
  onChange: () => Promise<void> | void,
  options: FileWatchOptions = {},
): FileWatch {
  const debounceMs = options.debounceMs ?? 100;
  let closed = false;
  let last: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const check = async (): Promise<void> => {
    if (closed) return;
    const now = await signatures(files);
    if (last === undefined) {
      last = now;
      return;
    }
    if (now === last) return;
    last = now;
    try {
      await onChange();
    } catch {
      // The callback reports its own failures; a watcher never dies of one.
    }
  };

  const run = (): void => {
    if (running !== undefined) {
      again = true;
      return;
    }
    running = check().finally(() => {
      running = undefined;
      if (again && !closed) {
        again = false;
        run();
      }
    });
  };

  const schedule = (): void => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      run();
    }, debounceMs);
    timer.unref();
  };

  run(); // record the starting signatures
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(files.map((f) => dirname(f)))) {
    try {
      const w = watch(dir, { persistent: false }, schedule);
      w.on('error', () => undefined);
      watchers.push(w);
    } catch {
      // Polling still covers this directory.
    }
  }
  const poll = setInterval(run, options.intervalMs ?? 2000);
  poll.unref();

  return {
    close(): void {
      closed = true;
      clearInterval(poll);
      if (timer !== undefined) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
