/**
 * Which user-assigned identities podsec itself attached to which VM or scale set. Only these may be
 * removed again: an identity that was on the VM before podsec wanted it (the kubelet identity,
 * one an operator attached) is never podsec's to take away. Kept in a ConfigMap so a restarted or
 * newly elected controller still knows, and can clean up what an earlier leader added.
 */
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import { AlreadyExistsError, ConflictError } from '../../kube/cluster-source/errors.js';
import { normalizeId } from './node-assignment.js';

/** Target key (normalized VM or scale set ID) -> normalized identity IDs podsec added. */
export type LedgerEntries = Map<string, Set<string>>;

export interface AssignmentLedger {
  /** The stored entries; throws when they cannot be read (LedgerCorruptError: unusable content). */
  load(): Promise<LedgerEntries>;
  save(entries: ReadonlyMap<string, ReadonlySet<string>>): Promise<void>;
}

export const LEDGER_CONFIGMAP = 'podsec-identity-node-assignments';
const DATA_KEY = 'added.json';

export function memoryLedger(initial?: ReadonlyMap<string, ReadonlySet<string>>): AssignmentLedger & {
  readonly entries: LedgerEntries;
} {
  const entries: LedgerEntries = new Map();
  for (const [k, v] of initial ?? []) entries.set(k, new Set(v));
  return {
    entries,
    load: () => Promise.resolve(new Map([...entries].map(([k, v]) => [k, new Set(v)]))),
    save: (next) => {
      entries.clear();
      for (const [k, v] of next) if (v.size > 0) entries.set(k, new Set(v));
      return Promise.resolve();
    },
  };
}

function encode(entries: ReadonlyMap<string, ReadonlySet<string>>): string {
  const out: Record<string, string[]> = {};
  for (const k of [...entries.keys()].sort()) {
    const v = entries.get(k);
    if (v && v.size > 0) out[k] = [...v].sort();
  }
  return `${JSON.stringify(out, null, 1)}\n`;
}

/**
 * The stored ledger is not what podsec writes (bad JSON, wrong shape). The controller keeps it
 * as it is (overwriting it would forget what podsec added, so those identities would stay on the
 * VMs for ever) and removes nothing until an operator fixes or deletes the ConfigMap.
 */
export class LedgerCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerCorruptError';
  }
}

export type LedgerDecode =
  { readonly ok: true; readonly entries: LedgerEntries } | { readonly ok: false; readonly reason: string };

/**
 * Parses the ConfigMap's data: absent is an empty ledger; anything podsec would not have written
 * (not JSON, not an object of arrays of strings) is reported, never read as empty.
 */
export function decodeLedger(text: string | undefined): LedgerDecode {
  const entries: LedgerEntries = new Map();
  if (text === undefined) return { ok: true, entries };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: `${DATA_KEY} is not JSON` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: `${DATA_KEY} is not a JSON object` };
  }
  for (const [k, v] of Object.entries(parsed)) {
    if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
      return { ok: false, reason: `${DATA_KEY}: the value of a target is not a list of identity IDs` };
    }
    const ids = v.map(normalizeId);
    if (ids.length > 0) entries.set(normalizeId(k), new Set(ids));
  }
  return { ok: true, entries };
}

/** The ledger as ConfigMap `name` in `namespace`, written through the ClusterSource. */
export function configMapLedger(
  source: ClusterSource,
  namespace: string,
  name: string = LEDGER_CONFIGMAP,
): AssignmentLedger {
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace, name };
  return {
    async load() {
      const cm = (await source.get(ref)) as { data?: Record<string, string> } | undefined;
      const decoded = decodeLedger(cm?.data?.[DATA_KEY]);
      if (!decoded.ok) {
        throw new LedgerCorruptError(`ConfigMap ${namespace}/${name}: ${decoded.reason}`);
      }
      return decoded.entries;
    },
    async save(entries) {
      const data = { [DATA_KEY]: encode(entries) };
      for (let attempt = 0; ; attempt++) {
        const current = await source.get(ref);
        try {
          if (current === undefined) {
            await source.create({
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: {
                name,
                namespace,
                labels: { 'app.kubernetes.io/managed-by': 'podsec' },
              },
              data,
            });
          } else {
            await source.update({ ...current, data });
          }
          return;
        } catch (err) {
          const retriable = err instanceof ConflictError || err instanceof AlreadyExistsError;
          if (!retriable || attempt >= 4) throw err;
        }
      }
    },
  };
}
