/**
 * Requests for the aad-pod-identity resources (AzureIdentity, AzureIdentityBinding,
 * AzurePodIdentityException), answered the way the API server answers an invalid object.
 *
 * Why this exists: a client id names one application, so the controller and the issuer refuse
 * every AzureIdentity whose `spec.clientID` is claimed more than once (identity/crds/duplicates.ts).
 * That is safe, but it lets anyone who may create an AzureIdentity in one namespace switch off
 * another namespace's identity by copying its client id. Refusing the copy at admission keeps the
 * first claimant working. Invalid resources are refused here too, with the validators' field
 * paths and reasons, so `kubectl apply` says what is wrong instead of the controller's log.
 *
 * Answers: 422 Invalid (`AzureIdentity.aadpodidentity.k8s.io "x" is invalid: spec.clientID:
 * Duplicate value: "..."`) with one cause per problem, as apimachinery's NewInvalid. An UPDATE is
 * refused only for what it changes (new problems, a client id changed to a claimed one), so an
 * object that was already invalid or shared before the webhook existed can still be edited or
 * have its finalizers removed; it gets a warning instead. Other namespaces' claimants are not
 * named to the requester (they may not read those namespaces); the audit annotation
 * `duplicate-client-id` names them for the cluster's administrators.
 *
 * Pure: the request and the known claims in, the decision out. Faults throw; the handler turns
 * them into a denial (these kinds fail closed).
 */
import { isRecord } from '../lib/is-record.js';
import { AAD_POD_IDENTITY_GROUP } from '../identity/crds/types.js';
import type { FieldProblem } from '../identity/crds/types.js';
import { claimedClientId, clientIdKey } from '../identity/crds/duplicates.js';
import { validateBinding, validateException, validateIdentity } from '../identity/crds/validate.js';
import type { KubeObject } from '../kube/types.js';
import { invalidResponse } from './invalid.js';
import type {
  AdmissionDecision,
  AdmissionRequest,
  AdmissionResponse,
  Decision,
  IdentityClaim,
  StatusCause,
} from './types.js';

/** Resource (plural) -> kind, for the aad-pod-identity kinds this webhook judges. */
export const IDENTITY_RESOURCES = {
  azureidentities: 'AzureIdentity',
  azureidentitybindings: 'AzureIdentityBinding',
  azurepodidentityexceptions: 'AzurePodIdentityException',
} as const;
export type IdentityKind = (typeof IDENTITY_RESOURCES)[keyof typeof IDENTITY_RESOURCES];

/** The check ids counted in metrics (`violations`). */
export const IDENTITY_CHECKS = {
  invalid: 'identity-invalid',
  duplicateClientId: 'identity-duplicate-client-id',
} as const;

/** The audit annotation naming the other claimants of a refused client id. */
export const DUPLICATE_AUDIT_ANNOTATION = 'duplicate-client-id';

/** What the caller could learn about existing claims: the list, or why not. */
export type ClaimsLookup =
  | { readonly ok: true; readonly claims: readonly IdentityClaim[] }
  | { readonly ok: false; readonly reason: string };

/** The identity kind a request is for, by its resource (group and plural), or null. */
export function identityKindOf(request: AdmissionRequest): IdentityKind | null {
  const { group, resource } = request.resource;
  if (group !== AAD_POD_IDENTITY_GROUP) return null;
  return Object.hasOwn(IDENTITY_RESOURCES, resource)
    ? IDENTITY_RESOURCES[resource as keyof typeof IDENTITY_RESOURCES]
    : null;
}

/** The claim an AzureIdentity object makes (namespace defaults to `default`, as duplicates.ts). */
export function claimOf(obj: unknown): IdentityClaim | undefined {
  const clientID = claimedClientId(obj);
  const meta: unknown = isRecord(obj) ? obj['metadata'] : undefined;
  if (clientID === undefined || !isRecord(meta)) return undefined;
  const name = meta['name'];
  const ns = meta['namespace'];
  if (typeof name !== 'string' || name === '') return undefined;
  return { namespace: typeof ns === 'string' && ns !== '' ? ns : 'default', name, clientID };
}

/**
 * The claim a decision lets into the cluster: an allowed AzureIdentity CREATE or UPDATE that is
 * not a dry run and carries a client id; undefined otherwise.
 */
export function admittedClaim(
  request: AdmissionRequest,
  decision: AdmissionDecision,
): IdentityClaim | undefined {
  if (!decision.response.allowed || request.dryRun || !needsClaims(request) || request.object === null)
    return undefined;
  return claimOf(withNamespace(request.object, request.namespace));
}

/** True when the answer depends on the existing claims: an AzureIdentity CREATE or UPDATE. */
export function needsClaims(request: AdmissionRequest): boolean {
  return (
    identityKindOf(request) === 'AzureIdentity' &&
    request.subResource === '' &&
    (request.operation === 'CREATE' || request.operation === 'UPDATE')
  );
}

const ALLOWED: AdmissionResponse = Object.freeze({ allowed: true });

function decide(
  request: AdmissionRequest,
  response: AdmissionResponse,
  decision: Decision,
  violations: string[] = [],
): AdmissionDecision {
  return {
    response,
    metrics: { kind: request.kind.kind, namespace: request.namespace, decision, violations },
  };
}

/** The object as stored: the API server fills the namespace from the URL; add it when absent. */
function withNamespace(obj: KubeObject, namespace: string): KubeObject {
  const meta: unknown = obj.metadata;
  if (namespace === '' || !isRecord(meta)) return obj;
  const ns = meta['namespace'];
  if (typeof ns === 'string' && ns !== '') return obj;
  return { ...obj, metadata: { ...meta, namespace } };
}

