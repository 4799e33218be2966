/**
 * podsec.yaml loader. The file is small and written by hand, so it is read with the `yaml`
 * package's document model and a LineCounter: every problem (YAML syntax, unknown keys,
 * wrong types, bad values, parameter issues) is collected with file, line, column and a
 * path such as `assignments[1].effect`, and all of them are reported at once.
 * Pure: the caller reads the file (see load-file.ts).
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node } from 'yaml';
import { ConfigError } from '../../lib/errors.js';
import type { ConfigIssue } from '../../lib/errors.js';
import { formatPath } from '../../lib/path.js';
import type { FieldPath, PathSegment } from '../../lib/path.js';
import { parseParameters } from '../params/index.js';
import type { InitiativeName, ParameterIssue } from '../params/index.js';
import { LATEST_MINOR } from '../pss/index.js';
import type { PolicyVersion } from '../pss/index.js';
import { knownCheckIds } from './active-checks.js';
import { labelKeyProblem, labelValueProblem, SELECTOR_OPERATORS } from '../../lib/label-selector/index.js';
import type {
  LabelSelector,
  LabelSelectorRequirement,
  SelectorOperator,
} from '../../lib/label-selector/index.js';
import { expiryInstant, isCalendarDate, parseVersionText } from './field-values.js';
import { didYouMean } from './suggest.js';
import { defaultWorkloadsFor, workloadsConflict } from './workload-effect.js';
import {
  API_VERSION,
  DEFAULT_EFFECT,
  DEFAULT_EXCLUDED_NAMESPACES,
  EFFECTS,
  INITIATIVES,
  KIND,
  WORKLOAD_EFFECTS,
} from './types.js';
import type {
  Assignment,
  AssignmentExemption,
  AssignmentParameters,
  ClusterExemptions,
  Effect,
  PodsecConfig,
  PodTemplatePath,
  WorkloadEffect,
} from './types.js';

export interface LoadOptions {
  /** Reference time for exemption expiry warnings (default: now). */
  readonly now?: Date;
}

export type LoadResult =
  | { readonly config: PodsecConfig; readonly warnings: readonly ConfigIssue[] }
  | { readonly error: ConfigError; readonly warnings: readonly ConfigIssue[] };

const TOP_KEYS = ['apiVersion', 'kind', 'exemptions', 'podTemplatePaths', 'assignments'] as const;
const CLUSTER_EXEMPTION_KEYS = ['usernames', 'namespaces', 'runtimeClasses'] as const;
const TEMPLATE_PATH_KEYS = ['apiVersion', 'kind', 'path'] as const;
const ASSIGNMENT_KEYS = [
  'name',
  'initiative',
  'version',
  'effect',
  'workloads',
  'namespaces',
  'excludedNamespaces',
  'labelSelector',
  'exemptions',
  'parameters',
] as const;
const SELECTOR_KEYS = ['matchLabels', 'matchExpressions'] as const;
const EXPRESSION_KEYS = ['key', 'operator', 'values'] as const;
const EXEMPTION_KEYS = ['checks', 'images', 'containers', 'reason', 'expires'] as const;

const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ASSIGNMENT_NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const TEMPLATE_PATH_RE = /^\.?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const API_VERSION_RE = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?([a-z0-9]+|\*)$/;
const KIND_RE = /^[A-Za-z][A-Za-z0-9]*$/;

/** Validates and normalises podsec.yaml text. Never throws for bad input. */
export function loadConfigText(text: string, file: string | null, options: LoadOptions = {}): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const reader = new Reader(file, lineCounter, doc, options.now ?? new Date());

  for (const warning of doc.warnings) reader.warnAt(warning.pos[0], [], warning.message);
  let duplicatesOnly = true;
  for (const error of doc.errors) {
    const duplicate = error.code === 'DUPLICATE_KEY' ? duplicateKeyAt(doc, error.pos[0]) : null;
    if (duplicate === null) {
      duplicatesOnly = false;
      reader.errorAt(error.pos[0], [], `YAML: ${firstLine(error.message)}`);
    } else {
      const first = lineCounter.linePos(duplicate.firstOffset);
      const where =
        first.line === lineCounter.linePos(error.pos[0]).line
          ? `first at column ${first.col}`
          : `first on line ${first.line}`;
      reader.errorAt(error.pos[0], duplicate.path, `duplicate key "${duplicate.key}" (${where})`);
    }
  }
  // A duplicate key leaves a well-formed document: keep validating it (the first value wins).
  if (!duplicatesOnly) return reader.result(null);
  const config = reader.config(doc.contents);
  return reader.result(config);
}

