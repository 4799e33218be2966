/**
 * `podsec netpol explain` as text and JSON. One question (`--from X --to Y --port P`) can be
 * several connections: a Service stands for each of its endpoint pods, and its port becomes
 * each pod's target port. Each connection gets its verdict and the engine's reasons; the text
 * adds where each policy named is defined (file:line), so the reader can go and change it.
 */
import type { DirectionResult, PolicyRef, Protocol, SourceRef, Verdict } from '../../netpol/index.js';
import type { ProblemJson } from './netpol-lint.js';

/** One end of one connection, as the user should read it. */
export interface ExplainEnd {
  /** `ns/name` for a pod, the address otherwise. */
  readonly label: string;
  readonly pod: string | null;
  readonly ip: string | null;
  readonly hostNetwork: boolean;
  /** Node of a hostNetwork pod, or the node owning an address. */
  readonly node: string | null;
  readonly representative: boolean;
}

export interface ExplainCase {
  readonly from: ExplainEnd;
  readonly to: ExplainEnd;
  readonly verdict: Verdict;
}

export interface ExplainView {
  /** The arguments as given. */
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly cases: readonly ExplainCase[];
  /** How the arguments were resolved (service endpoints, target ports), and why a case is missing. */
  readonly notes: readonly string[];
}

export interface ExplainJson {
  from: string;
  to: string;
  port: number;
  protocol: Protocol;
  /** True when there is at least one connection and every one is allowed. */
  allowed: boolean;
  verdicts: {
    from: ExplainEnd;
    to: ExplainEnd;
    port: number;
    protocol: Protocol;
    allowed: boolean;
    basis: Verdict['basis'];
    egress: DirectionResult;
    ingress: DirectionResult;
    explanation: readonly string[];
  }[];
  notes: readonly string[];
  /** Objects of kinds the engine has no use for, by kind. */
  ignored: Record<string, number>;
  errors: ProblemJson[];
}

export function explainAllowed(view: ExplainView): boolean {
  return view.cases.length > 0 && view.cases.every((c) => c.verdict.allowed);
}

export function explainJson(
  view: ExplainView,
  errors: ProblemJson[] = [],
  ignored: Readonly<Record<string, number>> = {},
): ExplainJson {
  return {
    from: view.from,
    to: view.to,
    port: view.port,
    protocol: view.protocol,
    allowed: explainAllowed(view),
    verdicts: view.cases.map((c) => ({
      from: c.from,
      to: c.to,
      port: c.verdict.port,
      protocol: c.verdict.protocol,
      allowed: c.verdict.allowed,
      basis: c.verdict.basis,
      egress: c.verdict.egress,
      ingress: c.verdict.ingress,
      explanation: c.verdict.explanation,
    })),
    notes: view.notes,
    ignored: { ...ignored },
    errors,
  };
}

function refKey(p: PolicyRef): string {
  return `${p.namespace}/${p.name}`;
}

/** `sources` maps `ns/name` of a policy to where it is defined. */
export function renderExplainText(view: ExplainView, sources: ReadonlyMap<string, SourceRef | null>): string {
  const out: string[] = [];
  for (const note of view.notes) out.push(`note: ${note}`);
  if (view.notes.length > 0) out.push('');
  const named = new Set<string>();
  for (const c of view.cases) {
    out.push(...c.verdict.explanation.map((line, i) => (i === 0 ? line : `  ${line}`)));
    if (c.from.representative || c.to.representative) {
      const which = [c.from, c.to].filter((e) => e.representative).map((e) => e.label);
      out.push(
        `  note: ${which.join(' and ')} stand${which.length === 1 ? 's' : ''} for a workload without running pods`,
      );
    }
    for (const d of [c.verdict.egress, c.verdict.ingress]) {
      for (const p of d.isolatingPolicies) named.add(refKey(p));
      for (const m of d.allowedBy) named.add(refKey(m.policy));
    }
    out.push('');
  }
  if (view.cases.length === 0) out.push('no connection to judge', '');
  const width = Math.max(0, ...[...named].map((k) => k.length));
  const defined = [...named].sort().map((k) => {
    const s = sources.get(k) ?? null;
    return `  ${k.padEnd(width)}  ${s === null ? '' : `${s.file ?? '(cluster)'}:${s.line}`}`.trimEnd();
  });
  if (defined.length > 0) out.push('policies:', ...defined, '');
  if (view.cases.length > 1) {
    const allowed = view.cases.filter((c) => c.verdict.allowed).length;
    out.push(`${allowed} of ${view.cases.length} connections allowed`);
  }
  return `${out.join('\n').trimEnd()}\n`;
}
