/**
 * `podsec netpol explain --from X --to Y --port P`: X and Y are `NS/POD`, `svc:NS/NAME` or an IP
 * address. A Service stands for its endpoint pods (its selector, in its namespace); as the
 * destination, its port becomes each pod's target port (a named target port is resolved on each
 * pod by name and protocol, and a pod without it is no endpoint). An address that belongs to a
 * pod is that pod; one held only by hostNetwork pods is their node (`node n2 (hostNetwork pods:
 * b/hp)`), judged as the first of them. Exit 0 when every connection is allowed, 1 when one is denied or there is
 * none to judge, 2 for a usage error or unreadable input (the answer is still printed).
 */
import { UsageError } from '../../lib/errors.js';
import { matchesSelector } from '../../lib/label-selector/index.js';
import {
  compile,
  explain,
  findPod,
  findPodsByIp,
  nodesByIp,
  parseIp,
  resolveNamedPort,
  type CompiledCluster,
  type Endpoint,
  type Protocol,
  type SourceRef,
} from '../../netpol/index.js';
import { formatIgnored } from '../../netpol/load.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import {
  explainAllowed,
  explainJson,
  renderExplainText,
  type ExplainCase,
  type ExplainEnd,
  type ExplainView,
} from '../output/netpol-explain.js';
import {
  nothingUsable,
  parsePortFlag,
  problemJson,
  readCluster,
  writeProblems,
  type Out,
} from './netpol-input.js';

export interface NetpolExplainOptions {
  state: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  podCidr: string | undefined;
  exclude: string[];
  from: string;
  to: string;
  port: string;
  protocol: string | undefined;
  format: 'text' | 'json';
  stdin?: NodeJS.ReadableStream;
  stdout?: Out;
  stderr?: Out;
}

/** One resolved end: an endpoint, and for a Service destination the port on that pod. */
interface Resolved {
  readonly endpoint: Endpoint;
  readonly port: number | null;
}

function endOf(compiled: CompiledCluster, e: Endpoint): ExplainEnd {
  const { model } = compiled;
  if (e.kind === 'ip') {
    return {
      label: e.ip,
      pod: null,
      ip: e.ip,
      hostNetwork: false,
      node: nodesByIp(model, e.ip)[0] ?? null,
      representative: false,
    };
  }
  const p = model.pods[e.pod]!;
  return {
    label: model.podKeys[e.pod]!,
    pod: model.podKeys[e.pod]!,
    ip: p.ip,
    hostNetwork: p.hostNetwork,
    node: p.node,
    representative: p.representative,
  };
}

