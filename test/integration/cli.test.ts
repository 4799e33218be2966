/**
 * The built executable, as users run it: exit codes, --version, examples, and no stack traces.
 * `npm test` builds first; outside it, run `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}dist/cli/main.js`;

function podsec(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    input: input ?? '',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!existsSync(bin))('podsec executable', () => {
  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
    const r = podsec(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('the insecure example is denied (exit 1), the hardened one passes (exit 0)', () => {
    const bad = podsec(['scan', 'examples/insecure']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/DENIED/);
    const good = podsec(['scan', 'examples/hardened']);
    expect(good.stdout).not.toMatch(/DENIED/);
    expect(good.code).toBe(0);
  });

  it.each([
    ['unknown flag', ['scan', '--nope', 'examples']],
    ['bad level', ['scan', '--level', 'strict', 'examples']],
    ['bad version', ['scan', '--pss-version', '1.25', 'examples']],
    ['bad format', ['scan', '--format', 'xml', 'examples']],
    ['missing path', ['scan', 'does/not/exist.yaml']],
    ['missing config', ['scan', '--config', 'nope.yaml', 'examples']],
  ])('%s exits 2 with a message and no stack trace', (_name, args) => {
    const r = podsec(args);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect((r.stderr + r.stdout).length).toBeGreaterThan(0);
  });

  it('a reader that closes the pipe early ends podsec quietly (no EPIPE stack trace)', () => {
    const r = spawnSync(
      'sh',
      ['-c', `"${process.execPath}" "${bin}" scan examples --format json | head -c 10 >/dev/null`],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });

  it('reads stdin when given -', () => {
    const r = podsec(
      ['scan', '-', '--format', 'json'],
      readFileSync(`${root}examples/insecure/app.yaml`, 'utf8'),
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { results: { file: string }[] };
    expect(report.results.every((x) => x.file === '-')).toBe(true);
  });
});
