/** `podsec certs` flags; the implementation (certs.ts) is imported only when the command runs. */
import { Option, type Command } from 'commander';

export function defineCerts(program: Command): void {
  program
    .command('certs')
    .description(
      "create a CA and the webhook's serving certificate, and put the CA into the webhook registrations",
    )
    .requiredOption('--out <dir>', 'where ca.crt, tls.crt and tls.key (0600) are written')
    .option('--service <name>', 'the webhook Service', 'podsec-webhook')
    .option('--namespace <name>', "the webhook Service's namespace", 'podsec-system')
    .option('--days <n>', 'validity in days', '365')
    .addOption(
      new Option('--algorithm <alg>', 'key algorithm')
        .choices(['ecdsa-p256', 'rsa-2048'])
        .default('ecdsa-p256'),
    )
    .option('--localhost', 'also valid for localhost and 127.0.0.1 (local runs)')
    .option(
      '--inject <file...>',
      'ValidatingWebhookConfiguration manifests whose clientConfig.caBundle is rewritten in place',
    )
    .option('--patch-webhooks', "update the cluster's podsec ValidatingWebhookConfigurations")
    .option('--state <dir>', 'with --patch-webhooks: a state directory instead of the API server')
    .option('--kubeconfig <file>', 'with --patch-webhooks: kubeconfig for the API server')
    .option('--context <name>', 'with --patch-webhooks: kubeconfig context')
    .option(
      '--nmi-client <node...>',
      'instead: client certificates for the NMIs of these nodes (nmi-<node>.crt/.key, CN podsec-nmi:<node>) from the ' +
        "client CA in --out (client-ca.crt/.key, created when absent); the issuer's --client-ca is client-ca.crt",
    )
    .action(async (opts: Record<string, unknown>) => {
      const { runCerts } = await import('./certs.js');
      const str = (k: string): string | undefined => (typeof opts[k] === 'string' ? opts[k] : undefined);
      process.exitCode = await runCerts({
        out: str('out') ?? '',
        service: str('service') ?? 'podsec-webhook',
        namespace: str('namespace') ?? 'podsec-system',
        days: str('days'),
        algorithm: str('algorithm'),
        localhost: opts['localhost'] === true,
        inject: Array.isArray(opts['inject']) ? (opts['inject'] as string[]) : undefined,
        patchWebhooks: opts['patchWebhooks'] === true,
        state: str('state'),
        kubeconfig: str('kubeconfig'),
        context: str('context'),
        nmiClients: Array.isArray(opts['nmiClient']) ? (opts['nmiClient'] as string[]) : undefined,
      });
    });
}
