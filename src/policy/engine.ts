/**
 * The policy engine: a podsec.yaml (or a bare level/version) is compiled once into a Policy
 * whose assignments carry their precomputed checks, scope sets and exemptions; evaluating an
 * object is then pod extraction, a few set lookups and the checks' loop. Pure, no I/O.
 *
 * Choices (docs/configuration.md explains them to users):
 * - Namespace: `ctx.namespace` when given, else the object's `metadata.namespace`, else
 *   unknown (null). An object of unknown namespace is judged by the assignments that cover
 *   every namespace (empty `namespaces`); include-lists, excludedNamespaces and cluster
 *   namespace exemptions cannot match it. So `podsec scan` of a namespace-less manifest never
 *   skips a cluster-wide assignment because of where the file might be applied.
 * - Effects combine: denied when any applicable deny assignment has a non-exempt violation;
 *   otherwise `warned` when a warn assignment has one, else `audited`, else `allowed`.
 * - A violation found by several assignments at the same check and path is one Violation;
 *   `effects` lists the assignments for which it counts (not exempted). When every assignment
 *   that found it exempted it, `effects` lists those assignments and `exemptedBy` names the
 *   first matching exemption; such a violation changes nothing.
 * - Cluster-wide exemptions (PSA's usernames, namespaces, runtimeClasses) skip evaluation:
 *   status `exempt`. Per-assignment exemptions keep the violation visible with `exemptedBy`,
 *   and the status is decided by what is left (`allowed` when nothing is).
 * - Wording: each Violation keeps podsec's per-finding `message` and the check's PSA `reason`;
 *   `messages` holds, per applicable assignment with a counted violation, the text PSA would
 *   give for that policy (`violates PodSecurity "restricted:latest": host namespaces (...)` for
 *   deny, `would violate ...` for warn and audit), so users can match what kubectl shows.
 * - `policy` reports the strictest applicable assignment: restricted > azure-restricted >
 *   baseline > azure-baseline, then deny > warn > audit, then the newer version. Azure
 *   initiatives report their initiative name as level and `latest` as version (they run the
 *   newest check implementations). With no applicable assignment: privileged.
 * - An object no assignment applies to is `allowed` (PSA's privileged: nothing restricts it), and
 *   `reason` says why each assignment passed it by: `no assignment applies: namespace
 *   "kube-system" is excluded by restricted-apps, azure-baseline-audit`. It is not
 *   `notApplicable`, which means the kind has no pod template.
 */
import { isRecord } from '../lib/is-record.js';
import { extractPod } from '../kube/workloads.js';
import type { TemplatePath } from '../kube/workloads.js';
import type { ObjectMeta, PodSpec } from '../kube/types.js';
import type { PathSegment } from '../lib/path.js';
import { formatPath } from '../lib/path.js';
import { parseParameters } from './params/index.js';
import type { InitiativeName } from './params/index.js';
import { evaluatePod, formatDenial, formatVersion, formatWarning, LATEST_MINOR } from './pss/index.js';
import type { ActiveCheck, CheckFailure, Finding, Level, PolicyVersion } from './pss/index.js';
import { activeChecks } from './config/active-checks.js';
import { isEmptySelector, matchesSelector } from '../lib/label-selector/index.js';
import type { LabelSelector } from '../lib/label-selector/index.js';
import { expiryInstant, parseVersionText } from './config/field-values.js';
import type {
  Assignment,
  AssignmentExemption,
  Effect,
  PodsecConfig,
  WorkloadEffect,
} from './config/types.js';

export type { Effect } from './config/types.js';

export type ResultStatus = 'allowed' | 'denied' | 'warned' | 'audited' | 'notApplicable' | 'exempt';

export interface AppliedEffect {
  readonly assignment: string;
  readonly effect: Effect;
}

export interface ExemptedBy {
  readonly assignment: string;
  readonly reason: string;
  readonly expires: string | null;
}

