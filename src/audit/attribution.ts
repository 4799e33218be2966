/**
 * Attribution (CONTRACTS.md section 4): an audit reports workloads, not thousands of identical
 * pods. Pods are grouped under the top owner reachable through ownerReferences (Pod -> ReplicaSet
 * -> Deployment, Pod -> Job -> CronJob) with a count; a pod judged differently from its owner's
 * template (a debug container added, a template changed mid-rollout) is reported on its own;
 * workloads without pods are judged from their template; pods without owners stand alone.
 *
 * Pure and memory-lean: callers feed compact records (no Kubernetes objects), pods are kept as
 * counters and names per (owner, verdict), and verdicts are shared. Input order does not matter:
 * owners may arrive after their pods (a `kubectl get pods,deploy` List), so resolution happens in
 * `results()`.
 *
 * "Top owner" is the highest owner whose object was seen. When a pod's ReplicaSet was not seen,
 * the Deployment is inferred the way the deployment controller names things: the ReplicaSet is
 * `<deployment>-<pod-template-hash>` and the pod carries that hash as a label.
 */
import type { Verdict } from './verdict.js';

export interface OwnerLink {
  readonly apiVersion: string | null;
  readonly kind: string;
  readonly name: string;
  readonly uid: string | null;
}

/** Where an object came from: a file and line, or null/null for the API server. */
export interface Origin {
  readonly file: string | null;
  readonly line: number | null;
}

export interface PodRecord {
  readonly namespace: string | null;
  readonly name: string;
  /** metadata.uid: a pod reported on its own owns its PolicyReport. Null when absent (a manifest). */
  readonly uid: string | null;
  /** The controller ownerReference (or the first one); null for a pod nobody owns. */
  readonly owner: OwnerLink | null;
  /** The pod's `pod-template-hash` label, used to infer a Deployment. */
  readonly templateHash: string | null;
  readonly verdict: Verdict;
  readonly origin: Origin;
}

export interface WorkloadRecord {
  readonly apiVersion: string | null;
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
  readonly uid: string | null;
  readonly owner: OwnerLink | null;
  /** Where the pod template sits, e.g. `spec.template` or `spec.jobTemplate.spec.template`. */
  readonly basePath: string;
  readonly verdict: Verdict;
  readonly origin: Origin;
}

export type Basis =
  /** Judged from the workload's pod template. */
  | 'template'
  /** The owner object was not seen: judged from its pods (the most common verdict among them). */
  | 'pods'
  /** A pod judged on its own (no owner, or different from its owner's template). */
  | 'pod';

export interface AttributedResult {
  readonly apiVersion: string | null;
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
  readonly uid: string | null;
  /** Pods counted in this result (0 for a workload without pods, 1 for a pod on its own). */
  readonly pods: number;
  /** For a pod reported on its own: the top owner it differs from. */
  readonly owner: OwnerLink | null;
  readonly basis: Basis;
  /** Prefix of the violation paths within this result's object ('' for pods). */
  readonly basePath: string;
  readonly verdict: Verdict;
  readonly origin: Origin;
  /**
   * For a workload (or unseen owner): the distinct verdicts of its pods that are reported on their
   * own. A report of the workload must not call a check passed that one of these pods fails.
   */
  readonly podsApart: readonly Verdict[];
}

interface PodGroup {
  readonly verdict: Verdict;
  readonly templateHash: string | null;
  readonly ownerLink: OwnerLink;
  count: number;
  readonly pods: { name: string; uid: string | null; origin: Origin }[];
}

const MAX_OWNER_DEPTH = 16;
const NONE: readonly Verdict[] = Object.freeze([]);

function key(kind: string, namespace: string | null, name: string): string {
  return `${kind}\0${namespace ?? ''}\0${name}`;
}

function compareResults(a: AttributedResult, b: AttributedResult): number {
  return (
    (a.namespace ?? '').localeCompare(b.namespace ?? '') ||
    a.kind.localeCompare(b.kind) ||
    a.name.localeCompare(b.name)
  );
}

export class Attribution {
  private readonly workloads = new Map<string, WorkloadRecord>();
  /** namespace -> direct-owner key -> fingerprint -> group */
  private readonly owned = new Map<string, Map<string, Map<string, PodGroup>>>();
  private readonly orphans: PodRecord[] = [];

  addWorkload(w: WorkloadRecord): void {
    this.workloads.set(key(w.kind, w.namespace, w.name), w);
  }

  addPod(p: PodRecord): void {
    if (p.owner === null) {
      this.orphans.push(p);
      return;
    }
    const ns = p.namespace ?? '';
    let byOwner = this.owned.get(ns);
    if (byOwner === undefined) this.owned.set(ns, (byOwner = new Map<string, Map<string, PodGroup>>()));
    const ownerKey = key(p.owner.kind, p.namespace, p.owner.name);
    let groups = byOwner.get(ownerKey);
    if (groups === undefined) byOwner.set(ownerKey, (groups = new Map<string, PodGroup>()));
    let group = groups.get(p.verdict.fingerprint);
    if (group === undefined) {
      group = { verdict: p.verdict, templateHash: p.templateHash, ownerLink: p.owner, count: 0, pods: [] };
      groups.set(p.verdict.fingerprint, group);
    }
    group.count++;
    group.pods.push({ name: p.name, uid: p.uid, origin: p.origin });
  }

