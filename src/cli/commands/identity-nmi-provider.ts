/**
 * Where `podsec identity nmi` gets its tokens (`--token-provider`), chosen in one place so each
 * kind is one case of a switch: `issuer-local` (podsec's issuer in this process, the local-mode
 * default) `issuer=URL` (podsec's issuer in another process, reached over HTTPS with this
 * node's client certificate) and `azure` (Azure AD through MSAL, the node's IMDS for type 0). Flags are checked before anything starts; the chosen provider
 * reports its own readiness (for a remote issuer: it answered once and sees this NMI as --node).
 */
import { readFile, stat } from 'node:fs/promises';
import type { IdentityRef, Issuer } from '../../identity/issuer/index.js';
import { createIssuer, KeySet } from '../../identity/issuer/index.js';
import { createHttpsIssuerClient, parseIssuerUrl, type IssuerTls } from '../../identity/nmi/issuer-https.js';
import { issuerIdentitiesFrom, LocalIssuerTokenProvider } from '../../identity/nmi/issuer-client.js';
import { IssuerTokenProvider } from '../../identity/nmi/issuer-provider.js';
import type { TokenProvider } from '../../identity/nmi/types.js';
import type { KubeObject } from '../../kube/types.js';
import { UsageError } from '../../lib/errors.js';
import { createAzureTokenProvider } from '../../identity/nmi/providers/index.js';
import type { AzureNmiSettings, AzureProviderSources } from '../../identity/nmi/providers/index.js';
import { checkKeyPair, watchFiles, type FileWatch } from '../../lib/tls/index.js';
import type { Logger } from '../../observability/logger.js';

export type TokenProviderChoice =
  | { readonly kind: 'issuer-local' }
  | { readonly kind: 'issuer'; readonly url: URL }
  | { readonly kind: 'azure' };

/** The flags that choose and configure the token provider. */
export interface TokenProviderFlags {
  /** `issuer-local` or `issuer=https://...`. */
  readonly tokenProvider: string;
  readonly keysDir?: string | undefined;
  readonly issuerUrl?: string | undefined;
  /** CA (PEM) of the remote issuer's serving certificate. */
  readonly issuerCa?: string | undefined;
  /** This node's client certificate and key (PEM) for the remote issuer. */
  readonly clientCert?: string | undefined;
  readonly clientKey?: string | undefined;
  /** The NMI's projected ServiceAccount token, instead of (or with) the client certificate. */
  readonly issuerTokenFile?: string | undefined;
  /** `--authority-host` (azure only). */
  readonly authorityHost?: string | undefined;
}

/** What the providers read from the NMI's caches. */
export interface TokenProviderContext {
  readonly node: string;
  readonly logger: Logger;
  /** The AzureIdentity objects (for the in-process issuer). */
  readonly azureIdentities: () => readonly KubeObject[];
  readonly isAssignedOnNode: (node: string, identity: IdentityRef) => boolean;
  /** How often a remote issuer is asked until it first answers (default 2000 ms). */
  readonly probeIntervalMs?: number | undefined;
  /** For `azure`: parsed --imds-address/--authority-host, the AzureIdentity cache and Secret reads. */
  readonly azure?: (AzureProviderSources & { readonly settings: AzureNmiSettings }) | undefined;
}

export interface ChosenTokenProvider {
  readonly provider: TokenProvider;
  /** For /healthz: the provider can serve (a remote issuer has answered once). */
  ready(): boolean;
  /** For the start-up log line. */
  readonly description: string;
  /** The in-process issuer and its keys (issuer-local only). */
  readonly issuer?: Issuer | undefined;
  readonly keys?: KeySet | undefined;
  close(): void;
}

const KEY_RETENTION_SECONDS = 3599 + 300;

