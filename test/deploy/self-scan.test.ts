/**
 * podsec's own manifests meet the standard podsec enforces: every workload rendered from
 * deploy/base and each overlay passes `podsec scan --level restricted`; the node agents fail
 * it with exactly the checks deploy/podsec-self.yaml exempts, and pass with that config.
 * The scan runs in process (buildReport), as `podsec scan` runs it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../src/cli/commands/scan.js';
import type { ScanReport } from '../../src/cli/output/result-json.js';
import { compilePolicy, loadConfigFile, parseVersion, policyFromLevel } from '../../src/policy/index.js';
import { KUSTOMIZATIONS, kubectlSuiteRuns, render, repoRoot } from './kustomize.js';

const work = mkdtempSync(join(tmpdir(), 'podsec-self-scan-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function renderedFile(dir: string): string {
  const file = join(work, `${dir.replaceAll('/', '_')}.yaml`);
  writeFileSync(file, render(dir));
  return file;
}

async function scanRestricted(file: string): Promise<ScanReport> {
  const version = parseVersion('latest');
  if (!version.ok) throw new Error('latest must parse');
  const choice = { policy: policyFromLevel('restricted', version.value), templatePaths: [], warnings: [] };
  return buildReport([file], choice, { exclude: [] });
}

async function scanWithConfig(file: string, config: string): Promise<ScanReport> {
  const loaded = await loadConfigFile(config);
  if ('error' in loaded) throw new Error(`${config} does not load: ${loaded.error.message}`);
  expect(loaded.warnings).toEqual([]);
  const choice = {
    policy: compilePolicy(loaded.config),
    templatePaths: loaded.config.podTemplatePaths ?? [],
    warnings: [],
  };
  return buildReport([file], choice, { exclude: [] });
}

function workloads(report: ScanReport) {
  return report.results.filter((r) => r.status !== 'notApplicable');
}

const selfConfig = join(repoRoot, 'deploy/podsec-self.yaml');
const podsecInstalls = KUSTOMIZATIONS.filter((k) => k !== 'deploy/node-agents');

describe.runIf(kubectlSuiteRuns('deploy self-scan'))('podsec scans its own manifests', () => {
  it.each(podsecInstalls)('%s: every workload passes restricted:latest', async (dir) => {
    const report = await scanRestricted(renderedFile(dir));
    expect(report.errors).toEqual([]);
    const names = workloads(report).map((r) => `${r.kind} ${r.namespace ?? ''}/${r.name ?? ''}`);
    expect(names.sort()).toEqual([
      'Deployment podsec-system/podsec-audit',
      'Deployment podsec-system/podsec-webhook',
    ]);
    for (const r of workloads(report)) {
      expect({ name: r.name, status: r.status, violations: r.violations }).toEqual({
        name: r.name,
        status: 'allowed',
        violations: [],
      });
    }
  });

  it.each(podsecInstalls)('%s: also passes deploy/podsec-self.yaml, with nothing exempted', async (dir) => {
    const report = await scanWithConfig(renderedFile(dir), selfConfig);
    expect(report.errors).toEqual([]);
    for (const r of workloads(report)) {
      expect([r.name, r.status, r.violations.length]).toEqual([r.name, 'allowed', 0]);
    }
  });

  // What each node agent needs, as check ids: exactly what podsec-self.yaml exempts.
  const AGENTS = [
    {
      name: 'podsec-nmi',
      dir: 'deploy/identity',
      checks: ['capabilities_restricted', 'hostNamespaces', 'runAsNonRoot', 'runAsUser'],
      capabilities: ['NET_ADMIN'],
    },
    {
      name: 'podsec-network-agent',
      dir: 'deploy/node-agents',
      checks: [
        'capabilities_restricted',
        'capabilities_restricted',
        'hostNamespaces',
        'runAsNonRoot',
        'runAsUser',
      ],
      capabilities: ['NET_ADMIN', 'NET_RAW'],
    },
  ] as const;

  it.each(AGENTS)('node agent $name is denied at restricted, for exactly its needs', async (agent) => {
    const report = await scanRestricted(renderedFile(agent.dir));
    expect(report.errors).toEqual([]);
    const r = workloads(report).find((x) => x.name === agent.name);
    expect(r?.status).toBe('denied');
    expect(r?.violations.map((v) => v.check).sort()).toEqual([...agent.checks]);
    const caps = r?.violations.filter((v) => v.check === 'capabilities_restricted').map((v) => v.message);
    expect(caps).toEqual(agent.capabilities.map((c) => expect.stringContaining(c) as unknown));
  });

  it.each(AGENTS)(
    'node agent $name passes with deploy/podsec-self.yaml, every exemption named',
    async (agent) => {
      const report = await scanWithConfig(renderedFile(agent.dir), selfConfig);
      expect(report.errors).toEqual([]);
      const r = workloads(report).find((x) => x.name === agent.name);
      // podsec-node's own PSA labels warn and audit at restricted (the namespace manifest is in the
      // scanned input), so the result is `warned`; what matters is that nothing denies it: every
      // deny of podsec-self.yaml is exempted, and only the label assignments still count.
      expect(r?.allowed).toBe(true);
      expect(r?.status).toBe('warned');
      expect(r?.violations.map((v) => v.check).sort()).toEqual([...agent.checks]);
      for (const v of r?.violations ?? []) {
        expect(v.effects.map((e) => e.effect)).not.toContain('deny');
        expect(v.effects.every((e) => e.assignment.startsWith('pod-security.kubernetes.io/'))).toBe(true);
      }
    },
  );

  it('an unlabelled pod in the node agents namespace gets no exemption', async () => {
    const file = join(work, 'intruder.yaml');
    writeFileSync(
      file,
      render('deploy/identity').replaceAll(
        'app.kubernetes.io/component: nmi',
        'app.kubernetes.io/component: other',
      ),
    );
    const report = await scanWithConfig(file, selfConfig);
    const r = workloads(report).find((x) => x.name === 'podsec-nmi');
    expect(r?.status).toBe('denied');
    expect(r?.violations.every((v) => v.exemptedBy === null)).toBe(true);
  });
});