  /** Forgets everything seen in one namespace (its objects are about to be fed again). */
  dropNamespace(namespace: string | null): void {
    const ns = namespace ?? '';
    this.owned.delete(ns);
    for (const [k, w] of this.workloads) if ((w.namespace ?? '') === ns) this.workloads.delete(k);
    for (let i = this.orphans.length - 1; i >= 0; i--) {
      if ((this.orphans[i]!.namespace ?? '') === ns) this.orphans.splice(i, 1);
    }
  }

  /** The top owner of a workload: itself when nothing above it was seen. */
  private topOf(w: WorkloadRecord): WorkloadRecord {
    let cur = w;
    for (let depth = 0; depth < MAX_OWNER_DEPTH && cur.owner !== null; depth++) {
      const next = this.workloads.get(key(cur.owner.kind, cur.namespace, cur.owner.name));
      if (next === undefined || next === w) break;
      cur = next;
    }
    return cur;
  }

  /** Top owner of a pod group: a seen workload, or the link itself (maybe an inferred Deployment). */
  private topOfGroup(namespace: string | null, group: PodGroup): WorkloadRecord | OwnerLink {
    const direct = this.workloads.get(key(group.ownerLink.kind, namespace, group.ownerLink.name));
    if (direct !== undefined) return this.topOf(direct);
    const link = group.ownerLink;
    const hash = group.templateHash;
    if (link.kind === 'ReplicaSet' && hash !== null && hash !== '' && link.name.endsWith(`-${hash}`)) {
      const deployment = link.name.slice(0, -(hash.length + 1));
      const seen = this.workloads.get(key('Deployment', namespace, deployment));
      if (seen !== undefined) return this.topOf(seen);
      return { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, uid: null };
    }
    return link;
  }

  results(): AttributedResult[] {
    const out: AttributedResult[] = [];
    /** top key -> groups of pods attributed to it, across its direct owners */
    const byTop = new Map<
      string,
      { namespace: string | null; top: WorkloadRecord | OwnerLink; groups: PodGroup[] }
    >();
    for (const [ns, byOwner] of this.owned) {
      const namespace = ns === '' ? null : ns;
      for (const groups of byOwner.values()) {
        for (const group of groups.values()) {
          const top = this.topOfGroup(namespace, group);
          const k = key(top.kind, namespace, top.name);
          let entry = byTop.get(k);
          if (entry === undefined) byTop.set(k, (entry = { namespace, top, groups: [] }));
          entry.groups.push(group);
        }
      }
    }

    // Workloads that are their own top owner: judged from the template, with matching pods counted.
    for (const w of this.workloads.values()) {
      if (this.topOf(w) !== w) continue;
      const entry = byTop.get(key(w.kind, w.namespace, w.name));
      byTop.delete(key(w.kind, w.namespace, w.name));
      let pods = 0;
      const apart = new Set<Verdict>();
      for (const g of entry?.groups ?? []) {
        if (g.verdict.fingerprint === w.verdict.fingerprint) pods += g.count;
        else {
          pushPods(out, w.namespace, g, linkOf(w));
          apart.add(g.verdict);
        }
      }
      out.push({
        apiVersion: w.apiVersion,
        kind: w.kind,
        namespace: w.namespace,
        name: w.name,
        uid: w.uid,
        pods,
        owner: null,
        basis: 'template',
        basePath: w.basePath,
        verdict: w.verdict,
        origin: w.origin,
        podsApart: [...apart],
      });
    }

    // Owners never seen: the most common verdict among their pods stands for them.
    for (const { namespace, top, groups } of byTop.values()) {
      const merged = new Map<string, PodGroup>();
      for (const g of groups) {
        const m = merged.get(g.verdict.fingerprint);
        if (m === undefined) {
          merged.set(g.verdict.fingerprint, { ...g, pods: [...g.pods] });
        } else {
          m.count += g.count;
          m.pods.push(...g.pods);
        }
      }
      const ranked = [...merged.values()].sort(
        (a, b) => b.count - a.count || a.verdict.fingerprint.localeCompare(b.verdict.fingerprint),
      );
      const main = ranked[0]!;
      const link = 'basePath' in top ? linkOf(top) : top;
      out.push({
        apiVersion: link.apiVersion,
        kind: link.kind,
        namespace,
        name: link.name,
        uid: link.uid,
        pods: main.count,
        owner: null,
        basis: 'pods',
        basePath: '',
        verdict: main.verdict,
        origin: main.pods[0]?.origin ?? { file: null, line: null },
        podsApart: ranked.slice(1).map((g) => g.verdict),
      });
      for (const g of ranked.slice(1)) pushPods(out, namespace, g, link);
    }

    for (const p of this.orphans) {
      out.push({
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: p.namespace,
        name: p.name,
        uid: p.uid,
        pods: 1,
        owner: null,
        basis: 'pod',
        basePath: '',
        verdict: p.verdict,
        origin: p.origin,
        podsApart: NONE,
      });
    }
    return out.sort(compareResults);
  }
}

function linkOf(w: WorkloadRecord): OwnerLink {
  return { apiVersion: w.apiVersion, kind: w.kind, name: w.name, uid: w.uid };
}

function pushPods(out: AttributedResult[], namespace: string | null, g: PodGroup, owner: OwnerLink): void {
  for (const pod of g.pods) {
    out.push({
      apiVersion: 'v1',
      kind: 'Pod',
      namespace,
      name: pod.name,
      uid: pod.uid,
      pods: 1,
      owner,
      basis: 'pod',
      basePath: '',
      verdict: g.verdict,
      origin: pod.origin,
      podsApart: NONE,
    });
  }
}