/** Checks the flags: which provider, and that the flags given belong to it. Throws UsageError. */
export function parseTokenProviderChoice(flags: TokenProviderFlags): TokenProviderChoice {
  const text = flags.tokenProvider.trim();
  const remoteOnly = [
    ['--issuer-ca', flags.issuerCa],
    ['--client-cert', flags.clientCert],
    ['--client-key', flags.clientKey],
    ['--issuer-token-file', flags.issuerTokenFile],
  ] as const;
  if (text !== 'azure' && flags.authorityHost !== undefined) {
    throw new UsageError('--authority-host only applies to --token-provider azure');
  }
  if (text === 'azure') {
    const stray = [...remoteOnly, ['--keys-dir', flags.keysDir] as const]
      .filter(([, v]) => v !== undefined)
      .map(([f]) => f);
    if (stray.length > 0) throw new UsageError(`${stray.join(', ')} do not apply to --token-provider azure`);
    return { kind: 'azure' };
  }
  if (text === 'issuer-local') {
    const stray = remoteOnly.filter(([, v]) => v !== undefined).map(([f]) => f);
    if (stray.length > 0) {
      throw new UsageError(`${stray.join(', ')} only apply to --token-provider issuer=URL`);
    }
    return { kind: 'issuer-local' };
  }
  if (text.startsWith('issuer=')) {
    const parsed = parseIssuerUrl(text.slice('issuer='.length));
    if (!parsed.ok) throw new UsageError(`--token-provider issuer=URL: ${parsed.message}`);
    if (flags.issuerCa === undefined) {
      throw new UsageError("--token-provider issuer=URL needs --issuer-ca (the issuer's serving CA)");
    }
    if ((flags.clientCert === undefined) !== (flags.clientKey === undefined)) {
      throw new UsageError('--client-cert and --client-key go together');
    }
    if (flags.clientCert === undefined && flags.issuerTokenFile === undefined) {
      throw new UsageError(
        '--token-provider issuer=URL needs --client-cert and --client-key, or --issuer-token-file (the issuer must be able to prove this node)',
      );
    }
    if (flags.keysDir !== undefined) {
      throw new UsageError('--keys-dir only applies to --token-provider issuer-local');
    }
    return { kind: 'issuer', url: parsed.url };
  }
  throw new UsageError(
    `--token-provider must be issuer-local, issuer=https://HOST:PORT or azure, got '${text}'`,
  );
}

async function readTls(flags: TokenProviderFlags): Promise<IssuerTls> {
  const read = async (flag: string, file: string | undefined): Promise<string> => {
    try {
      return await readFile(file ?? '', 'utf8');
    } catch (err) {
      throw new UsageError(
        `${flag} ${file ?? ''} cannot be read (${err instanceof Error && 'code' in err ? String(err.code) : 'error'})`,
      );
    }
  };
  const ca = await read('--issuer-ca', flags.issuerCa);
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UsageError(`--issuer-ca ${flags.issuerCa ?? ''} holds no PEM certificate`);
  }
  if (flags.clientCert === undefined) return { ca };
  const cert = await read('--client-cert', flags.clientCert);
  const key = await read('--client-key', flags.clientKey);
  const pair = checkKeyPair(cert, key);
  if (!pair.ok) throw new UsageError(`--client-cert/--client-key cannot be used: ${pair.message}`);
  return { ca, cert, key };
}

async function localProvider(
  flags: TokenProviderFlags,
  ctx: TokenProviderContext,
): Promise<ChosenTokenProvider> {
  const keys =
    flags.keysDir === undefined
      ? await KeySet.generate({ retentionSeconds: KEY_RETENTION_SECONDS })
      : await KeySet.loadOrCreate({ retentionSeconds: KEY_RETENTION_SECONDS, dir: flags.keysDir });
  const issuer = createIssuer({
    baseUrl: flags.issuerUrl ?? 'https://issuer.podsec.local',
    keys,
    identities: () => issuerIdentitiesFrom(ctx.azureIdentities()),
    isAssignedOnNode: (node, identity) => ctx.isAssignedOnNode(node, identity),
  });
  return {
    provider: new LocalIssuerTokenProvider({ issuer, nodeName: ctx.node }),
    ready: () => true,
    description: 'in-process issuer',
    issuer,
    keys,
    close: () => undefined,
  };
}

