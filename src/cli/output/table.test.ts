/**
 * Golden test of the table a user reads: the bundled insecure example, rendered without colour.
 * Rewrite the golden file deliberately with UPDATE_GOLDEN=1 npx vitest run src/cli/output.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Capture } from '../../../test/support/capture.js';
import { runScan } from '../commands/scan.js';
import { renderTable } from './table.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const golden = `${root}test/golden/scan-insecure.txt`;

describe('table output', () => {
  it('matches the golden rendering of examples/insecure', async () => {
    const stdout = new Capture();
    // vitest runs from the repository root, so the file names in the table are repository-relative.
    expect(process.cwd()).toBe(root.replace(/\/$/, ''));
    await runScan(['examples/insecure'], {
      level: undefined,
      pssVersion: undefined,
      config: undefined,
      format: 'table',
      exclude: [],
      color: false,
      levelGiven: false,
      versionGiven: false,
      stdout,
      stderr: new Capture(),
    });
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(golden, stdout.text);
    expect(stdout.text).toBe(readFileSync(golden, 'utf8'));
  });

  it('colours statuses when asked', () => {
    const text = renderTable(
      {
        schemaVersion: 1,
        results: [
          {
            file: 'a.yaml',
            line: 1,
            apiVersion: 'v1',
            kind: 'Pod',
            namespace: 'x',
            name: 'p',
            allowed: false,
            status: 'denied',
            policy: { level: 'restricted', version: 'latest' },
            violations: [],
          },
        ],
        errors: [],
        summary: {
          documents: 1,
          allowed: 0,
          denied: 1,
          warned: 0,
          audited: 0,
          notApplicable: 0,
          exempt: 0,
          skipped: 0,
          errors: 0,
        },
      },
      { color: true },
    );
    expect(text).toContain('\u001b[31mDENIED\u001b[39m');
  });
});
