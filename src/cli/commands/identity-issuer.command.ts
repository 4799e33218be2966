/** `podsec identity issuer` flags; the implementation (identity-issuer.ts) is imported only when it runs. */
import type { Command } from 'commander';

export function defineIdentityIssuer(identity: Command): void {
  identity
    .command('issuer')
    .description(
      'serve the token issuer (HTTPS, Azure AD shaped discovery, JWKS and token endpoints) for the AzureIdentity objects in the cluster',
    )
    .requiredOption('--tls-cert <file>', 'serving certificate (PEM)')
    .requiredOption('--tls-key <file>', 'serving key (PEM)')
    .option('--port <port>', 'HTTPS port (P or P/TCP)', '8444')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--base-url <url>', 'public https URL of the issuer (default https://<host>:<port>)')
    .option('--keys-dir <dir>', 'directory keeping the signing keys across restarts (in memory when absent)')
    .option('--state <dir>', 'a directory of manifests as the cluster view, instead of the API server')
    .option(
      '--kubeconfig <file>',
      'kubeconfig for the API server (default: KUBECONFIG, ~/.kube/config, in-cluster)',
    )
    .option('--context <name>', 'kubeconfig context')
    .option(
      '--secret-namespace <ns...>',
      'read the Secrets of AzureIdentities only in these namespaces (repeatable; needs Secret access there only): an identity whose Secret is elsewhere is refused (default: every namespace)',
    )
    .option(
      '--client-ca <file>',
      'CA (PEM) of the NMI client certificates: enables the mint API for NMIs in other processes (node = certificate CN podsec-nmi:<node>)',
    )
    .option(
      '--nmi-token-review',
      "also accept an NMI's projected ServiceAccount token on the mint API (TokenReview; node from the token's node-name; Kubernetes 1.30+)",
    )
    .option(
      '--nmi-service-account <ns/name...>',
      'with --nmi-token-review: the ServiceAccounts NMIs run as (default podsec-node/podsec-nmi, as deploy/identity runs it)',
    )
    .option(
      '--nmi-token-audience <aud>',
      'with --nmi-token-review: the audience NMI tokens must carry (default podsec-issuer)',
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .action(async (opts: Record<string, string | undefined>) => {
      const { runIdentityIssuer } = await import('./identity-issuer.js');
      process.exitCode = await runIdentityIssuer({
        tlsCert: opts['tlsCert'] ?? '',
        tlsKey: opts['tlsKey'] ?? '',
        port: opts['port'] ?? '8444',
        host: opts['host'],
        baseUrl: opts['baseUrl'],
        keysDir: opts['keysDir'],
        state: opts['state'],
        kubeconfig: opts['kubeconfig'],
        context: opts['context'],
        secretNamespaces: opts['secretNamespace'] as unknown as string[] | undefined,
        logLevel: opts['logLevel'],
        clientCa: opts['clientCa'],
        nmiTokenReview: opts['nmiTokenReview'] !== undefined,
        nmiServiceAccounts: opts['nmiServiceAccount'] as unknown as string[] | undefined,
        nmiTokenAudience: opts['nmiTokenAudience'],
      });
    });
}
