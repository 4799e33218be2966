/** Token providers and the IMDS pass-through of the NMI (Azure AD, the node's IMDS). */
export { AzureTokenProvider } from './azure-token-provider.js';
export type { AzureTokenProviderOptions } from './azure-token-provider.js';
export {
  AZURE_CLOUD_AUTHORITY_HOSTS,
  DEFAULT_AUTHORITY_HOST,
  CERTIFICATE_PASSWORD_KEY,
  MsalTokenProvider,
  scopeForResource,
  splitPemBundle,
} from './msal-token-provider.js';
export type { MsalTokenProviderOptions } from './msal-token-provider.js';
export { IMDS_API_VERSION, IMDS_TOKEN_PATH, ImdsTokenProvider, retryAfterMs } from './imds-token-provider.js';
export type { ImdsTokenProviderOptions } from './imds-token-provider.js';
export { createImdsUpstream, forwardHeaders } from './imds-upstream.js';
export type { ImdsUpstreamOptions } from './imds-upstream.js';
export {
  DEFAULT_IMDS_MAX_BODY,
  DEFAULT_IMDS_TIMEOUT_MS,
  formatImdsAddress,
  imdsGet,
  ImdsRequestError,
  parseImdsAddress,
} from './imds-http.js';
export type { ImdsAddress, ImdsHttpOptions, ImdsHttpResponse, ParsedAddress } from './imds-http.js';
export { AZURE_IMDS_ADDRESS, createAzureTokenProvider, parseAzureNmiFlags } from './azure-options.js';
export type { AzureNmiFlags, AzureNmiSettings, AzureProviderSources } from './azure-options.js';
