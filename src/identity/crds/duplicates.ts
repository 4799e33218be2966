/**
 * A client id names one application in all of Azure AD, so two AzureIdentity objects claiming the
 * same `spec.clientID` (in any namespaces or tenants) cannot both be right: one of them may be a
 * copy made to borrow the other's identity. The controller, the issuer's token endpoint and its
 * mint path all use this one rule so they agree: every object claiming a shared client id is
 * unusable, none is preferred by list order. Pure; malformed objects still count as claims when
 * they carry a client id string, so a half-valid copy cannot slip past the check.
 */

/** An AzureIdentity object by namespace/name. */
export interface IdentityObjectRef {
  readonly namespace: string;
  readonly name: string;
}

/** How client ids are compared: Azure AD client ids are GUIDs, compared without case. */
export function clientIdKey(clientId: string): string {
  return clientId.trim().toLowerCase();
}

function rec(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** The client id an AzureIdentity object claims (undefined when it claims none). */
export function claimedClientId(obj: unknown): string | undefined {
  const id = rec(rec(obj)?.['spec'])?.['clientID'];
  return typeof id === 'string' && id.trim() !== '' ? id : undefined;
}

function refOf(obj: unknown): IdentityObjectRef | undefined {
  const meta = rec(rec(obj)?.['metadata']);
  const name = meta?.['name'];
  if (typeof name !== 'string' || name === '') return undefined;
  const ns = meta?.['namespace'];
  return { namespace: typeof ns === 'string' && ns !== '' ? ns : 'default', name };
}

/**
 * Client id key (see `clientIdKey`) -> the AzureIdentity objects claiming it, sorted by
 * namespace/name, only for client ids claimed by more than one object.
 */
export function duplicateClientIds(objects: readonly unknown[]): Map<string, IdentityObjectRef[]> {
  const claims = new Map<string, Map<string, IdentityObjectRef>>();
  for (const obj of objects) {
    const clientId = claimedClientId(obj);
    const ref = refOf(obj);
    if (clientId === undefined || ref === undefined) continue;
    const key = clientIdKey(clientId);
    const byName = claims.get(key) ?? new Map<string, IdentityObjectRef>();
    byName.set(`${ref.namespace}/${ref.name}`, ref);
    claims.set(key, byName);
  }
  const out = new Map<string, IdentityObjectRef[]>();
  for (const [key, byName] of claims) {
    if (byName.size < 2) continue;
    out.set(
      key,
      [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ref]) => ref),
    );
  }
  return out;
}

/** The sentence every component reports for a shared client id (names the objects, no credential). */
export function duplicateClientIdMessage(clientId: string, claimants: readonly IdentityObjectRef[]): string {
  const names = claimants.map((r) => `${r.namespace}/${r.name}`).join(', ');
  return `client id ${clientId} is claimed by more than one AzureIdentity (${names}); none of them is usable until only one remains`;
}
