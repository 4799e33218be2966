/**
 * restrictedVolumes (restricted, v1.0+, overrides hostPathVolumes): besides hostPath, the restricted level
 * limits inline volume sources to a known-safe list.
 *
 * Restricted fields: spec.volumes[*] (its source)
 * Allowed values: configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected,
 *   secret. Anything else fails: hostPath, gcePersistentDisk, awsElasticBlockStore, gitRepo, nfs, iscsi,
 *   glusterfs, rbd, flexVolume, cinder, cephfs, flocker, fc, azureFile, vsphereVolume, quobyte, azureDisk,
 *   photonPersistentDisk, portworxVolume, scaleIO, storageos, or a source this engine does not know ("unknown").
 */
import type { ObjectMeta, PodSpec } from '../../../kube/types.js';
import {
  ALLOWED,
  fail,
  isRecord,
  joinQuote,
  listOf,
  pluralize,
  podFinding,
  sortedUnique,
  str,
} from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

const ALLOWED_SOURCES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
] as const;

/** Named restricted sources, in the order upstream reports the first one a volume sets. */
const RESTRICTED_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
] as const;

function present(volume: Record<string, unknown>, key: string): boolean {
  const v = volume[key];
  return v !== undefined && v !== null;
}

/**
 * A volume that sets no source at all is allowed: the API server defaults it to emptyDir before admission
 * (upstream's fixtures rely on that). A source key this engine does not know fails as "unknown", since a
 * scanner sees manifests before the API server would drop it.
 */
function allowedVolume(volume: unknown): boolean {
  if (!isRecord(volume)) return true;
  for (let i = 0; i < ALLOWED_SOURCES.length; i++) if (present(volume, ALLOWED_SOURCES[i]!)) return true;
  for (const key in volume) if (key !== 'name' && present(volume, key)) return false;
  return true;
}

function restrictedVolumesV1Dot0(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const volumes = listOf(spec.volumes);
  let any = false;
  for (let i = 0; i < volumes.length; i++) if (!allowedVolume(volumes[i])) any = true;
  if (!any) return ALLOWED;
  const names: string[] = [];
  const types: string[] = [];
  const findings: Finding[] = [];
  volumes.forEach((volume, i) => {
    if (allowedVolume(volume) || !isRecord(volume)) return;
    const name = str(volume['name']);
    const type = RESTRICTED_SOURCES.find((key) => present(volume, key)) ?? 'unknown';
    names.push(name);
    types.push(type);
    findings.push(
      podFinding(
        type === 'unknown' ? ['spec', 'volumes', i] : ['spec', 'volumes', i, type],
        `volume "${name}" uses restricted volume type "${type}"`,
      ),
    );
  });
  const unique = sortedUnique(types);
  return fail(
    'restricted volume types',
    `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('restricted volume type', 'restricted volume types', unique.length)} ${joinQuote(unique)}`,
    findings,
  );
}

export const restrictedVolumes: CheckDefinition = {
  id: 'restrictedVolumes',
  level: 'restricted',
  versions: [{ minVersion: 0, check: restrictedVolumesV1Dot0, overrides: ['hostPathVolumes'] }],
  hint: 'Use only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret volumes.',
};
