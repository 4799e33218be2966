/** `podsec audit` flags; the implementation (audit.ts) is imported only when the command runs. */
import { Option, type Command } from 'commander';

export function defineAudit(program: Command): void {
  program
    .command('audit')
    .description(
      'evaluate what is already in a cluster (API server, --state DIR, or kubectl -o json files), attributed to workloads',
    )
    .argument('[files...]', 'kubectl get ... -o json Lists or manifests (- for stdin); none: the cluster')
    .option('--state <dir>', 'a directory of manifests standing for the cluster')
    .option(
      '--kubeconfig <file>',
      'kubeconfig of the cluster (default: KUBECONFIG, ~/.kube/config, in-cluster)',
    )
    .option('--context <name>', 'kubeconfig context')
    .option('--config <file>', 'podsec.yaml with assignments (excludes --level and --pss-version)')
    .addOption(
      new Option('--level <level>', 'one assignment at this level (default: namespace labels only)').choices([
        'baseline',
        'restricted',
      ]),
    )
    .option('--pss-version <version>', 'policy version with --level: v1.N or latest')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'html']).default('table'),
    )
    .option('--output <file>', 'write the report to this file instead of stdout')
    .option('--write-reports', 'create or update a PolicyReport per workload in the cluster')
    .addOption(
      new Option('--report-api <api>', 'API of the reports written')
        .choices(['wgpolicyk8s.io/v1alpha2', 'openreports.io/v1alpha1'])
        .default('wgpolicyk8s.io/v1alpha2'),
    )
    .option(
      '--interval <duration>',
      'audit again every DURATION (e.g. 10m); one replica at a time via a Lease',
    )
    .option('--lease-namespace <ns>', 'namespace of the Lease used with --interval', 'podsec-system')
    .option('--page-size <n>', 'objects per LIST page from the API server', '500')
    .option('--no-color', 'never colour the table')
    .action(async (files: string[], opts: Record<string, unknown>, cmd: Command) => {
      const { runAuditCommand } = await import('./audit.js');
      process.exitCode = await runAuditCommand(files, {
        state: opts['state'] as string | undefined,
        kubeconfig: opts['kubeconfig'] as string | undefined,
        context: opts['context'] as string | undefined,
        config: opts['config'] as string | undefined,
        level: opts['level'] as string | undefined,
        pssVersion: opts['pssVersion'] as string | undefined,
        format: opts['format'] as 'table' | 'json' | 'html',
        output: opts['output'] as string | undefined,
        writeReports: opts['writeReports'] === true,
        reportApi: opts['reportApi'] as string,
        interval: opts['interval'] as string | undefined,
        leaseNamespace: opts['leaseNamespace'] as string,
        pageSize: opts['pageSize'] as string,
        color: opts['color'] !== false,
        versionGiven: cmd.getOptionValueSource('pssVersion') === 'cli',
      });
    });
}
