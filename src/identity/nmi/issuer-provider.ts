/**
 * The adapter between the NMI and podsec's own issuer (src/identity/issuer): the issuer mints
 * JWTs for identities assigned on this node; the NMI only needs "a token for this identity and
 * resource". The mint function is injected so this module does not depend on how the issuer is
 * reached (in process, or over HTTPS with client credentials) and stays testable.
 */
import type { AccessToken, NmiIdentity, TokenProvider, TokenResult } from './types.js';

export interface IssuerMintRequest {
  readonly clientId: string;
  readonly tenantId?: string | undefined;
  /** The resource (audience) exactly as the caller gave it. */
  readonly resource: string;
  /** The identity's namespace/name, for the issuer's own checks. */
  readonly identity: { readonly namespace: string; readonly name: string };
  readonly nodeName?: string | undefined;
}

/**
 * The issuer said no (or could not be reached): what the NMI's caller gets, as a value. The
 * description is shown to the pod, so it never quotes credentials.
 */
export interface IssuerRefusal {
  readonly refused: true;
  readonly status: number;
  readonly error: string;
  readonly description: string;
  readonly retryAfterSeconds?: number | undefined;
}

/** A token, or a refusal; a throw is a fault and becomes a generic 503. */
export type IssuerMint = (request: IssuerMintRequest) => Promise<AccessToken | IssuerRefusal>;

export interface IssuerTokenProviderOptions {
  readonly mint: IssuerMint;
  readonly nodeName?: string | undefined;
}

/**
 * A TokenProvider backed by podsec's issuer (over HTTPS: issuer-https.ts). A refusal keeps its
 * status; a failed mint is a value (503), never a throw.
 */
export class IssuerTokenProvider implements TokenProvider {
  constructor(private readonly options: IssuerTokenProviderOptions) {}

  async getToken(identity: NmiIdentity, resource: string): Promise<TokenResult> {
    try {
      const minted = await this.options.mint({
        clientId: identity.clientID,
        tenantId: identity.tenantID,
        resource,
        identity: { namespace: identity.namespace, name: identity.name },
        nodeName: this.options.nodeName,
      });
      if ('refused' in minted) {
        return {
          ok: false,
          status: minted.status,
          error: minted.error,
          description: minted.description,
          retryAfterSeconds: minted.retryAfterSeconds,
        };
      }
      return { ok: true, token: minted };
    } catch {
      // The cause may quote a request carrying credentials: the caller gets a generic message.
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

/** What a pod hears when its identity's client id is claimed by another AzureIdentity too. */
export function duplicateForPod(identity: { namespace: string; name: string }, clientId: string): string {
  return (
    `Identity ${identity.namespace}/${identity.name} (${clientId}) cannot be used: another AzureIdentity ` +
    'claims the same client id; the cluster operator must remove the duplicate'
  );
}
