/** `podsec identity up` flags; the implementation (identity-up.ts) is imported only when it runs. */
import type { Command } from 'commander';

export function defineIdentityUp(identity: Command): void {
  identity
    .command('up')
    .description(
      'run the issuer, the controller (MIC) and the NMI together in one process on a directory of manifests (local mode)',
    )
    .requiredOption(
      '--state <dir>',
      'the directory of manifests (pods, AzureIdentities, bindings); podsec writes only under DIR/.podsec/',
    )
    .option('--node <name>', "the NMI's node (default: the one spec.nodeName all pods in DIR share)")
    .option('--host <address>', 'address the issuer and the NMI listen on', '127.0.0.1')
    .option('--issuer-port <port>', "the issuer's HTTPS port (0: any free port)", '8444')
    .option('--nmi-port <port>', "the NMI's HTTP port (0: any free port)", '2579')
    .option(
      '--allow-cross-namespace',
      "let bindings match pods in other namespaces (upstream aad-pod-identity's behaviour; unsafe)",
      false,
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'warn')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { runIdentityUp } = await import('./identity-up.js');
      const text = (k: string): string | undefined => (typeof opts[k] === 'string' ? opts[k] : undefined);
      process.exitCode = await runIdentityUp({
        state: text('state') ?? '',
        node: text('node'),
        host: text('host'),
        issuerPort: text('issuerPort'),
        nmiPort: text('nmiPort'),
        allowCrossNamespace: opts['allowCrossNamespace'] === true,
        logLevel: text('logLevel'),
      });
    });
}
