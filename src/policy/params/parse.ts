/**
 * Parses an assignment's `parameters` object: Azure Policy names and shapes, Gatekeeper spellings
 * as aliases. Configuration errors are expected input, so every problem comes back as an issue
 * with its path (all of them, never just the first) and nothing throws.
 */
import { isRecord } from '../../lib/is-record.js';
import { initiativeDefaults, PARAMETERS } from './parameters.js';
import { seccompProfileProblem } from './profile-checks.js';
import { GROUP_RULES, ID_FIELDS, PROC_MOUNT_TYPES, USER_RULES } from './types.js';
import type {
  HostPathRule,
  IdRange,
  InitiativeName,
  ParameterIssue,
  ParsedParameters,
  PortRange,
  SELinuxRule,
} from './types.js';

type Path = (string | number)[];
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Volume source fields of core/v1 Volume (and `*`). */
export const VOLUME_TYPES: readonly string[] = [
  'awsElasticBlockStore',
  'azureDisk',
  'azureFile',
  'cephfs',
  'cinder',
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'fc',
  'flexVolume',
  'flocker',
  'gcePersistentDisk',
  'gitRepo',
  'glusterfs',
  'hostPath',
  'image',
  'iscsi',
  'nfs',
  'persistentVolumeClaim',
  'photonPersistentDisk',
  'portworxVolume',
  'projected',
  'quobyte',
  'rbd',
  'scaleIO',
  'secret',
  'storageos',
  'vsphereVolume',
];

/** Single-name aliases with the canonical shape. */
const SIMPLE_ALIASES: Readonly<Record<string, keyof ParsedParameters>> = {
  hostNetwork: 'allowHostNetwork',
  volumes: 'allowedVolumeTypes',
  allowedSeccompProfiles: 'allowedProfiles',
  procMount: 'procMountType',
};

const PORT_ALIASES = ['minPort', 'maxPort', 'min', 'max'] as const;

/** Names users carry over from Azure assignments or Gatekeeper constraints that are not parameters here. */
const NOT_PARAMETERS: Readonly<Record<string, string>> = {
  effect: 'effect is a field of the assignment, not a parameter',
  warn: 'use the assignment effect `warn`',
  source:
    'podsec always evaluates pods and pod templates (the assignment field `workloads` decides how workloads are answered)',
  namespaces: 'namespaces is a field of the assignment, not a parameter',
  excludedNamespaces: 'excludedNamespaces is a field of the assignment, not a parameter',
  labelSelector: 'labelSelector is a field of the assignment, not a parameter',
  excludedImages: 'exempt images with the assignment `exemptions` ({checks, images, containers, reason})',
  exemptImages: 'exempt images with the assignment `exemptions` ({checks, images, containers, reason})',
  excludedContainers:
    'exempt containers with the assignment `exemptions` ({checks, images, containers, reason})',
};

const CANONICAL: readonly string[] = PARAMETERS.map((p) => p.name);
const ALL_NAMES: readonly string[] = [
  ...CANONICAL,
  ...Object.keys(SIMPLE_ALIASES),
  ...PORT_ALIASES,
  ...ID_FIELDS,
];

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `the ${typeof v} ${JSON.stringify(v) ?? ''}`;
}

class Parser {
  readonly issues: ParameterIssue[] = [];
  readonly out: Mutable<ParsedParameters> = {};
  /** canonical name -> the key that set it. */
  private readonly setBy = new Map<string, string>();

  issue(path: Path, message: string): void {
    this.issues.push({ path, message });
  }

  /** Canonical names the user tried to set (even with a bad value), to avoid follow-on issues. */
  readonly attempted = new Set<string>();

  /** The key the user wrote for a canonical name (an alias, or the name itself). */
  keyFor(name: string): string {
    return this.setBy.get(name) ?? name;
  }

  set<K extends keyof ParsedParameters>(name: K, key: string, value: ParsedParameters[K] | undefined): void {
    this.attempted.add(name);
    if (value === undefined) return;
    const prior = this.setBy.get(name);
    if (prior !== undefined) {
      this.issue([key], `${key} and ${prior} both set ${name}; give only one of them`);
      return;
    }
    this.setBy.set(name, key);
    this.out[name] = value;
  }

  strings(v: unknown, path: Path, check?: (s: string) => string | null): string[] | undefined {
    if (!Array.isArray(v)) {
      this.issue(path, `expected a list of strings, got ${describe(v)}`);
      return undefined;
    }
    let ok = true;
    v.forEach((item, i) => {
      if (typeof item !== 'string' || item === '') {
        this.issue([...path, i], `expected a non-empty string, got ${describe(item)}`);
        ok = false;
        return;
      }
      const problem = check?.(item) ?? null;
      if (problem !== null) {
        this.issue([...path, i], problem);
        ok = false;
      }
    });
    return ok ? (v as string[]) : undefined;
  }

