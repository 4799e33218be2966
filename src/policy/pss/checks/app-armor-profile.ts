/**
 * appArmorProfile (baseline, v1.0+): the default AppArmor profile must not be overridden or disabled.
 *
 * Restricted fields: metadata.annotations['container.apparmor.security.beta.kubernetes.io/*']
 * Allowed values: undefined, "", "runtime/default", "localhost/*"
 *
 * Restricted fields: spec.securityContext.appArmorProfile.type,
 *   spec.containers[*].securityContext.appArmorProfile.type (and init/ephemeral containers)
 * Allowed values: undefined, "RuntimeDefault", "Localhost"
 */
import type { Container, ObjectMeta, PodSpec } from '../../../kube/types.js';
import {
  ALLOWED,
  anyContainer,
  byteOrder,
  containerFinding,
  containerRefs,
  containersPhrase,
  fail,
  goQuote,
  isRecord,
  joinQuote,
  pluralize,
  podFinding,
  securityContextOf,
  sortedUnique,
  str,
} from '../check-helpers.js';
import type { CheckDefinition, CheckResult, Finding } from '../types.js';

const ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function badProfile(profile: unknown): boolean {
  if (!isRecord(profile)) return false;
  const type = profile['type'];
  return type !== 'RuntimeDefault' && type !== 'Localhost';
}

function badAnnotationValue(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  const v = str(value);
  return v !== 'runtime/default' && !v.startsWith('localhost/');
}

function containerBad(c: Container): boolean {
  return badProfile(securityContextOf(c)?.appArmorProfile);
}

function annotationsOf(meta: ObjectMeta): Record<string, unknown> | undefined {
  const annotations: unknown = meta.annotations;
  return isRecord(annotations) ? annotations : undefined;
}

function anyBadAnnotation(meta: ObjectMeta): boolean {
  const annotations = annotationsOf(meta);
  if (annotations === undefined) return false;
  for (const key in annotations) {
    if (key.startsWith(ANNOTATION_PREFIX) && badAnnotationValue(annotations[key])) return true;
  }
  return false;
}

function podProfile(spec: PodSpec): unknown {
  const sc: unknown = spec.securityContext;
  return isRecord(sc) ? sc['appArmorProfile'] : undefined;
}

function appArmorProfileV1Dot0(meta: ObjectMeta, spec: PodSpec): CheckResult {
  const podBad = badProfile(podProfile(spec));
  if (!podBad && !anyContainer(spec, containerBad, undefined) && !anyBadAnnotation(meta)) return ALLOWED;

  const setters: string[] = [];
  const badTypes: string[] = [];
  const findings: Finding[] = [];
  if (podBad) {
    const type = str((podProfile(spec) as Record<string, unknown>)['type']);
    setters.push('pod');
    badTypes.push(type);
    findings.push(
      podFinding(
        ['spec', 'securityContext', 'appArmorProfile', 'type'],
        `pod must not set AppArmor profile type to "${type}"`,
      ),
    );
  }
  const names: string[] = [];
  for (const ref of containerRefs(spec)) {
    const profile = securityContextOf(ref.container)?.appArmorProfile;
    if (!badProfile(profile)) continue;
    const type = str((profile as unknown as Record<string, unknown>)['type']);
    names.push(ref.name);
    badTypes.push(type);
    findings.push(
      containerFinding(
        ref,
        ['securityContext', 'appArmorProfile', 'type'],
        `container "${ref.name}" must not set AppArmor profile type to "${type}"`,
      ),
    );
  }
  if (names.length > 0) setters.push(containersPhrase(names));

  const badAnnotations: string[] = [];
  const annotations = annotationsOf(meta) ?? {};
  for (const key of Object.keys(annotations).sort(byteOrder)) {
    const value = annotations[key];
    if (!key.startsWith(ANNOTATION_PREFIX) || !badAnnotationValue(value)) continue;
    badAnnotations.push(`${key}=${goQuote(str(value))}`);
    findings.push(
      podFinding(
        ['metadata', 'annotations', key],
        `annotation ${key} must not set AppArmor profile ${str(value)}`,
      ),
    );
  }
  if (badAnnotations.length > 0) setters.push(pluralize('annotation', 'annotations', badAnnotations.length));

  const values = [...sortedUnique(badTypes), ...badAnnotations.sort(byteOrder)];
  return fail(
    pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
    `${setters.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`,
    findings,
  );
}

export const appArmorProfile: CheckDefinition = {
  id: 'appArmorProfile',
  level: 'baseline',
  versions: [{ minVersion: 0, check: appArmorProfileV1Dot0 }],
  hint: 'Use appArmorProfile.type RuntimeDefault or Localhost (never Unconfined), and no unconfined AppArmor annotations.',
};
