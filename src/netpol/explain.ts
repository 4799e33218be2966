/**
 * "Can A reach B on this port, and why": the evaluation of both directions put into words,
 * naming the policies that isolate the source for egress and the destination for ingress,
 * and the policy, rule and peer that allows each direction, or that none does.
 */
import { evaluate, DEFAULT_TIERS } from './evaluate.js';
import type { Tier } from './evaluate.js';
import type { CompiledCluster } from './compile.js';
import { nodesByIp } from './model/build.js';
import type { DirectionResult, Endpoint, PolicyRef, Protocol, RuleMatch, Verdict } from './model/types.js';

/** `ns/name` for a pod (marked when hostNetwork), the address otherwise. */
export function describeEndpoint(compiled: CompiledCluster, e: Endpoint): string {
  if (e.kind === 'ip') return e.ip;
  const pod = compiled.model.pods[e.pod];
  const key = compiled.model.podKeys[e.pod] ?? `#${e.pod}`;
  return pod?.hostNetwork === true
    ? `${key} (hostNetwork: node traffic of ${pod.node ?? 'an unknown node'})`
    : key;
}

/** `node n2` / `nodes n1, n2`. */
function nodesText(nodes: readonly string[]): string {
  return `node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')}`;
}

/**
 * Why no policy applies to an end that is not a selectable pod, as a whole sentence:
 * `b/hp runs in the host network of node n2: its traffic is node traffic, which no policy selects`,
 * `192.168.0.2 is node n2: its traffic is node traffic, which no policy selects`,
 * `203.0.113.9 is not a pod of the input: no policy selects it`.
 */
export function notSelected(compiled: CompiledCluster, e: Endpoint): string {
  const nodeTraffic = 'its traffic is node traffic, which no policy selects';
  if (e.kind === 'ip') {
    const nodes = nodesByIp(compiled.model, e.ip);
    return nodes.length > 0
      ? `${e.ip} is ${nodesText(nodes)}: ${nodeTraffic}`
      : `${e.ip} is not a pod of the input: no policy selects it`;
  }
  const pod = compiled.model.pods[e.pod];
  const key = compiled.model.podKeys[e.pod] ?? `#${e.pod}`;
  const node = pod?.node ?? null;
  return `${key} runs in the host network of ${node === null ? 'its node' : `node ${node}`}: ${nodeTraffic}`;
}

function ref(p: PolicyRef): string {
  return `${p.namespace}/${p.name}`;
}

function describeMatch(m: RuleMatch, direction: 'egress' | 'ingress'): string {
  const peers = direction === 'egress' ? 'to' : 'from';
  const peer =
    m.peerIndex === null
      ? `any ${peers === 'to' ? 'destination' : 'source'} (no ${peers})`
      : `${peers}[${m.peerIndex}]`;
  const port = m.portIndex === null ? 'any port (no ports)' : `ports[${m.portIndex}]`;
  return `policy ${ref(m.policy)} ${direction}[${m.ruleIndex}] allows it: peer ${peer}, ${port}`;
}

function directionLines(
  compiled: CompiledCluster,
  r: DirectionResult,
  subject: Endpoint,
  isSubjectPod: boolean,
): string[] {
  const who = describeEndpoint(compiled, subject);
  const side = r.direction === 'egress' ? 'source' : 'destination';
  if (!isSubjectPod) return [`${r.direction}: ${side} ${notSelected(compiled, subject)} (allowed)`];
  if (!r.isolated) return [`${r.direction}: no policy isolates ${side} ${who} for ${r.direction} (allowed)`];
  const lines = [`${r.direction}: ${side} ${who} is isolated by ${r.isolatingPolicies.map(ref).join(', ')}`];
  if (r.verdict === 'accept') for (const m of r.allowedBy) lines.push(`  ${describeMatch(m, r.direction)}`);
  else if (r.verdict === 'deny') lines.push(`  no rule of these policies allows it (denied, tier ${r.tier})`);
  return lines;
}

/** The verdict for `from` -> `to` on `port`/`protocol`, with explanation lines. */
export function explain(
  compiled: CompiledCluster,
  from: Endpoint,
  to: Endpoint,
  port: number,
  protocol: Protocol = 'TCP',
  tiers: readonly Tier[] = DEFAULT_TIERS,
): Verdict {
  const e = evaluate(compiled, from, to, port, protocol, tiers);
  const isPod = (x: Endpoint): boolean =>
    x.kind === 'pod' && compiled.model.pods[x.pod]?.hostNetwork === false;
  const head = `${describeEndpoint(compiled, from)} -> ${describeEndpoint(compiled, to)} on ${port}/${protocol}: ${e.allowed ? 'ALLOWED' : 'DENIED'}`;
  const explanation = [head];
  if (e.basis === 'loopback') explanation.push('a pod can always reach itself (loopback)');
  if (e.basis === 'node') explanation.push('traffic between a pod and its own node is always allowed');
  explanation.push(...directionLines(compiled, e.egress, from, isPod(from)));
  explanation.push(...directionLines(compiled, e.ingress, to, isPod(to)));
  for (const [end, x] of [
    ['source', from],
    ['destination', to],
  ] as const) {
    if (x.kind === 'pod' && compiled.model.podAddresses[x.pod]?.length === 0) {
      explanation.push(
        `note: ${end} ${describeEndpoint(compiled, x)} has no address, so no ipBlock matches it`,
      );
    }
  }
  return {
    allowed: e.allowed,
    basis: e.basis,
    port,
    protocol,
    egress: e.egress,
    ingress: e.ingress,
    explanation,
  };
}