export interface Violation {
  readonly check: string;
  /** The check's PSA forbidden reason as kubectl shows it: `host namespaces`, `allowPrivilegeEscalation != false`. */
  readonly reason: string;
  /** podsec's wording for this one finding: `container "a" must not set securityContext.privileged=true`. */
  readonly message: string;
  readonly container: string | null;
  /** Absolute within the evaluated object, e.g. ['spec','template','spec','containers',1,'securityContext','privileged']. */
  readonly path: PathSegment[];
  readonly hint: string;
  /** The Azure Policy parameter that decided this check, when one did. */
  readonly parameter: string | null;
  readonly effects: AppliedEffect[];
  readonly exemptedBy: ExemptedBy | null;
}

export interface PolicyInfo {
  readonly level: string;
  readonly version: string;
}

/** PSA's text for one assignment, exactly as the API server would word it for that policy. */
export interface AssignmentMessage {
  readonly assignment: string;
  readonly effect: Effect;
  /** deny: `violates PodSecurity "restricted:latest": host namespaces (hostNetwork=true), ...`;
   *  warn / audit: `would violate PodSecurity "restricted:latest": ...`. */
  readonly text: string;
}

export interface ObjectEvaluation {
  readonly status: ResultStatus;
  readonly allowed: boolean;
  readonly policy: PolicyInfo;
  readonly violations: Violation[];
  /** One per applicable assignment with a non-exempt violation, in assignment order; empty otherwise. */
  readonly messages: readonly AssignmentMessage[];
  /** Why the object is notApplicable or exempt, or why no assignment applies to it. */
  readonly reason?: string;
}

export interface EvaluationContext {
  /** The namespace the object is (to be) created in; overrides metadata.namespace. */
  readonly namespace?: string | null;
  /** The requesting user, for cluster-wide username exemptions. */
  readonly username?: string;
  /** Labels of the namespace: its pod-security.kubernetes.io labels act as extra assignments. */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
}

interface CompiledExemption {
  readonly checks: ReadonlySet<string> | null;
  readonly containers: ReadonlySet<string> | null;
  /** Null when the exemption names no images (any image). */
  readonly images: { readonly exact: ReadonlySet<string>; readonly prefixes: readonly string[] } | null;
  readonly by: ExemptedBy;
}

/** An assignment ready to run; only non-disabled assignments are compiled. */
export interface CompiledAssignment {
  readonly name: string;
  readonly effect: Exclude<Effect, 'disabled'>;
  readonly workloads: WorkloadEffect;
  readonly namespaces: ReadonlySet<string> | null;
  readonly excluded: ReadonlySet<string>;
  readonly selector: LabelSelector | null;
  readonly exemptions: readonly CompiledExemption[];
  readonly checks: readonly ActiveCheck[];
  readonly info: PolicyInfo;
  readonly rank: number;
}

export interface Policy {
  readonly assignments: readonly CompiledAssignment[];
  readonly exemptUsernames: ReadonlySet<string>;
  readonly exemptNamespaces: ReadonlySet<string>;
  readonly exemptRuntimeClasses: ReadonlySet<string>;
  readonly podTemplatePaths: readonly TemplatePath[];
  /** Reported when no assignment applies. */
  readonly fallback: PolicyInfo;
  /** Compiled namespace-label assignments, keyed by their label values. */
  readonly labelCache: Map<string, readonly CompiledAssignment[]>;
  /** Shared check lists, so equal (initiative, version, parameters) run one list. */
  readonly checkCache: Map<string, readonly ActiveCheck[]>;
  readonly now: number;
}

const INITIATIVE_RANK: Readonly<Record<InitiativeName, number>> = {
  'azure-baseline': 1,
  baseline: 2,
  'azure-restricted': 3,
  restricted: 4,
};
const EFFECT_RANK: Readonly<Record<Exclude<Effect, 'disabled'>, number>> = { audit: 1, warn: 2, deny: 3 };
const PRIVILEGED_LATEST: PolicyInfo = { level: 'privileged', version: 'latest' };
const LABEL_CACHE_LIMIT = 1024;
const NO_ASSIGNMENTS: readonly CompiledAssignment[] = [];
const NO_CONTEXT: EvaluationContext = {};
/** Shared by every result without a violation, so passing objects allocate no message list. */
const NO_MESSAGES: readonly AssignmentMessage[] = Object.freeze([]);

