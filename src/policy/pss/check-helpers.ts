/**
 * Shared building blocks for the PSS checks. Two speeds on purpose: the fast path (predicates over
 * containers with index loops and no closures) decides pass/fail without allocating, and only a
 * failing check walks the pod again with `containerRefs` to build upstream's message and findings.
 * Manifests are untrusted, so every accessor checks shapes instead of trusting the loose types.
 */
import { isRecord } from '../../lib/is-record.js';
import type { Container, ContainerField, PodSpec, SecurityContext } from '../../kube/types.js';
import type { FieldPath } from '../../lib/path.js';
import type { CheckResult, Finding } from './types.js';

/** The one result every passing check returns: shared and frozen, so passing allocates nothing. */
export const ALLOWED: CheckResult = Object.freeze({ allowed: true as const });

/** PSA's visiting order: init containers, then containers, then ephemeral containers. */
export const VISIT_ORDER = ['initContainers', 'containers', 'ephemeralContainers'] as const;

const NO_ITEMS: readonly unknown[] = Object.freeze([]);

/** Re-exported so the checks keep importing every helper from one place. */
export { isRecord };

/** The list when it is one, else an empty shared list. */
export function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : NO_ITEMS;
}

/** A container's security context when it is an object. */
export function securityContextOf(container: Container): SecurityContext | undefined {
  const sc: unknown = container.securityContext;
  return isRecord(sc) ? sc : undefined;
}

/** Go's zero value for a missing string: manifests may omit names and types. */
export function str(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value) ?? '';
}

/** `spec.os.name: windows` (v1.25+ relaxations of three restricted checks). */
export function isWindowsPod(spec: PodSpec): boolean {
  const os: unknown = spec.os;
  return isRecord(os) && os['name'] === 'windows';
}

/** `spec.hostUsers: false`: the pod runs in a user namespace (v1.35+ relaxations). */
export function isUserNamespacePod(spec: PodSpec): boolean {
  return spec.hostUsers === false;
}

/** True when `pred` holds for any container in any of the three lists. No allocation. */
export function anyContainer<A>(spec: PodSpec, pred: (c: Container, arg: A) => boolean, arg: A): boolean {
  for (let f = 0; f < VISIT_ORDER.length; f++) {
    const list = listOf(spec[VISIT_ORDER[f]!]);
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (isRecord(c) && pred(c, arg)) return true;
    }
  }
  return false;
}

/** A container located in the pod, for the slow (failing) path. */
export interface ContainerRef {
  readonly container: Container;
  readonly field: ContainerField;
  readonly index: number;
  readonly name: string;
  readonly image: string | undefined;
}

/** Every container in PSA's visiting order, with where it sits. Only called when a check fails. */
export function containerRefs(spec: PodSpec): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const field of VISIT_ORDER) {
    const list = listOf(spec[field]);
    for (let index = 0; index < list.length; index++) {
      const c = list[index];
      if (!isRecord(c)) continue;
      const container = c as Container;
      const image = typeof container.image === 'string' ? container.image : undefined;
      out.push({ container, field, index, name: str(container.name), image });
    }
  }
  return out;
}

/** A finding about one container; `rest` continues the path below the container. */
export function containerFinding(ref: ContainerRef, rest: FieldPath, message: string): Finding {
  return {
    path: ['spec', ref.field, ref.index, ...rest],
    container: ref.name,
    containerField: ref.field,
    image: ref.image,
    message,
  };
}

/** A finding about the pod itself (spec or metadata). */
export function podFinding(path: FieldPath, message: string): Finding {
  return { path, container: null, message };
}

export function fail(reason: string, detail: string, findings: readonly Finding[]): CheckResult {
  return { allowed: false, reason, detail, findings };
}

export function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** `"a", "b"`, as upstream quotes lists of names. */
export function joinQuote(items: readonly string[]): string {
  return items.length === 0 ? '' : `"${items.join('", "')}"`;
}

/** Sorted, de-duplicated copy (byte order, as Go's string sets list). */
export function sortedUnique(items: Iterable<string>): string[] {
  return [...new Set(items)].sort(byteOrder);
}

export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `container "a"` / `containers "a", "b"`. */
export function containersPhrase(names: readonly string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

/** Go's %q for the strings manifests carry (JSON quoting matches it for printable text). */
export function goQuote(value: string): string {
  return JSON.stringify(value);
}
