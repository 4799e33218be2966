/**
 * Reads the inputs of a command: files, directories walked in a stable order, and stdin. Every
 * input that cannot be used (missing, unreadable, binary, too large, a symlink loop) becomes a
 * problem value with its file name, so one bad file never stops the others from being read.
 * Anything that is not a regular file (a character device such as /dev/zero, a FIFO, a process
 * substitution) is read as a stream under the same byte cap as stdin, and reading stops as soon
 * as the cap is passed, so an endless stream becomes a 'file too large' problem instead of a hang.
 */
import { createReadStream } from 'node:fs';
import type { Stats } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { GlobSet } from './glob.js';

export interface InputFile {
  /** The path as given on the command line joined with the path found below it; '-' for stdin. */
  display: string;
  text: string;
}

export interface InputProblem {
  file: string;
  line?: number;
  message: string;
  hint?: string;
}

export interface CollectOptions {
  /**
   * Globs skipped in directory walks, matched against the path relative to the walked argument,
   * the display path, the path relative to the current directory and the base name (see GlobSet).
   */
  exclude?: readonly string[] | undefined;
  stdin?: NodeJS.ReadableStream | undefined;
  /** Larger files are problems, not inputs. Default 64 MiB. */
  maxFileBytes?: number | undefined;
  /**
   * Called after each file read (walked, named or stdin) with the number read so far, whether the
   * file became an input or a problem, so a long walk can show progress as it goes.
   */
  onProgress?: ((n: number) => void) | undefined;
}

export interface CollectedInputs {
  files: InputFile[];
  problems: InputProblem[];
  /** Display names given directly on the command line (not found in a walk). */
  explicit: Set<string>;
}

export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];
// `.podsec` holds podsec's own state under a `--state` directory (stored objects, keys,
// certificates): never user manifests, so walks skip it like `.git`.
const SKIPPED_DIRECTORIES = new Set(['.git', 'node_modules', '.podsec']);

function errorCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function describe(e: unknown): string {
  switch (errorCode(e)) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'not a directory';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Text of a manifest file, or why it is not one. The UTF-8 BOM is dropped. */
export function decodeManifest(bytes: Uint8Array): { text: string } | { problem: string } {
  if (bytes.includes(0)) return { problem: 'binary file, not a manifest' };
  try {
    return { text: decoder.decode(bytes) };
  } catch {
    return { problem: 'binary file, not a manifest (not valid UTF-8)' };
  }
}

function tooLarge(size: number, limit: number): string {
  return `file too large (${size} bytes; the limit is ${limit})`;
}

function tooLargeStream(limit: number): string {
  return `file too large (more than ${limit} bytes; the limit is ${limit})`;
}

/**
 * The bytes of a stream, or `tooLarge` once more than `limit` bytes arrived. Reading stops there
 * (the stream is destroyed), so an endless source costs at most `limit` bytes and no more time.
 */
async function readStream(
  stream: NodeJS.ReadableStream,
  limit: number,
): Promise<Buffer | { tooLarge: true }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    // Leaving the loop early destroys a Readable; other streams are left for the caller to close.
    if (size > limit) return { tooLarge: true };
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
}

