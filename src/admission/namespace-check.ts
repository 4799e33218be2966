/**
 * Namespace requests, as Pod Security Admission answers them: invalid pod-security labels are
 * refused as the API server refuses an invalid object (422 Invalid, one field error per label:
 * `metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "x": must be one of ...`),
 * on UPDATE only when the problems changed, so a namespace that already carries a bad label can
 * still be edited; and making the enforce level stricter never denies but dry-runs
 * the namespace's existing pods against the new level and answers with warnings. The dry-run is
 * bounded like PSA's (3,000 pods, 1 s), checks one pod per controller first so a big Deployment
 * cannot hide the others, and groups pods by identical reasons.
 */
import { isRecord } from '../lib/is-record.js';
import type { KubeObject, ObjectMeta, PodSpec } from '../kube/types.js';
import {
  checksFor,
  evaluatePod,
  formatVersion,
  namespaceLabelPolicy,
  parseVersionText,
  PSA_LABEL_PREFIX,
} from '../policy/index.js';
import type { ActiveCheck, Level, Policy, PolicyVersion } from '../policy/index.js';
import type {
  AdmissionDecision,
  AdmissionRequest,
  AdmissionResponse,
  Decision,
  StatusCause,
} from './types.js';
import { invalidResponse } from './invalid.js';

export const NAMESPACE_MAX_PODS_TO_CHECK = 3000;
export const NAMESPACE_POD_CHECK_TIMEOUT_MS = 1000;

const MODES = ['enforce', 'audit', 'warn'] as const;
type Mode = (typeof MODES)[number];
const LEVEL_ORDER: Readonly<Record<Level, number>> = { privileged: 0, baseline: 1, restricted: 2 };

export interface LevelVersion {
  readonly level: Level;
  readonly version: PolicyVersion;
}

/** The three modes as PSA evaluates a namespace's labels (absent = privileged:latest). */
export interface NamespacePolicy {
  readonly modes: Readonly<Record<Mode, LevelVersion>>;
  /** Label problems, each naming the label and the values it accepts. */
  readonly errors: readonly string[];
}

const LATEST: PolicyVersion = Object.freeze({ latest: true as const });

