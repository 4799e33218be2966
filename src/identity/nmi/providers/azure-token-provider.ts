/**
 * `--token-provider azure`: tokens from Azure AD as aad-pod-identity's NMI got them, chosen per
 * AzureIdentity type: type 0 (user-assigned managed identity) from the node's IMDS, types 1 and 2
 * (service principal with secret or certificate) from Azure AD through MSAL. Without an IMDS
 * address (local mode) type 0 identities are refused, never sent to a default address.
 */
import type { NmiIdentity, TokenProvider, TokenResult } from '../types.js';

export interface AzureTokenProviderOptions {
  /** Types 1 and 2. */
  readonly servicePrincipal: TokenProvider;
  /** Type 0; absent when no IMDS address is configured. */
  readonly managedIdentity?: TokenProvider | undefined;
}

export class AzureTokenProvider implements TokenProvider {
  constructor(private readonly options: AzureTokenProviderOptions) {}

  getToken(identity: NmiIdentity, resource: string): Promise<TokenResult> {
    if (identity.type !== 0) return this.options.servicePrincipal.getToken(identity, resource);
    const msi = this.options.managedIdentity;
    if (msi === undefined) {
      return Promise.resolve({
        ok: false,
        status: 500,
        error: 'invalid_identity',
        description: `AzureIdentity ${identity.namespace}/${identity.name} is a managed identity (type 0), but this NMI has no metadata service (--imds-address)`,
      });
    }
    return msi.getToken(identity, resource);
  }
}
