/**
 * The admission decision: an AdmissionRequest in, an AdmissionResponse and metric labels out.
 * It follows Pod Security Admission (kubernetes/pod-security-admission, admission.go) where PSA
 * has an answer, and adds podsec.yaml on top:
 * - Pods are enforced: CREATE always, UPDATE only when significant (container or init container
 *   count, any image, an ephemeral container added or changed), every pod subresource except the
 *   ones that cannot change the spec. Faults deny (fail closed): a pod we could not judge is not
 *   let in.
 * - Workloads (pod controllers and configured podTemplatePaths kinds) are answered by each
 *   assignment's `workloads` setting, never by its effect; namespace labels answer as PSA does
 *   for controllers (warn and audit only, the enforce label is not applied to them). Only CREATE
 *   and template-changing UPDATEs are judged; subresources (scale, status) never are. Faults
 *   allow with an `error` audit annotation (fail open): a controller that slips through is still
 *   stopped when it creates pods.
 * - Namespaces: see namespace-check.ts. Faults deny.
 * - The aad-pod-identity kinds (AzureIdentity, AzureIdentityBinding, AzurePodIdentityException):
 *   see identity-check.ts. Faults deny (fail closed): an AzureIdentity whose client id could not
 *   be checked is not let in, because a copied client id switches the original off.
 * - Everything else is allowed untouched.
 * Audit annotation keys are bare names (`audit-violations`, `enforce-policy`, `exempt`,
 * `exempted-violations`, `error`): the API server prefixes them with the webhook's name.
 * The hot path (a passing pod) allocates little: shared frozen responses, the engine's label
 * cache, and message building only when something failed.
 */
import { isDeepStrictEqual } from 'node:util';
import { isRecord } from '../lib/is-record.js';
import { extractPod, WORKLOAD_KINDS } from '../kube/workloads.js';
import type { KubeObject } from '../kube/types.js';
import {
  API_VERSION,
  compilePolicy,
  evaluateObject,
  inScope,
  KIND,
  labelAssignments,
  PSA_LABEL_PREFIX,
} from '../policy/index.js';
import type {
  AssignmentMessage,
  CompiledAssignment,
  Effect,
  ObjectEvaluation,
  Policy,
} from '../policy/index.js';
import { admittedClaim, identityKindOf, needsClaims, reviewIdentity } from './identity-check.js';
import type { ClaimsLookup } from './identity-check.js';
import { namespacePolicy, reviewNamespace } from './namespace-check.js';
import type {
  AdmissionDecision,
  AdmissionDeps,
  AdmissionRequest,
  AdmissionResponse,
  Decision,
} from './types.js';

export const AUDIT_ANNOTATIONS = {
  enforcePolicy: 'enforce-policy',
  auditViolations: 'audit-violations',
  exempt: 'exempt',
  exemptedViolations: 'exempted-violations',
  error: 'error',
} as const;

/** Pod subresources that cannot change what PSA judges (PSA's list). */
export const IGNORED_POD_SUBRESOURCES: ReadonlySet<string> = new Set([
  'exec',
  'attach',
  'binding',
  'eviction',
  'log',
  'portforward',
  'proxy',
  'status',
]);

/** Built-in pod controllers: kind -> the API groups serving it (from the one workload list). */
const WORKLOAD_GROUPS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  WORKLOAD_KINDS.map((w) => [
    w.kind,
    new Set(w.apiVersions.map((v) => (v.includes('/') ? v.slice(0, v.indexOf('/')) : ''))),
  ]),
);

const SECCOMP_CONTAINER_ANNOTATION = 'container.seccomp.security.alpha.kubernetes.io/';
const MAX_ERROR_TEXT = 512;

type Category = 'pod' | 'namespace' | 'identity' | 'workload' | 'other';
type Mode = Exclude<Effect, 'disabled'>;