/** The key of a duplicate at `offset`, where it was first written and its field path. */
function duplicateKeyAt(
  doc: Document,
  offset: number,
): { readonly key: string; readonly firstOffset: number; readonly path: FieldPath } | null {
  let found: { key: string; firstOffset: number; path: FieldPath } | null = null;
  visit(doc, {
    Map(_, map, ancestors) {
      const dup = map.items.find((p) => isScalar(p.key) && p.key.range?.[0] === offset);
      if (dup === undefined || !isScalar(dup.key)) return undefined;
      const key = String(dup.key.value);
      const first = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      const path: PathSegment[] = [];
      let child: unknown = map;
      for (let i = ancestors.length - 1; i >= 0; i--) {
        const a = ancestors[i];
        if (isPair(a) && isScalar(a.key)) path.unshift(String(a.key.value));
        else if (isSeq(a)) path.unshift(a.items.indexOf(child));
        child = a;
      }
      found = { key, firstOffset: offsetOf(first?.key as Node | null), path: [...path, key] };
      return visit.BREAK;
    },
  });
  return found;
}

function firstLine(message: string): string {
  const nl = message.indexOf('\n');
  return nl < 0 ? message : message.slice(0, nl);
}

type Fields = Map<string, { readonly key: Node; readonly value: Node | null }>;

/** Collects issues while walking the document; each read returns null when the value is unusable. */
class Reader {
  private readonly issues: ConfigIssue[] = [];
  private readonly warnings: ConfigIssue[] = [];

  constructor(
    private readonly file: string | null,
    private readonly lineCounter: LineCounter,
    private readonly doc: Document,
    private readonly now: Date,
  ) {}

  result(config: PodsecConfig | null): LoadResult {
    const byPosition = (a: ConfigIssue, b: ConfigIssue): number => a.line - b.line || a.column - b.column;
    const warnings = [...this.warnings].sort(byPosition);
    if (config === null || this.issues.length > 0) {
      return { error: new ConfigError(this.file, [...this.issues].sort(byPosition)), warnings };
    }
    return { config, warnings };
  }

  private issue(offset: number, path: FieldPath, message: string): ConfigIssue {
    const { line, col } = this.lineCounter.linePos(offset);
    return {
      file: this.file,
      line: Math.max(1, line),
      column: Math.max(1, col),
      path: formatPath(path),
      message,
    };
  }

  errorAt(offset: number, path: FieldPath, message: string): void {
    this.issues.push(this.issue(offset, path, message));
  }

  warnAt(offset: number, path: FieldPath, message: string): void {
    this.warnings.push(this.issue(offset, path, message));
  }

  private error(node: Node | null, path: FieldPath, message: string): void {
    this.errorAt(offsetOf(node), path, message);
  }

  private warn(node: Node | null, path: FieldPath, message: string): void {
    this.warnAt(offsetOf(node), path, message);
  }

  private deref(node: Node | null | undefined): Node | null {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return node;
  }

  // ---- generic readers ------------------------------------------------------------------

  /** A mapping with only `known` keys; unknown keys are reported with a suggestion. */
  private fields(node: Node | null, path: FieldPath, known: readonly string[]): Fields | null {
    if (!isMap(node)) {
      this.error(node, path, `expected a mapping, got ${describe(node)}`);
      return null;
    }
    const out: Fields = new Map();
    for (const pair of node.items) {
      const key = this.deref(pair.key as Node | null);
      const value = this.deref(pair.value as Node | null);
      if (!isScalar(key) || typeof key.value !== 'string') {
        this.error(key ?? node, path, `keys must be strings, got ${describe(key)}`);
        continue;
      }
      if (!known.includes(key.value)) {
        const hint = didYouMean(key.value, known);
        this.error(
          key,
          [...path, key.value],
          `unknown key "${key.value}"${hint || `; expected one of ${known.join(', ')}`}`,
        );
        continue;
      }
      // A duplicate was reported with the YAML errors; the first value wins.
      if (!out.has(key.value)) out.set(key.value, { key, value });
    }
    return out;
  }

