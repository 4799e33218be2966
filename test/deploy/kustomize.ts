/**
 * Rendering deploy/ with `kubectl kustomize`, for the deploy tests. kubectl is a machine
 * prerequisite, not an npm dependency: without it these tests fail in CI (CI=true) with a
 * message saying so, and skip loudly elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));
export const isCI = process.env['CI'] === 'true';

/** The kustomizations podsec ships, relative to the repository root. */
export const KUSTOMIZATIONS = [
  'deploy/base',
  'deploy/overlays/cert-manager',
  'deploy/overlays/aks',
  'deploy/overlays/workloads-deny',
  'deploy/overlays/openreports',
  'deploy/node-agents',
] as const;

export const MISSING_KUBECTL =
  'kubectl (with kustomize, v1.27 or newer) is not on PATH: the deploy/ tests render the ' +
  'manifests with `kubectl kustomize`. Install kubectl to run them.';

function findKubectl(): string | undefined {
  const fromEnv = process.env['KUBECTL'];
  if (fromEnv !== undefined && fromEnv !== '') return existsSync(fromEnv) ? fromEnv : undefined;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'kubectl');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export const kubectl = findKubectl();

/** True when the suite must run its tests: kubectl is here, or CI demands a failure. */
export function kubectlSuiteRuns(suite: string): boolean {
  if (kubectl !== undefined || isCI) return true;
  console.warn(`\n*** SKIPPED ${suite}: ${MISSING_KUBECTL}\n`);
  return false;
}

const cache = new Map<string, string>();

/** `kubectl kustomize <dir>` output; throws (a test failure) when kubectl is missing or fails. */
export function render(dir: string): string {
  const hit = cache.get(dir);
  if (hit !== undefined) return hit;
  if (kubectl === undefined) throw new Error(MISSING_KUBECTL);
  const r = spawnSync(kubectl, ['kustomize', join(repoRoot, dir)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, KUBECONFIG: '/dev/null' },
  });
  if (r.status !== 0) {
    throw new Error(
      `kubectl kustomize ${dir} failed (exit ${String(r.status)}): ${r.stderr || String(r.error)}`,
    );
  }
  cache.set(dir, r.stdout);
  return r.stdout;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

/** The rendered objects of a kustomization. */
export function renderObjects(dir: string): K8sObject[] {
  return parseAllDocuments(render(dir)).map((d) => d.toJS() as K8sObject);
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return o;
}