function isAzure(initiative: InitiativeName): boolean {
  return initiative === 'azure-baseline' || initiative === 'azure-restricted';
}

function setOrNull(values: readonly string[]): ReadonlySet<string> | null {
  return values.length === 0 ? null : new Set(values);
}

function compileExemption(assignment: string, e: AssignmentExemption): CompiledExemption {
  return {
    checks: setOrNull(e.checks),
    containers: setOrNull(e.containers),
    images:
      e.images.length === 0
        ? null
        : {
            exact: new Set(e.images.filter((i) => !i.endsWith('*'))),
            prefixes: e.images.filter((i) => i.endsWith('*')).map((i) => i.slice(0, -1)),
          },
    by: { assignment, reason: e.reason, expires: e.expires },
  };
}

function compileAssignment(
  a: Assignment,
  now: number,
  checkCache: Map<string, readonly ActiveCheck[]>,
): CompiledAssignment | null {
  if (a.effect === 'disabled') return null;
  const version = isAzure(a.initiative) ? { latest: true as const } : a.version;
  const versionText = formatVersion(version);
  const cacheKey = `${a.initiative}\0${versionText}\0${JSON.stringify(a.parameters)}`;
  let checks = checkCache.get(cacheKey);
  if (checks === undefined) {
    checks = activeChecks(a.initiative, version, a.parameters);
    checkCache.set(cacheKey, checks);
  }
  const rankVersion = version.latest ? LATEST_MINOR + 1 : Math.min(version.minor, LATEST_MINOR + 1);
  return {
    name: a.name,
    effect: a.effect,
    workloads: a.workloads,
    namespaces: setOrNull(a.namespaces),
    excluded: new Set(a.excludedNamespaces),
    selector: isEmptySelector(a.labelSelector) ? null : a.labelSelector,
    exemptions: a.exemptions
      .filter((e) => e.expires === null || expiryInstant(e.expires) > now)
      .map((e) => compileExemption(a.name, e)),
    checks,
    info: { level: a.initiative, version: versionText },
    rank: (INITIATIVE_RANK[a.initiative] * 10 + EFFECT_RANK[a.effect]) * 1000 + rankVersion,
  };
}

function emptyPolicy(fallback: PolicyInfo, now: number): Omit<Policy, 'assignments'> {
  return {
    exemptUsernames: new Set(),
    exemptNamespaces: new Set(),
    exemptRuntimeClasses: new Set(),
    podTemplatePaths: [],
    fallback,
    labelCache: new Map(),
    checkCache: new Map(),
    now,
  };
}

/** Compiles a loaded podsec.yaml. Exemptions expired at `now` are dropped. */
export function compilePolicy(config: PodsecConfig, now: Date = new Date()): Policy {
  const base = emptyPolicy(PRIVILEGED_LATEST, now.getTime());
  const assignments: CompiledAssignment[] = [];
  for (const a of config.assignments) {
    const compiled = compileAssignment(a, base.now, base.checkCache);
    if (compiled !== null) assignments.push(compiled);
  }
  return {
    ...base,
    assignments,
    exemptUsernames: new Set(config.exemptions.usernames),
    exemptNamespaces: new Set(config.exemptions.namespaces),
    exemptRuntimeClasses: new Set(config.exemptions.runtimeClasses),
    podTemplatePaths: config.podTemplatePaths.map((p) => ({ ...p })),
  };
}

/** What `podsec scan` runs without --config: one assignment `<level>:<version>` {effect deny}, no scope. */
export function policyFromLevel(level: Level, version: PolicyVersion): Policy {
  const base = emptyPolicy({ level, version: formatVersion(version) }, Date.now());
  if (level === 'privileged') return { ...base, assignments: [] };
  // Named as PSA names a policy in its messages: `restricted:latest`.
  const assignment = levelAssignment(`${level}:${formatVersion(version)}`, level, version, 'deny', 'warn');
  return { ...base, assignments: [compileAssignment(assignment, base.now, base.checkCache)!] };
}

