/**
 * Feeds the issuer from the cluster: AzureIdentity objects of type 1 (client secret) and 2
 * (certificate) with the Secret each one references. The mapping is a pure function (objects in,
 * served identities and refusals out); the adapter keeps it current from two informers. An identity
 * that fails validation, or whose Secret is missing or unusable, is refused with its problems and
 * never served: a half-read credential must not authenticate anybody. With `secretNamespaces`
 * (`--secret-namespace`) Secrets are read only there, one informer per namespace, so the issuer
 * needs Secret access in those namespaces only (RoleBindings instead of a cluster-wide binding);
 * an identity whose Secret lives elsewhere is refused with a problem naming the flag.
 */
import { X509Certificate } from 'node:crypto';
import {
  AAD_POD_IDENTITY_API_VERSION,
  IDENTITY_TYPES,
  clientIdKey,
  duplicateClientIdMessage,
  duplicateClientIds,
  validateIdentity,
} from '../crds/index.js';
import type { AzureIdentity, FieldProblem } from '../crds/index.js';
import type { ClusterSource, Informer } from '../../kube/cluster-source/types.js';
import type { KubeObject } from '../../kube/types.js';
import type { IssuerIdentity } from './issuer.js';

export const AZURE_IDENTITY_KIND = {
  apiVersion: AAD_POD_IDENTITY_API_VERSION,
  kind: 'AzureIdentity',
} as const;
export const SECRET_KIND = { apiVersion: 'v1', kind: 'Secret' } as const;
/** The Secret key holding a type 1 identity's client secret (as upstream). */
export const CLIENT_SECRET_KEY = 'clientSecret';
/** The Secret key holding a type 2 identity's certificate (PEM). */
export const CERTIFICATE_KEY = 'certificate';

export interface RefusedIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly problems: readonly FieldProblem[];
}

export interface SkippedIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly reason: string;
}

export interface IdentityMapping {
  /** Served, sorted by namespace/name. */
  readonly identities: readonly IssuerIdentity[];
  /** Invalid: logged, never served. */
  readonly refused: readonly RefusedIdentity[];
  /** Valid but not this issuer's business (type 0 managed identities). */
  readonly skipped: readonly SkippedIdentity[];
}

export type SecretLookup = (namespace: string, name: string) => KubeObject | undefined;

export interface MapOptions {
  /** Only Secrets in these namespaces are read (`--secret-namespace`); all namespaces when absent. */
  readonly secretNamespaces?: readonly string[] | undefined;
}

/** Why a Secret outside the watched namespaces is not read: names the namespace and the flag. */
export function secretNamespaceProblem(
  namespace: string,
  name: string,
  secretNamespaces: readonly string[],
): string {
  return (
    `Secret ${namespace}/${name} is in namespace "${namespace}", where this issuer does not read Secrets ` +
    `(--secret-namespace ${secretNamespaces.join(', ')}): add the namespace to --secret-namespace ` +
    `(and the issuer's RoleBinding there) or move the Secret`
  );
}

type KeyRead = { ok: true; value: string } | { ok: false; message: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A Secret key, from `stringData` (as written) or `data` (base64, as stored). */
export function secretValue(secret: KubeObject, key: string): KeyRead {
  const stringData = secret['stringData'];
  if (isRecord(stringData) && typeof stringData[key] === 'string' && stringData[key] !== '') {
    return { ok: true, value: stringData[key] };
  }
  const data = secret['data'];
  const raw = isRecord(data) ? data[key] : undefined;
  if (raw === undefined || raw === null || raw === '') return { ok: false, message: `has no "${key}" key` };
  if (typeof raw !== 'string') return { ok: false, message: `"${key}" is not a string` };
  const compact = raw.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length % 4 === 1) {
    return { ok: false, message: `data.${key} is not base64` };
  }
  const value = Buffer.from(compact, 'base64').toString('utf8');
  if (value === '') return { ok: false, message: `"${key}" is empty` };
  return { ok: true, value };
}

