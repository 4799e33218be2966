/**
 * A minimal TokenCredential (the interface @azure/arm-compute asks for) over @azure/msal-node's
 * client-credentials flow, because @azure/identity is only a development dependency here. The
 * authority is declared known, so MSAL never asks Microsoft's instance discovery; the secret
 * lives only in the MSAL application and never reaches a log or an error message.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import type { ConfidentialClientApplication, INetworkModule } from '@azure/msal-node';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

export interface ClientSecretCredentialOptions {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Azure AD (or a stand-in): `https://host[:port]`. Default https://login.microsoftonline.com. */
  readonly authorityHost?: string | undefined;
  /** MSAL's HTTP client (tests: one trusting their CA, loopback only). */
  readonly networkClient?: INetworkModule | undefined;
}

/** MSAL errors by name and code only (their messages can quote the request). */
function describe(err: unknown): string {
  const e = err as { name?: unknown; errorCode?: unknown };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const code = typeof e.errorCode === 'string' && e.errorCode !== '' ? e.errorCode : 'unknown';
  return `${name} (${code})`;
}

export function createClientSecretCredential(options: ClientSecretCredentialOptions): TokenCredential {
  const base = new URL(options.authorityHost ?? DEFAULT_AUTHORITY_HOST);
  if (base.protocol !== 'https:') throw new Error(`authority host must be https, got ${base.origin}`);
  const authority = `${base.origin}/${encodeURIComponent(options.tenantId)}`;
  let app: Promise<ConfidentialClientApplication> | undefined;
  const load = (): NonNullable<typeof app> =>
    (app ??= import('@azure/msal-node').then(
      (msal) =>
        new msal.ConfidentialClientApplication({
          auth: {
            clientId: options.clientId,
            clientSecret: options.clientSecret,
            authority,
            knownAuthorities: [base.host],
          },
          ...(options.networkClient === undefined
            ? {}
            : { system: { networkClient: options.networkClient } }),
        }),
    ));
  return {
    async getToken(scopes: string | string[], opts?: GetTokenOptions): Promise<AccessToken | null> {
      if (opts?.abortSignal?.aborted === true) throw new Error('token request aborted');
      const list = Array.isArray(scopes) ? scopes : [scopes];
      let result;
      try {
        result = await (await load()).acquireTokenByClientCredential({ scopes: list });
      } catch (err) {
        throw new Error(`Azure AD token for client ${options.clientId} failed: ${describe(err)}`);
      }
      if (!result?.accessToken) throw new Error(`Azure AD returned no token for client ${options.clientId}`);
      return {
        token: result.accessToken,
        expiresOnTimestamp: result.expiresOn?.getTime() ?? Date.now() + 5 * 60_000,
        tokenType: 'Bearer',
      };
    },
  };
}
