/**
 * AdmissionReview decoding and encoding. The server parses the body (with its own size and
 * depth limits) and hands us a JSON value; we check only what the admission core relies on and
 * say exactly what is wrong, because a webhook that answers 400 with a vague message is
 * impossible to debug from the API server's logs.
 *
 * Encoding keeps answers within what the API server accepts:
 * - warnings: the API server drops a warning holding control characters, drops duplicates, and
 *   once the warnings of a request exceed 4,096 characters (runes) in total it cuts each to 256
 *   and stops adding more (k8s.io/apiserver endpoints/filters/warning.go; the AdmissionResponse
 *   docs: "Warnings over 256 characters and large numbers of warnings may be truncated"). We do
 *   the same before sending, so what the user sees is our choice: control characters become
 *   spaces, a cut is marked with an ellipsis, and dropped warnings are counted in a last line.
 * - audit annotation keys: the API server prefixes each key with the webhook's name and a `/`
 *   and requires a valid qualified name, so a key must be a bare name (no `/`, at most 63
 *   characters, alphanumeric at both ends; `-`, `_`, `.` inside). Invalid keys are dropped.
 */
import { isRecord } from '../lib/is-record.js';
import type { KubeObject } from '../kube/types.js';
import { ADMISSION_API_VERSION, ADMISSION_REVIEW_KIND, OPERATIONS } from './types.js';
import type {
  AdmissionRequest,
  AdmissionResponse,
  AdmissionStatus,
  EncodedReview,
  GroupVersionKind,
  GroupVersionResource,
  Operation,
  UserInfo,
} from './types.js';

export type DecodeResult =
  | { readonly ok: true; readonly request: AdmissionRequest }
  | { readonly ok: false; readonly status: 400; readonly message: string };

/** The API server's limits on warnings (runes). */
export const WARNINGS_TOTAL_LIMIT = 4096;
export const WARNING_ITEM_LIMIT = 256;
/** A qualified name's name part (what follows the webhook-name prefix). */
export const AUDIT_KEY_MAX_LENGTH = 63;

function bad(message: string): DecodeResult {
  return { ok: false, status: 400, message };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 64 ? `"${v.slice(0, 64)}..."` : JSON.stringify(v);
  return typeof v;
}

function optionalString(obj: Record<string, unknown>, key: string, where: string): string | Error {
  const v = obj[key];
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : new Error(`${where}.${key} must be a string, got ${describe(v)}`);
}

function decodeGvk(v: unknown, where: string): GroupVersionKind | string {
  if (!isRecord(v)) return `${where} is missing (expected {group, version, kind})`;
  const group = optionalString(v, 'group', where);
  const version = optionalString(v, 'version', where);
  if (group instanceof Error) return group.message;
  if (version instanceof Error) return version.message;
  const kind = v['kind'];
  if (typeof kind !== 'string' || kind === '') return `${where}.kind must be a non-empty string`;
  return { group, version, kind };
}

function decodeGvr(v: unknown, where: string): GroupVersionResource | string {
  if (!isRecord(v)) return `${where} is missing (expected {group, version, resource})`;
  const group = optionalString(v, 'group', where);
  const version = optionalString(v, 'version', where);
  if (group instanceof Error) return group.message;
  if (version instanceof Error) return version.message;
  const resource = v['resource'];
  if (typeof resource !== 'string' || resource === '') return `${where}.resource must be a non-empty string`;
  return { group, version, resource };
}

function decodeObject(v: unknown, where: string): KubeObject | null | string {
  if (v === undefined || v === null) return null;
  if (!isRecord(v)) return `${where} must be an object, got ${describe(v)}`;
  return v;
}

const NO_USER: UserInfo = Object.freeze({});

function decodeUser(v: unknown): UserInfo {
  if (!isRecord(v)) return NO_USER;
  const username = v['username'];
  return typeof username === 'string' ? { username } : NO_USER;
}

function isOperation(v: unknown): v is Operation {
  return typeof v === 'string' && (OPERATIONS as readonly string[]).includes(v);
}

/**
 * Validates a parsed AdmissionReview (admission.k8s.io/v1 only) and returns its request. Any
 * problem is a 400 with a message naming the field; nothing here throws.
 */
