/**
 * Renders docs/parameters.md from PARAMETERS, so the documented names, aliases, defaults and
 * check mappings are the ones the code uses. A test compares the committed file with this output
 * (`UPDATE_DOCS=1 npx vitest run src/policy/params` rewrites it).
 */
import { PARAMETERS } from './parameters.js';
import { INITIATIVE_NAMES } from './types.js';
import type { InitiativeName, ParameterDoc } from './types.js';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function code(v: unknown): string {
  return '`' + JSON.stringify(v) + '`';
}

function defaultText(p: ParameterDoc, initiative: InitiativeName): string {
  const v = p.defaults[initiative];
  if (v !== undefined) return code(v);
  return initiative === 'baseline' || initiative === 'restricted'
    ? 'not set: upstream check'
    : 'not set: no check';
}

function section(p: ParameterDoc): string {
  const lines = [
    `### ${p.name}`,
    '',
    p.description,
    '',
    `- Shape: ${p.shape}`,
    `- Aliases: ${p.aliases.length === 0 ? 'none' : p.aliases.map((a) => (a.includes(' ') ? a : `\`${a}\``)).join(', ')}`,
    `- Checks: ${p.checks.map((c) => `\`${c}\``).join(', ')}`,
    '',
    '| initiative | default |',
    '| --- | --- |',
    ...INITIATIVE_NAMES.map((i) => `| ${i} | ${cell(defaultText(p, i))} |`),
    '',
  ];
  return lines.join('\n');
}

/** The full text of docs/parameters.md. */
export function renderParametersDoc(params: readonly ParameterDoc[] = PARAMETERS): string {
  const summary = [
    '| parameter | aliases | checks |',
    '| --- | --- | --- |',
    ...params.map(
      (p) =>
        `| [${p.name}](#${p.name.toLowerCase()}) | ${cell(p.aliases.join(', ') || '—')} | ${p.checks.join(', ')} |`,
    ),
  ];
  return [
    '# Assignment parameters',
    '',
    '<!-- Generated from src/policy/params/parameters.ts by renderParametersDoc(); do not edit by hand.',
    '     Rewrite with: UPDATE_DOCS=1 npx vitest run src/policy/params -->',
    '',
    "An assignment's `parameters` take Azure Policy's names and shapes (the AKS pod security",
    "definitions); the Gatekeeper library's spellings are accepted as aliases. Giving an alias and",
    'its Azure name together is an error, as is an unknown name (the message lists the valid ones).',
    '',
    'How parameters act:',
    '',
    '- `baseline` / `restricted` without parameters evaluate exactly as Pod Security Admission at the',
    "  assignment's version. A parameter **replaces** the allowed values of the check it maps to; the",
    '  check keeps its upstream id and a violation names the parameter that decided it. Parameters',
    '  whose check is not in force at that level add it (e.g. `allowedVolumeTypes` at baseline adds',
    '  `restrictedVolumes`); `runAsGroup`, `supplementalGroups`, `fsGroup` and `readOnlyRootFilesystem`',
    '  are checks of their own.',
    '- `azure-baseline` / `azure-restricted` run the member definitions of Azure Policy\'s "pod security',
    '  baseline / restricted standards for Linux-based workloads" initiatives with the values below;',
    '  a parameter the user gives replaces that value. They are not versioned. `privileged` (no',
    '  privileged containers) and `hostNamespaces` (no hostPID / hostIPC) are always members.',
    '  Capabilities are matched case-insensitively and MustRunAsNonRoot accepts a non-zero runAsUser,',
    "  as Azure's (Gatekeeper) templates do.",
    "- Exempting images or containers is not a parameter: use the assignment's `exemptions`.",
    '',
    '## Summary',
    '',
    ...summary,
    '',
    '## Parameters',
    '',
    ...params.map(section),
  ].join('\n');
}