/** Only string values count as labels; anything else in the map is ignored. */
export function labelsOf(obj: unknown): Record<string, string> {
  const meta = isRecord(obj) ? obj['metadata'] : undefined;
  const labels = isRecord(meta) ? meta['labels'] : undefined;
  if (!isRecord(labels)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Parses the pod-security labels with the engine's (PSA-exact) rules, keeping every mode. */
export function namespacePolicy(labels: Readonly<Record<string, string>>): NamespacePolicy {
  const parsed = namespaceLabelPolicy(labels);
  const modes = {} as Record<Mode, LevelVersion>;
  for (const mode of MODES) {
    const assignment = parsed.assignments.find((a) => a.name === PSA_LABEL_PREFIX + mode);
    if (assignment !== undefined) {
      modes[mode] = { level: assignment.initiative as Level, version: assignment.version };
    } else {
      const versionText = labels[`${PSA_LABEL_PREFIX}${mode}-version`];
      const version = versionText === undefined ? null : parseVersionText(versionText);
      modes[mode] = { level: 'privileged', version: version ?? LATEST };
    }
  }
  return { modes, errors: parsed.errors };
}

function sameVersion(a: PolicyVersion, b: PolicyVersion): boolean {
  return a.latest ? b.latest : !b.latest && a.minor === b.minor;
}

export function formatLevelVersion(lv: LevelVersion): string {
  return `${lv.level}:${formatVersion(lv.version)}`;
}

/**
 * PSA's test for dry-running existing pods: the enforce policy changed, is not privileged, and
 * is not a relaxation (or no change) at the same version.
 */
export function enforceBecameStricter(oldEnforce: LevelVersion, newEnforce: LevelVersion): boolean {
  if (oldEnforce.level === newEnforce.level && sameVersion(oldEnforce.version, newEnforce.version))
    return false;
  if (newEnforce.level === 'privileged') return false;
  if (
    sameVersion(oldEnforce.version, newEnforce.version) &&
    LEVEL_ORDER[newEnforce.level] <= LEVEL_ORDER[oldEnforce.level]
  ) {
    return false;
  }
  return true;
}

/**
 * PSA's warning for an exempt namespace that sets labels: names the explicitly labelled modes
 * that are not privileged; null when every mode is privileged.
 */
export function exemptNamespaceWarning(
  name: string,
  policy: NamespacePolicy,
  labels: Readonly<Record<string, string>>,
): string | null {
  if (MODES.every((m) => policy.modes[m].level === 'privileged')) return null;
  const parts: string[] = [];
  for (const mode of MODES) {
    const lv = policy.modes[mode];
    const labelled =
      Object.hasOwn(labels, PSA_LABEL_PREFIX + mode) ||
      Object.hasOwn(labels, `${PSA_LABEL_PREFIX}${mode}-version`);
    if (lv.level !== 'privileged' && labelled) parts.push(`${mode}=${formatLevelVersion(lv)}`);
  }
  return `namespace ${JSON.stringify(name)} is exempt from Pod Security, and the policy (${parts.join(', ')}) will be ignored`;
}

export interface PodCheckOptions {
  readonly maxPods?: number;
  readonly timeoutMs?: number;
  /** Clock in milliseconds; the budget is checked after every pod. */
  readonly now: () => number;
  /** Pods with these runtime classes are skipped, as PSA skips exempt runtime classes. */
  readonly exemptRuntimeClasses?: ReadonlySet<string>;
}

interface PodGroup {
  firstName: string;
  count: number;
}

function controllerUid(meta: ObjectMeta): string | undefined {
  const refs: unknown = meta.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  for (const ref of refs) {
    if (isRecord(ref) && ref['controller'] === true && typeof ref['uid'] === 'string') return ref['uid'];
  }
  return undefined;
}

/** One pod per controller first, then the rest; exempt runtime classes left out. */
function prioritize(pods: readonly KubeObject[], exempt: ReadonlySet<string> | undefined): KubeObject[] {
  const first: KubeObject[] = [];
  const rest: KubeObject[] = [];
  const seen = new Set<string>();
  for (const pod of pods) {
    if (!isRecord(pod)) continue;
    const spec: unknown = pod['spec'];
    const rc = isRecord(spec) ? spec['runtimeClassName'] : undefined;
    if (exempt !== undefined && typeof rc === 'string' && rc !== '' && exempt.has(rc)) continue;
    const meta: unknown = pod.metadata;
    const uid = isRecord(meta) ? controllerUid(meta) : undefined;
    if (uid === undefined) first.push(pod);
    else if (seen.has(uid)) rest.push(pod);
    else {
      seen.add(uid);
      first.push(pod);
    }
  }
  return rest.length === 0 ? first : first.concat(rest);
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Dry-runs existing pods against a new enforce level and returns PSA's warnings: the
 * truncation notice when not every pod was checked, the headline when any pod fails, then one
 * line per distinct set of reasons, `<first pod by name> (and N other pods): <reasons>`, sorted.
 */
export function checkPodsInNamespace(
  namespace: string,
  pods: readonly KubeObject[],
  enforce: LevelVersion,
  options: PodCheckOptions,
): string[] {
  const maxPods = options.maxPods ?? NAMESPACE_MAX_PODS_TO_CHECK;
  const deadline = options.now() + (options.timeoutMs ?? NAMESPACE_POD_CHECK_TIMEOUT_MS);
  const checks: readonly ActiveCheck[] = checksFor(enforce.level, enforce.version);
  const prioritized = prioritize(pods, options.exemptRuntimeClasses);
  const total = prioritized.length;
  const limit = Math.min(total, maxPods);

  const groups = new Map<string, PodGroup>();
  let checked = limit;
  for (let i = 0; i < limit; i++) {
    const pod = prioritized[i]!;
    const meta: ObjectMeta = isRecord(pod.metadata) ? pod.metadata : {};
    const rawSpec: unknown = pod['spec'];
    const spec: PodSpec = isRecord(rawSpec) ? rawSpec : {};
    const result = evaluatePod(checks, meta, spec);
    if (!result.allowed) {
      const reasons = result.failures.map((f) => f.reason).join(', ');
      const name = typeof meta.name === 'string' ? meta.name : '';
      const group = groups.get(reasons);
      if (group === undefined) groups.set(reasons, { firstName: name, count: 1 });
      else {
        group.count++;
        if (name < group.firstName) group.firstName = name;
      }
    }
    if (options.now() >= deadline) {
      checked = i + 1;
      break;
    }
  }

  const warnings: string[] = [];
  if (checked < total) {
    warnings.push(
      `new PodSecurity enforce level only checked against the first ${checked} of ${total} existing pods`,
    );
  }
  if (groups.size > 0) {
    warnings.push(
      `existing pods in namespace ${JSON.stringify(namespace)} violate the new PodSecurity enforce level ${JSON.stringify(formatLevelVersion(enforce))}`,
    );
  }
  const podWarnings: string[] = [];
  for (const [reasons, g] of groups) {
    const who =
      g.count === 1
        ? g.firstName
        : g.count === 2
          ? `${g.firstName} (and 1 other pod)`
          : `${g.firstName} (and ${g.count - 1} other pods)`;
    podWarnings.push(`${who}: ${reasons}`);
  }
  podWarnings.sort(byteOrder);
  return warnings.concat(podWarnings);
}

// ---- the namespace request --------------------------------------------------------------

const ALLOWED: AdmissionResponse = Object.freeze({ allowed: true });
const LIST_FAILED_WARNING = 'failed to list pods while checking new PodSecurity enforce level';

function decide(
  request: AdmissionRequest,
  response: AdmissionResponse,
  decision: Decision,
): AdmissionDecision {
  return {
    response,
    metrics: { kind: request.kind.kind, namespace: request.namespace, decision, violations: [] },
  };
}

/** One invalid label, as apimachinery's `field.Invalid(metadata.labels[<key>], value, detail)`. */
export interface LabelFieldError {
  readonly field: string;
  readonly value: string;
  readonly detail: string;
}

const LEVEL_DETAIL = 'must be one of privileged, baseline, restricted';
const VERSION_DETAIL = 'must be "latest" or "v1.x"';

function isLevelText(text: string): boolean {
  return text === 'privileged' || text === 'baseline' || text === 'restricted';
}

/**
 * The pod-security labels that PSA refuses, in PSA's order (enforce, enforce-version, audit,
 * audit-version, warn, warn-version) and with PSA's details. Empty when every label is valid.
 */
export function labelFieldErrors(labels: Readonly<Record<string, string>>): LabelFieldError[] {
  const errors: LabelFieldError[] = [];
  for (const mode of MODES) {
    const levelKey = PSA_LABEL_PREFIX + mode;
    const level = Object.hasOwn(labels, levelKey) ? labels[levelKey] : undefined;
    if (level !== undefined && !isLevelText(level))
      errors.push({ field: `metadata.labels[${levelKey}]`, value: level, detail: LEVEL_DETAIL });
    const versionKey = `${levelKey}-version`;
    const version = Object.hasOwn(labels, versionKey) ? labels[versionKey] : undefined;
    if (version !== undefined && parseVersionText(version) === null)
      errors.push({ field: `metadata.labels[${versionKey}]`, value: version, detail: VERSION_DETAIL });
  }
  return errors;
}

/** apimachinery's ErrorBody of an Invalid field error. Label values are plain ASCII, so JSON quoting is Go's %q. */
function errorBody(e: LabelFieldError): string {
  return `Invalid value: ${JSON.stringify(e.value)}: ${e.detail}`;
}

function sameErrors(a: readonly LabelFieldError[], b: readonly LabelFieldError[]): boolean {
  return (
    a.length === b.length &&
    a.every((e, i) => e.field === b[i]!.field && e.value === b[i]!.value && e.detail === b[i]!.detail)
  );
}

function namespaceName(request: AdmissionRequest): string {
  const meta: unknown = request.object?.metadata;
  if (isRecord(meta) && typeof meta['name'] === 'string' && meta['name'] !== '') return meta['name'];
  return request.name !== '' ? request.name : request.namespace;
}

/**
 * PSA's answer to invalid labels: the API server's NewInvalid for the request's kind, 422 with
 * reason Invalid, `Namespace "team" is invalid: <field error>` (several in brackets), and one
 * cause per field error.
 */
export function invalidLabels(
  request: AdmissionRequest,
  name: string,
  errors: readonly LabelFieldError[],
): AdmissionResponse {
  const causes: StatusCause[] = errors.map((e) => ({
    reason: 'FieldValueInvalid',
    message: errorBody(e),
    field: e.field,
  }));
  return invalidResponse(request, name, causes);
}

function withWarnings(warnings: readonly string[]): AdmissionResponse {
  return warnings.length === 0 ? ALLOWED : { allowed: true, warnings };
}

/**
 * Decides a request for a Namespace (resource `namespaces`). Throws only on faults; the handler
 * turns a fault into a denial (namespaces fail closed).
 */
export function reviewNamespace(
  request: AdmissionRequest,
  policy: Policy,
  podsInNamespace: (namespace: string) => readonly KubeObject[],
  now: () => number,
): AdmissionDecision {
  if (request.subResource !== '') return decide(request, ALLOWED, 'skip');
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE')
    return decide(request, ALLOWED, 'skip');
  if (request.object === null) throw new Error(`a namespace ${request.operation} request without an object`);

  const name = namespaceName(request);
  const labels = labelsOf(request.object);
  const next = namespacePolicy(labels);
  const exempt = name !== '' && policy.exemptNamespaces.has(name);

  const invalid = labelFieldErrors(labels);
  if (request.operation === 'CREATE') {
    if (invalid.length > 0) return decide(request, invalidLabels(request, name, invalid), 'deny');
    const warning = exempt ? exemptNamespaceWarning(name, next, labels) : null;
    return warning === null
      ? decide(request, ALLOWED, 'allow')
      : decide(request, withWarnings([warning]), 'warn');
  }

  if (request.oldObject === null) throw new Error('a namespace UPDATE request without oldObject');
  const oldLabels = labelsOf(request.oldObject);
  const previous = namespacePolicy(oldLabels);
  const wasInvalid = labelFieldErrors(oldLabels);
  if (invalid.length > 0 && (wasInvalid.length === 0 || !sameErrors(invalid, wasInvalid))) {
    return decide(request, invalidLabels(request, name, invalid), 'deny');
  }
  if (!enforceBecameStricter(previous.modes.enforce, next.modes.enforce))
    return decide(request, ALLOWED, 'allow');
  if (exempt) {
    const warning = exemptNamespaceWarning(name, next, labels);
    return warning === null
      ? decide(request, ALLOWED, 'allow')
      : decide(request, withWarnings([warning]), 'warn');
  }
  let pods: readonly KubeObject[];
  try {
    pods = podsInNamespace(name);
  } catch {
    // As PSA: the label change is not refused because the pods could not be listed.
    return decide(request, withWarnings([LIST_FAILED_WARNING]), 'warn');
  }
  const warnings = checkPodsInNamespace(name, pods, next.modes.enforce, {
    now,
    exemptRuntimeClasses: policy.exemptRuntimeClasses,
  });
  return decide(request, withWarnings(warnings), warnings.length === 0 ? 'allow' : 'warn');
}
