/**
 * seccompProfile_baseline (baseline, v1.0 annotations; v1.19 fields): if a seccomp profile is set, only the
 * runtime default or a localhost profile is allowed.
 *
 * v1.0 - v1.18:
 *   Restricted fields: metadata.annotations['seccomp.security.alpha.kubernetes.io/pod'],
 *     metadata.annotations['container.seccomp.security.alpha.kubernetes.io/<name>'] (names of the pod's containers)
 *   Allowed values: undefined, "runtime/default", "docker/default", "localhost/*"
 * v1.19+ (annotations ignored):
 *   Restricted fields: spec.securityContext.seccompProfile.type,
 *     spec.containers[*].securityContext.seccompProfile.type (and init/ephemeral containers)
 *   Allowed values: undefined, "RuntimeDefault", "Localhost"
 */
import type { Container, ObjectMeta, PodSpec } from '../../../kube/types.js';
import {
  ALLOWED,
  anyContainer,
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

export const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
export const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';

function validAnnotationValue(value: unknown): boolean {
  return (
    value === 'runtime/default' ||
    value === 'docker/default' ||
    (typeof value === 'string' && value.startsWith('localhost/'))
  );
}

/** A set profile whose type is not RuntimeDefault/Localhost (a profile object without a type counts as set). */
export function badSeccompProfile(profile: unknown): boolean {
  if (!isRecord(profile)) return false;
  const type = profile['type'];
  return type !== 'RuntimeDefault' && type !== 'Localhost';
}

export function podSeccompProfile(spec: PodSpec): unknown {
  const sc: unknown = spec.securityContext;
  return isRecord(sc) ? sc['seccompProfile'] : undefined;
}

export function containerSeccompBad(c: Container): boolean {
  return badSeccompProfile(securityContextOf(c)?.seccompProfile);
}

function annotationsOf(meta: ObjectMeta): Record<string, unknown> | undefined {
  const annotations: unknown = meta.annotations;
  return isRecord(annotations) ? annotations : undefined;
}

function containerAnnotationBad(c: Container, annotations: Record<string, unknown>): boolean {
  const key = SECCOMP_CONTAINER_ANNOTATION_PREFIX + str(c.name);
  return Object.hasOwn(annotations, key) && !validAnnotationValue(annotations[key]);
}

function seccompProfileBaselineV1Dot0(meta: ObjectMeta, spec: PodSpec): CheckResult {
  const annotations = annotationsOf(meta);
  if (annotations === undefined) return ALLOWED;
  const podBad =
    Object.hasOwn(annotations, SECCOMP_POD_ANNOTATION) &&
    !validAnnotationValue(annotations[SECCOMP_POD_ANNOTATION]);
  if (!podBad && !anyContainer(spec, containerAnnotationBad, annotations)) return ALLOWED;

  const forbidden: string[] = [];
  const findings: Finding[] = [];
  const add = (key: string) => {
    const value = str(annotations[key]);
    const entry = `${key}=${goQuote(value)}`;
    if (forbidden.includes(entry)) return;
    forbidden.push(entry);
    findings.push(
      podFinding(['metadata', 'annotations', key], `annotation ${key} must not set seccomp profile ${value}`),
    );
  };
  if (podBad) add(SECCOMP_POD_ANNOTATION);
  for (const ref of containerRefs(spec)) {
    if (containerAnnotationBad(ref.container, annotations))
      add(SECCOMP_CONTAINER_ANNOTATION_PREFIX + ref.name);
  }
  const list = sortedUnique(forbidden);
  return fail(
    'seccompProfile',
    `forbidden ${pluralize('annotation', 'annotations', list.length)} ${list.join(', ')}`,
    findings,
  );
}

function seccompProfileBaselineV1Dot19(_meta: ObjectMeta, spec: PodSpec): CheckResult {
  const podBad = badSeccompProfile(podSeccompProfile(spec));
  if (!podBad && !anyContainer(spec, containerSeccompBad, undefined)) return ALLOWED;
  return explicitSeccompFailure(spec, podBad);
}

/** The failure for pods or containers that explicitly set a forbidden type (shared with the restricted check). */
export function explicitSeccompFailure(spec: PodSpec, podBad: boolean): CheckResult {
  const setters: string[] = [];
  const values: string[] = [];
  const findings: Finding[] = [];
  if (podBad) {
    const type = str((podSeccompProfile(spec) as Record<string, unknown>)['type']);
    setters.push('pod');
    values.push(type);
    findings.push(
      podFinding(
        ['spec', 'securityContext', 'seccompProfile', 'type'],
        `pod must not set securityContext.seccompProfile.type to "${type}"`,
      ),
    );
  }
  const names: string[] = [];
  for (const ref of containerRefs(spec)) {
    const profile = securityContextOf(ref.container)?.seccompProfile;
    if (!badSeccompProfile(profile)) continue;
    const type = str((profile as unknown as Record<string, unknown>)['type']);
    names.push(ref.name);
    values.push(type);
    findings.push(
      containerFinding(
        ref,
        ['securityContext', 'seccompProfile', 'type'],
        `container "${ref.name}" must not set securityContext.seccompProfile.type to "${type}"`,
      ),
    );
  }
  if (names.length > 0) setters.push(containersPhrase(names));
  return fail(
    'seccompProfile',
    `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedUnique(values))}`,
    findings,
  );
}

export const seccompProfileBaseline: CheckDefinition = {
  id: 'seccompProfile_baseline',
  level: 'baseline',
  versions: [
    { minVersion: 0, check: seccompProfileBaselineV1Dot0 },
    { minVersion: 19, check: seccompProfileBaselineV1Dot19 },
  ],
  hint: 'Set seccompProfile.type to RuntimeDefault or Localhost (never Unconfined), or leave it unset.',
};
