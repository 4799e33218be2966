/**
 * AzurePodIdentityException matching, as aad-pod-identity does it: a pod is exempt when an
 * exception in its own namespace names any one of its labels with the same value (values compared
 * case-insensitively). An exempt pod's token request goes to the real IMDS with the node's rights,
 * which is why the handler serves it only when the operator opts in (`--allow-exceptions`).
 * Pure over a "list the cache" callback; exceptions that fail validation are ignored (they exempt
 * nothing), so a malformed object can never widen what a pod gets.
 */
import type { KubeObject } from '../../kube/types.js';
import { validateException } from '../crds/index.js';
import type { NmiPod } from './types.js';

export interface ExceptionRef {
  readonly namespace: string;
  readonly name: string;
}

/** The first exception (by name) in the pod's namespace that matches one of its labels, if any. */
export function matchException(exceptions: readonly KubeObject[], pod: NmiPod): ExceptionRef | undefined {
  const labels = pod.labels;
  if (labels === undefined) return undefined;
  const hits: ExceptionRef[] = [];
  for (const obj of exceptions) {
    if (obj.metadata?.namespace !== pod.namespace) continue;
    const v = validateException(obj);
    if (!v.ok) continue;
    const matches = Object.entries(v.value.spec.podLabels).some(([key, value]) => {
      const have = labels[key];
      return have !== undefined && have.toLowerCase() === value.toLowerCase();
    });
    if (matches) hits.push({ namespace: v.value.metadata.namespace, name: v.value.metadata.name });
  }
  hits.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return hits[0];
}
