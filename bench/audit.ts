/**
 * Audit benchmark (issue 3 section 5): 50,000 pods of ~4 KB (managedFields and status included,
 * owned by ReplicaSets of Deployments) (a) from a `kubectl get pods -A -o json` List file and
 * (b) from the fake list/watch API server in pages of 500. Each audit runs in a child process so
 * its peak RSS (process.resourceUsage().maxRSS) is the audit's own. Targets: <= 15 s, <= 1.5 GiB.
 * `npm run bench:audit` (tsx bench/audit.ts) [COUNT]
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { makePod, writePodList } from './gen-pod-list.js';

const run = promisify(execFile);

interface ChildFigures {
  seconds: number;
  maxRssMiB: number;
  results: number;
  pods: number;
}

async function child(mode: 'file' | 'api', arg: string): Promise<void> {
  const { runAuditCommand } = await import('../src/cli/commands/audit.js');
  const { Writable } = await import('node:stream');
  let text = '';
  const stdout = Object.assign(
    new Writable({
      write(chunk: Buffer, _e, done) {
        text += chunk.toString();
        done();
      },
    }),
    { isTTY: false },
  );
  const started = performance.now();
  await runAuditCommand(mode === 'file' ? [arg] : [], {
    ...(mode === 'api' ? { kubeconfig: arg } : {}),
    level: 'restricted',
    format: 'json',
    writeReports: false,
    reportApi: 'wgpolicyk8s.io/v1alpha2',
    color: false,
    versionGiven: false,
    pageSize: '500',
    stdout,
  });
  const seconds = (performance.now() - started) / 1000;
  const report = JSON.parse(text) as { results: unknown[]; summary: { pods: number } };
  const figures: ChildFigures = {
    seconds,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    results: report.results.length,
    pods: report.summary.pods,
  };
  process.stdout.write(`FIGURES ${JSON.stringify(figures)}\n`);
}

async function measure(mode: 'file' | 'api', arg: string): Promise<ChildFigures> {
  const started = performance.now();
  const { stdout } = await run('npx', ['tsx', 'bench/audit.ts', '--child', mode, arg], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('FIGURES '));
  if (line === undefined) throw new Error(`child printed no figures:\n${stdout}`);
  const f = JSON.parse(line.slice(8)) as ChildFigures;
  console.log(
    `  ${mode}: audit ${f.seconds.toFixed(2)} s (process incl. start ${((performance.now() - started) / 1000).toFixed(2)} s), peak RSS ${f.maxRssMiB.toFixed(0)} MiB, ${f.pods} pods -> ${f.results} results`,
  );
  return f;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 50_000);
  const file = `bench/out/pods-${count}.json`;
  if (!existsSync(file)) await writePodList(file, count);
  console.log(`audit bench: ${count} pods, ${(statSync(file).size / 1024 / 1024).toFixed(1)} MiB List`);
  const a = await measure('file', file);

  const { startFakeApiServer } = await import('../test/support/fake-apiserver.js');
  const server = await startFakeApiServer();
  try {
    const batch: Record<string, unknown>[] = [];
    for (let i = 0; i < count; i++) {
      batch.push(makePod(i));
      if (batch.length === 5000) server.seed(batch.splice(0));
    }
    server.seed(batch);
    const kubeconfig = await server.writeKubeconfig();
    const b = await measure('api', kubeconfig);
    const ok = (f: ChildFigures) => f.seconds <= 15 && f.maxRssMiB <= 1536;
    console.log(
      `targets (<= 15 s, <= 1536 MiB): file ${ok(a) ? 'met' : 'MISSED'}, api ${ok(b) ? 'met' : 'MISSED'}`,
    );
  } finally {
    await server.close();
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as 'file' | 'api', process.argv[4]!);
else await main();
