/** collectInputs against real temporary directories: walks, excludes, stdin and every bad-input case. */
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectInputs } from './collect-inputs.js';
import { globToRegExp, GlobSet } from './glob.js';

let root = '';

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'podsec-input-'));
});

afterEach(async () => {
  await chmod(join(root, 'secret.yaml'), 0o644).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

const CHILD_READ = `
const [modUrl, path, drop] = process.argv.slice(1);
const { collectInputs } = await import(modUrl);
if (drop === 'setuid') {
  try {
    process.setgroups([]);
    process.setgid(65534);
    process.setuid(65534);
  } catch (e) {
    process.stdout.write(JSON.stringify({ cannot: String(e) }));
    process.exit(0);
  }
}
if (process.getuid() === 0) {
  process.stdout.write(JSON.stringify({ cannot: 'still root' }));
  process.exit(0);
}
const r = await collectInputs([path]);
process.stdout.write(JSON.stringify({ result: { problems: r.problems, files: r.files.length } }));
`;

/** collectInputs([path]) in a child node (with tsx) after dropping root, by `prefix` or by `drop`. */
function readAsNobody(
  prefix: string[],
  drop: string,
  path: string,
): { result: unknown } | { cannot: string } {
  const modUrl = new URL('./collect-inputs.ts', import.meta.url).href;
  const argv = [...prefix, process.execPath, '--import', 'tsx', '--input-type=module', '-e', CHILD_READ];
  const [cmd = '', ...args] = argv;
  const r = spawnSync(cmd, [...args, modUrl, path, drop], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return { cannot: r.error.message };
  try {
    return JSON.parse(r.stdout) as { result: unknown } | { cannot: string };
  } catch {
    return { cannot: `exit ${String(r.status)}: ${r.stderr.trim().split('\n')[0] ?? ''}` };
  }
}

async function put(rel: string, content: string | Uint8Array): Promise<string> {
  const path = join(root, rel);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  return path;
}

describe('directory walks', () => {
  it('reads manifests recursively in sorted order and skips other files, .git, node_modules and .podsec state', async () => {
    await put('b.yaml', 'b: 1');
    await put('a.yml', 'a: 1');
    await put('c.json', '{}');
    await put('README.md', '# no');
    await put('sub/z.yaml', 'z: 1');
    await put('sub/deeper/y.YAML', 'y: 1');
    await put('.git/config.yaml', 'x: 1');
    await put('node_modules/pkg/x.yaml', 'x: 1');
    await put('sub/.podsec/objects/v1/Pod/x.json', '{}');
    const got = await collectInputs([root]);
    expect(got.problems).toEqual([]);
    expect(got.files.map((f) => f.display)).toEqual(
      ['a.yml', 'b.yaml', 'c.json', 'sub/deeper/y.YAML', 'sub/z.yaml'].map((p) => join(root, p)),
    );
    expect(got.explicit.size).toBe(0);
  });

  it.each([
    {
      name: 'base-name glob',
      exclude: ['*.test.yaml'],
      want: ['app.yaml', 'charts/c.yaml', 'charts/sub/d.yaml'],
    },
    { name: 'directory glob', exclude: ['charts/**'], want: ['app.test.yaml', 'app.yaml'] },
    { name: 'directory name', exclude: ['charts'], want: ['app.test.yaml', 'app.yaml'] },
    {
      name: 'question mark',
      exclude: ['app.yam?'],
      want: ['app.test.yaml', 'charts/c.yaml', 'charts/sub/d.yaml'],
    },
    {
      name: 'double star in the middle',
      exclude: ['charts/**/d.yaml'],
      want: ['app.test.yaml', 'app.yaml', 'charts/c.yaml'],
    },
  ])('--exclude: $name', async ({ exclude, want }) => {
    await put('app.yaml', 'a: 1');
    await put('app.test.yaml', 'a: 1');
    await put('charts/c.yaml', 'c: 1');
    await put('charts/sub/d.yaml', 'd: 1');
    const got = await collectInputs([root], { exclude });
    expect(got.files.map((f) => f.display)).toEqual(want.map((p) => join(root, p)));
  });

  it.each([
    {
      name: 'display path of an absolute argument',
      arg: () => join(root, 'walk'),
      exclude: () => join(root, 'walk/sub'),
      excluded: true,
    },
    {
      name: 'display path of a relative argument (leading ./ ignored)',
      arg: () => `./${relative(process.cwd(), join(root, 'walk'))}`,
      exclude: () => relative(process.cwd(), join(root, 'walk/sub')),
      excluded: true,
    },
    {
      name: 'path relative to the current directory, argument absolute',
      arg: () => join(root, 'walk'),
      exclude: () => relative(process.cwd(), join(root, 'walk/sub')),
      excluded: true,
    },
    {
      name: 'glob over the display path',
      arg: () => join(root, 'walk'),
      exclude: () => `${root}/*/sub/**`,
      excluded: true,
    },
    {
      name: 'path relative to the argument',
      arg: () => join(root, 'walk'),
      exclude: () => 'sub',
      excluded: true,
    },
    {
      name: 'a path that names the entry from nowhere the walk knows does not match',
      arg: () => join(root, 'walk'),
      exclude: () => 'walk/sub',
      excluded: false,
    },
  ])('--exclude matches $name', async ({ arg, exclude, excluded }) => {
    await put('walk/a.yaml', 'a: 1');
    await put('walk/sub/pod.yaml', 'p: 1');
    const got = await collectInputs([arg()], { exclude: [exclude()] });
    const names = got.files.map((f) => relative(root, f.display));
    expect(names).toEqual(excluded ? ['walk/a.yaml'] : ['walk/a.yaml', 'walk/sub/pod.yaml']);
    expect(got.problems).toEqual([]);
  });

  it('an explicit path is never excluded', async () => {
    const path = await put('walk/sub/pod.yaml', 'p: 1');
    const got = await collectInputs([path], { exclude: [path, '*.yaml'] });
    expect(got.files.map((f) => f.display)).toEqual([path]);
  });

  it('reports a symlink loop once and keeps walking', async () => {
    await put('d/a.yaml', 'a: 1');
    await put('d/z.yaml', 'z: 1');
    await symlink('..', join(root, 'd', 'loop'));
    await symlink('.', join(root, 'd', 'self'));
    const got = await collectInputs([join(root, 'd')]);
    // d/loop -> root, whose only entry d is an ancestor; d/self -> d: both lead back to d, reported once.
    expect(got.files.map((f) => f.display)).toEqual([join(root, 'd/a.yaml'), join(root, 'd/z.yaml')]);
    expect(got.problems).toHaveLength(1);
    expect(got.problems[0]?.message).toMatch(/^directory loop: symbolic link back to .*\/d; not followed$/);
  });

  it('reports a dangling symlink', async () => {
    await put('ok.yaml', 'a: 1');
    await symlink(join(root, 'missing.yaml'), join(root, 'dangling.yaml'));
    const got = await collectInputs([root]);
    expect(got.files.map((f) => f.display)).toEqual([join(root, 'ok.yaml')]);
    expect(got.problems).toEqual([
      { file: join(root, 'dangling.yaml'), message: 'broken symbolic link or vanished file' },
    ]);
  });
});

describe('files and problems', () => {
  it('an explicit file is read whatever its extension and marked explicit', async () => {
    const path = await put('manifest.txt', 'kind: Pod');
    const got = await collectInputs([path]);
    expect(got.files).toEqual([{ display: path, text: 'kind: Pod' }]);
    expect([...got.explicit]).toEqual([path]);
  });

  it('strips a UTF-8 byte order mark', async () => {
    const path = await put('bom.yaml', '\uFEFFa: 1');
    expect((await collectInputs([path])).files[0]?.text).toBe('a: 1');
  });

  it.each([
    {
      name: 'missing path',
      setup: () => Promise.resolve(join(root, 'nope.yaml')),
      message: 'no such file or directory',
    },
    {
      name: 'NUL bytes',
      setup: () => put('bin.yaml', new Uint8Array([0x61, 0x00, 0x62])),
      message: 'binary file, not a manifest',
    },
    {
      name: 'invalid UTF-8',
      setup: () => put('latin1.yaml', new Uint8Array([0x61, 0x3a, 0x20, 0xe9, 0x0a])),
      message: 'binary file, not a manifest (not valid UTF-8)',
    },
    {
      name: 'file over maxFileBytes',
      setup: () => put('big.yaml', 'a: 1\n'.repeat(100)),
      message: 'file too large (500 bytes; the limit is 100)',
      maxFileBytes: 100,
    },
  ])('$name', async ({ setup, message, maxFileBytes }) => {
    const path = await setup();
    const good = await put('good.yaml', 'g: 1');
    const got = await collectInputs([path, good], maxFileBytes === undefined ? {} : { maxFileBytes });
    expect(got.problems).toEqual([{ file: path, message }]);
    expect(got.files.map((f) => f.display)).toEqual([good]);
  });

  it('unreadable file (chmod 000), as an unprivileged user even when the suite runs as root', async (ctx) => {
    const path = await put('secret.yaml', 'a: 1');
    await chmod(path, 0o000);
    // Only the file itself may be the reason: the temporary directory must be enterable by anyone.
    await chmod(root, 0o755);
    const want = { problems: [{ file: path, message: 'permission denied' }], files: 0 };
    if (process.getuid?.() !== 0) {
      const got = await collectInputs([path]);
      expect({ problems: got.problems, files: got.files.length }).toEqual(want);
      return;
    }
    // Root reads anything: read in a child that drops to nobody (65534) first.
    const ways = [
      { name: 'process.setuid in the child', prefix: [] as string[], drop: 'setuid' },
      {
        name: 'setpriv',
        prefix: ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'],
        drop: 'none',
      },
    ];
    const tried: string[] = [];
    for (const way of ways) {
      const got = readAsNobody(way.prefix, way.drop, path);
      if ('result' in got) {
        expect(got.result, way.name).toEqual(want);
        return;
      }
      tried.push(`${way.name}: ${got.cannot}`);
    }
    ctx.skip(`cannot read as an unprivileged user (${tried.join('; ')})`);
  });

  it.each([
    { name: 'good files', files: { 'a.yaml': 'a: 1', 'b.yaml': 'b: 1' }, limit: undefined, want: [1, 2] },
    {
      name: 'files that become problems count too',
      files: { 'a.yaml': 'a: 1', 'bin.yaml': '\0', 'big.yaml': 'x'.repeat(200), 'sub/c.yaml': 'c: 1' },
      limit: 100,
      want: [1, 2, 3, 4],
    },
    {
      name: 'files not read do not count',
      files: { 'README.md': '#', 'a.yaml': 'a: 1' },
      limit: undefined,
      want: [1],
    },
  ])('progress during a walk: $name', async ({ files, limit, want }) => {
    for (const [rel, content] of Object.entries(files)) await put(rel, content);
    const seen: { n: number; done: boolean }[] = [];
    let done = false;
    const walk = collectInputs([root], {
      onProgress: (n) => seen.push({ n, done }),
      ...(limit === undefined ? {} : { maxFileBytes: limit }),
    }).then((r) => {
      done = true;
      return r;
    });
    await walk;
    expect(seen).toEqual(want.map((n) => ({ n, done: false })));
  });

  it('progress counts stdin and named files across arguments', async () => {
    const path = await put('named.yaml', 'a: 1');
    const seen: number[] = [];
    await collectInputs([path, '-'], { stdin: Readable.from(['b: 1']), onProgress: (n) => seen.push(n) });
    expect(seen).toEqual([1, 2]);
  });
});

describe('non-regular files', () => {
  const hasMkfifo = spawnSync('mkfifo', ['--version']).status === 0;

  it.skipIf(!hasMkfifo)('a FIFO named on the command line is read as a stream', async () => {
    const fifo = join(root, 'pipe.yaml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const writer = spawn('sh', ['-c', 'printf "kind: Pod\\n" > "$1"', 'sh', fifo], { stdio: 'ignore' });
    const exited = new Promise((resolve) => writer.on('exit', resolve));
    const got = await collectInputs([fifo]);
    await exited;
    expect(got.problems).toEqual([]);
    expect(got.files).toEqual([{ display: fifo, text: 'kind: Pod\n' }]);
    expect(got.explicit.has(fifo)).toBe(true);
  });

  it.skipIf(!hasMkfifo)('a FIFO found in a walk is reported, not read', async () => {
    await put('a.yaml', 'a: 1');
    expect(spawnSync('mkfifo', [join(root, 'b.yaml')]).status).toBe(0);
    expect(spawnSync('mkfifo', [join(root, 'other')]).status).toBe(0);
    const got = await collectInputs([root]);
    expect(got.files.map((f) => f.display)).toEqual([join(root, 'a.yaml')]);
    expect(got.problems).toEqual([
      {
        file: join(root, 'b.yaml'),
        message: 'not a regular file; skipped (name it on the command line to read it)',
      },
    ]);
  });

  it.each([
    { name: '/dev/zero (endless zeros)', path: '/dev/zero', limit: 4096 },
    { name: '/dev/urandom (endless bytes)', path: '/dev/urandom', limit: 1000 },
  ])('$name is capped at maxFileBytes', async ({ path, limit }) => {
    const got = await collectInputs([path], { maxFileBytes: limit });
    expect(got.problems).toEqual([
      { file: path, message: `file too large (more than ${limit} bytes; the limit is ${limit})` },
    ]);
    expect(got.files).toEqual([]);
  });

  it('/dev/null is an empty input', async () => {
    const got = await collectInputs(['/dev/null']);
    expect(got.problems).toEqual([]);
    expect(got.files).toEqual([{ display: '/dev/null', text: '' }]);
  });

  it('a directory named x.yaml given explicitly is walked', async () => {
    await put('x.yaml/pod.yaml', 'kind: Pod');
    const got = await collectInputs([join(root, 'x.yaml')]);
    expect(got.problems).toEqual([]);
    expect(got.files).toEqual([{ display: join(root, 'x.yaml/pod.yaml'), text: 'kind: Pod' }]);
    expect(got.explicit.size).toBe(0);
  });
});

describe('stdin', () => {
  it.each([
    {
      name: 'buffers',
      chunks: [Buffer.from('a: 1\n'), Buffer.from('---\nb: 2\n')],
      text: 'a: 1\n---\nb: 2\n',
    },
    { name: 'strings', chunks: ['x: ', 'y'], text: 'x: y' },
    {
      name: 'a multi-byte character split across chunks',
      chunks: [Buffer.from([0x61, 0x3a, 0x20, 0xc3]), Buffer.from([0xa9])],
      text: 'a: é',
    },
  ])('reads $name', async ({ chunks, text }) => {
    const got = await collectInputs(['-'], { stdin: Readable.from(chunks) });
    expect(got.files).toEqual([{ display: '-', text }]);
    expect(got.explicit.has('-')).toBe(true);
  });

  it.each([
    { name: 'too large stdin', stdin: () => Readable.from([Buffer.alloc(50, 0x61), Buffer.alloc(60, 0x61)]) },
    {
      name: 'endless stdin (stops reading at the cap)',
      stdin: () =>
        Readable.from(
          (function* endless(): Generator<Buffer> {
            for (;;) yield Buffer.alloc(64, 0x61);
          })(),
        ),
    },
  ])('$name is a problem', async ({ stdin }) => {
    const got = await collectInputs(['-'], { stdin: stdin(), maxFileBytes: 100 });
    expect(got.problems).toEqual([
      { file: '-', message: 'file too large (more than 100 bytes; the limit is 100)' },
    ]);
    expect(got.files).toEqual([]);
  });
});

describe('globs', () => {
  it.each([
    { pattern: '*.yaml', path: 'a.yaml', match: true },
    { pattern: '*.yaml', path: 'dir/a.yaml', match: false },
    { pattern: '**/*.yaml', path: 'a.yaml', match: true },
    { pattern: '**/*.yaml', path: 'x/y/a.yaml', match: true },
    { pattern: 'a?c', path: 'abc', match: true },
    { pattern: 'a?c', path: 'a/c', match: false },
    { pattern: 'x/**', path: 'x/y/z', match: true },
    { pattern: 'a.b', path: 'aXb', match: false },
    { pattern: 'dir/', path: 'dir', match: true },
  ])('$pattern ~ $path = $match', ({ pattern, path, match }) => {
    expect(globToRegExp(pattern).test(path)).toBe(match);
  });

  it.each([
    { name: 'relative path', paths: ['sub/pod.yaml', 'x/sub/pod.yaml'], pattern: 'sub/*.yaml', match: true },
    {
      name: 'second spelling',
      paths: ['pod.yaml', 'walk/sub/pod.yaml'],
      pattern: 'walk/sub/**',
      match: true,
    },
    {
      name: 'leading ./ of a path',
      paths: ['pod.yaml', './walk/pod.yaml'],
      pattern: 'walk/pod.yaml',
      match: true,
    },
    { name: 'base name of the first', paths: ['a/b.test.yaml'], pattern: '*.test.yaml', match: true },
    { name: 'no spelling matches', paths: ['pod.yaml', 'walk/pod.yaml'], pattern: 'other/**', match: false },
  ])('GlobSet.matchesAny: $name', ({ paths, pattern, match }) => {
    expect(new GlobSet([pattern]).matchesAny(paths)).toBe(match);
  });

  it('GlobSet matches the base name too', () => {
    const set = new GlobSet(['*.test.yaml', './vendor']);
    expect(set.matches('deep/dir/x.test.yaml')).toBe(true);
    expect(set.matches('vendor')).toBe(true);
    expect(set.matches('deep/x.yaml')).toBe(false);
  });
});
