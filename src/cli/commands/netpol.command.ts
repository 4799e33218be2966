/**
 * `podsec netpol` and its subcommands' flags (matrix, explain, lint; generate is declared in
 * netpol-generate.command.ts). Implementations are imported only when a subcommand runs.
 */
import { Option, type Command } from 'commander';
import { defineNetpolGenerate } from './netpol-generate.command.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The flags every reading subcommand shares: where the cluster comes from. */
function inputOptions(cmd: Command): Command {
  return cmd
    .argument('[paths...]', 'manifests: files, directories, or - for stdin')
    .option('--state <dir>', 'a directory of manifests standing for the cluster (read with the paths)')
    .option(
      '--kubeconfig <file>',
      'read the cluster from the API server with this kubeconfig (instead of manifests)',
    )
    .option('--context <name>', 'kubeconfig context (with --kubeconfig)')
    .option('--pod-cidr <cidr>', 'give pods without status.podIP deterministic addresses from this CIDR')
    .option('--exclude <glob>', 'skip paths matching this glob in directory walks (repeatable)', collect, []);
}

function str(opts: Record<string, unknown>, k: string): string | undefined {
  return typeof opts[k] === 'string' ? opts[k] : undefined;
}

function list(opts: Record<string, unknown>, k: string): string[] {
  return Array.isArray(opts[k]) ? (opts[k] as string[]) : [];
}

export function defineNetpol(program: Command): void {
  const netpol = program
    .command('netpol')
    .description(
      'NetworkPolicy analysis: reachability matrix, explain a connection, lint, generate policies',
    );

  inputOptions(netpol.command('matrix').description('from -> to reachability of every pod pair on one port'))
    .requiredOption('--port <P[/PROTO]>', 'destination port; TCP when no /PROTO')
    .option('--protocol <proto>', 'protocol: TCP, UDP or SCTP (default TCP)')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'html']).default('table'),
    )
    .option('--output <file>', 'write the matrix to this file instead of stdout')
    .option('--no-color', 'never colour the table')
    .action(async (paths: string[], opts: Record<string, unknown>) => {
      const { runNetpolMatrix } = await import('./netpol-matrix.js');
      process.exitCode = await runNetpolMatrix(paths, {
        state: str(opts, 'state'),
        kubeconfig: str(opts, 'kubeconfig'),
        context: str(opts, 'context'),
        podCidr: str(opts, 'podCidr'),
        exclude: list(opts, 'exclude'),
        port: str(opts, 'port') ?? '',
        protocol: str(opts, 'protocol'),
        format: (str(opts, 'format') ?? 'table') as 'table' | 'json' | 'html',
        output: str(opts, 'output'),
        color: opts['color'] !== false,
      });
    });

  inputOptions(
    netpol
      .command('explain')
      .description('can X reach Y on a port, and which policies, rules and peers decide it'),
  )
    .requiredOption('--from <endpoint>', 'source: NS/POD, svc:NS/NAME or an IP address')
    .requiredOption('--to <endpoint>', 'destination: NS/POD, svc:NS/NAME (its port) or an IP address')
    .requiredOption('--port <P[/PROTO]>', 'destination port (a Service port for svc:); TCP when no /PROTO')
    .option('--protocol <proto>', 'protocol: TCP, UDP or SCTP (default TCP)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (paths: string[], opts: Record<string, unknown>) => {
      const { runNetpolExplain } = await import('./netpol-explain.js');
      process.exitCode = await runNetpolExplain(paths, {
        state: str(opts, 'state'),
        kubeconfig: str(opts, 'kubeconfig'),
        context: str(opts, 'context'),
        podCidr: str(opts, 'podCidr'),
        exclude: list(opts, 'exclude'),
        from: str(opts, 'from') ?? '',
        to: str(opts, 'to') ?? '',
        port: str(opts, 'port') ?? '',
        protocol: str(opts, 'protocol'),
        format: str(opts, 'format') === 'json' ? 'json' : 'text',
      });
    });

  inputOptions(
    netpol
      .command('lint')
      .description(
        'open pods, policies selecting nothing, peers matching nothing, unresolved named ports, redundant rules',
      )
      .addHelpText(
        'after',
        [
          '',
          "Redundant rules are judged on the rules' text (selector and CIDR containment). The one",
          'exception, a podSelector-only peer inside a namespaceSelector that its namespace matches',
          'with its current labels, is reported "given the current labels of namespace X".',
          'Without pods in the input (a repository of policies) the checks that need pods are',
          'skipped and a note says so; add a cluster dump or --state to run them.',
        ].join('\n'),
      ),
  )
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (paths: string[], opts: Record<string, unknown>) => {
      const { runNetpolLint } = await import('./netpol-lint.js');
      process.exitCode = await runNetpolLint(paths, {
        state: str(opts, 'state'),
        kubeconfig: str(opts, 'kubeconfig'),
        context: str(opts, 'context'),
        podCidr: str(opts, 'podCidr'),
        exclude: list(opts, 'exclude'),
        format: str(opts, 'format') === 'json' ? 'json' : 'table',
      });
    });

  defineNetpolGenerate(netpol);
}