export function decodeReview(value: unknown): DecodeResult {
  if (!isRecord(value)) return bad(`an AdmissionReview must be a JSON object, got ${describe(value)}`);
  const apiVersion = value['apiVersion'];
  if (apiVersion !== ADMISSION_API_VERSION) {
    if (apiVersion === 'admission.k8s.io/v1beta1') {
      return bad(
        `apiVersion admission.k8s.io/v1beta1 is not supported: set admissionReviewVersions: ["v1"] in the webhook configuration`,
      );
    }
    return bad(
      apiVersion === undefined
        ? `apiVersion is missing (expected ${ADMISSION_API_VERSION})`
        : `unsupported apiVersion ${describe(apiVersion)} (expected ${ADMISSION_API_VERSION})`,
    );
  }
  const kind = value['kind'];
  if (kind !== ADMISSION_REVIEW_KIND) {
    return bad(
      kind === undefined
        ? `kind is missing (expected ${ADMISSION_REVIEW_KIND})`
        : `unsupported kind ${describe(kind)} (expected ${ADMISSION_REVIEW_KIND})`,
    );
  }
  const req = value['request'];
  if (req === undefined || req === null)
    return bad('request is missing: an AdmissionReview to review needs one');
  if (!isRecord(req)) return bad(`request must be an object, got ${describe(req)}`);

  const uid = req['uid'];
  if (uid === undefined || uid === null) return bad('request.uid is missing');
  if (typeof uid !== 'string') return bad(`request.uid must be a string, got ${describe(uid)}`);
  if (uid === '') return bad('request.uid is empty');

  const operation = req['operation'];
  if (operation === undefined || operation === null) return bad('request.operation is missing');
  if (!isOperation(operation)) {
    return bad(`request.operation ${describe(operation)} is not one of ${OPERATIONS.join(', ')}`);
  }

  const gvk = decodeGvk(req['kind'], 'request.kind');
  if (typeof gvk === 'string') return bad(gvk);
  const gvr = decodeGvr(req['resource'], 'request.resource');
  if (typeof gvr === 'string') return bad(gvr);

  const subResource = optionalString(req, 'subResource', 'request');
  const name = optionalString(req, 'name', 'request');
  const namespace = optionalString(req, 'namespace', 'request');
  for (const s of [subResource, name, namespace]) if (s instanceof Error) return bad(s.message);

  const object = decodeObject(req['object'], 'request.object');
  if (typeof object === 'string') return bad(object);
  const oldObject = decodeObject(req['oldObject'], 'request.oldObject');
  if (typeof oldObject === 'string') return bad(oldObject);

  const request: {
    -readonly [K in keyof AdmissionRequest]: AdmissionRequest[K];
  } = {
    uid,
    kind: gvk,
    resource: gvr,
    subResource: subResource as string,
    name: name as string,
    namespace: namespace as string,
    operation,
    userInfo: decodeUser(req['userInfo']),
    object,
    oldObject,
    dryRun: req['dryRun'] === true,
  };
  // The request* fields are informational; keep them only when well formed.
  const requestKind = req['requestKind'] === undefined ? null : decodeGvk(req['requestKind'], 'requestKind');
  if (requestKind !== null && typeof requestKind !== 'string') request.requestKind = requestKind;
  const requestResource =
    req['requestResource'] === undefined ? null : decodeGvr(req['requestResource'], 'requestResource');
  if (requestResource !== null && typeof requestResource !== 'string')
    request.requestResource = requestResource;
  if (typeof req['requestSubResource'] === 'string') request.requestSubResource = req['requestSubResource'];
  return { ok: true, request };
}

// ---- encoding ---------------------------------------------------------------------------

/** Go's unicode.IsControl: C0, DEL and C1. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex -- as above
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function runeLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A surrogate pair is one rune.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function truncateRunes(s: string, max: number): string {
  if (runeLength(s) <= max) return s;
  const runes = Array.from(s);
  return `${runes.slice(0, max - 1).join('')}…`;
}

/**
 * Applies the API server's warning limits (see the module comment): control characters become
 * spaces, empty and duplicate warnings go, and when the total exceeds 4,096 runes each warning
 * is cut to 256 and the list stops at the total, ending with how many were left out.
 */
export function limitWarnings(warnings: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const raw of warnings) {
    if (typeof raw !== 'string') continue;
    const text = HAS_CONTROL.test(raw) ? raw.replace(CONTROL, ' ') : raw;
    if (text.trim() === '' || seen.has(text)) continue;
    seen.add(text);
    out.push(text);
    total += runeLength(text);
  }
  if (total <= WARNINGS_TOTAL_LIMIT) return out;

  const limited: string[] = [];
  // Room for the closing "(N more warnings not shown)".
  const budget = WARNINGS_TOTAL_LIMIT - 48;
  let written = 0;
  for (let i = 0; i < out.length; i++) {
    const text = truncateRunes(out[i]!, WARNING_ITEM_LIMIT);
    const n = runeLength(text);
    if (written + n > budget) {
      const left = out.length - i;
      limited.push(`(${left} more warning${left === 1 ? '' : 's'} not shown)`);
      break;
    }
    limited.push(text);
    written += n;
  }
  return limited;
}

const AUDIT_KEY = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** A key the API server accepts after prefixing it with `<webhook name>/`. */
export function isValidAuditAnnotationKey(key: string): boolean {
  return key.length <= AUDIT_KEY_MAX_LENGTH && AUDIT_KEY.test(key);
}

/** The AdmissionReview answering request `uid`, within the API server's limits. */
export function encodeResponse(uid: string, response: AdmissionResponse): EncodedReview {
  const out: {
    uid: string;
    allowed: boolean;
    status?: AdmissionStatus;
    warnings?: string[];
    auditAnnotations?: Record<string, string>;
  } = { uid, allowed: response.allowed === true };
  if (response.status !== undefined) {
    const status = response.status;
    out.status =
      status.details === undefined
        ? { code: status.code, message: String(status.message), reason: String(status.reason) }
        : {
            code: status.code,
            message: String(status.message),
            reason: String(status.reason),
            details: status.details,
          };
  }
  if (response.warnings !== undefined && response.warnings.length > 0) {
    const warnings = limitWarnings(response.warnings);
    if (warnings.length > 0) out.warnings = warnings;
  }
  if (response.auditAnnotations !== undefined) {
    let annotations: Record<string, string> | undefined;
    for (const [key, value] of Object.entries(response.auditAnnotations)) {
      if (!isValidAuditAnnotationKey(key) || typeof value !== 'string') continue;
      (annotations ??= {})[key] = value;
    }
    if (annotations !== undefined) out.auditAnnotations = annotations;
  }
  return { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_REVIEW_KIND, response: out };
}
