/**
 * Tokens for the NMI from podsec's issuer when both run in one process (`--token-provider
 * issuer-local`): the issuer's `mintForIdentity` is called directly, and it agrees to mint only
 * for identities the same caches show assigned on this node. No client secret is involved.
 *
 * The remote form (`--token-provider issuer=URL`) is issuer-https.ts: the same mint, asked over
 * HTTPS from the issuer's mint API, which proves the node by a client certificate or TokenReview.
 */
import type { KubeObject } from '../../kube/types.js';
import type { Issuer, IssuerIdentity } from '../issuer/index.js';
import { duplicateForPod } from './issuer-provider.js';
import type { NmiIdentity, TokenProvider, TokenResult } from './types.js';

/** Used as an identity's tenant when its AzureIdentity names none (type 0 MSIs often do not). */
export const DEFAULT_LOCAL_TENANT = 'podsec';

export interface LocalIssuerProviderOptions {
  readonly issuer: Pick<Issuer, 'mintForIdentity'>;
  /** The node this NMI serves: the issuer checks assignments against it. */
  readonly nodeName: string;
}

/** A TokenProvider over an in-process issuer. Refusals and faults are values, never throws. */
export class LocalIssuerTokenProvider implements TokenProvider {
  constructor(private readonly options: LocalIssuerProviderOptions) {}

  async getToken(identity: NmiIdentity, resource: string): Promise<TokenResult> {
    try {
      const minted = await this.options.issuer.mintForIdentity(
        { namespace: identity.namespace, name: identity.name, clientId: identity.clientID },
        resource,
        { node: this.options.nodeName },
      );
      if (minted.ok) {
        return {
          ok: true,
          token: {
            accessToken: minted.token.accessToken,
            expiresOnMs: minted.token.expiresOn * 1000,
            notBeforeMs: minted.token.notBefore * 1000,
          },
        };
      }
      switch (minted.reason) {
        case 'bad-resource':
          return { ok: false, status: 400, error: 'invalid_resource', description: minted.message };
        case 'not-assigned':
          return {
            ok: false,
            status: 403,
            error: 'forbidden',
            description: `Identity ${identity.namespace}/${identity.name} (${identity.clientID}) is not assigned on this node`,
          };
        case 'duplicate-client-id':
          // Only the pod's own identity is named: the other claimants may be in namespaces it
          // cannot see. The controller's log names all of them for the operator.
          return {
            ok: false,
            status: 403,
            error: 'forbidden',
            description: duplicateForPod(identity, identity.clientID),
          };
        case 'unknown-identity':
          return {
            ok: false,
            status: 400,
            error: 'invalid_request',
            description: `Identity ${identity.clientID} is not known to the token issuer`,
          };
      }
    } catch {
      // A signing fault: the caller gets a generic, retryable answer without internals.
      return {
        ok: false,
        status: 503,
        error: 'temporarily_unavailable',
        description: `The token issuer could not issue a token for client ${identity.clientID}`,
        retryAfterSeconds: 1,
      };
    }
  }
}

/**
 * The issuer's identities from AzureIdentity objects: namespace/name, client id, tenant and object
 * id only (the in-process mint needs no credential, so Secrets are not read). Objects without a
 * name or client id are skipped. Every object is kept, shared client ids included: the issuer must
 * see them all to refuse a client id claimed twice, rather than serve whichever came first.
 */
export function issuerIdentitiesFrom(
  azureIdentities: readonly KubeObject[],
  defaultTenant: string = DEFAULT_LOCAL_TENANT,
): IssuerIdentity[] {
  const out: IssuerIdentity[] = [];
  const seen = new Set<string>();
  for (const obj of azureIdentities) {
    const spec = obj['spec'];
    const name = obj.metadata?.name;
    if (typeof spec !== 'object' || spec === null || typeof name !== 'string' || name === '') continue;
    const namespace = obj.metadata?.namespace ?? 'default';
    const s = spec as Record<string, unknown>;
    const clientId = typeof s['clientID'] === 'string' ? s['clientID'] : '';
    if (clientId === '' || seen.has(`${namespace}/${name}`)) continue;
    seen.add(`${namespace}/${name}`);
    const tenantId =
      typeof s['tenantID'] === 'string' && s['tenantID'] !== '' ? s['tenantID'] : defaultTenant;
    const objectId = typeof s['objectID'] === 'string' && s['objectID'] !== '' ? s['objectID'] : undefined;
    out.push({ namespace, name, clientId, tenantId, objectId });
  }
  return out;
}
