/**
 * `podsec netpol generate`: validates the arguments (every problem a usage error, exit 2) and
 * prints the recommended policies as YAML with explaining comments, or as a JSON `v1 List`.
 * Warnings (a deny-all in kube-system) go to stderr so the manifests on stdout stay clean.
 */
import { UsageError } from '../../lib/errors.js';
import {
  generatePolicies,
  generateWarnings,
  parseGenerateArgs,
  renderJson,
  renderYaml,
} from '../../netpol/generate.js';
import type { GenerateArgs } from '../../netpol/generate.js';
import { EXIT_OK } from '../exit-codes.js';

export interface NetpolGenerateOptions extends GenerateArgs {
  readonly format: 'yaml' | 'json';
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
}

/** The command line the output says it came from (flags in a fixed order, values quoted when needed). */
function commandLine(opts: NetpolGenerateOptions): string {
  const quote = (v: string): string =>
    /^[A-Za-z0-9_./:=,@-]+$/.test(v) ? v : `'${v.replaceAll("'", `'\\''`)}'`;
  const parts = ['podsec', 'netpol', 'generate', quote(opts.kind)];
  const flag = (name: string, v: string | undefined): void => {
    if (v !== undefined) parts.push(name, quote(v));
  };
  flag('--namespace', opts.namespace);
  flag('--pod-selector', opts.podSelector);
  flag('--from-pod-selector', opts.fromPodSelector);
  flag('--from-namespace-selector', opts.fromNamespaceSelector);
  for (const n of opts.fromNamespaces ?? []) flag('--from-namespace', n);
  for (const p of opts.ports ?? []) flag('--port', p);
  flag('--protocol', opts.protocol);
  if (opts.dns === false) parts.push('--no-dns');
  return parts.join(' ');
}

export async function runNetpolGenerate(opts: NetpolGenerateOptions): Promise<number> {
  const parsed = parseGenerateArgs(opts);
  if (!parsed.ok) throw new UsageError(parsed.message, parsed.hint);
  const policies = generatePolicies(parsed.value);
  const stderr = opts.stderr ?? process.stderr;
  for (const w of generateWarnings(parsed.value)) stderr.write(`podsec: warning: ${w}\n`);
  const text = opts.format === 'json' ? renderJson(policies) : renderYaml(policies, commandLine(opts));
  const stdout = opts.stdout ?? process.stdout;
  await new Promise<void>((resolve, reject) => {
    stdout.write(text, (err) => (err === null || err === undefined ? resolve() : reject(err)));
  });
  return EXIT_OK;
}
