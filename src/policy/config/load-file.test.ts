import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from './load-file.js';

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

  it('turns an unreadable file into a ConfigError, not an exception', async () => {
    const file = join(tmpdir(), 'podsec-does-not-exist', 'podsec.yaml');
    const r = await loadConfigFile(file);
    expect('error' in r && r.error.issues[0]).toMatchObject({ file, line: 1, column: 1 });
    expect('error' in r && r.error.message).toContain('ENOENT');
  });
});