const ALLOWED: AdmissionResponse = Object.freeze({ allowed: true });
const EXEMPT_RESPONSES: Readonly<Record<'namespace' | 'user' | 'runtimeClass', AdmissionResponse>> = {
  namespace: Object.freeze({ allowed: true, auditAnnotations: Object.freeze({ exempt: 'namespace' }) }),
  user: Object.freeze({ allowed: true, auditAnnotations: Object.freeze({ exempt: 'user' }) }),
  runtimeClass: Object.freeze({ allowed: true, auditAnnotations: Object.freeze({ exempt: 'runtimeClass' }) }),
};

function decision(
  request: AdmissionRequest,
  response: AdmissionResponse,
  kind: Decision,
  violations: string[] = [],
): AdmissionDecision {
  return {
    response,
    metrics: { kind: request.kind.kind, namespace: request.namespace, decision: kind, violations },
  };
}

/** With a null policy, only built-in kinds are known (used before the policy is read). */
function categorize(request: AdmissionRequest, policy: Policy | null): Category {
  const { group, resource } = request.resource;
  if (group === '' && resource === 'pods') return 'pod';
  if (group === '' && resource === 'namespaces') return 'namespace';
  if (identityKindOf(request) !== null) return 'identity';
  if (WORKLOAD_GROUPS.get(request.kind.kind)?.has(request.kind.group) === true) return 'workload';
  if (policy !== null && policy.podTemplatePaths.length > 0) {
    const apiVersion =
      request.kind.group === '' ? request.kind.version : `${request.kind.group}/${request.kind.version}`;
    // The same matching the engine uses to find the template (extractPod).
    const probe = { apiVersion, kind: request.kind.kind };
    if (extractPod(probe, policy.podTemplatePaths).kind === 'template') return 'workload';
  }
  return 'other';
}

/** `pods "web" is forbidden: ...`, as the API server's NewForbidden words it. */
function forbiddenMessage(request: AdmissionRequest, detail: string): string {
  const { group, resource } = request.resource;
  const qualified = group === '' ? resource : `${resource}.${group}`;
  let name = request.name;
  if (name === '') {
    const meta: unknown = request.object?.metadata;
    if (isRecord(meta) && typeof meta['name'] === 'string') name = meta['name'];
  }
  if (qualified === '') return `forbidden: ${detail}`;
  return name === ''
    ? `${qualified} is forbidden: ${detail}`
    : `${qualified} ${JSON.stringify(name)} is forbidden: ${detail}`;
}