  bool(v: unknown, path: Path): boolean | undefined {
    if (typeof v === 'boolean') return v;
    this.issue(path, `expected true or false, got ${describe(v)}`);
    return undefined;
  }

  oneOf<T extends string>(v: unknown, path: Path, allowed: readonly T[]): T | undefined {
    if (typeof v === 'string') {
      const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
      if (hit !== undefined) return hit;
    }
    this.issue(path, `expected one of ${allowed.join(', ')}, got ${describe(v)}`);
    return undefined;
  }

  int(v: unknown, path: Path, min: number, max: number): number | undefined {
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    this.issue(path, `expected an integer from ${min} to ${max}, got ${describe(v)}`);
    return undefined;
  }

  rangeList(v: unknown, path: Path): IdRange[] | undefined {
    if (!Array.isArray(v)) {
      this.issue(path, `expected a list of {min, max}, got ${describe(v)}`);
      return undefined;
    }
    const out: IdRange[] = [];
    let ok = true;
    v.forEach((r, i) => {
      const p = [...path, i];
      if (!isRecord(r)) {
        this.issue(p, `expected {min, max}, got ${describe(r)}`);
        ok = false;
        return;
      }
      for (const k of Object.keys(r)) {
        if (k !== 'min' && k !== 'max') {
          this.issue([...p, k], `unknown field "${k}"; a range has min and max`);
          ok = false;
        }
      }
      const min = this.int(r['min'], [...p, 'min'], 0, 2 ** 31 - 1);
      const max = this.int(r['max'], [...p, 'max'], -1, 2 ** 31 - 1);
      if (min === undefined || max === undefined) {
        ok = false;
        return;
      }
      const top = max === -1 ? Infinity : max;
      if (top < min) {
        this.issue([...p, 'max'], `max ${max} is below min ${min}`);
        ok = false;
        return;
      }
      out.push({ min, max: top });
    });
    return ok ? out : undefined;
  }

  /** Azure's `{ranges: [...]}`. */
  rangesObject(v: unknown, path: Path): IdRange[] | undefined {
    if (!isRecord(v)) {
      this.issue(path, `expected {ranges: [{min, max}]}, got ${describe(v)}`);
      return undefined;
    }
    let ok = true;
    for (const k of Object.keys(v)) {
      if (k !== 'ranges') {
        this.issue([...path, k], `unknown field "${k}"; expected {ranges: [{min, max}]}`);
        ok = false;
      }
    }
    const ranges = this.rangeList(v['ranges'], [...path, 'ranges']);
    return ok ? ranges : undefined;
  }

  hostPaths(v: unknown, path: Path): HostPathRule[] | undefined {
    let list: unknown = v;
    let listPath = path;
    if (isRecord(v)) {
      for (const k of Object.keys(v))
        if (k !== 'paths') this.issue([...path, k], `unknown field "${k}"; expected {paths: [...]}`);
      list = v['paths'];
      listPath = [...path, 'paths'];
    }
    if (!Array.isArray(list)) {
      this.issue(
        listPath,
        `expected {paths: [{pathPrefix, readOnly}]} or a list of {pathPrefix, readOnly}, got ${describe(list)}`,
      );
      return undefined;
    }
    const out: HostPathRule[] = [];
    let ok = true;
    list.forEach((e, i) => {
      const p = [...listPath, i];
      if (!isRecord(e)) {
        this.issue(p, `expected {pathPrefix, readOnly}, got ${describe(e)}`);
        ok = false;
        return;
      }
      for (const k of Object.keys(e)) {
        if (k !== 'pathPrefix' && k !== 'readOnly') {
          this.issue([...p, k], `unknown field "${k}"; an entry has pathPrefix and readOnly`);
          ok = false;
        }
      }
      const prefix = e['pathPrefix'];
      if (typeof prefix !== 'string' || !prefix.startsWith('/')) {
        this.issue([...p, 'pathPrefix'], `expected an absolute path, got ${describe(prefix)}`);
        ok = false;
      }
      const ro = e['readOnly'] === undefined ? false : this.bool(e['readOnly'], [...p, 'readOnly']);
      if (ro === undefined) ok = false;
      if (ok) out.push({ pathPrefix: prefix as string, readOnly: ro === true });
    });
    return ok ? out : undefined;
  }

