/** `podsec webhook` flags; the implementation (webhook.ts) is imported only when the command runs. */
import type { Command } from 'commander';

export function defineWebhook(program: Command): void {
  program
    .command('webhook')
    .description('serve the admission webhook (HTTPS, AdmissionReview admission.k8s.io/v1 on /validate)')
    .requiredOption('--tls-cert <file>', 'serving certificate (PEM); reloaded when it changes')
    .requiredOption('--tls-key <file>', 'serving key (PEM); reloaded when it changes')
    .option('--port <port>', 'HTTPS port (P or P/TCP)', '8443')
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option(
      '--config <file>',
      'podsec.yaml; reloaded when it changes (without it, namespace labels alone decide)',
    )
    .option('--state <dir>', 'a directory of manifests as the cluster view, instead of the API server')
    .option(
      '--kubeconfig <file>',
      'kubeconfig for the API server (default: KUBECONFIG, ~/.kube/config, in-cluster)',
    )
    .option('--context <name>', 'kubeconfig context')
    .option('--max-body-bytes <n>', 'largest AdmissionReview accepted', String(8 * 1024 * 1024))
    .option(
      '--max-connections <n>',
      'simultaneous connections accepted; more are dropped (idle ones close after 30 s, kept-alive ones 5 s after their answer)',
      '2048',
    )
    .option(
      '--shutdown-delay <duration>',
      'on SIGTERM, keep serving this long (already not ready) while endpoints update, then drain',
      '5s',
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .action(async (opts: Record<string, string | undefined>) => {
      const { runWebhook } = await import('./webhook.js');
      process.exitCode = await runWebhook({
        tlsCert: opts['tlsCert'] ?? '',
        tlsKey: opts['tlsKey'] ?? '',
        port: opts['port'] ?? '8443',
        host: opts['host'],
        config: opts['config'],
        state: opts['state'],
        kubeconfig: opts['kubeconfig'],
        context: opts['context'],
        maxBodyBytes: opts['maxBodyBytes'],
        maxConnections: opts['maxConnections'],
        shutdownDelay: opts['shutdownDelay'],
        logLevel: opts['logLevel'],
      });
    });
}