function forbidden(
  request: AdmissionRequest,
  detail: string,
  annotations?: Record<string, string>,
): AdmissionResponse {
  const status = { code: 403, reason: 'Forbidden', message: forbiddenMessage(request, detail) };
  return annotations === undefined
    ? { allowed: false, status }
    : { allowed: false, status, auditAnnotations: annotations };
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT - 3)}...` : text;
}

/**
 * A fault becomes a decision: pods, namespaces and the identity kinds fail closed, everything
 * else open. No stack.
 */
function faultDecision(request: AdmissionRequest, category: Category, err: unknown): AdmissionDecision {
  let text = 'internal error';
  try {
    text = errorText(err);
  } catch {
    // An exotic thrown value whose message cannot be read: keep the generic text.
  }
  const annotations = { [AUDIT_ANNOTATIONS.error]: text };
  let response: AdmissionResponse;
  if (category === 'pod' || category === 'namespace' || category === 'identity') {
    try {
      response = forbidden(request, `podsec could not evaluate the request: ${text}`, annotations);
    } catch {
      response = {
        allowed: false,
        status: {
          code: 403,
          reason: 'Forbidden',
          message: `forbidden: podsec could not evaluate the request`,
        },
        auditAnnotations: annotations,
      };
    }
  } else {
    response = { allowed: true, auditAnnotations: annotations };
  }
  let kind = '';
  let namespace = '';
  try {
    kind = typeof request.kind.kind === 'string' ? request.kind.kind : '';
    namespace = typeof request.namespace === 'string' ? request.namespace : '';
  } catch {
    // A malformed request object: metric labels stay empty.
  }
  return { response, metrics: { kind, namespace, decision: 'error', violations: [] } };
}

// ---- pod update significance ------------------------------------------------------------

function specOf(obj: KubeObject): Record<string, unknown> {
  const spec: unknown = obj['spec'];
  return isRecord(spec) ? spec : {};
}

function listOf(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

function field(v: unknown, key: string): unknown {
  return isRecord(v) ? v[key] : undefined;
}

function annotationOf(obj: KubeObject, key: string): unknown {
  return field(field(obj.metadata, 'annotations'), key);
}

function containerChanged(c: unknown, old: unknown, pod: KubeObject, oldPod: KubeObject): boolean {
  if (field(c, 'image') !== field(old, 'image')) return true;
  // PSA still compares the legacy per-container seccomp annotation.
  const name = field(c, 'name');
  const key = SECCOMP_CONTAINER_ANNOTATION + (typeof name === 'string' ? name : '');
  return annotationOf(pod, key) !== annotationOf(oldPod, key);
}

/** PSA's rule: only these changes can make a running pod less secure, so only they are re-judged. */
export function isSignificantPodUpdate(pod: KubeObject, oldPod: KubeObject): boolean {
  const spec = specOf(pod);
  const oldSpec = specOf(oldPod);
  for (const key of ['containers', 'initContainers'] as const) {
    const list = listOf(spec[key]);
    const oldList = listOf(oldSpec[key]);
    if (list.length !== oldList.length) return true;
    for (let i = 0; i < list.length; i++) if (containerChanged(list[i], oldList[i], pod, oldPod)) return true;
  }
  const oldEphemeral = listOf(oldSpec['ephemeralContainers']);
  for (const c of listOf(spec['ephemeralContainers'])) {
    const name = field(c, 'name');
    const old = oldEphemeral.find((o) => field(o, 'name') === name);
    if (old === undefined || containerChanged(c, old, pod, oldPod)) return true;
  }
  return false;
}

// ---- workload template change -----------------------------------------------------------

function at(obj: unknown, path: readonly (string | number)[]): unknown {
  let node = obj;
  for (const seg of path)
    node = isRecord(node) || Array.isArray(node) ? (node as Record<string, unknown>)[seg] : undefined;
  return node;
}

// ---- composing the answer ---------------------------------------------------------------

interface CheckFindings {
  /** The check's PSA reason: `unrestricted capabilities`. */
  readonly reason: string;
  /** podsec's wording of each finding that counted for the assignment. */
  readonly messages: string[];
}

interface AssignmentFindings {
  readonly name: string;
  readonly mode: Mode;
  /** check id -> the findings that counted for this assignment */
  readonly checks: Map<string, CheckFindings>;
}

const assignmentIndex = new WeakMap<Policy, ReadonlyMap<string, CompiledAssignment>>();

function assignmentsByName(policy: Policy): ReadonlyMap<string, CompiledAssignment> {
  let index = assignmentIndex.get(policy);
  if (index === undefined) {
    index = new Map(policy.assignments.map((a) => [a.name, a]));
    assignmentIndex.set(policy, index);
  }
  return index;
}

const labelModes = new Map<string, 'enforce' | 'audit' | 'warn'>([
  [`${PSA_LABEL_PREFIX}enforce`, 'enforce'],
  [`${PSA_LABEL_PREFIX}audit`, 'audit'],
  [`${PSA_LABEL_PREFIX}warn`, 'warn'],
]);

/** How an assignment answers: its effect for pods; for workloads its `workloads` setting. */
function modeFor(
  name: string,
  effect: Mode,
  workload: boolean,
  byName: ReadonlyMap<string, CompiledAssignment>,
): Mode | null {
  if (!workload) return effect;
  const compiled = byName.get(name);
  if (compiled !== undefined) return compiled.workloads;
  // Namespace labels, as PSA treats controllers: warn and audit, never enforce.
  const mode = labelModes.get(name);
  return mode === undefined || mode === 'enforce' ? null : mode;
}

/**
 * An assignment with exemptions may have had only some findings of a check exempted: PSA's
 * detail for that check (in the engine's message) would still name the exempted containers.
 * True when some finding of a counted check does not count for the assignment.
 */
function partlyExempted(
  g: AssignmentFindings,
  compiled: CompiledAssignment | undefined,
  findingsPerCheck: () => ReadonlyMap<string, number>,
): boolean {
  if (compiled === undefined || compiled.exemptions.length === 0) return false;
  const totals = findingsPerCheck();
  for (const [check, f] of g.checks) if (f.messages.length < (totals.get(check) ?? 0)) return true;
  return false;
}

/** One answer line and the same line without ` (assignment "name")`, to say it once. */
interface Line {
  readonly text: string;
  readonly key: string;
  readonly named: boolean;
}

/**
 * The line for one assignment, from the engine's PSA text for it (`<verb> PodSecurity
 * "<level>:<version>": <detail>`): the verb is the assignment's mode here (a workload answers by
 * its `workloads` setting, not its effect), a podsec.yaml assignment is named after the policy,
 * and a partly exempted assignment lists the findings that counted, in podsec's words.
 */
function lineFor(
  g: AssignmentFindings,
  verb: string,
  message: AssignmentMessage | undefined,
  compiled: CompiledAssignment | undefined,
  partial: boolean,
): Line {
  const quote = message === undefined ? -1 : message.text.indexOf('PodSecurity "');
  const close = quote === -1 ? -1 : message!.text.indexOf('": ', quote + 13);
  if (close === -1) {
    // The engine always words a counted violation; this is only a guard.
    const all = [...g.checks.values()].flatMap((f) => f.messages).join(', ');
    const text = `${verb} PodSecurity assignment ${JSON.stringify(g.name)}: ${all}`;
    return { text, key: text, named: true };
  }
  const text = message!.text;
  const label = text.slice(quote + 13, close);
  let detail: string;
  if (partial) {
    const parts: string[] = [];
    for (const f of g.checks.values()) parts.push(`${f.reason} (${f.messages.join(', ')})`);
    detail = parts.join(', ');
  } else detail = text.slice(close + 3);
  const sameVerb = (message!.effect === 'deny') === (g.mode === 'deny');
  const key = sameVerb && !partial ? text : `${verb} PodSecurity "${label}": ${detail}`;
  if (compiled === undefined) return { text: key, key, named: false };
  return {
    text: `${verb} PodSecurity "${label}" (assignment ${JSON.stringify(g.name)}): ${detail}`,
    key,
    named: true,
  };
}

/**
 * A podsec.yaml assignment and a namespace label at the same level and version find the same
 * violations: say it once, keeping the assignment's line (it names more).
 */
function withoutRepeats(lines: readonly Line[]): string[] {
  if (lines.length === 1) return [lines[0]!.text];
  const seen = new Set<string>();
  const out: string[] = [];
  const ordered = [...lines].sort((a, b) => Number(b.named) - Number(a.named));
  for (const line of ordered) {
    if (seen.has(line.key)) continue;
    seen.add(line.key);
    out.push(line.text);
  }
  return out;
}

interface Composed {
  readonly response: AdmissionResponse;
  readonly decision: Decision;
  readonly violations: string[];
}

/**
 * The answer from the engine's evaluation: violations grouped by the assignment they count for,
 * each group worded from the engine's PSA text for that assignment (`evaluation.messages`).
 */
function compose(
  request: AdmissionRequest,
  policy: Policy,
  evaluation: ObjectEvaluation,
  workload: boolean,
  annotations: Record<string, string> | null,
): Composed {
  const byName = assignmentsByName(policy);
  const groups = new Map<string, AssignmentFindings>();
  const violations = new Set<string>();
  let exempted: string[] | null = null;
  for (const v of evaluation.violations) {
    if (v.exemptedBy !== null) {
      const by = v.exemptedBy;
      (exempted ??= []).push(
        `${v.check} (${v.message}) exempted by assignment ${JSON.stringify(by.assignment)}: ${by.reason}` +
          (by.expires === null ? '' : ` (until ${by.expires})`),
      );
      continue;
    }
    for (const e of v.effects) {
      if (e.effect === 'disabled') continue;
      const mode = modeFor(e.assignment, e.effect, workload, byName);
      if (mode === null) continue;
      violations.add(v.check);
      let g = groups.get(e.assignment);
      if (g === undefined) {
        g = { name: e.assignment, mode, checks: new Map() };
        groups.set(e.assignment, g);
      }
      const f = g.checks.get(v.check);
      if (f === undefined) g.checks.set(v.check, { reason: v.reason, messages: [v.message] });
      else f.messages.push(v.message);
    }
  }
  if (exempted !== null) (annotations ??= {})[AUDIT_ANNOTATIONS.exemptedViolations] = exempted.join('; ');
  if (groups.size === 0) {
    const response = annotations === null ? ALLOWED : { allowed: true, auditAnnotations: annotations };
    return { response, decision: 'allow', violations: [] };
  }

  let totals: Map<string, number> | null = null;
  const findingsPerCheck = (): ReadonlyMap<string, number> => {
    if (totals === null) {
      totals = new Map();
      for (const v of evaluation.violations) totals.set(v.check, (totals.get(v.check) ?? 0) + 1);
    }
    return totals;
  };
  const line = (g: AssignmentFindings, verb: string): Line => {
    const compiled = byName.get(g.name);
    const message = evaluation.messages.find((m) => m.assignment === g.name);
    return lineFor(g, verb, message, compiled, partlyExempted(g, compiled, findingsPerCheck));
  };

  const denies: Line[] = [];
  const warns: Line[] = [];
  const audits: Line[] = [];
  for (const g of groups.values()) {
    if (g.mode === 'deny') denies.push(line(g, 'violates'));
  }
  for (const g of groups.values()) {
    if (g.mode === 'audit') audits.push(line(g, 'would violate'));
    // PSA adds no warnings to a request it rejects.
    else if (g.mode === 'warn' && denies.length === 0) warns.push(line(g, 'would violate'));
  }
  if (audits.length > 0)
    (annotations ??= {})[AUDIT_ANNOTATIONS.auditViolations] = withoutRepeats(audits).join('; ');
  const violationList = [...violations];
  if (denies.length > 0) {
    return {
      response: forbidden(request, withoutRepeats(denies).join('; '), annotations ?? undefined),
      decision: 'deny',
      violations: violationList,
    };
  }
  const response: { allowed: true; warnings?: string[]; auditAnnotations?: Record<string, string> } = {
    allowed: true,
  };
  if (warns.length > 0) response.warnings = withoutRepeats(warns);
  if (annotations !== null) response.auditAnnotations = annotations;
  return {
    response,
    decision: warns.length > 0 ? 'warn' : audits.length > 0 ? 'audit' : 'allow',
    violations: violationList,
  };
}

// ---- the handler ------------------------------------------------------------------------

const EMPTY_CONFIG = {
  apiVersion: API_VERSION,
  kind: KIND,
  exemptions: { usernames: [], namespaces: [], runtimeClasses: [] },
  podTemplatePaths: [],
  assignments: [],
} as const;

interface LabelFacts {
  /** Label problems, recorded on pods as PSA records them (`error` audit annotation). */
  readonly errors: readonly string[];
  /** The enforce label as the engine compiles it, or null when it is privileged. */
  readonly enforce: CompiledAssignment | null;
}

const NO_LABEL_FACTS: LabelFacts = Object.freeze({ errors: Object.freeze([]), enforce: null });
/**
 * Keyed by the labels object: an informer cache hands out the same object until it changes. The
 * compiled enforce assignment's info and rank depend on the label values alone, not the policy.
 */
const labelFacts = new WeakMap<object, LabelFacts>();
const ENFORCE_LABEL = `${PSA_LABEL_PREFIX}enforce`;
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

function factsOf(policy: Policy, labels: Readonly<Record<string, string>>): LabelFacts {
  let facts = labelFacts.get(labels);
  if (facts === undefined) {
    facts = NO_LABEL_FACTS;
    for (const key in labels) {
      if (!key.startsWith(PSA_LABEL_PREFIX)) continue;
      facts = {
        errors: namespacePolicy(labels).errors,
        enforce: labelAssignments(policy, labels).find((a) => a.name === ENFORCE_LABEL) ?? null,
      };
      break;
    }
    labelFacts.set(labels, facts);
  }
  return facts;
}

/**
 * PSA's `enforce-policy` annotation: the policy that enforced this pod, `<level>:<version>`. With
 * several deny sources (deny assignments in scope and the enforce label) the strictest is named,
 * by the engine's own ranking and scope; with none, `privileged:latest` as PSA says for an
 * unenforced namespace.
 */
function enforcePolicyText(policy: Policy, facts: LabelFacts, namespace: string, object: KubeObject): string {
  let best = facts.enforce;
  let podLabels: Readonly<Record<string, string>> | null = null;
  for (const a of policy.assignments) {
    if (a.effect !== 'deny') continue;
    if (podLabels === null) {
      const labels = field(object.metadata, 'labels');
      podLabels = isRecord(labels) ? (labels as Record<string, string>) : NO_LABELS;
    }
    if (!inScope(a, namespace, podLabels)) continue;
    if (best === null || a.rank > best.rank) best = a;
  }
  return best === null ? 'privileged:latest' : `${best.info.level}:${best.info.version}`;
}

function isPod(obj: KubeObject | null): obj is KubeObject {
  return obj !== null && obj.apiVersion === 'v1' && obj.kind === 'Pod';
}

const NO_CLAIMS: ClaimsLookup = Object.freeze({ ok: true, claims: Object.freeze([]) });

export type AdmissionHandler = (request: AdmissionRequest) => Promise<AdmissionDecision>;

/**
 * Creates the request handler. It never throws and never rejects: a fault becomes a decision
 * (denied for pods and namespaces, allowed with an `error` audit annotation otherwise).
 */
export function createAdmissionHandler(deps: AdmissionDeps): AdmissionHandler {
  const labelOnly = compilePolicy({ ...EMPTY_CONFIG }, new Date(deps.now()));
  const podsInNamespace = (namespace: string): readonly KubeObject[] => deps.podsInNamespace(namespace);
  const now = (): number => deps.now();
  const identityClaims = async (request: AdmissionRequest): Promise<ClaimsLookup> => {
    if (!needsClaims(request)) return NO_CLAIMS;
    if (deps.identityClaims === undefined)
      return { ok: false, reason: 'this webhook keeps no AzureIdentity cache' };
    try {
      return { ok: true, claims: await deps.identityClaims() };
    } catch (err) {
      return { ok: false, reason: errorText(err) };
    }
  };

  async function handle(
    request: AdmissionRequest,
    policy: Policy,
    category: Category,
  ): Promise<AdmissionDecision> {
    if (category === 'other') return decision(request, ALLOWED, 'skip');
    if (category === 'namespace') return reviewNamespace(request, policy, podsInNamespace, now);
    if (category === 'identity') {
      let claims = await identityClaims(request);
      // From here to remember() nothing awaits: no other request's check runs in between.
      const recent = deps.recentIdentityClaims;
      if (claims.ok && recent !== undefined && needsClaims(request)) {
        const pending = recent.list();
        if (pending.length > 0) claims = { ok: true, claims: [...claims.claims, ...pending] };
      }
      const decided = reviewIdentity(request, claims);
      const admitted = admittedClaim(request, decided);
      if (admitted !== undefined) recent?.remember(admitted);
      return decided;
    }

    const workload = category === 'workload';
    if (workload ? request.subResource !== '' : IGNORED_POD_SUBRESOURCES.has(request.subResource)) {
      return decision(request, ALLOWED, 'skip');
    }
    if (request.operation !== 'CREATE' && request.operation !== 'UPDATE')
      return decision(request, ALLOWED, 'skip');

    const namespace = request.namespace;
    if (namespace !== '' && policy.exemptNamespaces.has(namespace)) {
      return decision(request, EXEMPT_RESPONSES.namespace, 'exempt');
    }
    const username = request.userInfo.username ?? '';
    if (username !== '' && policy.exemptUsernames.has(username)) {
      return decision(request, EXEMPT_RESPONSES.user, 'exempt');
    }

    const object = request.object;
    if (workload) {
      if (object === null) throw new Error(`a ${request.operation} request without an object`);
      if (request.operation === 'UPDATE') {
        if (request.oldObject === null) throw new Error('an UPDATE request without oldObject');
        const extraction = extractPod(object, policy.podTemplatePaths);
        if (extraction.kind !== 'template')
          throw new Error(`failed to extract the pod template of ${request.kind.kind}`);
        const path = extraction.target.basePath;
        // Both are parsed JSON (plain objects, arrays, primitives): key order does not matter,
        // array order does; only -0 against 0 would count as a change (judged: the safe side).
        if (isDeepStrictEqual(at(object, path), at(request.oldObject, path)))
          return decision(request, ALLOWED, 'skip');
      }
    } else {
      if (!isPod(object)) throw new Error('the request object is not a v1 Pod');
      if (request.operation === 'UPDATE') {
        if (!isPod(request.oldObject)) throw new Error('the request oldObject is not a v1 Pod');
        if (!isSignificantPodUpdate(object, request.oldObject)) return decision(request, ALLOWED, 'skip');
      }
    }

    if (namespace === '') throw new Error(`a namespaced ${request.kind.kind} request without a namespace`);
    let labels: Record<string, string> | undefined;
    try {
      labels = await deps.namespaceLabels(namespace);
    } catch (err) {
      throw new Error(`failed to look up namespace ${JSON.stringify(namespace)}: ${errorText(err)}`, {
        cause: err,
      });
    }
    if (labels === undefined)
      throw new Error(`failed to look up namespace ${JSON.stringify(namespace)}: not found`);

    const evaluation = evaluateObject(policy, object, { namespace, username, namespaceLabels: labels });
    if (evaluation.status === 'notApplicable') {
      throw new Error(`failed to extract the pod template: ${evaluation.reason ?? 'unknown kind'}`);
    }
    if (evaluation.status === 'exempt') return decision(request, EXEMPT_RESPONSES.runtimeClass, 'exempt');

    let annotations: Record<string, string> | null = null;
    const facts = factsOf(policy, labels);
    const problems = facts.errors;
    if (problems.length > 0)
      annotations = { [AUDIT_ANNOTATIONS.error]: `Failed to parse policy: ${problems.join('; ')}` };
    if (!workload)
      (annotations ??= {})[AUDIT_ANNOTATIONS.enforcePolicy] = enforcePolicyText(
        policy,
        facts,
        namespace,
        object,
      );
    if (evaluation.violations.length === 0) {
      return decision(
        request,
        annotations === null ? ALLOWED : { allowed: true, auditAnnotations: annotations },
        'allow',
      );
    }
    const composed = compose(request, policy, evaluation, workload, annotations);
    return decision(request, composed.response, composed.decision, composed.violations);
  }

  return async (request: AdmissionRequest): Promise<AdmissionDecision> => {
    let category: Category = 'other';
    try {
      // Pods and namespaces are known before anything else can fail, so a fault fails closed for them.
      category = categorize(request, null);
      const policy = deps.policy().policy ?? labelOnly;
      category = categorize(request, policy);
      return await handle(request, policy, category);
    } catch (err) {
      return faultDecision(request, category, err);
    }
  };
}