  private string(node: Node | null, path: FieldPath, what = 'a string'): string | null {
    if (!isScalar(node) || typeof node.value !== 'string') {
      this.error(node, path, `expected ${what}, got ${describe(node)}`);
      return null;
    }
    return node.value;
  }

  /** A list of strings, each passed through `check` (which returns a problem or null). */
  private stringList(
    node: Node | null,
    path: FieldPath,
    check: (s: string) => string | null = nonEmpty,
  ): string[] | null {
    if (!isSeq(node)) {
      this.error(node, path, `expected a list of strings, got ${describe(node)}`);
      return null;
    }
    const out: string[] = [];
    let ok = true;
    node.items.forEach((raw, i) => {
      const item = this.deref(raw as Node | null);
      const s = this.string(item, [...path, i]);
      if (s === null) {
        ok = false;
        return;
      }
      const problem = check(s);
      if (problem !== null) {
        this.error(item, [...path, i], problem);
        ok = false;
        return;
      }
      out.push(s);
    });
    return ok ? out : null;
  }

  private list(node: Node | null, path: FieldPath): Node[] | null {
    if (!isSeq(node)) {
      this.error(node, path, `expected a list, got ${describe(node)}`);
      return null;
    }
    return node.items.map((item) => this.deref(item as Node | null) ?? node);
  }

  /** One of `allowed`, compared case-insensitively when `anyCase`. */
  private choice<T extends string>(
    node: Node | null,
    path: FieldPath,
    allowed: readonly T[],
    anyCase: boolean,
  ): T | null {
    const s = this.string(node, path, `one of ${allowed.join(', ')}`);
    if (s === null) return null;
    const found = allowed.find((a) => (anyCase ? a === s.toLowerCase() : a === s));
    if (found === undefined) {
      const hint = didYouMean(s, allowed);
      this.error(
        node,
        path,
        `"${s}" is not one of ${allowed.join(', ')}${anyCase ? ' (any letter case)' : ''}${hint}`,
      );
      return null;
    }
    return found;
  }

  private missing(node: Node | null, path: FieldPath, key: string): void {
    this.error(node, path, `missing required key "${key}"`);
  }

  // ---- podsec.yaml ----------------------------------------------------------------------

  config(contents: Node | null): PodsecConfig | null {
    const root = this.deref(contents);
    if (root === null || (isScalar(root) && root.value === null)) {
      this.errorAt(0, [], `empty configuration; expected apiVersion: ${API_VERSION} and kind: ${KIND}`);
      return null;
    }
    const top = this.fields(root, [], TOP_KEYS);
    if (top === null) return null;

    const apiVersion = top.get('apiVersion');
    if (apiVersion === undefined) this.missing(root, [], 'apiVersion');
    else {
      const v = this.string(apiVersion.value, ['apiVersion']);
      if (v !== null && v !== API_VERSION) {
        this.error(
          apiVersion.value,
          ['apiVersion'],
          `unsupported apiVersion "${v}"; expected ${API_VERSION}`,
        );
      }
    }
    const kind = top.get('kind');
    if (kind === undefined) this.missing(root, [], 'kind');
    else {
      const k = this.string(kind.value, ['kind']);
      if (k !== null && k !== KIND)
        this.error(kind.value, ['kind'], `unsupported kind "${k}"; expected ${KIND}`);
    }

    const exemptionsField = top.get('exemptions');
    const exemptions =
      exemptionsField === undefined
        ? { usernames: [], namespaces: [], runtimeClasses: [] }
        : this.clusterExemptions(exemptionsField.value, ['exemptions']);
    const pathsField = top.get('podTemplatePaths');
    const podTemplatePaths =
      pathsField === undefined ? [] : this.podTemplatePaths(pathsField.value, ['podTemplatePaths']);
    const assignmentsField = top.get('assignments');
    let assignments: Assignment[] | null = [];
    if (assignmentsField === undefined) {
      this.warn(root, [], 'no assignments: nothing is evaluated');
    } else {
      assignments = this.assignments(assignmentsField.value, ['assignments']);
    }

    if (exemptions === null || podTemplatePaths === null || assignments === null) return null;
    return { apiVersion: API_VERSION, kind: KIND, exemptions, podTemplatePaths, assignments };
  }

