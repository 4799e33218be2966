/** `podsec scan` flags; the implementation (scan.ts) is imported only when the command runs. */
import { Option, type Command } from 'commander';

export function defineScan(program: Command): void {
  program
    .command('scan')
    .description('check Kubernetes manifests against the Pod Security Standards (or a podsec.yaml)')
    .argument('[paths...]', 'files, directories, or - for stdin')
    .addOption(
      new Option('--level <level>', 'Pod Security Standards level').choices(['baseline', 'restricted']),
    )
    .option('--pss-version <version>', 'policy version: v1.N or latest')
    .option('--config <file>', 'podsec.yaml with assignments (excludes --level and --pss-version)')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'sarif']).default('table'),
    )
    .option(
      '--exclude <glob>',
      'skip paths matching this glob in directory walks (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--no-color', 'never colour the table')
    .action(async (paths: string[], opts: Record<string, unknown>, cmd: Command) => {
      const { runScan } = await import('./scan.js');
      process.exitCode = await runScan(paths, {
        level: opts['level'] as string | undefined,
        pssVersion: opts['pssVersion'] as string | undefined,
        config: opts['config'] as string | undefined,
        format: opts['format'] as 'table' | 'json' | 'sarif',
        exclude: opts['exclude'] as string[],
        color: opts['color'] !== false,
        levelGiven: cmd.getOptionValueSource('level') === 'cli',
        versionGiven: cmd.getOptionValueSource('pssVersion') === 'cli',
      });
    });
}
