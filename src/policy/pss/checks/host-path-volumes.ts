/**
 * hostPathVolumes (baseline, v1.0+): hostPath volumes must be forbidden.
 *
 * Restricted fields: spec.volumes[*].hostPath
 * Allowed values: undefined, null
 */
import type { ObjectMeta, PodSpec } from '../../../kube/types.js';
import { ALLOWED, fail, isRecord, joinQuote, listOf, pluralize, podFinding, str } from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

function hasHostPath(volume: unknown): boolean {
  return isRecord(volume) && volume['hostPath'] !== undefined && volume['hostPath'] !== null;
}

function hostPathVolumesV1Dot0(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const volumes = listOf(spec.volumes);
  let any = false;
  for (let i = 0; i < volumes.length; i++) if (hasHostPath(volumes[i])) any = true;
  if (!any) return ALLOWED;
  const names: string[] = [];
  const findings: Finding[] = [];
  volumes.forEach((volume, i) => {
    if (!isRecord(volume) || !hasHostPath(volume)) return;
    const name = str(volume['name']);
    names.push(name);
    findings.push(podFinding(['spec', 'volumes', i, 'hostPath'], `volume "${name}" must not use hostPath`));
  });
  return fail(
    'hostPath volumes',
    `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)}`,
    findings,
  );
}

export const hostPathVolumes: CheckDefinition = {
  id: 'hostPathVolumes',
  level: 'baseline',
  versions: [{ minVersion: 0, check: hostPathVolumesV1Dot0 }],
  hint: 'Replace hostPath volumes with emptyDir, configMap, secret, a persistentVolumeClaim or a CSI volume.',
};