  private clusterExemptions(node: Node | null, path: FieldPath): ClusterExemptions | null {
    const f = this.fields(node, path, CLUSTER_EXEMPTION_KEYS);
    if (f === null) return null;
    const read = (key: string, check?: (s: string) => string | null): string[] | null => {
      const field = f.get(key);
      return field === undefined ? [] : this.stringList(field.value, [...path, key], check);
    };
    const usernames = read('usernames');
    const namespaces = read('namespaces', namespaceProblem);
    const runtimeClasses = read('runtimeClasses');
    if (usernames === null || namespaces === null || runtimeClasses === null) return null;
    return { usernames, namespaces, runtimeClasses };
  }

  private podTemplatePaths(node: Node | null, path: FieldPath): PodTemplatePath[] | null {
    const items = this.list(node, path);
    if (items === null) return null;
    const out: PodTemplatePath[] = [];
    const seen = new Set<string>();
    let ok = true;
    items.forEach((item, i) => {
      const p = [...path, i];
      const f = this.fields(item, p, TEMPLATE_PATH_KEYS);
      if (f === null) {
        ok = false;
        return;
      }
      const values: Partial<Record<(typeof TEMPLATE_PATH_KEYS)[number], string>> = {};
      for (const key of TEMPLATE_PATH_KEYS) {
        const field = f.get(key);
        if (field === undefined) {
          this.missing(item, p, key);
          ok = false;
          continue;
        }
        const s = this.string(field.value, [...p, key]);
        if (s === null || s === '') {
          if (s === '') this.error(field.value, [...p, key], 'must not be empty');
          ok = false;
          continue;
        }
        const problem = templatePathProblem(key, s);
        if (problem !== null) {
          this.error(field.value, [...p, key], problem);
          ok = false;
          continue;
        }
        values[key] = s;
      }
      const { apiVersion, kind, path: templatePath } = values;
      if (apiVersion === undefined || kind === undefined || templatePath === undefined) return;
      const id = `${apiVersion}/${kind}`;
      if (seen.has(id)) {
        this.error(item, p, `duplicate podTemplatePaths entry for ${apiVersion} ${kind}`);
        ok = false;
        return;
      }
      seen.add(id);
      out.push({ apiVersion, kind, path: templatePath });
    });
    return ok ? out : null;
  }

  private assignments(node: Node | null, path: FieldPath): Assignment[] | null {
    const items = this.list(node, path);
    if (items === null) return null;
    const out: Assignment[] = [];
    const names = new Map<string, number>();
    let ok = true;
    items.forEach((item, i) => {
      const a = this.assignment(item, [...path, i], names);
      if (a === null) ok = false;
      else out.push(a);
    });
    return ok ? out : null;
  }

