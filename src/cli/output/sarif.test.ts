import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScanReport } from './result-json.js';
import { toSarif } from './sarif.js';

const repo = mkdtempSync(join(tmpdir(), 'podsec-sarif-'));
mkdirSync(join(repo, '.git'));
mkdirSync(join(repo, 'deploy', 'apps'), { recursive: true });
afterAll(() => rmSync(repo, { recursive: true, force: true }));

function reportFor(file: string): ScanReport {
  return {
    schemaVersion: 1,
    results: [
      {
        file,
        line: 3,
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: 'a',
        name: 'p',
        allowed: false,
        status: 'denied',
        policy: { level: 'baseline', version: 'latest' },
        violations: [
          {
            check: 'privileged',
            message: 'm',
            container: 'c',
            path: 'spec.containers[0].securityContext.privileged',
            line: 9,
            column: 7,
            hint: 'h',
            parameter: null,
            effects: [{ assignment: 'baseline:latest', effect: 'deny' }],
            exemptedBy: null,
          },
        ],
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
  };
}

type Loc = { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } };
function firstLocation(sarif: object): Loc['physicalLocation']['artifactLocation'] {
  const run = (sarif as { runs: { results: { locations: Loc[] }[] }[] }).runs[0]!;
  return run.results[0]!.locations[0]!.physicalLocation.artifactLocation;
}

describe('SARIF locations', () => {
  it.each([
    ['a path relative to a subdirectory', join(repo, 'deploy'), 'apps/web.yaml', 'deploy/apps/web.yaml'],
    ['a path relative to the root', repo, './deploy/apps/web.yaml', 'deploy/apps/web.yaml'],
    [
      'an absolute path inside the repository',
      join(repo, 'deploy'),
      join(repo, 'deploy/apps/web.yaml'),
      'deploy/apps/web.yaml',
    ],
  ])('makes %s repository-relative', (_name, cwd, file, uri) => {
    expect(firstLocation(toSarif(reportFor(file), { cwd }))).toEqual({ uri, uriBaseId: '%SRCROOT%' });
  });

  it('keeps an absolute file URI for a file outside the repository', () => {
    const loc = firstLocation(toSarif(reportFor('/etc/outside.yaml'), { cwd: repo }));
    expect(loc).toEqual({ uri: 'file:///etc/outside.yaml' });
  });

  it('fingerprints are stable across runs and differ between fields', () => {
    const a = JSON.stringify(toSarif(reportFor('x.yaml'), { cwd: repo }));
    const b = JSON.stringify(toSarif(reportFor('x.yaml'), { cwd: repo }));
    expect(a).toBe(b);
    const other = reportFor('x.yaml');
    other.results[0]!.violations[0]!.path = 'spec.containers[1].securityContext.privileged';
    const fp = (s: object) =>
      (s as { runs: { results: { partialFingerprints: Record<string, string> }[] }[] }).runs[0]!.results[0]!
        .partialFingerprints;
    expect(fp(toSarif(other, { cwd: repo }))).not.toEqual(fp(JSON.parse(a) as object));
  });

  it('names the tool version when given', () => {
    const sarif = toSarif(reportFor('x.yaml'), { cwd: repo, version: '1.2.3' }) as {
      runs: { tool: { driver: { version?: string } } }[];
    };
    expect(sarif.runs[0]!.tool.driver.version).toBe('1.2.3');
  });
});
