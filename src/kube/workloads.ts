/**
 * Pod-template extraction. Pod Security Standards judge pods, but manifests mostly hold workloads,
 * so every kind that carries a pod template is reduced to the pod-shaped object inside it and the
 * field path where it sits (the scanner prefixes findings with that path to point into the file).
 * Kinds we do not know are "not applicable", never failures; other CRDs (Argo Rollouts and the
 * like) are reached through configured template paths.
 */
import { isRecord } from '../lib/is-record.js';
import type { KubeObject, ObjectMeta, PodSpec } from './types.js';

/** A configured template location, e.g. `{apiVersion: 'argoproj.io/*', kind: 'Rollout', path: 'spec.template'}`. */
export interface TemplatePath {
  /** `group/version`, `v1` for the core group, or `group/*` for any version of the group. */
  apiVersion: string;
  kind: string;
  /** Dot-separated field path to the pod template; a leading '.' is accepted. */
  path: string;
}

export interface PodTarget {
  /** The pod's metadata: a Pod's own, or the template's with the namespace inherited from the object. */
  readonly meta: ObjectMeta;
  /** The pod spec, `{}` when missing. */
  readonly spec: PodSpec;
  /** Where the pod-shaped object (metadata + spec) sits in the object: [] for a Pod. */
  readonly basePath: readonly (string | number)[];
  /** True when the object has no usable pod spec at that place. */
  readonly specMissing: boolean;
}

export type Extraction =
  | { kind: 'pod' | 'template'; target: PodTarget }
  | { kind: 'list'; items: { index: number; value: unknown }[] }
  | { kind: 'notApplicable'; reason: string };

/** A documented example for `podTemplatePaths`: Argo Rollouts keep a Deployment-style template. */
export const ARGO_ROLLOUT_TEMPLATE_PATH: TemplatePath = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Rollout',
  path: 'spec.template',
};

const APPS_VERSIONS = ['apps/v1', 'apps/v1beta1', 'apps/v1beta2', 'extensions/v1beta1'] as const;

/** A built-in kind with a pod template. */
export interface WorkloadKind {
  readonly kind: string;
  /** Every apiVersion it is or was served under; the first is the one served today. */
  readonly apiVersions: readonly string[];
  /** Where its pod template sits in the object. */
  readonly templatePath: readonly string[];
}

/**
 * The built-in kinds with a pod template, as Pod Security Admission's controller list: THE list
 * (admission, audit and the cluster source take it from here rather than keeping their own).
 */
export const WORKLOAD_KINDS: readonly WorkloadKind[] = [
  { kind: 'PodTemplate', apiVersions: ['v1'], templatePath: ['template'] },
  { kind: 'ReplicationController', apiVersions: ['v1'], templatePath: ['spec', 'template'] },
  { kind: 'Deployment', apiVersions: APPS_VERSIONS, templatePath: ['spec', 'template'] },
  { kind: 'ReplicaSet', apiVersions: APPS_VERSIONS, templatePath: ['spec', 'template'] },
  { kind: 'StatefulSet', apiVersions: APPS_VERSIONS, templatePath: ['spec', 'template'] },
  { kind: 'DaemonSet', apiVersions: APPS_VERSIONS, templatePath: ['spec', 'template'] },
  { kind: 'Job', apiVersions: ['batch/v1'], templatePath: ['spec', 'template'] },
  {
    kind: 'CronJob',
    apiVersions: ['batch/v1', 'batch/v1beta1', 'batch/v2alpha1'],
    templatePath: ['spec', 'jobTemplate', 'spec', 'template'],
  },
];

const BUILT_IN: ReadonlyMap<string, WorkloadKind> = new Map(WORKLOAD_KINDS.map((w) => [w.kind, w]));

/** True for an object with string `apiVersion` and `kind`. */
export function isKubernetesObject(v: unknown): v is KubeObject {
  return isRecord(v) && typeof v['apiVersion'] === 'string' && typeof v['kind'] === 'string';
}

/** `a.b.c` or `.a.b.c` -> ['a','b','c']; empty segments are dropped. */
export function parseTemplatePath(path: string): string[] {
  return path.split('.').filter((s) => s !== '');
}

/** Matches `group/version` exactly, or `group/*` against any version of that group. */
export function apiVersionMatches(pattern: string, apiVersion: string): boolean {
  if (pattern === apiVersion) return true;
  if (!pattern.endsWith('/*')) return false;
  const group = pattern.slice(0, -2);
  const slash = apiVersion.lastIndexOf('/');
  return slash > 0 && apiVersion.slice(0, slash) === group;
}

function isListKind(kind: string): boolean {
  return kind === 'List' || (kind.endsWith('List') && kind.length > 4);
}

function templateTarget(obj: KubeObject, path: readonly string[]): PodTarget {
  let node: unknown = obj;
  for (const seg of path) node = isRecord(node) ? node[seg] : undefined;
  const template = isRecord(node) ? node : undefined;
  const rawMeta = template?.['metadata'];
  const rawSpec = template?.['spec'];
  const meta: ObjectMeta = isRecord(rawMeta) ? rawMeta : {};
  const objMeta: unknown = obj.metadata;
  const ns = isRecord(objMeta) && typeof objMeta['namespace'] === 'string' ? objMeta['namespace'] : undefined;
  return {
    // The template's pods are created in the object's namespace; labels stay the template's.
    meta: ns !== undefined && meta.namespace === undefined ? { ...meta, namespace: ns } : meta,
    spec: isRecord(rawSpec) ? rawSpec : {},
    basePath: path,
    specMissing: !isRecord(rawSpec),
  };
}

/**
 * Finds the pod in a manifest object. Built-in kinds win over configured paths, so a
 * configuration cannot redirect a Deployment's check away from its real template.
 */
export function extractPod(obj: unknown, extraTemplatePaths: readonly TemplatePath[] = []): Extraction {
  if (!isKubernetesObject(obj)) {
    return { kind: 'notApplicable', reason: 'not a Kubernetes object (apiVersion and kind are required)' };
  }
  const apiVersion = obj.apiVersion as string;
  const kind = obj.kind as string;

  if (kind === 'Pod' && apiVersion === 'v1') {
    const spec = obj['spec'];
    return {
      kind: 'pod',
      target: {
        meta: isRecord(obj.metadata) ? obj.metadata : {},
        spec: isRecord(spec) ? spec : {},
        basePath: [],
        specMissing: !isRecord(spec),
      },
    };
  }

  const builtIn = BUILT_IN.get(kind);
  if (builtIn?.apiVersions.includes(apiVersion) === true) {
    return { kind: 'template', target: templateTarget(obj, builtIn.templatePath) };
  }

  for (const extra of extraTemplatePaths) {
    if (extra.kind === kind && apiVersionMatches(extra.apiVersion, apiVersion)) {
      return { kind: 'template', target: templateTarget(obj, parseTemplatePath(extra.path)) };
    }
  }

  const items = obj['items'];
  if (isListKind(kind) && (Array.isArray(items) || (kind === 'List' && items === undefined))) {
    const list = Array.isArray(items) ? (items as unknown[]) : [];
    return { kind: 'list', items: list.map((value, index) => ({ index, value })) };
  }

  return { kind: 'notApplicable', reason: `${apiVersion} ${kind} has no pod template` };
}