function levelAssignment(
  name: string,
  level: 'baseline' | 'restricted',
  version: PolicyVersion,
  effect: Effect,
  workloads: WorkloadEffect,
): Assignment {
  return {
    name,
    initiative: level,
    version,
    effect,
    workloads,
    namespaces: [],
    excludedNamespaces: [],
    labelSelector: { matchLabels: {}, matchExpressions: [] },
    exemptions: [],
    parameters: parseParameters({}, level).value,
  };
}

// ---- namespace labels -------------------------------------------------------------------

export const PSA_LABEL_PREFIX = 'pod-security.kubernetes.io/';
const MODES = ['enforce', 'audit', 'warn'] as const;
type Mode = (typeof MODES)[number];
const MODE_EFFECT: Readonly<Record<Mode, Effect>> = { enforce: 'deny', audit: 'audit', warn: 'warn' };
const MODE_WORKLOADS: Readonly<Record<Mode, WorkloadEffect>> = {
  enforce: 'warn',
  audit: 'audit',
  warn: 'warn',
};
const LEVEL_ORDER: Readonly<Record<Level, number>> = { privileged: 0, baseline: 1, restricted: 2 };

export interface NamespaceLabelPolicy {
  /** One assignment per mode whose level is not privileged, named after its label. */
  readonly assignments: Assignment[];
  /** Problems with the labels, as PSA records them (evaluation still proceeds). */
  readonly errors: string[];
}

function isLevel(s: string | undefined): s is Level {
  return s === 'privileged' || s === 'baseline' || s === 'restricted';
}

/**
 * Parses a namespace's `pod-security.kubernetes.io/<mode>[-version]` labels as Pod Security
 * Admission does: an invalid enforce level fails closed (restricted), an invalid audit or warn
 * level fails open (privileged), an invalid version means latest; when enforce is set and warn
 * is not, warn follows enforce. Absent labels mean privileged (nothing to add).
 */
export function namespaceLabelPolicy(labels: Readonly<Record<string, string>>): NamespaceLabelPolicy {
  const errors: string[] = [];
  const get = (key: string): string | undefined =>
    Object.hasOwn(labels, PSA_LABEL_PREFIX + key) ? labels[PSA_LABEL_PREFIX + key] : undefined;
  const levels = {} as Record<Mode, Level>;
  const versions = {} as Record<Mode, PolicyVersion>;
  for (const mode of MODES) {
    const levelText = get(mode);
    if (levelText === undefined) levels[mode] = 'privileged';
    else if (isLevel(levelText)) levels[mode] = levelText;
    else {
      levels[mode] = mode === 'enforce' ? 'restricted' : 'privileged';
      errors.push(
        `${PSA_LABEL_PREFIX}${mode}: invalid level "${levelText}" (must be privileged, baseline or restricted)`,
      );
    }
    const versionText = get(`${mode}-version`);
    const version = versionText === undefined ? null : parseVersionText(versionText);
    if (versionText !== undefined && version === null) {
      errors.push(
        `${PSA_LABEL_PREFIX}${mode}-version: invalid version "${versionText}" (must be latest or v1.N)`,
      );
    }
    versions[mode] = version ?? { latest: true };
  }
  if (
    get('enforce') !== undefined &&
    get('warn') === undefined &&
    LEVEL_ORDER[levels.enforce] > LEVEL_ORDER[levels.warn]
  ) {
    levels.warn = levels.enforce;
    if (get('warn-version') === undefined) versions.warn = versions.enforce;
  }
  const assignments: Assignment[] = [];
  for (const mode of MODES) {
    const level = levels[mode];
    if (level === 'privileged') continue;
    assignments.push(
      levelAssignment(
        PSA_LABEL_PREFIX + mode,
        level,
        versions[mode],
        MODE_EFFECT[mode],
        MODE_WORKLOADS[mode],
      ),
    );
  }
  return { assignments, errors };
}

