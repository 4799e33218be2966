/**
 * The Dockerfile, without building an image (nothing can be pulled here): its instructions are
 * checked statically, and its entrypoint runs from `npm pack` output laid out as the runtime
 * stage lays it out (/app with production dependencies only), read-only, as uid 65532 when
 * the test runs as root (root ignores file permissions, so only another uid proves that
 * nothing is written outside TMPDIR).
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCI, repoRoot } from './kustomize.js';

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = pending + line;
    pending = '';
    const m = /^(\S+)\s*(.*)$/s.exec(full);
    if (m) instructions.push({ keyword: (m[1] ?? '').toUpperCase(), args: m[2] ?? '', line: start });
  });
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      stages.push({ from: m?.[1] ?? '', name: m?.[2], instructions: [] });
    } else if (stages.length === 0) {
      args.push(ins);
    } else {
      stages[stages.length - 1]?.instructions.push(ins);
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const runtime = dockerfile.stages[dockerfile.stages.length - 1];
const runtimeOf = (keyword: string) => runtime?.instructions.filter((i) => i.keyword === keyword) ?? [];
const everywhere = dockerfile.stages.flatMap((s) => s.instructions);

describe('Dockerfile (static)', () => {
  const baseImage = dockerfile.args.find((a) => a.args.startsWith('NODE_IMAGE='))?.args.split('=')[1];

  it.each([
    [
      'two stages: build, then runtime',
      () => expect(dockerfile.stages.map((s) => s.name)).toEqual(['build', 'runtime']),
    ],
    [
      'both stages on node:20-bookworm-slim',
      () => {
        expect(baseImage).toBe('node:20-bookworm-slim');
        expect(dockerfile.stages.map((s) => s.from)).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}']);
      },
    ],
    [
      'the build stage installs with npm ci and builds',
      () => {
        const runs =
          dockerfile.stages[0]?.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args) ?? [];
        expect(runs.some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r))).toBe(true);
        expect(runs).toContain('npm run build');
      },
    ],
    [
      'the runtime stage installs production dependencies only',
      () => {
        const runs = runtimeOf('RUN').map((i) => i.args);
        expect(runs.some((r) => /\bnpm ci\b[^&]*--omit=dev/.test(r))).toBe(true);
        expect(runs.join(' ')).not.toMatch(/\bnpm (install|i)\b/);
      },
    ],
    [
      'the runtime stage takes dist from the build stage',
      () => {
        expect(runtimeOf('COPY').map((i) => i.args)).toContain('--from=build /src/dist ./dist');
      },
    ],
    [
      'the last USER is numeric and not root',
      () => {
        const user = runtimeOf('USER').at(-1)?.args ?? '';
        expect(user).toMatch(/^\d+(:\d+)?$/);
        expect(
          user
            .split(':')
            .map(Number)
            .every((id) => id > 0),
        ).toBe(true);
        expect(user).toBe('65532:65532');
      },
    ],
    [
      'nothing is fetched from a URL (no ADD of URLs, no curl or wget)',
      () => {
        for (const i of everywhere) {
          if (i.keyword === 'ADD') expect(i.args).not.toMatch(/https?:\/\/|git@/);
          if (i.keyword === 'RUN') expect(i.args).not.toMatch(/\b(curl|wget)\b/);
        }
        expect(everywhere.filter((i) => i.keyword === 'ADD')).toEqual([]);
      },
    ],
    [
      'ENTRYPOINT runs the CLI in exec form',
      () => {
        const entry = runtimeOf('ENTRYPOINT').at(-1)?.args ?? '';
        expect(JSON.parse(entry)).toEqual(['node', '/app/dist/cli/main.js']);
      },
    ],
    [
      'no image health check (Kubernetes probes instead)',
      () => {
        expect(runtimeOf('HEALTHCHECK').map((i) => i.args)).toEqual(['NONE']);
      },
    ],
    [
      'OCI labels name the image and its licence',
      () => {
        const labels = runtimeOf('LABEL')
          .map((i) => i.args)
          .join(' ');
        expect(labels).toMatch(/org\.opencontainers\.image\.title="podsec"/);
        expect(labels).toMatch(/org\.opencontainers\.image\.licenses="Apache-2.0"/);
      },
    ],
    [
      'HOME and TMPDIR point at /tmp, the only writable mount',
      () => {
        const env = runtimeOf('ENV')
          .map((i) => i.args)
          .join(' ');
        expect(env).toMatch(/HOME=\/tmp/);
        expect(env).toMatch(/TMPDIR=\/tmp/);
      },
    ],
    [
      '.dockerignore keeps the context small and free of local state',
      () => {
        const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
          .split('\n')
          .map((l) => l.trim());
        for (const entry of ['.git', 'node_modules', 'dist', 'test-results'])
          expect(ignored).toContain(entry);
      },
    ],
  ])('%s', (_name, check) => {
    check();
  });
});

const dist = join(repoRoot, 'dist/cli/main.js');
const distPresent = existsSync(dist);
if (!distPresent && !isCI) {
  console.warn(
    '\n*** SKIPPED Dockerfile entrypoint test: dist/ is not built (run `npm run build`; `npm test` does)\n',
  );
}

describe.runIf(distPresent || isCI)('Dockerfile entrypoint from npm pack output, on a read-only tree', () => {
  const work = mkdtempSync(join(tmpdir(), 'podsec-image-'));
  const app = join(work, 'app');
  const tmp = join(work, 'tmp');
  const isRoot = process.getuid?.() === 0;
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

  beforeAll(() => {
    if (!distPresent) throw new Error('dist/ is not built: `npm test` builds before running the tests');
    // npm pack, as the image's COPY of dist and schemas would see the package (files: dist, schemas).
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
    const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string }[];
    if (packed === undefined) throw new Error('npm pack reported no tarball');
    const untar = spawnSync('tar', ['-xzf', join(work, packed.filename), '-C', work]);
    if (untar.status !== 0) throw new Error(`tar failed: ${String(untar.stderr)}`);
    cpSync(join(work, 'package'), app, { recursive: true });

    // `npm ci --omit=dev`, offline: the lock file's non-dev packages, copied from node_modules.
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const sources: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '' || entry.dev === true) continue;
      if (!/^node_modules\/(@[^/]+\/)?[^/]+$/.test(path)) continue; // nested ones come with their parent
      const from = join(repoRoot, path);
      if (!existsSync(from)) {
        if (entry.optional === true) continue;
        throw new Error(`${path} is a production dependency but is not installed`);
      }
      sources.push(from);
    }
    // One tar pipe (much faster than fs.cpSync on thousands of small files). Type declarations
    // and source maps are left out: the image has them, but node never loads them.
    const relative = sources.map((from) => from.slice(repoRoot.length + 1));
    const copy = spawnSync('sh', [
      '-c',
      'src=$1; dst=$2; shift 2; tar -C "$src" -chf - --exclude="*.d.ts" --exclude="*.map" -- "$@" | tar -C "$dst" -xf -',
      'sh',
      repoRoot,
      app,
      ...relative,
    ]);
    if (copy.status !== 0)
      throw new Error(`copying the production dependencies failed: ${String(copy.stderr)}`);
    mkdirSync(tmp, { mode: 0o1777 });
    chmodSync(tmp, 0o1777);
    chmodSync(work, 0o755);
    spawnSync('chmod', ['-R', 'a-w', app]);
  }, 120_000); // generous: copying dependencies is disk-bound on a busy machine

  afterAll(() => {
    spawnSync('chmod', ['-R', 'u+w', work]);
    rmSync(work, { recursive: true, force: true });
  });

  function run(args: string[], cwd: string) {
    // As the image runs it: uid/gid 65532, HOME and TMPDIR on the writable /tmp stand-in.
    const cmd = isRoot ? 'setpriv' : process.execPath;
    const prefix = isRoot ? ['--reuid=65532', '--regid=65532', '--clear-groups', '--', process.execPath] : [];
    return spawnSync(cmd, [...prefix, join(app, 'dist/cli/main.js'), ...args], {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production', HOME: tmp, TMPDIR: tmp, NO_COLOR: '1' },
    });
  }

  it('the packed tree holds dist, schemas and production dependencies only', () => {
    expect(existsSync(join(app, 'dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(app, 'schemas'))).toBe(true);
    expect(existsSync(join(app, 'src'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/yaml'))).toBe(true);
    for (const dev of ['vitest', 'typescript', 'eslint', 'tsx']) {
      expect(existsSync(join(app, 'node_modules', dev))).toBe(false);
    }
  });

  it('the tree is read-only for the user that runs it', () => {
    const probe = isRoot
      ? spawnSync('setpriv', [
          '--reuid=65532',
          '--regid=65532',
          '--clear-groups',
          '--',
          'touch',
          join(app, 'x'),
        ])
      : spawnSync('touch', [join(app, 'x')]);
    expect(probe.status).not.toBe(0);
  });

  it('--version prints the package version', () => {
    const r = run(['--version'], tmp);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(r.status).toBe(0);
  });

  it('scans examples/hardened (exit 0) and leaves nothing behind but in TMPDIR', () => {
    const examples = join(work, 'examples');
    cpSync(join(repoRoot, 'examples/hardened'), examples, { recursive: true });
    spawnSync('chmod', ['-R', 'a+rX,a-w', examples]);
    const r = run(['scan', '--level', 'restricted', examples], tmp);
    expect(r.stdout).toMatch(/0 denied/);
    expect(r.status).toBe(0);
    const json = run(['scan', '--format', 'json', examples], tmp);
    const report = JSON.parse(json.stdout) as { results: { status: string }[] };
    expect(report.results.length).toBeGreaterThan(0);
    expect(report.results.every((x) => x.status !== 'denied')).toBe(true);
    expect(readdirSync(app).sort()).toEqual(['README.md', 'dist', 'node_modules', 'package.json', 'schemas']);
  });
});
