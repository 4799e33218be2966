/**
 * Raw networking.k8s.io/v1 NetworkPolicy object -> validated `NetpolPolicy`, applying the API
 * server's defaults (policyTypes, protocol TCP, missing `from`/`to`/`ports` = all) so the
 * evaluator never re-derives them, and rejecting what the API server rejects (bad selectors,
 * CIDRs, port names, endPort misuse) with Kubernetes field paths. Positions (file, line) are
 * added by the manifest loader (load.ts), which calls this for the semantic part.
 */
import { labelKeyProblem, labelValueProblem, SELECTOR_OPERATORS } from '../../lib/label-selector/index.js';
import type {
  LabelSelector,
  LabelSelectorRequirement,
  SelectorOperator,
} from '../../lib/label-selector/index.js';
import { isRecord } from '../../lib/is-record.js';
import { cidrWithin, parseCidr } from './cidr.js';
import { POLICY_TYPES, PROTOCOLS } from './types.js';
import type {
  ObjectProblem,
  Peer,
  PolicyConversion,
  PolicyType,
  PortSpec,
  Protocol,
  Rule,
  SourceRef,
} from './types.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Why `name` is not a valid container port name (IANA_SVC_NAME), or null. */
export function portNameProblem(name: string): string | null {
  if (
    name.length === 0 ||
    name.length > 15 ||
    !IANA_SVC_NAME.test(name) ||
    name.includes('--') ||
    !/[a-z]/.test(name)
  ) {
    return `port name "${name}" must be 1-15 lower-case letters, digits or '-', with at least one letter, no '--', and not starting or ending with '-'`;
  }
  return null;
}

