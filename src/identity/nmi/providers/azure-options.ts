/**
 * The NMI flags of this folder, checked once at start-up: `--imds-address` (where the node's real
 * IMDS is: type 0 tokens, exempt pods, other /metadata paths) and `--authority-host` (Azure AD,
 * or any authority speaking its v2.0 protocol). Local mode (--state) never gets a default IMDS
 * address: nothing is passed anywhere unless an address is given. `none` disables it explicitly.
 */
import { UsageError } from '../../../lib/errors.js';
import type { KubeObject } from '../../../kube/types.js';
import type { TokenProvider } from '../types.js';
import { AzureTokenProvider } from './azure-token-provider.js';
import { parseImdsAddress } from './imds-http.js';
import type { ImdsAddress } from './imds-http.js';
import { ImdsTokenProvider } from './imds-token-provider.js';
import { DEFAULT_AUTHORITY_HOST, MsalTokenProvider } from './msal-token-provider.js';

/** Where Azure's IMDS answers on every VM; used only outside local mode and only by default. */
export const AZURE_IMDS_ADDRESS = '169.254.169.254:80';

export interface AzureNmiFlags {
  /** `--imds-address`: HOST:PORT, `none`, or absent (the mode's default). */
  readonly imdsAddress?: string | undefined;
  /** `--authority-host`. */
  readonly authorityHost?: string | undefined;
  /** Local mode (--state): no default IMDS address. */
  readonly local: boolean;
}

export interface AzureNmiSettings {
  /** Undefined: no pass-through, type 0 identities refused. */
  readonly imds: ImdsAddress | undefined;
  readonly authorityHost: string;
}

/** Throws UsageError naming the flag. */
export function parseAzureNmiFlags(flags: AzureNmiFlags): AzureNmiSettings {
  const text = flags.imdsAddress?.trim() ?? (flags.local ? 'none' : AZURE_IMDS_ADDRESS);
  let imds: ImdsAddress | undefined;
  if (text !== 'none') {
    const parsed = parseImdsAddress(text);
    if (!parsed.ok) throw new UsageError(`--imds-address ${parsed.message}`);
    imds = parsed.value;
  }
  const authorityHost = flags.authorityHost ?? DEFAULT_AUTHORITY_HOST;
  let url: URL | undefined;
  try {
    url = new URL(authorityHost);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:' || url.search !== '' || url.hash !== '') {
    throw new UsageError(`--authority-host must be an https:// URL, got '${authorityHost}'`);
  }
  return { imds, authorityHost };
}

export interface AzureProviderSources {
  /** The AzureIdentity `namespace/name` from the NMI's cache. */
  readonly identity: (namespace: string, name: string) => KubeObject | undefined;
  /** A Secret read through ClusterSource. */
  readonly secret: (namespace: string, name: string) => Promise<KubeObject | undefined>;
}

/** `--token-provider azure`: MSAL for types 1/2, the node's IMDS (when configured) for type 0. */
export function createAzureTokenProvider(
  settings: AzureNmiSettings,
  sources: AzureProviderSources,
): TokenProvider {
  return new AzureTokenProvider({
    servicePrincipal: new MsalTokenProvider({ authorityHost: settings.authorityHost, ...sources }),
    managedIdentity:
      settings.imds === undefined ? undefined : new ImdsTokenProvider({ address: settings.imds }),
  });
}
