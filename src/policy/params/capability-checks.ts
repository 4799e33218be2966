/**
 * Parameterised capability checks. Parameter values are matched case-insensitively, as the
 * Gatekeeper template behind Azure's ContainerAllowedCapabilities does (container runtimes
 * upper-case the names too); where a part keeps its upstream value (NET_BIND_SERVICE, drop ALL)
 * it keeps upstream's exact, case-sensitive comparison.
 */
import type { Container, ContainerField, ObjectMeta, PodSpec } from '../../kube/types.js';
import type { CheckFn } from '../pss/types.js';
import {
  atContainer,
  isRecord,
  listOf,
  matchesName,
  nameMatcher,
  push,
  result,
  securityContext,
  visitContainers,
} from './kit.js';
import type { Findings, NameMatcher } from './kit.js';

/** What a container may add; `parameter` null = upstream's list (named in messages instead). */
export interface AddRule {
  readonly matcher: NameMatcher;
  readonly parameter: string | null;
  readonly upstream: readonly string[];
}

/** What a container must drop; satisfied by `ALL` or by every listed name. */
export interface DropRule {
  readonly required: readonly string[];
  readonly parameter: string | null;
}

export function addRule(values: readonly string[], parameter: string | null): AddRule {
  return {
    matcher: nameMatcher(values, { caseInsensitive: parameter !== null }),
    parameter,
    upstream: values,
  };
}

interface CapRules {
  readonly add: AddRule | null;
  readonly drop: DropRule | null;
  /** Upper-cased required names when the drop rule came from a parameter. */
  readonly dropCi: boolean;
}

function capabilitiesOf(c: Container): Record<string, unknown> | undefined {
  const caps = securityContext(c)?.['capabilities'];
  return isRecord(caps) ? caps : undefined;
}

function dropSatisfied(drop: readonly unknown[], rule: DropRule, ci: boolean): boolean {
  let hasAll = false;
  for (let i = 0; i < drop.length; i++) {
    const d = drop[i];
    if (d === 'ALL' || (ci && typeof d === 'string' && d.toUpperCase() === 'ALL')) hasAll = true;
  }
  if (hasAll) return true;
  outer: for (const req of rule.required) {
    for (let i = 0; i < drop.length; i++) {
      const d = drop[i];
      if (typeof d === 'string' && (ci ? d.toUpperCase() === req : d === req)) continue outer;
    }
    return false;
  }
  return true;
}

function capVisitor(
  c: Container,
  field: ContainerField,
  i: number,
  _s: PodSpec,
  _m: ObjectMeta,
  rules: CapRules,
  acc: Findings,
): Findings {
  const caps = capabilitiesOf(c);
  if (rules.add !== null && caps !== undefined) {
    const add = listOf(caps['add']);
    for (let k = 0; k < add.length; k++) {
      const cap = add[k];
      if (typeof cap === 'string' && matchesName(rules.add.matcher, cap)) continue;
      const name = typeof cap === 'string' ? cap : JSON.stringify(cap);
      const message =
        rules.add.parameter === null
          ? `capability ${name} is not allowed (only ${rules.add.upstream.join(', ')})`
          : `capability ${name} is not in ${rules.add.parameter}`;
      acc = push(acc, atContainer(c, field, i, ['securityContext', 'capabilities', 'add', k], message));
    }
  }
  if (rules.drop !== null && rules.drop.required.length > 0) {
    const drop = listOf(caps?.['drop']);
    if (!dropSatisfied(drop, rules.drop, rules.dropCi)) {
      const req = rules.drop.required;
      const message =
        rules.drop.parameter === null
          ? 'must drop ALL (securityContext.capabilities.drop)'
          : `must drop ALL or ${req.join(', ')} (${rules.drop.parameter})`;
      acc = push(acc, atContainer(c, field, i, ['securityContext', 'capabilities', 'drop'], message));
    }
  }
  return acc;
}

/**
 * One capability check. `reason` is upstream's for the id it stands for
 * (`non-default capabilities` for capabilities_baseline, `unrestricted capabilities` for _restricted).
 */
export function capabilitiesCheck(reason: string, add: AddRule | null, drop: DropRule | null): CheckFn {
  const rules: CapRules = {
    add,
    drop:
      drop === null
        ? null
        : {
            ...drop,
            required: drop.parameter === null ? drop.required : drop.required.map((r) => r.toUpperCase()),
          },
    dropCi: drop?.parameter !== null && drop !== null,
  };
  return (meta, spec) => result(reason, visitContainers(spec, meta, rules, capVisitor));
}
