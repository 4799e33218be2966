#!/usr/bin/env node
// `npm test`: typecheck, lint and the vitest suites, each counted, ending with `N passed, N failed`.
// Typecheck and lint count as one test each (CONTRACTS.md section 8). The summary line is also
// written to test-results/summary.txt so .ci/run can print it last whatever npm prints after.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';

const extra = process.argv.slice(2);
let passed = 0;
let failed = 0;
const failures = [];

function step(name, cmd, args) {
  process.stdout.write(`\n== ${name}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: false });
  if (r.status === 0) passed++;
  else {
    failed++;
    failures.push(name);
  }
  return r.status === 0;
}

mkdirSync('test-results', { recursive: true });
step('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
step('lint', 'npx', ['eslint', '.']);
step('format', 'npx', ['prettier', '--check', '.']);

const json = 'test-results/vitest.json';
process.stdout.write('\n== vitest\n');
const vt = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${json}`, ...extra],
  { stdio: 'inherit' },
);
if (existsSync(json)) {
  const r = JSON.parse(readFileSync(json, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  // A suite that fails to load counts its file as a failure, not as zero tests.
  const broken = (r.testResults ?? []).filter(
    (f) => f.status === 'failed' && f.assertionResults.length === 0,
  );
  failed += broken.length;
  for (const f of broken) failures.push(`suite ${f.name}`);
  if (r.numFailedTests > 0) failures.push(`${r.numFailedTests} vitest test(s)`);
} else {
  failed++;
  failures.push(`vitest did not run (exit ${vt.status})`);
}

const line = `${passed} passed, ${failed} failed`;
if (failures.length > 0) process.stdout.write(`\nfailed: ${failures.join('; ')}\n`);
writeFileSync('test-results/summary.txt', `${line}\n`);
process.stdout.write(`${line}\n`);
process.exitCode = failed === 0 ? 0 : 1;