  private assignment(node: Node | null, path: FieldPath, names: Map<string, number>): Assignment | null {
    const f = this.fields(node, path, ASSIGNMENT_KEYS);
    if (f === null) return null;
    let ok = true;
    const fail = (): null => {
      ok = false;
      return null;
    };

    // name
    let name: string | null = null;
    const nameField = f.get('name');
    if (nameField === undefined) {
      this.missing(node, path, 'name');
      ok = false;
    } else {
      name = this.string(nameField.value, [...path, 'name']);
      if (name === null) ok = false;
      else if (!ASSIGNMENT_NAME_RE.test(name) || name.length > 253) {
        this.error(
          nameField.value,
          [...path, 'name'],
          `"${name}" must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
        );
        name = fail();
      } else if (names.has(name)) {
        const firstLine = this.lineCounter.linePos(names.get(name)!).line;
        this.error(
          nameField.value,
          [...path, 'name'],
          `duplicate assignment name "${name}" (first used on line ${firstLine})`,
        );
        name = fail();
      } else names.set(name, offsetOf(nameField.value));
    }

    // initiative
    let initiative: InitiativeName | null = null;
    const initiativeField = f.get('initiative');
    if (initiativeField === undefined) {
      this.missing(node, path, 'initiative');
      ok = false;
    } else {
      initiative = this.choice(initiativeField.value, [...path, 'initiative'], INITIATIVES, false);
      if (initiative === null) ok = false;
    }

    // version
    let version: PolicyVersion = { latest: true };
    const versionField = f.get('version');
    if (versionField !== undefined) {
      const vp = [...path, 'version'];
      const raw = this.deref(versionField.value);
      const text = isScalar(raw) && typeof raw.value === 'number' ? null : this.string(raw, vp);
      if (isScalar(raw) && typeof raw.value === 'number') {
        this.error(raw, vp, `expected "latest" or "v1.N", got the number ${String(raw.value)}; write v1.N`);
        ok = false;
      } else if (text === null) ok = false;
      else {
        const parsed = parseVersionText(text);
        if (parsed === null) {
          this.error(
            raw,
            vp,
            `"${text}" is not a policy version; expected "latest" or "v1.N" (no leading zeros)`,
          );
          ok = false;
        } else if (initiative !== null && initiative !== 'baseline' && initiative !== 'restricted') {
          this.error(
            versionField.key,
            vp,
            `version applies only to the baseline and restricted initiatives; ${initiative} follows Azure Policy's definitions`,
          );
          ok = false;
        } else {
          version = parsed;
          if (!parsed.latest && parsed.minor > LATEST_MINOR) {
            this.warn(
              raw,
              vp,
              `${text} is newer than the newest known version v1.${LATEST_MINOR}; evaluated as v1.${LATEST_MINOR}`,
            );
          }
        }
      }
    }

    const effectField = f.get('effect');
    let effect: Effect = DEFAULT_EFFECT;
    let effectOk = true;
    if (effectField !== undefined) {
      const chosen = this.choice(effectField.value, [...path, 'effect'], EFFECTS, true);
      if (chosen === null) effectOk = false;
      else effect = chosen;
    }
    if (!effectOk) ok = false;

    // `workloads` may not be stricter than `effect` (workload-effect.ts); the default is capped.
    const workloadsField = f.get('workloads');
    let workloads: WorkloadEffect = defaultWorkloadsFor(effect);
    if (workloadsField !== undefined) {
      const wp = [...path, 'workloads'];
      const chosen = this.choice(workloadsField.value, wp, WORKLOAD_EFFECTS, true);
      if (chosen === null) fail();
      else {
        workloads = chosen;
        const conflict = effectOk ? workloadsConflict(chosen, effect) : null;
        if (conflict !== null) {
          this.error(workloadsField.value, wp, conflict);
          ok = false;
        } else if (effect === 'disabled') {
          this.warn(
            workloadsField.value,
            wp,
            'workloads has no effect: the assignment is disabled and not evaluated',
          );
        }
      }
    }

    const namespacesField = f.get('namespaces');
    let namespaces: string[] = [];
    if (namespacesField !== undefined) {
      namespaces =
        this.stringList(namespacesField.value, [...path, 'namespaces'], namespaceProblem) ?? fail() ?? [];
    }

    const excludedField = f.get('excludedNamespaces');
    let excludedNamespaces: readonly string[] = DEFAULT_EXCLUDED_NAMESPACES;
    if (excludedField !== undefined) {
      const list = this.stringList(excludedField.value, [...path, 'excludedNamespaces'], namespaceProblem);
      if (list === null) ok = false;
      else {
        excludedNamespaces = list;
        if (!list.includes('kube-system')) {
          this.warn(
            excludedField.value,
            [...path, 'excludedNamespaces'],
            'kube-system is no longer excluded (this list replaces the default); system pods there may be denied',
          );
        }
      }
    }

