/**
 * `podsec netpol generate` flags; the implementation (netpol-generate.ts) is imported only when
 * the subcommand runs. The `netpol` parent command (netpol.command.ts) attaches it.
 */
import { Argument, Option, type Command } from 'commander';

const GENERATE_POLICIES = ['deny-all', 'allow-from-labels', 'allow-from-namespace'];

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function defineNetpolGenerate(parent: Command): void {
  parent
    .command('generate')
    .description('print recommended NetworkPolicies as manifests (deny-all keeps DNS open unless --no-dns)')
    .addArgument(new Argument('<policy>', 'the policy to generate').choices(GENERATE_POLICIES))
    .option('--namespace <ns>', 'namespace of the pods to protect (required)')
    .option('--pod-selector <labels>', 'the pods to protect, e.g. app=web,tier=api (default: every pod)')
    .option(
      '--from-pod-selector <labels>',
      'allowed source pods (allow-from-labels; ANDed with namespaces in allow-from-namespace)',
    )
    .option(
      '--from-namespace-selector <labels>',
      'allowed source namespaces by label (allow-from-namespace; with --from-namespace: either matches)',
    )
    .option(
      '--from-namespace <name>',
      'allowed source namespace by name (allow-from-namespace; repeatable; added to --from-namespace-selector)',
      collect,
      [],
    )
    .option(
      '--port <P[/PROTO]>',
      'allowed port: number, range N-M or container port name; TCP when no /PROTO (repeatable)',
      collect,
      [],
    )
    .option('--protocol <proto>', 'protocol of ports given without /PROTO: TCP, UDP or SCTP')
    .option(
      '--no-dns',
      'deny-all: do not keep DNS (UDP and TCP 53 to kube-dns in kube-system) open; in kube-system this breaks cluster DNS',
    )
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .action(async (policy: string, opts: Record<string, unknown>) => {
      const { runNetpolGenerate } = await import('./netpol-generate.js');
      const str = (k: string): string | undefined => (typeof opts[k] === 'string' ? opts[k] : undefined);
      const list = (k: string): string[] => (Array.isArray(opts[k]) ? (opts[k] as string[]) : []);
      process.exitCode = await runNetpolGenerate({
        kind: policy,
        namespace: str('namespace'),
        podSelector: str('podSelector'),
        fromPodSelector: str('fromPodSelector'),
        fromNamespaceSelector: str('fromNamespaceSelector'),
        fromNamespaces: list('fromNamespace'),
        ports: list('port'),
        protocol: str('protocol'),
        dns: opts['dns'] !== false,
        format: str('format') === 'json' ? 'json' : 'yaml',
      });
    });
}
