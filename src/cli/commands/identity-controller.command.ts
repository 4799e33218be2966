/** `podsec identity controller` flags; the implementation (identity-controller.ts) is imported only when it runs. */
import type { Command } from 'commander';

export function defineIdentityController(identity: Command): void {
  identity
    .command('controller')
    .description(
      'run the Managed Identity Controller: keep one AzureAssignedIdentity per matching (pod, identity)',
    )
    .option('--state <dir>', 'a directory of manifests as the cluster view, instead of the API server')
    .option(
      '--kubeconfig <file>',
      'kubeconfig for the API server (default: KUBECONFIG, ~/.kube/config, in-cluster)',
    )
    .option('--context <name>', 'kubeconfig context')
    .option(
      '--allow-cross-namespace',
      "let bindings match pods in other namespaces (upstream aad-pod-identity's behaviour; unsafe)",
      false,
    )
    .option(
      '--leader-elect [bool]',
      'only one replica works at a time (Lease); --leader-elect=false to run alone',
      'true',
    )
    .option('--lease-namespace <ns>', 'namespace of the Lease', 'podsec-system')
    .option('--resync <seconds>', 'full reconcile at least this often', '30')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { runIdentityController } = await import('./identity-controller.js');
      const text = (k: string): string | undefined => (typeof opts[k] === 'string' ? opts[k] : undefined);
      process.exitCode = await runIdentityController({
        state: text('state'),
        kubeconfig: text('kubeconfig'),
        context: text('context'),
        allowCrossNamespace: opts['allowCrossNamespace'] === true,
        leaderElect: opts['leaderElect'] === true ? 'true' : (text('leaderElect') ?? 'true'),
        leaseNamespace: text('leaseNamespace'),
        resync: text('resync'),
        logLevel: text('logLevel'),
      });
    });
}