    const selectorField = f.get('labelSelector');
    let labelSelector: LabelSelector = { matchLabels: {}, matchExpressions: [] };
    if (selectorField !== undefined) {
      labelSelector =
        this.labelSelector(selectorField.value, [...path, 'labelSelector']) ?? fail() ?? labelSelector;
    }

    // Parameters and exemptions are validated whatever happened above, so one run reports
    // every problem: against the initiative when it is valid, else against all of them.
    const paramsField = f.get('parameters');
    const parameters = this.parameters(
      paramsField?.value ?? null,
      [...path, 'parameters'],
      initiative,
      paramsField === undefined,
    );
    if (!parameters.ok) ok = false;

    const exemptionsField = f.get('exemptions');
    let exemptions: AssignmentExemption[] = [];
    if (exemptionsField !== undefined) {
      const checkIds =
        initiative === null
          ? anyInitiativeCheckIds(parameters.value)
          : knownCheckIds(initiative, parameters.value);
      exemptions = this.exemptions(exemptionsField.value, [...path, 'exemptions'], checkIds) ?? fail() ?? [];
    }

    if (!ok || name === null || initiative === null) return null;
    return {
      name,
      initiative,
      version,
      effect,
      workloads,
      namespaces,
      excludedNamespaces,
      labelSelector,
      exemptions,
      parameters: parameters.value,
    };
  }

  private labelSelector(node: Node | null, path: FieldPath): LabelSelector | null {
    const f = this.fields(node, path, SELECTOR_KEYS);
    if (f === null) return null;
    let ok = true;
    const matchLabels: Record<string, string> = {};
    const labelsField = f.get('matchLabels');
    if (labelsField !== undefined) {
      const lp = [...path, 'matchLabels'];
      if (!isMap(labelsField.value)) {
        this.error(
          labelsField.value,
          lp,
          `expected a mapping of label keys to values, got ${describe(labelsField.value)}`,
        );
        ok = false;
      } else {
        for (const pair of labelsField.value.items) {
          const key = this.deref(pair.key as Node | null);
          const k = this.string(key, lp, 'a label key');
          if (k === null) {
            ok = false;
            continue;
          }
          const keyProblem = labelKeyProblem(k);
          if (keyProblem !== null) {
            this.error(key, [...lp, k], keyProblem);
            ok = false;
            continue;
          }
          const valueNode = this.deref(pair.value as Node | null);
          const v = this.string(valueNode, [...lp, k], 'a label value (quote numbers and booleans)');
          const valueProblem = v === null ? null : labelValueProblem(v);
          if (valueProblem !== null) this.error(valueNode, [...lp, k], valueProblem);
          if (v === null || valueProblem !== null) {
            ok = false;
            continue;
          }
          matchLabels[k] = v;
        }
      }
    }
    const matchExpressions: LabelSelectorRequirement[] = [];
    const exprField = f.get('matchExpressions');
    if (exprField !== undefined) {
      const items = this.list(exprField.value, [...path, 'matchExpressions']);
      if (items === null) ok = false;
      items?.forEach((item, i) => {
        const r = this.requirement(item, [...path, 'matchExpressions', i]);
        if (r === null) ok = false;
        else matchExpressions.push(r);
      });
    }
    return ok ? { matchLabels, matchExpressions } : null;
  }

  private requirement(node: Node | null, path: FieldPath): LabelSelectorRequirement | null {
    const f = this.fields(node, path, EXPRESSION_KEYS);
    if (f === null) return null;
    let ok = true;
    let key: string | null = null;
    const keyField = f.get('key');
    if (keyField === undefined) {
      this.missing(node, path, 'key');
      ok = false;
    } else {
      key = this.string(keyField.value, [...path, 'key']);
      const problem = key === null ? null : labelKeyProblem(key);
      if (problem !== null) this.error(keyField.value, [...path, 'key'], problem);
      if (key === null || problem !== null) ok = false;
    }
    let operator: SelectorOperator | null = null;
    const opField = f.get('operator');
    if (opField === undefined) {
      this.missing(node, path, 'operator');
      ok = false;
    } else {
      operator = this.choice(opField.value, [...path, 'operator'], SELECTOR_OPERATORS, false);
      if (operator === null) ok = false;
    }
    let values: string[] = [];
    const valuesField = f.get('values');
    if (valuesField !== undefined) {
      const list = this.stringList(valuesField.value, [...path, 'values'], labelValueProblem);
      if (list === null) ok = false;
      else values = list;
    }
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0 && ok) {
        this.error(
          valuesField?.value ?? node,
          [...path, 'values'],
          `operator ${operator} needs a non-empty values list`,
        );
        ok = false;
      }
    } else if (operator !== null && valuesField !== undefined && values.length > 0) {
      this.error(valuesField.value, [...path, 'values'], `operator ${operator} takes no values`);
      ok = false;
    }
    if (!ok || key === null || operator === null) return null;
    return { key, operator, values };
  }

  private exemptions(
    node: Node | null,
    path: FieldPath,
    checkIds: ReadonlySet<string>,
  ): AssignmentExemption[] | null {
    const items = this.list(node, path);
    if (items === null) return null;
    const out: AssignmentExemption[] = [];
    let ok = true;
    const known = [...checkIds].sort();
    items.forEach((item, i) => {
      const p = [...path, i];
      const f = this.fields(item, p, EXEMPTION_KEYS);
      if (f === null) {
        ok = false;
        return;
      }
      let itemOk = true;
      const read = (key: string, check: (s: string) => string | null): string[] => {
        const field = f.get(key);
        if (field === undefined) return [];
        const list = this.stringList(field.value, [...p, key], check);
        if (list === null) itemOk = false;
        return list ?? [];
      };
      const checks = read('checks', (s) =>
        checkIds.has(s)
          ? null
          : `unknown check "${s}"${didYouMean(s, known) || `; known checks: ${known.join(', ')}`}`,
      );
      const images = read('images', imagePatternProblem);
      const containers = read('containers', nonEmpty);
      if (itemOk && checks.length === 0 && images.length === 0 && containers.length === 0) {
        this.error(item, p, 'an exemption must name at least one of checks, images or containers');
        itemOk = false;
      }

      let reason: string | null = null;
      const reasonField = f.get('reason');
      if (reasonField === undefined) {
        this.missing(item, p, 'reason');
        itemOk = false;
      } else {
        reason = this.string(reasonField.value, [...p, 'reason']);
        if (reason !== null && reason.trim() === '') {
          this.error(reasonField.value, [...p, 'reason'], 'reason must not be empty');
          reason = null;
        }
        if (reason === null) itemOk = false;
      }

      let expires: string | null = null;
      const expiresField = f.get('expires');
      if (expiresField !== undefined) {
        const ep = [...p, 'expires'];
        const s = this.string(expiresField.value, ep, 'a date YYYY-MM-DD');
        if (s === null) itemOk = false;
        else if (!isCalendarDate(s)) {
          this.error(expiresField.value, ep, `"${s}" is not a date YYYY-MM-DD`);
          itemOk = false;
        } else {
          expires = s;
          if (expiryInstant(s) <= this.now.getTime()) {
            this.warn(expiresField.value, ep, `exemption expired on ${s} and no longer applies`);
          }
        }
      }
      if (!itemOk || reason === null) {
        ok = false;
        return;
      }
      out.push({ checks, images, containers, reason, expires });
    });
    return ok ? out : null;
  }

  /**
   * Delegates to src/policy/params and places each of its issues at the nearest node. With no
   * valid initiative, an issue is reported only when every initiative would raise it (names,
   * shapes and values; not a rule whose ranges some initiative's defaults would supply).
   */
  private parameters(
    node: Node | null,
    path: FieldPath,
    initiative: InitiativeName | null,
    absent: boolean,
  ): { readonly value: AssignmentParameters; readonly ok: boolean } {
    if (!absent && !isMap(node)) {
      this.error(node, path, `expected a mapping of parameter names to values, got ${describe(node)}`);
      return { value: parseParameters({}, initiative ?? 'baseline').value, ok: false };
    }
    const raw: unknown = absent || node === null ? {} : node.toJS(this.doc);
    let value: AssignmentParameters;
    let issues: readonly ParameterIssue[];
    if (initiative !== null) ({ value, issues } = parseParameters(raw, initiative));
    else {
      const runs = INITIATIVES.map((i) => parseParameters(raw, i));
      const key = (i: ParameterIssue): string => `${JSON.stringify(i.path)}\0${i.message}`;
      const common = runs
        .slice(1)
        .map((r) => new Set(r.issues.map(key)))
        .reduce((acc, keys) => acc.filter((i) => keys.has(key(i))), runs[0]!.issues);
      value = runs[0]!.value;
      issues = common;
    }
    for (const issue of issues) {
      const rel = relativePath(issue.path);
      const target = absent ? null : this.nodeAt(node, rel);
      this.error(target, [...path, ...rel], issue.message);
    }
    return { value, ok: issues.length === 0 };
  }

  /** The deepest existing node along `rel` (the nearest existing parent of a missing field). */
  private nodeAt(start: Node | null, rel: readonly PathSegment[]): Node | null {
    let node = start;
    for (const seg of rel) {
      let next: Node | null = null;
      if (isMap(node) && typeof seg === 'string') {
        for (const pair of node.items) {
          const key = this.deref(pair.key as Node | null);
          if (isScalar(key) && key.value === seg) next = this.deref(pair.value as Node | null) ?? key;
        }
      } else if (isSeq(node) && typeof seg === 'number') {
        next = this.deref(node.items[seg] as Node | null);
      }
      if (next === null) return node;
      node = next;
    }
    return node;
  }
}

