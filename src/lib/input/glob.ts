/**
 * The small glob dialect of `--exclude`: `*` and `?` stay within one path segment, `**` crosses
 * segments (`**\/` also matches no directory at all). A pattern matches a walked path when it
 * matches the path relative to the walk's root or just the base name, so `--exclude '*.test.yaml'`
 * and `--exclude 'charts/**'` both do what they look like.
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
    if (this.res.length === 0) return false;
    const base = relPath.slice(relPath.lastIndexOf('/') + 1);
    return this.res.some((re) => re.test(relPath) || re.test(base));
  }
}
