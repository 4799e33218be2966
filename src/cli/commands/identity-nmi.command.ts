/** `podsec identity nmi` flags; the implementation (identity-nmi.ts) is imported only when it runs. */
import type { Command } from 'commander';

export function defineIdentityNmi(identity: Command): void {
  identity
    .command('nmi')
    .description(
      'serve the node managed identity endpoint (IMDS-compatible tokens for pods on this node, local mode)',
    )
    .option('--node <name>', 'the node this NMI serves: only its pods get tokens (required)')
    .option('--port <port>', 'port to listen on', '2579')
    .option('--listen-address <address>', 'address to listen on', '127.0.0.1')
    .option('--state <dir>', 'a directory of manifests as the cluster view, instead of the API server')
    .option(
      '--kubeconfig <file>',
      'kubeconfig for the API server (default: KUBECONFIG, ~/.kube/config, in-cluster)',
    )
    .option('--context <name>', 'kubeconfig context')
    .option(
      '--token-provider <kind>',
      "where tokens come from: issuer-local (podsec's issuer in this process), issuer=https://HOST:PORT " +
        "(podsec's issuer in another process, mint API over mutual TLS) or azure (Azure AD via MSAL, IMDS for type 0)",
      'issuer-local',
    )
    .option('--issuer-ca <file>', "with issuer=URL: CA (PEM) of the issuer's serving certificate")
    .option(
      '--client-cert <file>',
      'with issuer=URL: this node client certificate (PEM, CN podsec-nmi:<node>, from podsec certs --nmi-client); reloaded on change',
    )
    .option('--client-key <file>', 'with issuer=URL: the key of --client-cert (PEM); reloaded on change')
    .option(
      '--issuer-token-file <file>',
      "with issuer=URL: this NMI's projected ServiceAccount token (audience podsec-issuer), for an issuer with --nmi-token-review; instead of or with --client-cert",
    )
    .option(
      '--node-address <ip...>',
      "the node's own addresses: callers from them are refused (403); default none",
    )
    .option('--keys-dir <dir>', "the issuer's signing keys (created when absent; in memory when not given)")
    .option(
      '--issuer-url <url>',
      'base URL written into the tokens issuer claim',
      'https://issuer.podsec.local',
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .option(
      '--redirect',
      'DNAT pod traffic for 169.254.169.254:80 to this NMI (nftables table ip podsec-nmi; needs CAP_NET_ADMIN ' +
        'and a concrete node --listen-address, or --node-address with 0.0.0.0); on exit pods are rejected instead',
    )
    .option(
      '--pod-interface <pattern...>',
      "interfaces pod traffic enters from, names or prefixes ending in '*' (repeatable or comma list; " +
        'default azv*,cali*,lxc*,veth*,cbr0,cni0)',
    )
    .option('--redirect-interval <seconds>', 'how often the redirect rules are checked and restored', '10')
    .option(
      '--allow-bridge-cni',
      'with --redirect: start even though a --pod-interface pattern matches a Linux bridge or its ports ' +
        "(kubenet cbr0, bridge/flannel cni0), where a pod with CAP_NET_RAW can spoof another pod's address; " +
        'only with pods under restricted Pod Security (no NET_RAW)',
    )
    .option('--cleanup', 'remove the redirect table (ip podsec-nmi) and exit')
    .option(
      '--imds-address <host:port>',
      "the node's real metadata service (IMDS) for type 0 identities with --token-provider azure, other " +
        "/metadata paths and exempt pods; 'none' disables (default 169.254.169.254:80 with the API server, none with --state)",
    )
    .option(
      '--authority-host <url>',
      'with --token-provider azure: the Azure AD authority host; an AzureIdentity spec.adEndpoint wins only on ' +
        "this host or an Azure cloud's " +
        '(default https://login.microsoftonline.com/)',
    )
    .option(
      '--allow-exceptions',
      "pass token requests of pods matching an AzurePodIdentityException to --imds-address (the node's own " +
        'identities); without it such pods are refused (403)',
    )
    .option(
      '--allow-instance-metadata',
      'pass /metadata/instance to --imds-address instead of refusing it (403)',
    )
    .action(async (opts: Record<string, string | undefined>, cmd: Command) => {
      const { runIdentityNmi } = await import('./identity-nmi.js');
      process.exitCode = await runIdentityNmi({
        node: opts['node'] ?? '',
        port: opts['port'] ?? '2579',
        listenAddress: opts['listenAddress'] ?? '127.0.0.1',
        state: opts['state'],
        kubeconfig: opts['kubeconfig'],
        context: opts['context'],
        tokenProvider: opts['tokenProvider'] ?? 'issuer-local',
        keysDir: opts['keysDir'],
        // Only a typed --issuer-url is passed, so a stray one is refused (the default is issuer-local's).
        issuerUrl: cmd.getOptionValueSource('issuerUrl') === 'default' ? undefined : opts['issuerUrl'],
        logLevel: opts['logLevel'] ?? 'info',
        issuerCa: opts['issuerCa'],
        clientCert: opts['clientCert'],
        clientKey: opts['clientKey'],
        issuerTokenFile: opts['issuerTokenFile'],
        nodeAddresses: opts['nodeAddress'] as unknown as string[] | undefined,
        redirect: opts['redirect'] !== undefined,
        podInterfaces: opts['podInterface'] as unknown as string[] | undefined,
        // Passed only when typed: without --redirect a typed one is refused as stray.
        redirectInterval:
          cmd.getOptionValueSource('redirectInterval') === 'default' ? undefined : opts['redirectInterval'],
        allowBridgeCni: opts['allowBridgeCni'] !== undefined,
        cleanup: opts['cleanup'] !== undefined,
        imdsAddress: opts['imdsAddress'],
        authorityHost: opts['authorityHost'],
        allowExceptions: opts['allowExceptions'] !== undefined,
        allowInstanceMetadata: opts['allowInstanceMetadata'] !== undefined,
      });
    });
}