  seLinuxOptions(v: unknown, path: Path): SELinuxRule[] | undefined {
    let list: unknown = v;
    let listPath = path;
    if (isRecord(v)) {
      for (const k of Object.keys(v))
        if (k !== 'options') this.issue([...path, k], `unknown field "${k}"; expected {options: [...]}`);
      list = v['options'];
      listPath = [...path, 'options'];
    }
    if (!Array.isArray(list)) {
      this.issue(
        listPath,
        `expected {options: [{level, role, type, user}]} or a list of them, got ${describe(list)}`,
      );
      return undefined;
    }
    const out: SELinuxRule[] = [];
    let ok = true;
    list.forEach((e, i) => {
      const p = [...listPath, i];
      if (!isRecord(e)) {
        this.issue(p, `expected {level, role, type, user}, got ${describe(e)}`);
        ok = false;
        return;
      }
      const rule: Mutable<SELinuxRule> = {};
      for (const [k, val] of Object.entries(e)) {
        if (k !== 'level' && k !== 'role' && k !== 'type' && k !== 'user') {
          this.issue([...p, k], `unknown field "${k}"; an entry has level, role, type and user`);
          ok = false;
        } else if (typeof val !== 'string') {
          this.issue([...p, k], `expected a string, got ${describe(val)}`);
          ok = false;
        } else {
          rule[k] = val;
        }
      }
      out.push(rule);
    });
    return ok ? out : undefined;
  }

  ports(v: unknown, path: Path): PortRange[] | undefined {
    if (!Array.isArray(v)) {
      this.issue(path, `expected a list of ports such as "80" or "3000-5000", got ${describe(v)}`);
      return undefined;
    }
    const out: PortRange[] = [];
    let ok = true;
    v.forEach((e, i) => {
      const r = parsePortRange(e);
      if (typeof r === 'string') {
        this.issue([...path, i], r);
        ok = false;
      } else out.push(r);
    });
    return ok ? out : undefined;
  }
}

/** `80`, `"80"` or `"3000-5000"` -> a range, or why not. */
export function parsePortRange(e: unknown): PortRange | string {
  const bad = `expected a port ("80") or an inclusive range ("3000-5000") within 0-65535, got ${describe(e)}`;
  if (typeof e === 'number') return Number.isInteger(e) && e >= 0 && e <= 65535 ? { min: e, max: e } : bad;
  if (typeof e !== 'string') return bad;
  const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(e);
  if (m === null) return bad;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min > 65535 || max > 65535 || max < min) return bad;
  return { min, max };
}

function volumeTypeProblem(s: string): string | null {
  if (s === '*' || VOLUME_TYPES.includes(s)) return null;
  const near = VOLUME_TYPES.find((t) => t.toLowerCase() === s.toLowerCase());
  return near !== undefined
    ? `unknown volume type "${s}"; did you mean ${near}? (names are case-sensitive)`
    : `unknown volume type "${s}"; valid: ${VOLUME_TYPES.join(', ')}, *`;
}

function procMountValue(p: Parser, v: unknown, path: Path) {
  return p.oneOf(v, path, PROC_MOUNT_TYPES);
}

