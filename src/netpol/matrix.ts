/**
 * Reachability matrices: every pod pair for one port, from per-pod rows of the tiers (one
 * set of allowed peers per pod and direction), so a 1,000-pod matrix is a few thousand set
 * operations plus one bit test per cell. `matrixRow` answers one source against every pod
 * without building the whole matrix (for clusters too large for one).
 */
import { DEFAULT_TIERS, isOwnNodePair, PortContext, tierAllows, tierRow } from './evaluate.js';
import type { Tier } from './evaluate.js';
import type { CompiledCluster } from './compile.js';
import type { Bitset } from './model/bitset.js';
import type { Matrix, Protocol } from './model/types.js';

function cell(
  compiled: CompiledCluster,
  from: number,
  to: number,
  egress: Bitset | null,
  ingress: Bitset | null,
): boolean {
  if (from === to || isOwnNodePair(compiled.model, from, to)) return true;
  return (egress === null || egress.has(to)) && (ingress === null || ingress.has(from));
}

/** `allowed[i][j]`: can pods[i] reach pods[j] on `port`/`protocol`. */
export function matrix(
  compiled: CompiledCluster,
  port: number,
  protocol: Protocol = 'TCP',
  tiers: readonly Tier[] = DEFAULT_TIERS,
): Matrix {
  const ctx = new PortContext(compiled, port, protocol);
  const n = compiled.model.pods.length;
  const egress: (Bitset | null)[] = [];
  const ingress: (Bitset | null)[] = [];
  for (let i = 0; i < n; i++) {
    egress.push(tierRow(ctx, 'egress', i, tiers));
    ingress.push(tierRow(ctx, 'ingress', i, tiers));
  }
  const allowed: boolean[][] = [];
  for (let i = 0; i < n; i++) {
    const row = new Array<boolean>(n);
    const e = egress[i]!;
    for (let j = 0; j < n; j++) row[j] = cell(compiled, i, j, e, ingress[j]!);
    allowed.push(row);
  }
  return { pods: compiled.model.podKeys, port, protocol, allowed };
}

/** One row of the matrix: can pods[from] reach each pod on `port`/`protocol`. */
export function matrixRow(
  compiled: CompiledCluster,
  from: number,
  port: number,
  protocol: Protocol = 'TCP',
  tiers: readonly Tier[] = DEFAULT_TIERS,
): boolean[] {
  const ctx = new PortContext(compiled, port, protocol);
  const n = compiled.model.pods.length;
  const egress = tierRow(ctx, 'egress', from, tiers);
  const row = new Array<boolean>(n);
  for (let j = 0; j < n; j++) {
    // One egress row for the source, then one ingress answer per destination (no ingress rows).
    if (from === j || isOwnNodePair(compiled.model, from, j)) row[j] = true;
    else row[j] = (egress === null || egress.has(j)) && tierAllows(ctx, 'ingress', j, from, tiers);
  }
  return row;
}