class Problems {
  readonly list: ObjectProblem[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
}

function toLabelSelector(raw: unknown, path: string, problems: Problems): LabelSelector | null {
  if (raw === null || raw === undefined) return { matchLabels: {}, matchExpressions: [] };
  if (!isRecord(raw)) {
    problems.add(path, 'must be a label selector object (matchLabels, matchExpressions)');
    return null;
  }
  let ok = true;
  for (const key of Object.keys(raw)) {
    if (key !== 'matchLabels' && key !== 'matchExpressions') {
      problems.add(`${path}.${key}`, 'unknown field of a label selector');
      ok = false;
    }
  }
  const matchLabels: Record<string, string> = {};
  if (raw.matchLabels !== undefined && raw.matchLabels !== null) {
    if (!isRecord(raw.matchLabels)) {
      problems.add(`${path}.matchLabels`, 'must be a map of label keys to values');
      ok = false;
    } else {
      for (const [key, value] of Object.entries(raw.matchLabels)) {
        const keyProblem = labelKeyProblem(key);
        const valueProblem = typeof value === 'string' ? labelValueProblem(value) : 'must be a string';
        if (keyProblem !== null || valueProblem !== null) {
          problems.add(`${path}.matchLabels.${key}`, keyProblem ?? valueProblem ?? '');
          ok = false;
        } else {
          matchLabels[key] = value as string;
        }
      }
    }
  }
  const matchExpressions: LabelSelectorRequirement[] = [];
  if (raw.matchExpressions !== undefined && raw.matchExpressions !== null) {
    if (!Array.isArray(raw.matchExpressions)) {
      problems.add(`${path}.matchExpressions`, 'must be a list');
      ok = false;
    } else {
      raw.matchExpressions.forEach((item: unknown, i) => {
        const at = `${path}.matchExpressions[${i}]`;
        const req = toRequirement(item, at, problems);
        if (req === null) ok = false;
        else matchExpressions.push(req);
      });
    }
  }
  return ok ? { matchLabels, matchExpressions } : null;
}

/** Validates a raw label selector object (matchLabels / matchExpressions); `null`/absent is the empty selector. */
export function labelSelectorFromObject(
  raw: unknown,
  path: string,
): { ok: true; selector: LabelSelector } | { ok: false; problems: readonly ObjectProblem[] } {
  const problems = new Problems();
  const selector = toLabelSelector(raw, path, problems);
  return selector === null ? { ok: false, problems: problems.list } : { ok: true, selector };
}

function toRequirement(item: unknown, at: string, problems: Problems): LabelSelectorRequirement | null {
  if (!isRecord(item)) {
    problems.add(at, 'must be an object with key, operator and values');
    return null;
  }
  const { key, operator, values } = item;
  if (typeof key !== 'string') {
    problems.add(`${at}.key`, 'is required');
    return null;
  }
  const keyProblem = labelKeyProblem(key);
  if (keyProblem !== null) {
    problems.add(`${at}.key`, keyProblem);
    return null;
  }
  if (typeof operator !== 'string' || !(SELECTOR_OPERATORS as readonly string[]).includes(operator)) {
    problems.add(`${at}.operator`, `must be one of ${SELECTOR_OPERATORS.join(', ')}`);
    return null;
  }
  const op = operator as SelectorOperator;
  const list = values === undefined || values === null ? [] : values;
  if (!Array.isArray(list) || !list.every((v): v is string => typeof v === 'string')) {
    problems.add(`${at}.values`, 'must be a list of strings');
    return null;
  }
  if ((op === 'In' || op === 'NotIn') && list.length === 0) {
    problems.add(`${at}.values`, `must be non-empty for operator ${op}`);
    return null;
  }
  if ((op === 'Exists' || op === 'DoesNotExist') && list.length > 0) {
    problems.add(`${at}.values`, `must be empty for operator ${op}`);
    return null;
  }
  for (const v of list) {
    const p = labelValueProblem(v);
    if (p !== null) {
      problems.add(`${at}.values`, p);
      return null;
    }
  }
  return { key, operator: op, values: list };
}

function toPeer(raw: unknown, at: string, problems: Problems): Peer | null {
  if (!isRecord(raw)) {
    problems.add(at, 'must be an object (podSelector, namespaceSelector or ipBlock)');
    return null;
  }
  const has = (k: string): boolean => raw[k] !== undefined && raw[k] !== null;
  if (has('ipBlock')) {
    if (has('podSelector') || has('namespaceSelector')) {
      problems.add(at, 'ipBlock cannot be combined with podSelector or namespaceSelector');
      return null;
    }
    const block = raw.ipBlock;
    if (!isRecord(block) || typeof block.cidr !== 'string') {
      problems.add(`${at}.ipBlock.cidr`, 'is required');
      return null;
    }
    const cidr = parseCidr(block.cidr);
    if (cidr === null) {
      problems.add(`${at}.ipBlock.cidr`, `"${block.cidr}" is not a valid CIDR`);
      return null;
    }
    const except: string[] = [];
    const rawExcept = block.except ?? [];
    if (!Array.isArray(rawExcept)) {
      problems.add(`${at}.ipBlock.except`, 'must be a list of CIDRs');
      return null;
    }
    let ok = true;
    rawExcept.forEach((e: unknown, i) => {
      const ex = typeof e === 'string' ? parseCidr(e) : null;
      if (ex === null) {
        problems.add(`${at}.ipBlock.except[${i}]`, `${JSON.stringify(e)} is not a valid CIDR`);
        ok = false;
      } else if (!cidrWithin(ex, cidr) || ex.prefix <= cidr.prefix) {
        problems.add(
          `${at}.ipBlock.except[${i}]`,
          `"${ex.text}" must be a strict subset of cidr "${cidr.text}"`,
        );
        ok = false;
      } else {
        except.push(ex.text);
      }
    });
    return ok ? { kind: 'ipBlock', ipBlock: { cidr: cidr.text, except } } : null;
  }
  if (!has('podSelector') && !has('namespaceSelector')) {
    problems.add(at, 'must specify podSelector, namespaceSelector or ipBlock');
    return null;
  }
  const podSelector = has('podSelector')
    ? toLabelSelector(raw.podSelector, `${at}.podSelector`, problems)
    : null;
  const namespaceSelector = has('namespaceSelector')
    ? toLabelSelector(raw.namespaceSelector, `${at}.namespaceSelector`, problems)
    : null;
  if (
    (has('podSelector') && podSelector === null) ||
    (has('namespaceSelector') && namespaceSelector === null)
  ) {
    return null;
  }
  return { kind: 'selector', podSelector, namespaceSelector };
}

function toPortSpec(raw: unknown, at: string, problems: Problems): PortSpec | null {
  if (!isRecord(raw)) {
    problems.add(at, 'must be an object (protocol, port, endPort)');
    return null;
  }
  let protocol: Protocol = 'TCP';
  if (raw.protocol !== undefined && raw.protocol !== null) {
    if (typeof raw.protocol !== 'string' || !(PROTOCOLS as readonly string[]).includes(raw.protocol)) {
      problems.add(`${at}.protocol`, `must be one of ${PROTOCOLS.join(', ')}`);
      return null;
    }
    protocol = raw.protocol as Protocol;
  }
  let port: number | string | null = null;
  if (raw.port !== undefined && raw.port !== null) {
    if (typeof raw.port === 'number') {
      if (!Number.isInteger(raw.port) || raw.port < 1 || raw.port > 65535) {
        problems.add(`${at}.port`, 'must be between 1 and 65535');
        return null;
      }
      port = raw.port;
    } else if (typeof raw.port === 'string') {
      const p = portNameProblem(raw.port);
      if (p !== null) {
        problems.add(`${at}.port`, p);
        return null;
      }
      port = raw.port;
    } else {
      problems.add(`${at}.port`, 'must be a port number or a port name');
      return null;
    }
  }
  let endPort: number | null = null;
  if (raw.endPort !== undefined && raw.endPort !== null) {
    if (
      typeof raw.endPort !== 'number' ||
      !Number.isInteger(raw.endPort) ||
      raw.endPort < 1 ||
      raw.endPort > 65535
    ) {
      problems.add(`${at}.endPort`, 'must be between 1 and 65535');
      return null;
    }
    if (typeof port !== 'number') {
      problems.add(
        `${at}.endPort`,
        port === null ? 'may not be set without port' : 'may not be used with a named port',
      );
      return null;
    }
    if (raw.endPort < port) {
      problems.add(`${at}.endPort`, `must be greater than or equal to port (${port})`);
      return null;
    }
    endPort = raw.endPort;
  }
  return { protocol, port, endPort };
}

function toRules(raw: unknown, path: string, peersKey: 'from' | 'to', problems: Problems): Rule[] | null {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.add(path, 'must be a list of rules');
    return null;
  }
  let ok = true;
  const rules: Rule[] = [];
  raw.forEach((item: unknown, i) => {
    const at = `${path}[${i}]`;
    if (item === null) item = {};
    if (!isRecord(item)) {
      problems.add(at, `must be an object (${peersKey}, ports)`);
      ok = false;
      return;
    }
    let peers: Peer[] | 'all' = 'all';
    const rawPeers = item[peersKey];
    if (rawPeers !== undefined && rawPeers !== null) {
      if (!Array.isArray(rawPeers)) {
        problems.add(`${at}.${peersKey}`, 'must be a list of peers');
        ok = false;
      } else if (rawPeers.length > 0) {
        const list: Peer[] = [];
        rawPeers.forEach((p: unknown, j) => {
          const peer = toPeer(p, `${at}.${peersKey}[${j}]`, problems);
          if (peer === null) ok = false;
          else list.push(peer);
        });
        peers = list;
      }
    }
    let ports: PortSpec[] | 'all' = 'all';
    if (item.ports !== undefined && item.ports !== null) {
      if (!Array.isArray(item.ports)) {
        problems.add(`${at}.ports`, 'must be a list of ports');
        ok = false;
      } else if (item.ports.length > 0) {
        const list: PortSpec[] = [];
        item.ports.forEach((p: unknown, j) => {
          const spec = toPortSpec(p, `${at}.ports[${j}]`, problems);
          if (spec === null) ok = false;
          else list.push(spec);
        });
        ports = list;
      }
    }
    rules.push({ peers, ports });
  });
  return ok ? rules : null;
}

