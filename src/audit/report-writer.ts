/**
 * Writes PolicyReports through a ClusterSource, idempotently: get, compare what podsec owns
 * (labels, ownerReferences, scope, summary, results), write only when different, with the read
 * resourceVersion, and re-read and retry on a conflict. Parts and reports that are no longer
 * wanted (a report shrank, a workload left) are deleted, but only podsec-managed ones, and only
 * after a complete audit (a failed LIST must not look like deleted workloads).
 */
import { isDeepStrictEqual } from 'node:util';
import type { ClusterSource } from '../kube/cluster-source/types.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../kube/cluster-source/errors.js';
import type { KubeObject } from '../kube/types.js';
import { MANAGED_BY_LABEL, reportKind, type ReportApi } from './policy-report.js';

export interface WriteSummary {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  failed: { name: string; namespace: string; message: string }[];
}

const MAX_ATTEMPTS = 5;

function owned(o: KubeObject): unknown {
  return {
    labels: o.metadata?.labels ?? {},
    ownerReferences: o.metadata?.ownerReferences ?? [],
    scope: o['scope'],
    summary: o['summary'],
    results: o['results'],
  };
}

function refOf(o: KubeObject) {
  return {
    apiVersion: o.apiVersion ?? '',
    kind: o.kind ?? '',
    namespace: o.metadata?.namespace,
    name: o.metadata?.name ?? '',
  };
}

/** Creates or updates one report; returns what happened. */
export async function upsertReport(
  source: ClusterSource,
  desired: KubeObject,
): Promise<'created' | 'updated' | 'unchanged'> {
  const ref = refOf(desired);
  for (let attempt = 1; ; attempt++) {
    try {
      const current = await source.get(ref);
      if (current === undefined) {
        await source.create(desired);
        return 'created';
      }
      if (isDeepStrictEqual(owned(current), owned(desired))) return 'unchanged';
      const next: KubeObject = {
        ...current,
        metadata: {
          ...current.metadata,
          labels: { ...current.metadata?.labels, ...desired.metadata?.labels },
          ...(desired.metadata?.ownerReferences === undefined
            ? {}
            : { ownerReferences: desired.metadata.ownerReferences }),
        },
        scope: desired['scope'],
        summary: desired['summary'],
        results: desired['results'],
      };
      await source.update(next);
      return 'updated';
    } catch (err) {
      const retryable =
        err instanceof ConflictError || err instanceof AlreadyExistsError || err instanceof NotFoundError;
      if (!retryable || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

export interface WriteOptions {
  readonly api: ReportApi;
  /** Delete podsec-managed reports that are not wanted any more (only after a complete audit). */
  readonly deleteStale: boolean;
}

export async function writeReports(
  source: ClusterSource,
  desired: readonly KubeObject[],
  opts: WriteOptions,
): Promise<WriteSummary> {
  const summary: WriteSummary = { created: 0, updated: 0, unchanged: 0, deleted: 0, failed: [] };
  const wanted = new Set<string>();
  for (const report of desired) {
    const ns = report.metadata?.namespace ?? '';
    const name = report.metadata?.name ?? '';
    wanted.add(`${ns}/${name}`);
    try {
      summary[await upsertReport(source, report)]++;
    } catch (err) {
      summary.failed.push({ namespace: ns, name, message: err instanceof Error ? err.message : String(err) });
    }
  }
  if (!opts.deleteStale) return summary;
  const kind = { apiVersion: opts.api, kind: reportKind(opts.api) };
  const stale: KubeObject[] = [];
  for await (const page of source.listPages(kind, { labelSelector: `${MANAGED_BY_LABEL}=podsec` })) {
    for (const o of page) {
      if (!wanted.has(`${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`)) stale.push(o);
    }
  }
  for (const o of stale) {
    try {
      if (await source.delete(refOf(o))) summary.deleted++;
    } catch (err) {
      summary.failed.push({
        namespace: o.metadata?.namespace ?? '',
        name: o.metadata?.name ?? '',
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return summary;
}