/** Check ids an exemption may name when the initiative is unknown: those of any initiative. */
function anyInitiativeCheckIds(parameters: AssignmentParameters): ReadonlySet<string> {
  const ids = new Set<string>();
  for (const initiative of INITIATIVES) for (const id of knownCheckIds(initiative, parameters)) ids.add(id);
  return ids;
}

function offsetOf(node: Node | null): number {
  return node?.range?.[0] ?? 0;
}

function describe(node: Node | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return `the string "${v}"`;
    if (typeof v === 'number' || typeof v === 'bigint') return `the number ${String(v)}`;
    if (typeof v === 'boolean') return `the boolean ${String(v)}`;
  }
  return 'an unsupported value';
}

function nonEmpty(s: string): string | null {
  return s === '' ? 'must not be empty' : null;
}

function namespaceProblem(s: string): string | null {
  return NAMESPACE_RE.test(s) && s.length <= 63
    ? null
    : `"${s}" is not a namespace name (lower case letters, digits and '-', at most 63 characters)`;
}

function imagePatternProblem(s: string): string | null {
  if (s === '') return 'must not be empty';
  const star = s.indexOf('*');
  if (star >= 0 && star !== s.length - 1) return `"${s}": only a trailing "*" (prefix match) is supported`;
  return null;
}

function templatePathProblem(key: (typeof TEMPLATE_PATH_KEYS)[number], s: string): string | null {
  switch (key) {
    case 'apiVersion':
      return API_VERSION_RE.test(s)
        ? null
        : `"${s}" must be v1, group/version or group/* (any version of the group)`;
    case 'kind':
      return KIND_RE.test(s) ? null : `"${s}" must be a kind such as Rollout`;
    case 'path':
      return TEMPLATE_PATH_RE.test(s) ? null : `"${s}" must be a dotted field path such as spec.template`;
  }
}

/** Accepts a params issue path as segments or as text (`a.b[0]`, `.a`, `parameters.a`). */
function relativePath(path: unknown): PathSegment[] {
  let segments: PathSegment[];
  if (Array.isArray(path))
    segments = path.filter((s): s is PathSegment => typeof s === 'string' || typeof s === 'number');
  else if (typeof path === 'string') {
    segments = [];
    for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
      if (m[2] !== undefined) segments.push(Number(m[2]));
      else if (m[1] !== undefined) segments.push(m[1]);
    }
  } else segments = [];
  return segments[0] === 'parameters' ? segments.slice(1) : segments;
}
