import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, readFailure } from './load-file.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/podsec.yaml', import.meta.url));

describe('loadConfigFile', () => {
  it('loads the bundled example', async () => {
    const r = await loadConfigFile(EXAMPLE, { now: new Date('2026-01-15T00:00:00Z') });
    expect('config' in r && r.config.assignments.map((a) => a.name)).toEqual([
      'restricted-apps',
      'azure-baseline-audit',
    ]);
    expect(r.warnings).toEqual([]);
  });

  it('reports problems with the file name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podsec-config-'));
    const file = join(dir, 'podsec.yaml');
    writeFileSync(file, 'apiVersion: podsec.io/v1alpha1\nkind: PodsecConfig\nassignments: {}\n');
    const r = await loadConfigFile(file);
    expect('error' in r && r.error.issues).toEqual([
      { file, line: 3, column: 14, path: 'assignments', message: 'expected a list, got a mapping' },
    ]);
  });

  it.each([
    { name: 'missing file', file: (dir: string) => join(dir, 'nope.yaml'), want: 'no such file' },
    { name: 'a directory', file: (dir: string) => dir, want: 'is a directory' },
    {
      name: 'a file used as a directory',
      file: (dir: string) => join(dir, 'plain', 'podsec.yaml'),
      want: 'a component of the path is not a directory',
    },
  ])('an unreadable file is one plain sentence, not an exception: $name', async ({ file, want }) => {
    const dir = mkdtempSync(join(tmpdir(), 'podsec-config-'));
    writeFileSync(join(dir, 'plain'), '');
    const path = file(dir);
    const r = await loadConfigFile(path);
    if (!('error' in r)) throw new Error('expected an error');
    expect(r.error.message).toBe(`cannot read ${path}: ${want}`);
    expect(r.error.code).toBe('CONFIG_INVALID');
    expect(r.error.issues).toEqual([{ file: path, line: 1, column: 1, path: '', message: r.error.message }]);
  });

  it('refuses "-": the configuration must be a file (standard input carries manifests)', async () => {
    const r = await loadConfigFile('-');
    if (!('error' in r)) throw new Error('expected an error');
    expect(r.error.message).toBe(
      'the configuration must be a file: "-" (standard input) is not accepted for it',
    );
    expect(r.error.hint).toContain('standard input carries the manifests');
  });
});

describe('readFailure', () => {
  it.each([
    { name: 'ENOENT', cause: Object.assign(new Error('x'), { code: 'ENOENT' }), want: 'no such file' },
    { name: 'EACCES', cause: Object.assign(new Error('x'), { code: 'EACCES' }), want: 'permission denied' },
    { name: 'EPERM', cause: Object.assign(new Error('x'), { code: 'EPERM' }), want: 'permission denied' },
    { name: 'EISDIR', cause: Object.assign(new Error('x'), { code: 'EISDIR' }), want: 'is a directory' },
    { name: 'other code', cause: Object.assign(new Error('x'), { code: 'EIO' }), want: 'error EIO' },
    { name: 'no code', cause: new Error('disk on fire'), want: 'disk on fire' },
  ])('$name', ({ cause, want }) => {
    expect(readFailure(cause)).toBe(want);
  });
});
