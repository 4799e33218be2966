/**
 * Building blocks for parameterised checks. A visitor threads a findings list that stays `null`
 * while everything passes, so a passing pod allocates nothing; findings (and the PSA-style
 * `reason (detail)` text) are built only for what fails.
 */
import type { Container, ContainerField, ObjectMeta, PodSpec } from '../../kube/types.js';
import type { FieldPath } from '../../lib/path.js';
import { ALLOWED, fail, isRecord, listOf, VISIT_ORDER } from '../pss/check-helpers.js';
import type { CheckResult, Finding } from '../pss/types.js';

export { ALLOWED, isRecord, listOf };

export type Findings = Finding[] | null;

export type ContainerVisitor<P> = (
  c: Container,
  field: ContainerField,
  index: number,
  spec: PodSpec,
  meta: ObjectMeta,
  p: P,
  acc: Findings,
) => Findings;

/** Runs `visit` over init containers, containers and ephemeral containers (PSA's order). */
export function visitContainers<P>(
  spec: PodSpec,
  meta: ObjectMeta,
  p: P,
  visit: ContainerVisitor<P>,
  acc: Findings = null,
): Findings {
  for (let f = 0; f < VISIT_ORDER.length; f++) {
    const field = VISIT_ORDER[f]!;
    const list = listOf(spec[field]);
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (isRecord(c)) acc = visit(c, field, i, spec, meta, p, acc);
    }
  }
  return acc;
}

export function push(acc: Findings, f: Finding): Finding[] {
  if (acc === null) return [f];
  acc.push(f);
  return acc;
}

export function containerName(c: Container): string {
  return typeof c.name === 'string' ? c.name : '';
}

/** A finding about one container; `rest` continues the path below it. */
export function atContainer(
  c: Container,
  field: ContainerField,
  index: number,
  rest: FieldPath,
  message: string,
): Finding {
  return {
    path: ['spec', field, index, ...rest],
    container: containerName(c),
    containerField: field,
    image: typeof c.image === 'string' ? c.image : undefined,
    message,
  };
}

export function atPod(path: FieldPath, message: string): Finding {
  return { path, container: null, message };
}

/** `reason (container "a": msg; pod: msg)` in PSA's shape, from the findings. */
export function result(reason: string, findings: Findings): CheckResult {
  if (findings === null || findings.length === 0) return ALLOWED;
  const detail = findings
    .map((f) => (f.container === null ? f.message : `container "${f.container}": ${f.message}`))
    .join('; ');
  return fail(reason, detail, findings);
}

/** A manifest value for a message: strings as they are, anything else as JSON. */
export function show(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}

export function securityContext(v: { securityContext?: unknown }): Record<string, unknown> | undefined {
  const sc = v.securityContext;
  return isRecord(sc) ? sc : undefined;
}

/** A name matcher: exact names, `prefix*` entries (when allowed) and `*` for anything. */
export interface NameMatcher {
  readonly any: boolean;
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  readonly caseInsensitive: boolean;
}

export function nameMatcher(
  values: readonly string[],
  opts: { caseInsensitive?: boolean; prefixes?: boolean } = {},
): NameMatcher {
  const ci = opts.caseInsensitive === true;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  let any = false;
  for (const raw of values) {
    const v = ci ? raw.toUpperCase() : raw;
    if (v === '*') any = true;
    else if (opts.prefixes === true && v.endsWith('*')) prefixes.push(v.slice(0, -1));
    else exact.add(v);
  }
  return { any, exact, prefixes, caseInsensitive: ci };
}

export function matchesName(m: NameMatcher, name: string): boolean {
  if (m.any || m.exact.has(name)) return true;
  const n = m.caseInsensitive ? name.toUpperCase() : name;
  if (m.caseInsensitive && m.exact.has(n)) return true;
  for (let i = 0; i < m.prefixes.length; i++) if (n.startsWith(m.prefixes[i]!)) return true;
  return false;
}

/** Inclusive ranges (`max` may be Infinity). */
export function inRanges(ranges: readonly { min: number; max: number }[], v: number): boolean {
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    if (v >= r.min && v <= r.max) return true;
  }
  return false;
}

export function formatRanges(ranges: readonly { min: number; max: number }[]): string {
  if (ranges.length === 0) return 'none';
  return ranges
    .map((r) => (r.min === r.max ? String(r.min) : `${r.min}-${r.max === Infinity ? '' : r.max}`))
    .join(', ');
}

/** Combines two results of the same check (upstream part and parameter part). */
export function merge(a: CheckResult, b: CheckResult): CheckResult {
  if (a.allowed) return b;
  if (b.allowed) return a;
  return fail(a.reason, `${a.detail}; ${b.detail}`, [...a.findings, ...b.findings]);
}
