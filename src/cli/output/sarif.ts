/**
 * SARIF 2.1.0 for GitHub code scanning. One rule per check (every check podsec knows, so a rule
 * exists even before it fires), one result per violation at its line, repository-relative URIs
 * (relative to where the scan ran, which in CI is the checkout), and a stable fingerprint per
 * (rule, resource, field) so alerts survive unrelated edits that move lines.
 * Exempted violations are kept as suppressed results, so the exemption is visible in the UI.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, relative, sep } from 'node:path';
import { allCheckDefinitions } from '../../policy/pss/index.js';
import type { ResultJson, ScanReport, ViolationJson } from './result-json.js';

const PSS_DOCS = 'https://kubernetes.io/docs/concepts/security/pod-security-standards/';

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string; markdown: string };
  helpUri: string;
  defaultConfiguration: { level: 'error' | 'warning' | 'note' };
  properties: { tags: string[]; 'security-severity': string };
}

function ruleName(id: string): string {
  return id
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

function makeRule(id: string, level: string, hint: string): SarifRule {
  const what = `Pod Security Standards check ${id} (${level})`;
  return {
    id,
    name: ruleName(id),
    shortDescription: { text: what },
    fullDescription: { text: `${what}. ${hint}` },
    help: {
      text: `${hint}\nSee ${PSS_DOCS}`,
      markdown: `**${id}** (${level})\n\n${hint}\n\nSee the [Pod Security Standards](${PSS_DOCS}).`,
    },
    helpUri: PSS_DOCS,
    defaultConfiguration: { level: 'error' },
    properties: {
      tags: ['security', 'kubernetes', 'pod-security', level],
      'security-severity': level === 'baseline' ? '8.0' : '6.0',
    },
  };
}

function sarifLevel(v: ViolationJson): 'error' | 'warning' | 'note' | 'none' {
  if (v.exemptedBy !== null) return 'none';
  const effects = v.effects.map((e) => e.effect);
  if (effects.includes('deny')) return 'error';
  if (effects.includes('warn')) return 'warning';
  return 'note';
}

function artifactUri(file: string | null, cwd: string): string {
  if (file === null) return 'cluster';
  if (file === '-') return 'stdin';
  const rel = isAbsolute(file) ? relative(cwd, file) : file;
  return rel.split(sep).join('/').replace(/^\.\//, '');
}

function fingerprint(r: ResultJson, v: ViolationJson): string {
  return createHash('sha256')
    .update([v.check, r.kind, r.namespace, r.name, v.path, v.container].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}

export function toSarif(report: ScanReport, opts: { cwd: string; version?: string }): object {
  const rules = new Map<string, SarifRule>();
  for (const def of allCheckDefinitions()) rules.set(def.id, makeRule(def.id, def.level, def.hint));
  const results: object[] = [];
  for (const r of report.results) {
    for (const v of r.violations) {
      if (!rules.has(v.check)) rules.set(v.check, makeRule(v.check, 'podsec', v.hint));
      const ruleIndex = [...rules.keys()].indexOf(v.check);
      const resource = `${r.kind ?? '?'} ${r.namespace === null ? '' : `${r.namespace}/`}${r.name ?? ''}`;
      results.push({
        ruleId: v.check,
        ruleIndex,
        level: sarifLevel(v),
        message: {
          text: `${resource}: ${v.message} (at ${v.path}). Fix: ${v.hint}`,
        },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: artifactUri(r.file, opts.cwd), uriBaseId: '%SRCROOT%' },
              region: {
                startLine: Math.max(1, v.line ?? r.line ?? 1),
                startColumn: Math.max(1, v.column ?? 1),
              },
            },
            logicalLocations: [
              { name: resource, kind: 'resource', fullyQualifiedName: `${resource}#${v.path}` },
            ],
          },
        ],
        partialFingerprints: { 'podsecViolation/v1': fingerprint(r, v) },
        ...(v.exemptedBy === null
          ? {}
          : {
              suppressions: [
                {
                  kind: 'external',
                  status: 'accepted',
                  justification: `${v.exemptedBy.reason} (assignment ${v.exemptedBy.assignment}${
                    v.exemptedBy.expires === null ? '' : `, expires ${v.exemptedBy.expires}`
                  })`,
                },
              ],
            }),
        properties: { effects: v.effects, container: v.container, path: v.path },
      });
    }
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'podsec',
            informationUri: 'https://github.com/podsec/podsec',
            ...(opts.version === undefined ? {} : { version: opts.version }),
            rules: [...rules.values()],
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: `file://${opts.cwd.split(sep).join('/')}/` } },
        results,
        invocations: [
          {
            executionSuccessful: report.errors.length === 0,
            toolExecutionNotifications: report.errors.map((e) => ({
              level: 'error',
              message: { text: e.message },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: { uri: artifactUri(e.file, opts.cwd), uriBaseId: '%SRCROOT%' },
                    region: { startLine: Math.max(1, e.line ?? 1) },
                  },
                },
              ],
            })),
          },
        ],
      },
    ],
  };
}