/** The namespace's pod-security labels as compiled assignments (cached on the policy by label values). */
export function labelAssignments(
  policy: Policy,
  labels: Readonly<Record<string, string>>,
): readonly CompiledAssignment[] {
  let key = '';
  for (const mode of MODES) {
    key += `${labels[PSA_LABEL_PREFIX + mode] ?? '\0'}\n${labels[`${PSA_LABEL_PREFIX}${mode}-version`] ?? '\0'}\n`;
  }
  const cached = policy.labelCache.get(key);
  if (cached !== undefined) return cached;
  const compiled: CompiledAssignment[] = [];
  for (const a of namespaceLabelPolicy(labels).assignments) {
    const c = compileAssignment(a, policy.now, policy.checkCache);
    if (c !== null) compiled.push(c);
  }
  if (policy.labelCache.size >= LABEL_CACHE_LIMIT) policy.labelCache.clear();
  policy.labelCache.set(key, compiled);
  return compiled;
}

// ---- evaluation -------------------------------------------------------------------------

function stringLabels(meta: ObjectMeta): Readonly<Record<string, string>> {
  return isRecord(meta.labels) ? meta.labels : {};
}

/** Whether an assignment's scope (namespaces, excludedNamespaces, labelSelector) takes in an object. */
export function inScope(
  a: CompiledAssignment,
  namespace: string | null,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (a.namespaces !== null && (namespace === null || !a.namespaces.has(namespace))) return false;
  if (namespace !== null && a.excluded.has(namespace)) return false;
  return a.selector === null || matchesSelector(a.selector, labels);
}

/**
 * The assignments whose scope takes in an object (configured ones, then its namespace's label
 * assignments), as `evaluateObject` picks them: the audit lists their passing checks per assignment.
 */
export function applicableAssignments(
  policy: Policy,
  namespace: string | null,
  labels: Readonly<Record<string, string>>,
  namespaceLabels?: Readonly<Record<string, string>>,
): CompiledAssignment[] {
  const extra = namespaceLabels === undefined ? NO_ASSIGNMENTS : labelAssignments(policy, namespaceLabels);
  return [...policy.assignments, ...extra].filter((a) => inScope(a, namespace, labels));
}

/** Why no assignment is in scope, grouped by cause, in assignment order within each cause. */
function nothingApplies(
  configured: readonly CompiledAssignment[],
  extra: readonly CompiledAssignment[],
  namespace: string | null,
): string {
  const notListed: string[] = [];
  const excluded: string[] = [];
  const unselected: string[] = [];
  for (const a of [...configured, ...extra]) {
    if (a.namespaces !== null && (namespace === null || !a.namespaces.has(namespace))) notListed.push(a.name);
    else if (namespace !== null && a.excluded.has(namespace)) excluded.push(a.name);
    else unselected.push(a.name);
  }
  const parts: string[] = [];
  if (notListed.length > 0) {
    parts.push(
      namespace === null
        ? `the object has no namespace and ${notListed.join(', ')} ${notListed.length === 1 ? 'applies' : 'apply'} only to listed namespaces`
        : `namespace "${namespace}" is not in the namespaces of ${notListed.join(', ')}`,
    );
  }
  if (excluded.length > 0) parts.push(`namespace "${namespace}" is excluded by ${excluded.join(', ')}`);
  if (unselected.length > 0)
    parts.push(`the labels do not match the labelSelector of ${unselected.join(', ')}`);
  return parts.length === 0
    ? 'no assignment applies: the policy has no enabled assignment'
    : `no assignment applies: ${parts.join('; ')}`;
}

function imageOf(spec: PodSpec, finding: Finding): string | undefined {
  if (finding.image !== undefined || finding.container === null) return finding.image;
  const fields =
    finding.containerField === undefined
      ? (['containers', 'initContainers', 'ephemeralContainers'] as const)
      : [finding.containerField];
  for (const field of fields) {
    const list = spec[field];
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (isRecord(c) && c.name === finding.container)
        return typeof c.image === 'string' ? c.image : undefined;
    }
  }
  return undefined;
}