/** The projected token, re-read only when its file changed (the kubelet rotates it in place). */
function tokenReader(file: string | undefined): (() => Promise<string | undefined>) | undefined {
  if (file === undefined) return undefined;
  let cached: { sig: string; token: string } | undefined;
  return async () => {
    const st = await stat(file);
    const sig = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (cached?.sig !== sig) cached = { sig, token: (await readFile(file, 'utf8')).trim() };
    return cached.token;
  };
}

async function remoteProvider(
  url: URL,
  flags: TokenProviderFlags,
  ctx: TokenProviderContext,
): Promise<ChosenTokenProvider> {
  const { logger } = ctx;
  const client = createHttpsIssuerClient({
    url,
    tls: await readTls(flags),
    bearerToken: tokenReader(flags.issuerTokenFile),
    onAttempt: (o) => {
      if (o.error !== undefined)
        logger.warn({ issuer: url.origin, reason: o.error }, 'nmi: issuer not reachable');
      else if (o.status === 401)
        logger.error({ issuer: url.origin }, 'nmi: the issuer refused this node credential');
      else if (o.status !== undefined && o.status >= 500)
        logger.warn({ issuer: url.origin, status: o.status }, 'nmi: issuer error');
    },
  });
  let answered = false;
  let closed = false;
  const provider = new IssuerTokenProvider({
    nodeName: ctx.node,
    mint: (req) => client.mint(req),
  });

  // Readiness: the issuer answered once and sees this NMI as --node (a certificate for another
  // node would mint that node's identities; such an NMI stays not ready and says why). Only this
  // probe sets it, so a refusal or a token cannot make a misconfigured NMI look ready.
  let probing = false;
  const probe = async (): Promise<void> => {
    if (probing) return;
    probing = true;
    try {
      await probeUntilAnswered();
    } finally {
      probing = false;
    }
  };
  const probeUntilAnswered = async (): Promise<void> => {
    while (!closed && !answered) {
      const who = await client.whoami();
      if (closed) return;
      if (who.ok && who.value.node === ctx.node) {
        answered = true;
        logger.info({ issuer: url.origin, node: who.value.node }, 'nmi: issuer answered; ready');
        return;
      }
      if (who.ok) {
        logger.error(
          { issuer: url.origin, certificateNode: who.value.node, node: ctx.node },
          'nmi: the client certificate names another node than --node: not ready',
        );
      } else {
        logger.warn({ issuer: url.origin, reason: who.reason }, 'nmi: issuer not ready yet');
      }
      await new Promise((resolve) => setTimeout(resolve, ctx.probeIntervalMs ?? 2_000).unref());
    }
  };
  void probe();

  const files = [flags.issuerCa, flags.clientCert, flags.clientKey].filter(
    (f): f is string => f !== undefined,
  );
  const watch: FileWatch = watchFiles(files, async () => {
    try {
      client.reload(await readTls(flags));
      logger.info({ files }, 'nmi: issuer TLS material reloaded');
      // a new certificate may name another node: ask again
      answered = false;
      void probe();
    } catch (err) {
      logger.warn(
        { reason: err instanceof Error ? err.message : String(err) },
        'nmi: issuer TLS material not reloaded: kept the one in use',
      );
    }
  });
  return {
    provider,
    ready: () => answered,
    description: `issuer ${url.origin}`,
    close() {
      closed = true;
      watch.close();
      client.close();
    },
  };
}

/** Builds the chosen provider. Throws UsageError for unusable files. */
export async function createTokenProvider(
  flags: TokenProviderFlags,
  ctx: TokenProviderContext,
): Promise<ChosenTokenProvider> {
  const choice = parseTokenProviderChoice(flags);
  switch (choice.kind) {
    case 'issuer-local':
      return localProvider(flags, ctx);
    case 'issuer':
      return remoteProvider(choice.url, flags, ctx);
    case 'azure': {
      // Azure AD through MSAL for service principals, the node's IMDS for managed identities.
      if (ctx.azure === undefined) throw new Error('--token-provider azure needs the azure context');
      const { settings, ...sources } = ctx.azure;
      return {
        provider: createAzureTokenProvider(settings, sources),
        ready: () => true,
        description: `azure (authority ${settings.authorityHost})`,
        close: () => undefined,
      };
    }
  }
}