function certificateProblem(pem: string): string | null {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return 'is not a PEM certificate';
  try {
    new X509Certificate(pem);
    return null;
  } catch {
    return 'is not a parseable PEM certificate';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nameOf(obj: KubeObject): { namespace: string; name: string } {
  return { namespace: obj.metadata?.namespace ?? 'default', name: obj.metadata?.name ?? '' };
}

function credentialOf(
  identity: AzureIdentity,
  secretOf: SecretLookup,
  secretNamespaces: readonly string[] | undefined,
): { ok: true; value: IssuerIdentity } | { ok: false; problem: FieldProblem } {
  const ref = identity.spec.clientPassword;
  const clientId = identity.spec.clientID ?? '';
  const tenantId = identity.spec.tenantID ?? '';
  if (ref === undefined) {
    return { ok: false, problem: { path: 'spec.clientPassword', message: 'is required' } };
  }
  if (secretNamespaces !== undefined && !secretNamespaces.includes(ref.namespace)) {
    return {
      ok: false,
      problem: {
        path: 'spec.clientPassword.namespace',
        message: secretNamespaceProblem(ref.namespace, ref.name, secretNamespaces),
      },
    };
  }
  const secret = secretOf(ref.namespace, ref.name);
  const where = `Secret ${ref.namespace}/${ref.name}`;
  if (secret === undefined) {
    return { ok: false, problem: { path: 'spec.clientPassword', message: `${where} does not exist` } };
  }
  const key = identity.spec.type === IDENTITY_TYPES.servicePrincipal ? CLIENT_SECRET_KEY : CERTIFICATE_KEY;
  const read = secretValue(secret, key);
  if (!read.ok)
    return { ok: false, problem: { path: 'spec.clientPassword', message: `${where} ${read.message}` } };
  const { namespace, name } = identity.metadata;
  if (key === CLIENT_SECRET_KEY) {
    return { ok: true, value: { namespace, name, clientId, tenantId, secret: read.value } };
  }
  const bad = certificateProblem(read.value);
  if (bad !== null) {
    return { ok: false, problem: { path: 'spec.clientPassword', message: `${where} "${key}" ${bad}` } };
  }
  return { ok: true, value: { namespace, name, clientId, tenantId, certificatePem: read.value } };
}

/**
 * Pure: AzureIdentity objects plus a Secret lookup -> what the issuer serves, in namespace/name
 * order. A client id claimed by more than one AzureIdentity (any namespace, any tenant, any type,
 * valid or not: crds/duplicates.ts) is refused for every claimant, as the controller and the mint
 * path do: which object "wins" must never depend on list order.
 */
export function mapIdentities(
  objects: readonly KubeObject[],
  secretOf: SecretLookup,
  options: MapOptions = {},
): IdentityMapping {
  const sorted = [...objects].sort((a, b) => {
    const x = nameOf(a);
    const y = nameOf(b);
    return x.namespace === y.namespace ? cmp(x.name, y.name) : cmp(x.namespace, y.namespace);
  });
  const identities: IssuerIdentity[] = [];
  const refused: RefusedIdentity[] = [];
  const skipped: SkippedIdentity[] = [];
  const shared = duplicateClientIds(objects);
  for (const obj of sorted) {
    const at = nameOf(obj);
    const v = validateIdentity(obj);
    if (!v.ok) {
      refused.push({ ...at, problems: v.problems });
      continue;
    }
    const id = v.value;
    const where = { namespace: id.metadata.namespace, name: id.metadata.name };
    const claimants = id.spec.clientID === undefined ? undefined : shared.get(clientIdKey(id.spec.clientID));
    if (id.spec.clientID !== undefined && claimants !== undefined) {
      refused.push({
        ...where,
        problems: [{ path: 'spec.clientID', message: duplicateClientIdMessage(id.spec.clientID, claimants) }],
      });
      continue;
    }
    if (id.spec.type === IDENTITY_TYPES.userAssignedMSI) {
      skipped.push({ ...where, reason: 'type 0 (managed identity) is not served by this issuer' });
      continue;
    }
    const cred = credentialOf(id, secretOf, options.secretNamespaces);
    if (!cred.ok) {
      refused.push({ ...where, problems: [cred.problem] });
      continue;
    }
    identities.push(cred.value);
  }
  return { identities, refused, skipped };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface IdentityFeed {
  /** The identities served now (for createIssuer's `identities`). */
  identities(): readonly IssuerIdentity[];
  /** The last mapping, refusals included. */
  current(): IdentityMapping;
  /** Resolves once every informer holds a complete list. */
  readonly synced: Promise<void>;
  stop(): void;
}

export interface IdentityFeedOptions {
  /** Called when an identity is refused (again, after any change to it or its problems). */
  readonly onRefused?: ((refused: RefusedIdentity) => void) | undefined;
  /** Called after every recomputation. */
  readonly onChange?: ((mapping: IdentityMapping) => void) | undefined;
  /**
   * Watch Secrets only in these namespaces (one informer each) instead of cluster-wide; an identity
   * whose Secret is elsewhere is refused. Absent: every namespace.
   */
  readonly secretNamespaces?: readonly string[] | undefined;
  /**
   * Called when an informer reports a problem (it retries by itself): e.g. a Secret watch refused
   * in a namespace listed without its RoleBinding. `namespace` is absent for cluster-wide informers.
   */
  readonly onError?: ((problem: { kind: string; namespace?: string; error: Error }) => void) | undefined;
}

/** Keeps the mapping current from AzureIdentity and Secret informers. */
export function watchIdentities(source: ClusterSource, opts: IdentityFeedOptions = {}): IdentityFeed {
  const identityInformer: Informer = source.informer(AZURE_IDENTITY_KIND);
  const secretNamespaces =
    opts.secretNamespaces === undefined ? undefined : [...new Set(opts.secretNamespaces)].sort();
  const secretInformers = new Map<string | undefined, Informer>(
    secretNamespaces === undefined
      ? [[undefined, source.informer(SECRET_KIND)]]
      : secretNamespaces.map((ns) => [ns, source.informer(SECRET_KIND, { namespace: ns })]),
  );
  const secretOf: SecretLookup = (ns, name) =>
    (secretInformers.get(undefined) ?? secretInformers.get(ns))?.get(ns, name);
  let mapping: IdentityMapping = { identities: [], refused: [], skipped: [] };
  let reported = new Set<string>();

  const recompute = (): void => {
    mapping = mapIdentities(identityInformer.list(), secretOf, { secretNamespaces });
    const now = new Set<string>();
    for (const r of mapping.refused) {
      const key = JSON.stringify([r.namespace, r.name, r.problems]);
      now.add(key);
      if (!reported.has(key)) opts.onRefused?.(r);
    }
    reported = now;
    opts.onChange?.(mapping);
  };
  const informers = [identityInformer, ...secretInformers.values()];
  // Nothing is judged before every informer is synced: an identity listed before its Secret's
  // informer has its list would be refused for a Secret that exists (a false warning at start-up).
  let ready = false;
  const watched: [string, string | undefined, Informer][] = [
    [AZURE_IDENTITY_KIND.kind, undefined, identityInformer],
    ...[...secretInformers].map(([ns, inf]): [string, string | undefined, Informer] => [
      SECRET_KIND.kind,
      ns,
      inf,
    ]),
  ];
  const unsubscribe = watched.map(([kind, namespace, inf]) =>
    inf.onEvent((e) => {
      if (e.type === 'ERROR') {
        opts.onError?.(
          namespace === undefined ? { kind, error: e.error } : { kind, namespace, error: e.error },
        );
      } else if (ready) recompute();
    }),
  );
  const synced = Promise.all(informers.map((inf) => inf.synced)).then(() => {
    ready = true;
    recompute();
  });
  return {
    identities: () => mapping.identities,
    current: () => mapping,
    synced,
    stop: () => {
      for (const u of unsubscribe) u();
      for (const inf of informers) inf.stop();
    },
  };
}