function parseOne(p: Parser, key: string, v: unknown): void {
  const path = [key];
  const name = SIMPLE_ALIASES[key] ?? key;
  switch (name) {
    case 'allowedCapabilities':
    case 'requiredDropCapabilities':
    case 'allowedSysctls':
    case 'forbiddenSysctls':
    case 'allowedAppArmorProfiles':
    case 'allowedSELinuxTypes':
      p.set(name, key, p.strings(v, path));
      return;
    case 'allowedVolumeTypes':
      p.set(name, key, p.strings(v, path, volumeTypeProblem));
      return;
    case 'allowedProfiles':
      p.set(name, key, p.strings(v, path, seccompProfileProblem));
      return;
    case 'allowedHostPaths':
      p.set(name, key, p.hostPaths(v, path));
      return;
    case 'allowedSELinuxOptions':
      p.set(name, key, p.seLinuxOptions(v, path));
      return;
    case 'allowHostNetwork':
    case 'forcePrivilegeEscalationToBeFalse':
    case 'readOnlyRootFilesystem':
      p.set(name, key, p.bool(v, path));
      return;
    case 'allowedHostPorts':
      p.set(name, key, p.ports(v, path));
      return;
    case 'procMountType':
      p.set(name, key, procMountValue(p, v, path));
      return;
    case 'runAsUserRule':
      p.set(name, key, p.oneOf(v, path, USER_RULES));
      return;
    case 'runAsGroupRule':
    case 'supplementalGroupsRule':
    case 'fsGroupRule':
      p.set(name, key, p.oneOf(v, path, GROUP_RULES));
      return;
    case 'runAsUserRanges':
    case 'runAsGroupRanges':
    case 'supplementalGroupsRanges':
    case 'fsGroupRanges':
      p.set(name, key, p.rangesObject(v, path));
      return;
    case 'runAsUser':
    case 'runAsGroup':
    case 'supplementalGroups':
    case 'fsGroup': {
      // Gatekeeper's `{rule, ranges: [{min, max}]}`.
      if (!isRecord(v)) {
        p.issue(path, `expected {rule, ranges: [{min, max}]}, got ${describe(v)}`);
        return;
      }
      for (const k of Object.keys(v)) {
        if (k !== 'rule' && k !== 'ranges')
          p.issue([key, k], `unknown field "${k}"; expected {rule, ranges}`);
      }
      if (v['rule'] === undefined) {
        p.issue([key, 'rule'], 'rule is required');
        p.attempted.add(`${name}Rule`);
      } else if (name === 'runAsUser')
        p.set('runAsUserRule', key, p.oneOf(v['rule'], [key, 'rule'], USER_RULES));
      else p.set(`${name}Rule`, key, p.oneOf(v['rule'], [key, 'rule'], GROUP_RULES));
      if (v['ranges'] !== undefined) p.set(`${name}Ranges`, key, p.rangeList(v['ranges'], [key, 'ranges']));
      return;
    }
    default: {
      const hint = NOT_PARAMETERS[key];
      if (hint !== undefined) {
        p.issue(path, `${key} is not a parameter: ${hint}`);
        return;
      }
      const near = ALL_NAMES.find((n) => n.toLowerCase() === key.toLowerCase());
      p.issue(
        path,
        `unknown parameter "${key}"` +
          (near !== undefined ? `; did you mean ${near}?` : '') +
          `; valid parameters: ${CANONICAL.join(', ')} (aliases: ${[...Object.keys(SIMPLE_ALIASES), ...ID_FIELDS, 'minPort/maxPort', 'min/max'].join(', ')})`,
      );
    }
  }
}

function parsePorts(p: Parser, raw: Record<string, unknown>): void {
  for (const [lo, hi] of [
    ['minPort', 'maxPort'],
    ['min', 'max'],
  ] as const) {
    const a = raw[lo];
    const b = raw[hi];
    if (a === undefined && b === undefined) continue;
    if (a === undefined || b === undefined) {
      p.issue([a === undefined ? hi : lo], `${lo} and ${hi} go together (one inclusive host port range)`);
      continue;
    }
    const min = p.int(a, [lo], 0, 65535);
    const max = p.int(b, [hi], 0, 65535);
    if (min === undefined || max === undefined) continue;
    if (max < min) {
      p.issue([hi], `${hi} ${max} is below ${lo} ${min}`);
      continue;
    }
    p.set('allowedHostPorts', lo, [{ min, max }]);
  }
}

/** Rules that need ranges they do not have (neither given nor defaulted by the initiative). */
function checkRuleRanges(p: Parser, initiative: InitiativeName): void {
  const defaults = initiativeDefaults(initiative);
  for (const f of ID_FIELDS) {
    const rule = p.out[`${f}Rule`];
    const hasRanges = p.out[`${f}Ranges`] !== undefined || defaults[`${f}Ranges`] !== undefined;
    const ruleOrDefault = rule ?? (defaults[`${f}Rule`] as string | undefined);
    if ((rule === 'MustRunAs' || rule === 'MayRunAs') && !hasRanges && !p.attempted.has(`${f}Ranges`)) {
      const key = p.keyFor(`${f}Rule`);
      p.issue(
        [key],
        `${f}Rule ${rule} needs ${key === f ? `${f}.ranges` : `${f}Ranges ({ranges: [{min, max}]})`}`,
      );
    }
    if (p.out[`${f}Ranges`] !== undefined && ruleOrDefault === undefined && !p.attempted.has(`${f}Rule`)) {
      p.issue([p.keyFor(`${f}Ranges`)], `${f}Ranges has no effect without ${f}Rule (MustRunAs or MayRunAs)`);
    }
  }
}

export function parseParameters(
  raw: unknown,
  initiative: InitiativeName,
): { value: ParsedParameters; issues: ParameterIssue[] } {
  const p = new Parser();
  if (raw === undefined || raw === null) return { value: p.out, issues: p.issues };
  if (!isRecord(raw)) {
    p.issue([], `expected a mapping of parameter names to values, got ${describe(raw)}`);
    return { value: p.out, issues: p.issues };
  }
  for (const [key, v] of Object.entries(raw)) {
    if ((PORT_ALIASES as readonly string[]).includes(key)) continue;
    parseOne(p, key, v);
  }
  parsePorts(p, raw);
  checkRuleRanges(p, initiative);
  return { value: p.out, issues: p.issues };
}
