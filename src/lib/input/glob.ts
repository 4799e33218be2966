/**
 * The small glob dialect of `--exclude`: `*` and `?` stay within one path segment, `**` crosses
 * segments (`**\/` also matches no directory at all).
 *
 * Which paths a pattern is tried against, for every entry met in a directory walk (a match skips
 * the entry, and a skipped directory is not entered):
 * - the path relative to the walked argument (`charts/**` with `podsec scan repo`);
 * - the display path, the argument joined with that relative path, as the output shows it
 *   (`walk/sub` with `podsec scan walk`);
 * - the path relative to the current directory (`walk/sub` with `podsec scan $PWD/walk`);
 * - the base name alone (`*.test.yaml`).
 * A leading `./` of a pattern or a path is ignored. Paths named directly on the command line are
 * never excluded: the user asked for them.
 */

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

export function globToRegExp(pattern: string): RegExp {
  let re = '';
  const p = pattern.replace(/\/+$/, '');
  for (let i = 0; i < p.length; i++) {
    const c = p[i] ?? '';
    if (c === '*') {
      if (p[i + 1] === '*') {
        if (p[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`);
}

export class GlobSet {
  private readonly res: RegExp[];

  constructor(patterns: readonly string[]) {
    this.res = patterns.filter((p) => p !== '').map((p) => globToRegExp(p.replace(/^\.\//, '')));
  }

  /** Whether `relPath` ('/'-separated, relative to the walk root) or its base name is excluded. */
  matches(relPath: string): boolean {
    return this.matchesAny([relPath]);
  }

  /**
   * Whether any of `paths` (the same entry written several ways, '/'-separated) or the base name
   * of the first one is excluded.
   */
  matchesAny(paths: readonly string[]): boolean {
    if (this.res.length === 0) return false;
    const first = paths[0] ?? '';
    const base = first.slice(first.lastIndexOf('/') + 1);
    const candidates = paths.map((p) => p.replace(/^(?:\.\/)+/, ''));
    return this.res.some((re) => re.test(base) || candidates.some((p) => re.test(p)));
  }

  get isEmpty(): boolean {
    return this.res.length === 0;
  }
}
