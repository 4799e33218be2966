/**
 * SARIF 2.1.0 for GitHub code scanning. One rule per check (every check podsec knows, so a rule
 * exists even before it fires), one result per violation at its line, repository-relative URIs
 * (relative to where the scan ran, which in CI is the checkout), and a stable fingerprint per
 * (rule, resource, field) so alerts survive unrelated edits that move lines.
 * Exempted violations are kept as suppressed results, so the exemption is visible in the UI.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
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

/** The repository root (nearest directory with .git) above `cwd`, or `cwd` itself. */
export function repositoryRoot(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

/**
 * GitHub maps results to files by URIs relative to the repository root (%SRCROOT%), so a path
 * given relative to a subdirectory is resolved first. Files outside the root keep an absolute
 * file: URI and no base.
 */
function artifactLocation(
  file: string | null,
  cwd: string,
  root: string,
): { uri: string; uriBaseId?: string } {
  if (file === null) return { uri: 'cluster' };
  if (file === '-') return { uri: 'stdin' };
  const abs = isAbsolute(file) ? file : resolve(cwd, file);
  const rel = relative(root, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) return { uri: pathToFileURL(abs).href };
  return { uri: encodeURI(rel.split(sep).join('/')), uriBaseId: '%SRCROOT%' };
}

function fingerprint(r: ResultJson, v: ViolationJson): string {
  return createHash('sha256')
    .update([v.check, r.kind, r.namespace, r.name, v.path, v.container].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}

export interface SarifParts {
  /** The log with `runs[0].results` to be filled by `results`. */
  log: object;
  run: Record<string, unknown>;
  results: Iterable<object>;
}

export function toSarif(report: ScanReport, opts: { cwd: string; version?: string }): object {
  const parts = sarifParts(report, opts);
  parts.run['results'] = [...parts.results];
  return parts.log;
}

/** The SARIF log with its results as a lazy sequence, so a large scan can be written in pieces. */
export function sarifParts(report: ScanReport, opts: { cwd: string; version?: string }): SarifParts {
  const root = repositoryRoot(opts.cwd);
  const rules = new Map<string, SarifRule>();
  for (const def of allCheckDefinitions()) rules.set(def.id, makeRule(def.id, def.level, def.hint));
  for (const r of report.results) {
    for (const v of r.violations) {
      if (!rules.has(v.check)) rules.set(v.check, makeRule(v.check, 'podsec', v.hint));
    }
  }
  const ruleIndex = new Map([...rules.keys()].map((id, i) => [id, i]));
  function* results(): Generator<object> {
    for (const r of report.results) {
      for (const v of r.violations) {
        const resource = `${r.kind ?? '?'} ${r.namespace === null ? '' : `${r.namespace}/`}${r.name ?? ''}`;
        yield {
          ruleId: v.check,
          ruleIndex: ruleIndex.get(v.check),
          level: sarifLevel(v),
          message: {
            text: `${resource}: ${v.message} (at ${v.path}). Fix: ${v.hint}`,
          },
          locations: [
            {
              physicalLocation: {
                artifactLocation: artifactLocation(r.file, opts.cwd, root),
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
        };
      }
    }
  }
  const run: Record<string, unknown> = {
    tool: {
      driver: {
        name: 'podsec',
        ...(opts.version === undefined ? {} : { version: opts.version }),
        rules: [...rules.values()],
      },
    },
    originalUriBaseIds: { '%SRCROOT%': { uri: `${pathToFileURL(root).href}/` } },
    results: [],
    invocations: [
      {
        executionSuccessful: report.errors.length === 0,
        toolExecutionNotifications: report.errors.map((e) => ({
          level: 'error',
          message: { text: e.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: artifactLocation(e.file, opts.cwd, root),
                region: { startLine: Math.max(1, e.line ?? 1) },
              },
            },
          ],
        })),
      },
    ],
  };
  const log = { $schema: 'https://json.schemastore.org/sarif-2.1.0.json', version: '2.1.0', runs: [run] };
  return { log, run, results: results() };
}