export interface ConvertOptions {
  /** Namespace of objects without metadata.namespace (as `kubectl apply -n`); `default` when omitted. */
  readonly defaultNamespace?: string;
  readonly source?: SourceRef | null;
}

/**
 * Converts one raw NetworkPolicy object (already known to be networking.k8s.io/v1
 * NetworkPolicy) into the validated, defaulted form, or returns every problem found.
 */
export function toNetpolPolicy(raw: unknown, options: ConvertOptions = {}): PolicyConversion {
  const problems = new Problems();
  if (!isRecord(raw)) {
    return { ok: false, problems: [{ path: '', message: 'a NetworkPolicy must be an object' }] };
  }
  const metadata = isRecord(raw.metadata) ? raw.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') {
    problems.add('metadata.name', 'is required');
  } else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    problems.add('metadata.name', `"${name}" must be a DNS subdomain (lower case, at most 253 characters)`);
  }
  const rawNamespace = metadata.namespace;
  let namespace = options.defaultNamespace ?? 'default';
  if (rawNamespace !== undefined && rawNamespace !== null) {
    if (typeof rawNamespace !== 'string' || rawNamespace.length > 63 || !DNS_LABEL.test(rawNamespace)) {
      problems.add('metadata.namespace', 'must be a DNS label (lower case, at most 63 characters)');
    } else {
      namespace = rawNamespace;
    }
  }
  const spec = raw.spec;
  if (!isRecord(spec)) {
    problems.add('spec', 'is required');
    return { ok: false, problems: problems.list };
  }
  let podSelector: LabelSelector | null = null;
  if (spec.podSelector === undefined) {
    problems.add('spec.podSelector', 'is required (use {} to select every pod of the namespace)');
  } else {
    podSelector = toLabelSelector(spec.podSelector, 'spec.podSelector', problems);
  }
  const ingress = toRules(spec.ingress, 'spec.ingress', 'from', problems);
  const egress = toRules(spec.egress, 'spec.egress', 'to', problems);

  let policyTypes: PolicyType[] = [];
  const rawTypes = spec.policyTypes;
  if (rawTypes !== undefined && rawTypes !== null) {
    if (!Array.isArray(rawTypes)) {
      problems.add('spec.policyTypes', 'must be a list of Ingress and/or Egress');
    } else {
      rawTypes.forEach((t: unknown, i) => {
        if (typeof t !== 'string' || !(POLICY_TYPES as readonly string[]).includes(t)) {
          problems.add(`spec.policyTypes[${i}]`, 'must be Ingress or Egress');
        } else if (policyTypes.includes(t as PolicyType)) {
          problems.add(`spec.policyTypes[${i}]`, `duplicate value "${t}"`);
        } else {
          policyTypes.push(t as PolicyType);
        }
      });
    }
  }
  // The API server defaults an absent or empty list: Ingress always, Egress iff there are egress rules.
  if (policyTypes.length === 0 && (rawTypes === undefined || rawTypes === null || Array.isArray(rawTypes))) {
    policyTypes = Array.isArray(spec.egress) && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }

  if (problems.list.length > 0 || podSelector === null || ingress === null || egress === null) {
    return { ok: false, problems: problems.list };
  }
  return {
    ok: true,
    policy: {
      namespace,
      name: name as string,
      podSelector,
      policyTypes,
      ingress,
      egress,
      source: options.source ?? null,
    },
  };
}
