/**
 * What the netpol subcommands share: reading the cluster (paths, `--state DIR`, stdin), the
 * `--port P[/PROTO]` / `--protocol` pair, and reporting load problems. Problems never stop the
 * evaluation of the valid objects; like `podsec scan`, a run with any problem exits 2 after
 * everything is reported, so a broken file is never mistaken for a clean answer; when nothing
 * usable was loaded at all, text output holds only the errors (`nothingUsable`).
 * `--state DIR` is read as a directory of manifests (as the directory ClusterSource reads it,
 * without its own `.podsec/` writes), so policies keep their file:line.
 */
import { UsageError } from '../../lib/errors.js';
import { parseProtocol } from '../../netpol/generate.js';
import {
  formatLoadProblemWithPath,
  loadFromClusterSource,
  loadManifests,
  parsePodCidr,
  type LoadProblem,
  type LoadResult,
} from '../../netpol/load.js';
import type { Protocol } from '../../netpol/index.js';
import type { Cidr } from '../../netpol/model/cidr.js';
import type { ProblemJson } from '../output/netpol-lint.js';

export interface NetpolInputOptions {
  readonly state: string | undefined;
  /** Read the cluster from the API server (this kubeconfig) instead of manifests. */
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly podCidr: string | undefined;
  readonly exclude: readonly string[];
  readonly stdin?: NodeJS.ReadableStream;
}

export type Out = NodeJS.WritableStream & { isTTY?: boolean };

/** Reads the inputs; throws UsageError only for a command line that cannot be run. */
export async function readCluster(paths: readonly string[], opts: NetpolInputOptions): Promise<LoadResult> {
  let podCidr = null;
  if (opts.podCidr !== undefined) {
    const parsed = parsePodCidr(opts.podCidr);
    if (!parsed.ok) throw new UsageError(parsed.message);
    podCidr = parsed.cidr;
  }
  if (opts.kubeconfig !== undefined || opts.context !== undefined) {
    if (paths.length > 0 || opts.state !== undefined) {
      throw new UsageError(
        '--kubeconfig reads the cluster from the API server; it cannot be combined with paths or --state',
      );
    }
    return readFromApiServer(opts, podCidr);
  }
  const all = [...paths];
  if (opts.state !== undefined && opts.state !== '') all.push(opts.state);
  if (all.length === 0) {
    const stdin = opts.stdin ?? process.stdin;
    if ((stdin as { isTTY?: boolean }).isTTY === true) {
      throw new UsageError(
        'no manifests to read',
        'give files or directories, --state DIR, or - to read manifests from stdin',
      );
    }
    all.push('-');
  }
  return loadManifests(all, {
    podCidr,
    exclude: [...opts.exclude, ...(opts.state === undefined ? [] : ['.podsec'])],
    ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }),
  });
}

/**
 * The live cluster through ClusterSource (paginated LISTs of namespaces, pods, nodes, Services,
 * NetworkPolicies and workloads); the Kubernetes client is loaded only here.
 */
async function readFromApiServer(opts: NetpolInputOptions, podCidr: Cidr | null): Promise<LoadResult> {
  const { openClusterSource } = await import('../../kube/cluster-source/index.js');
  const source = await openClusterSource({
    ...(opts.kubeconfig === undefined ? {} : { kubeconfig: opts.kubeconfig }),
    ...(opts.context === undefined ? {} : { context: opts.context }),
  });
  try {
    return await loadFromClusterSource(source, { podCidr });
  } finally {
    await source.close();
  }
}

/**
 * True when some input could not be read, parsed or validated and nothing usable came of the
 * rest (no pod, workload, policy or Service): a verdict on that ("no problems found", an empty
 * matrix) would read as an answer, so text output shows only the errors. JSON keeps its shape
 * (its `errors` and exit 2 say the same).
 */
export function nothingUsable(loaded: LoadResult): boolean {
  const { input } = loaded;
  return (
    loaded.problems.length > 0 &&
    input.pods.length === 0 &&
    input.policies.length === 0 &&
    input.services.length === 0
  );
}

export function problemJson(p: LoadProblem): ProblemJson {
  return {
    file: p.file,
    line: p.line ?? 1,
    ...(p.column === null ? {} : { column: p.column }),
    ...(p.path === '' ? {} : { path: p.path }),
    message: p.hint === undefined ? p.message : `${p.message} (hint: ${p.hint})`,
  };
}

/** Load problems on stderr, one line each with file:line:column and the field path. */
export function writeProblems(stderr: Out, problems: readonly LoadProblem[]): void {
  for (const p of problems) {
    stderr.write(`podsec: ${formatLoadProblemWithPath(p)}\n`);
    if (p.hint !== undefined) stderr.write(`  hint: ${p.hint}\n`);
  }
}

/** `--port P[/PROTO]` with `--protocol`: one port number and its protocol (TCP by default). */
export function parsePortFlag(
  port: string,
  protocol: string | undefined,
): { port: number; protocol: Protocol } {
  const hint = 'write --port P[/PROTO] with P a number from 1 to 65535, e.g. 8080 or 53/UDP';
  const slash = port.indexOf('/');
  const numText = (slash < 0 ? port : port.slice(0, slash)).trim();
  let proto: Protocol | null = null;
  if (slash >= 0) {
    proto = parseProtocol(port.slice(slash + 1).trim());
    if (proto === null)
      throw new UsageError(`--port ${JSON.stringify(port)}: protocol must be TCP, UDP or SCTP`, hint);
  }
  if (protocol !== undefined) {
    const flag = parseProtocol(protocol.trim());
    if (flag === null)
      throw new UsageError(`--protocol ${JSON.stringify(protocol)} must be TCP, UDP or SCTP`);
    if (proto !== null && proto !== flag) {
      throw new UsageError(`--port ${port} and --protocol ${protocol} disagree`, 'give the protocol once');
    }
    proto = flag;
  }
  if (!/^[0-9]+$/.test(numText) || Number(numText) < 1 || Number(numText) > 65535) {
    throw new UsageError(`--port ${JSON.stringify(port)} is not a port number`, hint);
  }
  return { port: Number(numText), protocol: proto ?? 'TCP' };
}