function exemptionFor(
  a: CompiledAssignment,
  check: string,
  container: string | null,
  image: string | undefined,
): ExemptedBy | null {
  for (const e of a.exemptions) {
    if (e.checks !== null && !e.checks.has(check)) continue;
    if (e.containers !== null && (container === null || !e.containers.has(container))) continue;
    if (e.images !== null) {
      if (image === undefined) continue;
      if (!e.images.exact.has(image) && !e.images.prefixes.some((p) => image.startsWith(p))) continue;
    }
    return e.by;
  }
  return null;
}

interface Pending {
  readonly check: string;
  readonly reason: string;
  readonly message: string;
  readonly container: string | null;
  readonly path: PathSegment[];
  readonly hint: string;
  readonly parameter: string | null;
  readonly counted: AppliedEffect[];
  readonly exempted: AppliedEffect[];
  exemptedBy: ExemptedBy | null;
}

/** Records one finding for assignment `a`; true when it counts (no exemption of `a` covers it). */
function addFinding(
  pending: Map<string, Pending>,
  a: CompiledAssignment,
  failure: CheckFailure,
  spec: PodSpec,
  basePath: readonly PathSegment[],
  finding: Finding | null,
): boolean {
  const path = finding === null ? [...basePath, 'spec'] : [...basePath, ...finding.path];
  const container = finding?.container ?? null;
  const key = `${failure.id}\0${formatPath(path)}`;
  let entry = pending.get(key);
  if (entry === undefined) {
    entry = {
      check: failure.id,
      reason: failure.reason,
      message: finding?.message ?? `${failure.reason} (${failure.detail})`,
      container,
      path,
      hint: failure.hint,
      parameter: failure.parameter ?? null,
      counted: [],
      exempted: [],
      exemptedBy: null,
    };
    pending.set(key, entry);
  }
  const by =
    a.exemptions.length === 0
      ? null
      : exemptionFor(a, failure.id, container, finding === null ? undefined : imageOf(spec, finding));
  const list = by === null ? entry.counted : entry.exempted;
  if (list.at(-1)?.assignment !== a.name) {
    list.push({ assignment: a.name, effect: a.effect });
    if (by !== null) entry.exemptedBy ??= by;
  }
  return by === null;
}

/**
 * PSA's message for one assignment, from the checks that count for it. A check that counts keeps
 * PSA's whole detail, even when an exemption covers some of the containers it names.
 */
function assignmentMessage(a: CompiledAssignment, failures: readonly CheckFailure[]): AssignmentMessage {
  const { level, version } = a.info;
  const text =
    a.effect === 'deny' ? formatDenial(level, version, failures) : formatWarning(level, version, failures);
  return { assignment: a.name, effect: a.effect, text };
}

function notApplicable(policy: Policy, reason: string): ObjectEvaluation {
  return {
    status: 'notApplicable',
    allowed: true,
    policy: policy.fallback,
    violations: [],
    messages: NO_MESSAGES,
    reason,
  };
}

function exempt(info: PolicyInfo, reason: string): ObjectEvaluation {
  return { status: 'exempt', allowed: true, policy: info, violations: [], messages: NO_MESSAGES, reason };
}

/**
 * Evaluates ONE object (the caller expands Lists). Kinds without a pod template are
 * notApplicable; cluster exemptions give `exempt`; otherwise every applicable assignment runs.
 */