function slashes(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

class Collector {
  readonly files: InputFile[] = [];
  readonly problems: InputProblem[] = [];
  readonly explicit = new Set<string>();
  private readonly excludes: GlobSet;
  private readonly limit: number;
  private readonly reportedLoops = new Set<string>();
  private read = 0;

  constructor(private readonly opts: CollectOptions) {
    this.excludes = new GlobSet(opts.exclude ?? []);
    this.limit = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  }

  private problem(file: string, message: string, hint?: string): void {
    this.problems.push(hint === undefined ? { file, message } : { file, message, hint });
  }

  private accept(display: string, bytes: Uint8Array): void {
    const decoded = decodeManifest(bytes);
    if ('problem' in decoded) this.problem(display, decoded.problem);
    else this.files.push({ display, text: decoded.text });
  }

  /** One more file was read (into an input or a problem). */
  private progress(): void {
    this.read++;
    this.opts.onProgress?.(this.read);
  }

  async readPath(path: string, info: Stats): Promise<void> {
    await this.readPathOnce(path, info);
    this.progress();
  }

  private async readPathOnce(path: string, info: Stats): Promise<void> {
    if (info.size > this.limit) {
      this.problem(path, tooLarge(info.size, this.limit));
      return;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      this.problem(path, describe(e));
      return;
    }
    if (bytes.length > this.limit) this.problem(path, tooLarge(bytes.length, this.limit));
    else this.accept(path, bytes);
  }

  async readStdin(): Promise<void> {
    this.explicit.add('-');
    const data = await readStream(this.opts.stdin ?? process.stdin, this.limit);
    if (Buffer.isBuffer(data)) this.accept('-', data);
    else this.problem('-', tooLargeStream(this.limit));
    this.progress();
  }

  /** A named non-regular file (device, FIFO): read as a stream under the byte cap. */
  private async readSpecial(path: string): Promise<void> {
    await this.readSpecialOnce(path);
    this.progress();
  }

  private async readSpecialOnce(path: string): Promise<void> {
    let data: Buffer | { tooLarge: true };
    const stream = createReadStream(path);
    try {
      data = await readStream(stream, this.limit);
    } catch (e) {
      this.problem(path, describe(e));
      return;
    } finally {
      stream.destroy();
    }
    if (Buffer.isBuffer(data)) this.accept(path, data);
    else this.problem(path, tooLargeStream(this.limit));
  }

  async add(arg: string): Promise<void> {
    if (arg === '-') return this.readStdin();
    let info: Stats;
    try {
      info = await stat(arg);
    } catch (e) {
      this.problem(arg, describe(e));
      return;
    }
    if (info.isDirectory()) {
      const key = `${info.dev}:${info.ino}`;
      await this.walk(arg, '', [key]);
    } else {
      this.explicit.add(arg);
      if (info.isFile()) await this.readPath(arg, info);
      else await this.readSpecial(arg);
    }
  }

  /** Walk `dir` (display path), `rel` being its path below the argument; `chain` holds dev:ino of its ancestors. */
  private async walk(dir: string, rel: string, chain: string[]): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(dir)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    } catch (e) {
      this.problem(dir, describe(e));
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const relPath = rel === '' ? name : `${rel}/${name}`;
      if (this.isExcluded(relPath, path)) continue;
      let info: Stats;
      try {
        info = await stat(path);
      } catch (e) {
        // A dangling symlink or an entry that vanished during the walk.
        this.problem(path, errorCode(e) === 'ENOENT' ? 'broken symbolic link or vanished file' : describe(e));
        continue;
      }
      if (info.isDirectory()) {
        if (SKIPPED_DIRECTORIES.has(name)) continue;
        const key = `${info.dev}:${info.ino}`;
        if (chain.includes(key)) {
          await this.reportLoop(path, key);
          continue;
        }
        await this.walk(path, relPath, [...chain, key]);
      } else {
        const lower = name.toLowerCase();
        if (!MANIFEST_EXTENSIONS.some((ext) => lower.endsWith(ext))) continue;
        if (info.isFile()) await this.readPath(path, info);
        // A FIFO found in a walk may never be written to: reading it could block the whole scan.
        else this.problem(path, 'not a regular file; skipped (name it on the command line to read it)');
      }
    }
  }

  private isExcluded(relPath: string, display: string): boolean {
    if (this.excludes.isEmpty) return false;
    const fromCwd = relative(process.cwd(), resolve(display));
    return this.excludes.matchesAny([relPath, slashes(display), slashes(fromCwd)]);
  }

  private async reportLoop(path: string, key: string): Promise<void> {
    if (this.reportedLoops.has(key)) return;
    this.reportedLoops.add(key);
    let target = '';
    try {
      target = await realpath(path);
    } catch {
      // The message is still useful without the target.
    }
    this.problem(
      path,
      `directory loop: symbolic link back to ${target === '' ? 'a parent directory' : target}; not followed`,
    );
  }
}

/** Read every input named on the command line; problems are values, in the order met. */
export async function collectInputs(
  paths: readonly string[],
  opts: CollectOptions = {},
): Promise<CollectedInputs> {
  const c = new Collector(opts);
  for (const p of paths) await c.add(p);
  return { files: c.files, problems: c.problems, explicit: c.explicit };
}
