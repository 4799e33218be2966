/**
 * Test builders for pods: a minimal pod that passes restricted/latest, plus `tweak` to apply exactly one
 * change to a copy. Tests then read as "valid pod + one violation", like upstream's fixtures.
 */
import type { Container, ObjectMeta, PodSpec } from '../../src/kube/types.js';

export interface TestPod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: ObjectMeta;
  spec: PodSpec;
}

/** A container that satisfies every restricted container-level check. */
export function makeContainer(name: string, overrides: Partial<Container> = {}): Container {
  return {
    name,
    image: `registry.example/${name}:1.0`,
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    ...overrides,
  };
}

export interface PodOverrides {
  /** Pod name (default `pod`). */
  name?: string;
  /** Container names (default `['app']`), or full containers. */
  containers?: readonly (string | Container)[];
  initContainers?: readonly (string | Container)[];
  ephemeralContainers?: readonly (string | Container)[];
  /** Extra or replacing pod-spec fields (shallow). */
  spec?: Partial<PodSpec>;
  /** Extra or replacing metadata fields (shallow). */
  metadata?: Partial<ObjectMeta>;
}

function toContainers(list: readonly (string | Container)[]): Container[] {
  return list.map((c) => (typeof c === 'string' ? makeContainer(c) : structuredClone(c)));
}

/** A minimal pod valid at restricted/latest: runAsNonRoot and RuntimeDefault seccomp at pod level. */
export function makePod(overrides: PodOverrides = {}): TestPod {
  const spec: PodSpec = {
    containers: toContainers(overrides.containers ?? ['app']),
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  };
  if (overrides.initContainers !== undefined) spec.initContainers = toContainers(overrides.initContainers);
  if (overrides.ephemeralContainers !== undefined) {
    spec.ephemeralContainers = toContainers(overrides.ephemeralContainers);
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: overrides.name ?? 'pod', ...overrides.metadata },
    spec: { ...spec, ...overrides.spec },
  };
}

/** A deep copy of `value` changed by `fn` (which mutates the copy). The original is untouched. */
export function tweak<T>(value: T, fn: (draft: T) => void): T {
  const copy = structuredClone(value);
  fn(copy);
  return copy;
}