export function evaluateObject(
  policy: Policy,
  obj: unknown,
  ctx: EvaluationContext = NO_CONTEXT,
): ObjectEvaluation {
  const extraction = extractPod(obj, policy.podTemplatePaths);
  if (extraction.kind === 'notApplicable') return notApplicable(policy, extraction.reason);
  if (extraction.kind === 'list') return notApplicable(policy, 'a list: each item is evaluated on its own');
  const { meta, spec, basePath } = extraction.target;

  const namespace =
    ctx.namespace !== undefined ? ctx.namespace : typeof meta.namespace === 'string' ? meta.namespace : null;
  const labels = stringLabels(meta);
  const extra =
    ctx.namespaceLabels === undefined ? NO_ASSIGNMENTS : labelAssignments(policy, ctx.namespaceLabels);

  // Scope first (cheap set lookups); only in-scope assignments run their checks.
  let strictest: CompiledAssignment | null = null;
  let applicable: CompiledAssignment[] | null = null;
  const total = policy.assignments.length + extra.length;
  for (let i = 0; i < total; i++) {
    const a = i < policy.assignments.length ? policy.assignments[i]! : extra[i - policy.assignments.length]!;
    if (!inScope(a, namespace, labels)) continue;
    (applicable ??= []).push(a);
    if (strictest === null || a.rank > strictest.rank) strictest = a;
  }
  const info = strictest?.info ?? policy.fallback;

  if (namespace !== null && policy.exemptNamespaces.size > 0 && policy.exemptNamespaces.has(namespace)) {
    return exempt(info, `namespace "${namespace}" is exempt`);
  }
  if (ctx.username !== undefined && policy.exemptUsernames.has(ctx.username)) {
    return exempt(info, `user "${ctx.username}" is exempt`);
  }
  const runtimeClass = spec.runtimeClassName;
  if (typeof runtimeClass === 'string' && policy.exemptRuntimeClasses.has(runtimeClass)) {
    return exempt(info, `runtimeClass "${runtimeClass}" is exempt`);
  }
  if (applicable === null) {
    return {
      status: 'allowed',
      allowed: true,
      policy: info,
      violations: [],
      messages: NO_MESSAGES,
      reason: nothingApplies(policy.assignments, extra, namespace),
    };
  }

  let pending: Map<string, Pending> | null = null;
  let messages: AssignmentMessage[] | null = null;
  // Assignments with the same check list share one evaluation.
  let lastChecks: readonly ActiveCheck[] | null = null;
  let lastFailures: readonly CheckFailure[] = [];
  for (const a of applicable) {
    let failures: readonly CheckFailure[];
    if (a.checks === lastChecks) failures = lastFailures;
    else {
      failures = evaluatePod(a.checks, meta, spec).failures;
      lastChecks = a.checks;
      lastFailures = failures;
    }
    if (failures.length === 0) continue;
    pending ??= new Map();
    // The failures that count for this assignment; the same array when none is exempted.
    const counted: CheckFailure[] | null = a.exemptions.length === 0 ? null : [];
    for (const failure of failures) {
      let counts = false;
      if (failure.findings.length === 0) counts = addFinding(pending, a, failure, spec, basePath, null);
      for (const finding of failure.findings) {
        if (addFinding(pending, a, failure, spec, basePath, finding)) counts = true;
      }
      if (counts) counted?.push(failure);
    }
    const forMessage = counted ?? failures;
    if (forMessage.length > 0) (messages ??= []).push(assignmentMessage(a, forMessage));
  }
  if (pending === null) {
    return { status: 'allowed', allowed: true, policy: info, violations: [], messages: NO_MESSAGES };
  }

  let deny = false;
  let warn = false;
  let audit = false;
  const violations: Violation[] = [];
  for (const p of pending.values()) {
    const counted = p.counted.length > 0;
    for (const e of p.counted) {
      if (e.effect === 'deny') deny = true;
      else if (e.effect === 'warn') warn = true;
      else if (e.effect === 'audit') audit = true;
    }
    violations.push({
      check: p.check,
      reason: p.reason,
      message: p.message,
      container: p.container,
      path: p.path,
      hint: p.hint,
      parameter: p.parameter,
      effects: counted ? p.counted : p.exempted,
      exemptedBy: counted ? null : p.exemptedBy,
    });
  }
  const status: ResultStatus = deny ? 'denied' : warn ? 'warned' : audit ? 'audited' : 'allowed';
  return { status, allowed: !deny, policy: info, violations, messages: messages ?? NO_MESSAGES };
}