function problemsOf(kind: IdentityKind, obj: KubeObject): FieldProblem[] {
  const v =
    kind === 'AzureIdentity'
      ? validateIdentity(obj)
      : kind === 'AzureIdentityBinding'
        ? validateBinding(obj)
        : validateException(obj);
  return v.ok ? [] : v.problems;
}

function sameProblems(a: readonly FieldProblem[], b: readonly FieldProblem[]): boolean {
  return a.length === b.length && a.every((p, i) => p.path === b[i]!.path && p.message === b[i]!.message);
}

function objectName(request: AdmissionRequest, obj: KubeObject): string {
  const meta: unknown = obj.metadata;
  if (isRecord(meta) && typeof meta['name'] === 'string' && meta['name'] !== '') return meta['name'];
  return request.name;
}

/** `spec.clientID: must ...`; a problem of the whole object has no path. */
function problemText(p: FieldProblem): string {
  return p.path === '' ? p.message : `${p.path}: ${p.message}`;
}

function sortedRefs(claims: readonly IdentityClaim[]): string[] {
  return [...new Set(claims.map((c) => `${c.namespace}/${c.name}`))].sort();
}

/** Why a claimed client id is refused, naming only claimants in the requester's own namespace. */
function duplicateDetail(namespace: string, others: readonly IdentityClaim[]): string {
  const here = sortedRefs(others.filter((c) => c.namespace === namespace)).map((r) =>
    r.slice(r.indexOf('/') + 1),
  );
  const elsewhere = others.some((c) => c.namespace !== namespace);
  const parts: string[] = [];
  if (here.length > 0)
    parts.push(`AzureIdentity ${here.map((n) => JSON.stringify(n)).join(', ')} in this namespace`);
  if (elsewhere) parts.push('an AzureIdentity in another namespace');
  return (
    `already claimed by ${parts.join(' and ')}; a client id names one application, and ` +
    'two AzureIdentities claiming it would make both unusable'
  );
}

/**
 * Decides a request for an AzureIdentity, AzureIdentityBinding or AzurePodIdentityException.
 * `claims` matters only when `needsClaims(request)`; a failed lookup then throws (the handler
 * refuses: fail closed), except for an UPDATE that keeps its client id, which it cannot make worse.
 */
export function reviewIdentity(request: AdmissionRequest, claims: ClaimsLookup): AdmissionDecision {
  const kind = identityKindOf(request);
  if (kind === null || request.subResource !== '') return decide(request, ALLOWED, 'skip');
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE')
    return decide(request, ALLOWED, 'skip');
  if (request.object === null) throw new Error(`a ${kind} ${request.operation} request without an object`);
  const update = request.operation === 'UPDATE';
  if (update && request.oldObject === null) throw new Error(`a ${kind} UPDATE request without oldObject`);

  const object = withNamespace(request.object, request.namespace);
  const oldObject = update ? withNamespace(request.oldObject!, request.namespace) : null;
  const name = objectName(request, object);
  const problems = problemsOf(kind, object);
  const oldProblems = oldObject === null ? [] : problemsOf(kind, oldObject);

  const causes: StatusCause[] = [];
  const warnings: string[] = [];
  const violations: string[] = [];
  let annotations: Record<string, string> | undefined;

  if (problems.length > 0) {
    if (!update || !sameProblems(problems, oldProblems)) {
      for (const p of problems)
        causes.push({ reason: 'FieldValueInvalid', message: p.message, field: p.path });
      violations.push(IDENTITY_CHECKS.invalid);
    } else {
      warnings.push(`this ${kind} is still invalid and is ignored: ${problems.map(problemText).join('; ')}`);
    }
  }

  if (kind === 'AzureIdentity') {
    const clientID = claimedClientId(object);
    if (clientID !== undefined) {
      const key = clientIdKey(clientID);
      const oldClientID = oldObject === null ? undefined : claimedClientId(oldObject);
      const kept = oldClientID !== undefined && clientIdKey(oldClientID) === key;
      const namespace = claimOf(object)?.namespace ?? (request.namespace || 'default');
      if (!claims.ok) {
        // Keeping the client id cannot create a new duplicate; anything else must not be guessed.
        if (!kept)
          throw new Error(`cannot check whether client id ${clientID} is already claimed: ${claims.reason}`);
      } else {
        const others = claims.claims.filter(
          (c) => clientIdKey(c.clientID) === key && !(c.namespace === namespace && c.name === name),
        );
        if (others.length > 0) {
          annotations = { [DUPLICATE_AUDIT_ANNOTATION]: sortedRefs(others).join(', ') };
          if (kept) {
            warnings.push(
              `client id ${clientID} is also claimed by another AzureIdentity; none of them is usable until only one remains`,
            );
          } else {
            causes.push({
              reason: 'FieldValueDuplicate',
              message: `Duplicate value: ${JSON.stringify(clientID)}: ${duplicateDetail(namespace, others)}`,
              field: 'spec.clientID',
            });
            violations.push(IDENTITY_CHECKS.duplicateClientId);
          }
        }
      }
    }
  }

  if (causes.length > 0) {
    const refused = invalidResponse(request, name, causes);
    return decide(
      request,
      annotations === undefined ? refused : { ...refused, auditAnnotations: annotations },
      'deny',
      violations,
    );
  }
  if (warnings.length === 0 && annotations === undefined) return decide(request, ALLOWED, 'allow');
  const response: { allowed: true; warnings?: string[]; auditAnnotations?: Record<string, string> } = {
    allowed: true,
  };
  if (warnings.length > 0) response.warnings = warnings;
  if (annotations !== undefined) response.auditAnnotations = annotations;
  return decide(request, response, warnings.length > 0 ? 'warn' : 'allow');
}
