/** `podsec identity nmi` flags; the implementation (identity-nmi.ts) is imported only when it runs. */
import { Option, type Command } from 'commander';

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
    .addOption(
      new Option('--token-provider <kind>', 'where tokens come from')
        .choices(['issuer-local'])
        .default('issuer-local'),
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
    .option('--cleanup', 'remove the redirect table (ip podsec-nmi) and exit')
    .action(async (opts: Record<string, string | undefined>) => {
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
        issuerUrl: opts['issuerUrl'] ?? 'https://issuer.podsec.local',
        logLevel: opts['logLevel'] ?? 'info',
        redirect: opts['redirect'] !== undefined,
        podInterfaces: opts['podInterface'] as unknown as string[] | undefined,
        redirectInterval: opts['redirectInterval'],
        cleanup: opts['cleanup'] !== undefined,
      });
    });
}