function resolve(
  compiled: CompiledCluster,
  text: string,
  flag: '--from' | '--to',
  port: number,
  protocol: Protocol,
  notes: string[],
): Resolved[] {
  const { model } = compiled;
  const hint = 'write NS/POD, svc:NS/NAME or an IP address';
  if (text.startsWith('svc:')) {
    const key = text.slice(4);
    const [ns, name, extra] = key.split('/');
    if (ns === undefined || name === undefined || extra !== undefined || ns === '' || name === '') {
      throw new UsageError(`${flag} ${JSON.stringify(text)}: a Service is svc:NS/NAME`, hint);
    }
    const svc = model.input.services.find((s) => s.namespace === ns && s.name === name);
    if (svc === undefined) throw new UsageError(`${flag} ${text}: no Service ${key} in the input`);
    if (Object.keys(svc.selector).length === 0) {
      notes.push(`Service ${key} has no selector (endpoints managed by hand): podsec cannot name its pods`);
      return [];
    }
    const pods = model.pods
      .map((p, i) => ({ p, i }))
      .filter(
        ({ p }) =>
          p.namespace === ns &&
          matchesSelector({ matchLabels: svc.selector, matchExpressions: [] }, p.labels),
      );
    if (pods.length === 0) notes.push(`Service ${key} selects no pod: it has no endpoints`);
    if (flag === '--from') {
      if (pods.length > 0)
        notes.push(
          `${text} stands for its ${pods.length} endpoint pod(s): ${pods.map(({ i }) => model.podKeys[i]).join(', ')}`,
        );
      return pods.map(({ i }) => ({ endpoint: { kind: 'pod', pod: i }, port: null }));
    }
    const sp = svc.ports.find((x) => x.port === port && x.protocol === protocol);
    if (sp === undefined) {
      const have = svc.ports.map((x) => `${x.port}/${x.protocol}`).join(', ') || 'none';
      throw new UsageError(`${flag} ${text}: the Service has no port ${port}/${protocol} (ports: ${have})`);
    }
    const out: Resolved[] = [];
    for (const { i } of pods) {
      const target =
        typeof sp.targetPort === 'number'
          ? sp.targetPort
          : resolveNamedPort(model, i, sp.targetPort, protocol);
      if (target === null) {
        notes.push(
          `${model.podKeys[i]} has no container port named ${String(sp.targetPort)}/${protocol}: not an endpoint of ${key}`,
        );
        continue;
      }
      notes.push(
        `${text} port ${port}/${protocol} -> ${model.podKeys[i]} port ${target}${typeof sp.targetPort === 'string' ? ` (targetPort ${sp.targetPort})` : ''}`,
      );
      out.push({ endpoint: { kind: 'pod', pod: i }, port: target });
    }
    return out;
  }
  if (parseIp(text) !== null) {
    const pods = findPodsByIp(model, text);
    const first = pods[0];
    if (first === undefined) {
      const nodes = nodesByIp(model, text);
      notes.push(
        nodes.length > 0
          ? `${text} is node ${nodes.join(', ')}`
          : `${text} belongs to no pod or node of the input: an address outside the cluster`,
      );
      return [{ endpoint: { kind: 'ip', ip: text }, port: null }];
    }
    const hostPods = pods.filter((i) => model.pods[i]!.hostNetwork).map((i) => model.podKeys[i]!);
    const own = pods.filter((i) => !model.pods[i]!.hostNetwork).map((i) => model.podKeys[i]!);
    const nodes = nodesByIp(model, text);
    const onNode = hostPods.length === 0 ? '' : ` (hostNetwork pods: ${hostPods.join(', ')})`;
    if (own.length === 0) {
      // Only hostNetwork pods hold it: the address is their node's.
      const node = nodes.length > 0 ? nodes.join(', ') : (model.pods[first]!.node ?? 'unknown');
      notes.push(`${text} is node ${node}${onNode}`);
    } else if (own.length > 1 || hostPods.length > 0) {
      notes.push(
        `${text} is held by pod${own.length === 1 ? '' : 's'} ${own.join(', ')}${nodes.length > 0 ? ` and node ${nodes.join(', ')}${onNode}` : onNode}; judged as pod ${model.podKeys[first]}`,
      );
    } else notes.push(`${text} is pod ${model.podKeys[first]}`);
    return [{ endpoint: { kind: 'pod', pod: first }, port: null }];
  }
  const parts = text.split('/');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a pod, Service or address`, hint);
  }
  const i = findPod(model, text);
  if (i === null) {
    throw new UsageError(
      `${flag} ${text}: no pod ${text} in the input`,
      'a workload without pods stands in as NS/<kind>-<name>, e.g. shop/deployment-web',
    );
  }
  return [{ endpoint: { kind: 'pod', pod: i }, port: null }];
}

/** Resolves both ends and asks the engine about every pair. */
export function explainConnections(
  compiled: CompiledCluster,
  from: string,
  to: string,
  port: number,
  protocol: Protocol,
): ExplainView {
  const notes: string[] = [];
  const sources = resolve(compiled, from, '--from', port, protocol, notes);
  const destinations = resolve(compiled, to, '--to', port, protocol, notes);
  const cases: ExplainCase[] = [];
  for (const s of sources) {
    for (const d of destinations) {
      const verdict = explain(compiled, s.endpoint, d.endpoint, d.port ?? port, protocol);
      cases.push({ from: endOf(compiled, s.endpoint), to: endOf(compiled, d.endpoint), verdict });
    }
  }
  return { from, to, port, protocol, cases, notes };
}

export async function runNetpolExplain(paths: string[], opts: NetpolExplainOptions): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const { port, protocol } = parsePortFlag(opts.port, opts.protocol);
  const loaded = await readCluster(paths, opts);
  const compiled = compile(loaded.input);
  // Problems first: an endpoint that cannot be resolved may be the one whose file is broken.
  if (opts.format !== 'json') writeProblems(stderr, loaded.problems);
  // Nothing was loaded: no endpoint can be found, and an answer would mislead.
  if (opts.format !== 'json' && nothingUsable(loaded)) return EXIT_USAGE;
  const view = explainConnections(compiled, opts.from, opts.to, port, protocol);
  if (opts.format === 'json') {
    stdout.write(
      `${JSON.stringify(explainJson(view, loaded.problems.map(problemJson), loaded.summary.ignored), null, 2)}\n`,
    );
  } else {
    const sources = new Map<string, SourceRef | null>(
      loaded.input.policies.map((p) => [`${p.namespace}/${p.name}`, p.source]),
    );
    stdout.write(renderExplainText(view, sources));
    const ignored = formatIgnored(loaded.summary.ignored);
    if (ignored !== null) stdout.write(`${ignored}\n`);
  }
  if (loaded.problems.length > 0) return EXIT_USAGE;
  return explainAllowed(view) ? EXIT_OK : EXIT_FINDINGS;
}
