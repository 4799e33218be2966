import { describe, expect, it } from 'vitest';
import type { ConfigIssue } from '../../lib/errors.js';
import { loadConfigText } from './load.js';
import type { LoadResult } from './load.js';
import type { PodsecConfig } from './types.js';

const NOW = new Date('2026-01-15T12:00:00Z');
const HEAD = 'apiVersion: podsec.io/v1alpha1\nkind: PodsecConfig\n';

function load(text: string): LoadResult {
  return loadConfigText(text, 'podsec.yaml', { now: NOW });
}

function configOf(text: string): PodsecConfig {
  const r = load(text);
  if ('error' in r) throw new Error(r.error.message);
  return r.config;
}

function issuesOf(text: string): ConfigIssue[] {
  const r = load(text);
  if (!('error' in r)) throw new Error('expected an error');
  return [...r.error.issues];
}

/** `line:column path: message` for compact, exact assertions. */
function show(i: ConfigIssue): string {
  return `${i.line}:${i.column} ${i.path}: ${i.message}`;
}

describe('loadConfigText: valid files and defaults', () => {
  it('fills every default for a minimal assignment', () => {
    const config = configOf(`${HEAD}assignments:\n  - name: a\n    initiative: restricted\n`);
    expect(config.exemptions).toEqual({ usernames: [], namespaces: [], runtimeClasses: [] });
    expect(config.podTemplatePaths).toEqual([]);
    const [a] = config.assignments;
    expect(a).toMatchObject({
      name: 'a',
      initiative: 'restricted',
      version: { latest: true },
      effect: 'deny',
      workloads: 'warn',
      namespaces: [],
      excludedNamespaces: ['kube-system', 'gatekeeper-system', 'azure-arc', 'azure-extensions-usage-system'],
      labelSelector: { matchLabels: {}, matchExpressions: [] },
      exemptions: [],
    });
  });

  it.each([
    { name: 'lower', text: 'deny', want: 'deny' },
    { name: 'Azure capitalised', text: 'Audit', want: 'audit' },
    { name: 'upper', text: 'WARN', want: 'warn' },
    { name: 'mixed', text: 'DiSaBlEd', want: 'disabled' },
  ])('effect in any letter case: $name', ({ text, want }) => {
    const config = configOf(`${HEAD}assignments:\n  - {name: a, initiative: baseline, effect: ${text}}\n`);
    expect(config.assignments[0]?.effect).toBe(want);
  });

  it('reads every field', () => {
    const config = configOf(`${HEAD}exemptions:
  usernames: [system:serviceaccount:kube-system:replicaset-controller]
  namespaces: [istio-system]
  runtimeClasses: [kata]
podTemplatePaths:
  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, path: spec.template}
assignments:
  - name: apps
    initiative: baseline
    version: v1.30
    effect: Warn
    workloads: Audit
    namespaces: [team-a, team-b]
    excludedNamespaces: [kube-system]
    labelSelector:
      matchLabels: {app: web}
      matchExpressions:
        - {key: tier, operator: In, values: [front]}
        - {key: legacy, operator: DoesNotExist}
    exemptions:
      - checks: [capabilities_baseline]
        images: ["docker.io/istio/proxyv2*"]
        containers: [istio-init]
        reason: needs NET_ADMIN
        expires: 2027-06-30
`);
    expect(config.exemptions.runtimeClasses).toEqual(['kata']);
    expect(config.podTemplatePaths).toEqual([
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', path: 'spec.template' },
    ]);
    expect(config.assignments[0]).toMatchObject({
      version: { latest: false, minor: 30 },
      effect: 'warn',
      workloads: 'audit',
      namespaces: ['team-a', 'team-b'],
      excludedNamespaces: ['kube-system'],
      labelSelector: {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['front'] },
          { key: 'legacy', operator: 'DoesNotExist', values: [] },
        ],
      },
      exemptions: [
        {
          checks: ['capabilities_baseline'],
          images: ['docker.io/istio/proxyv2*'],
          containers: ['istio-init'],
          reason: 'needs NET_ADMIN',
          expires: '2027-06-30',
        },
      ],
    });
  });

  it('resolves YAML anchors and aliases', () => {
    const config = configOf(`${HEAD}assignments:
  - name: a
    initiative: restricted
    namespaces: &apps [team-a]
  - name: b
    initiative: baseline
    namespaces: *apps
`);
    expect(config.assignments[1]?.namespaces).toEqual(['team-a']);
  });

  it('passes parameters to the params parser', () => {
    const config = configOf(
      `${HEAD}assignments:\n  - name: a\n    initiative: azure-restricted\n    parameters:\n      allowedCapabilities: [NET_BIND_SERVICE]\n`,
    );
    expect(config.assignments[0]?.parameters).toMatchObject({ allowedCapabilities: ['NET_BIND_SERVICE'] });
  });
});

describe('loadConfigText: workloads never stricter than effect', () => {
  // `-` = the key is absent. Columns are those of the workloads value in `line()`.
  const line = (effect: string, workloads: string): string =>
    `${HEAD}assignments:\n  - {name: a, initiative: baseline` +
    (effect === '-' ? '' : `, effect: ${effect}`) +
    (workloads === '-' ? '' : `, workloads: ${workloads}`) +
    '}\n';
  const col = (effect: string): number => (effect === '-' ? 48 : 48 + `, effect: ${effect}`.length);
  const conflict = (w: string, e: string, consequence: string): string =>
    `workloads: ${w} is stricter than effect: ${e}: ${consequence}; use effect: ${w} or workloads: ${e}`;
  const REFUSED = 'a Deployment would be refused although its pods are admitted';
  const WARNED = 'a Deployment would get warnings although its pods are only audited';
  const IGNORED = 'workloads has no effect: the assignment is disabled and not evaluated';

  it.each([
    // effect deny (explicit or default) allows every workloads value
    { name: 'default effect, default workloads', effect: '-', workloads: '-', want: 'warn' },
    { name: 'default effect, workloads deny', effect: '-', workloads: 'deny', want: 'deny' },
    { name: 'deny, default workloads', effect: 'deny', workloads: '-', want: 'warn' },
    { name: 'deny, workloads deny', effect: 'deny', workloads: 'deny', want: 'deny' },
    { name: 'deny, workloads warn', effect: 'deny', workloads: 'warn', want: 'warn' },
    { name: 'deny, workloads audit', effect: 'deny', workloads: 'audit', want: 'audit' },
    // warn: warn or audit
    { name: 'warn, default workloads', effect: 'warn', workloads: '-', want: 'warn' },
    { name: 'warn, workloads warn', effect: 'warn', workloads: 'warn', want: 'warn' },
    { name: 'warn, workloads audit', effect: 'warn', workloads: 'audit', want: 'audit' },
    // audit: the default is capped at audit
    { name: 'audit, default workloads capped', effect: 'audit', workloads: '-', want: 'audit' },
    { name: 'Azure Audit, default workloads capped', effect: 'Audit', workloads: '-', want: 'audit' },
    { name: 'audit, workloads audit', effect: 'audit', workloads: 'audit', want: 'audit' },
    { name: 'AUDIT, workloads Audit', effect: 'AUDIT', workloads: 'Audit', want: 'audit' },
    // disabled: not evaluated; workloads kept as written (or the default)
    { name: 'disabled, default workloads', effect: 'disabled', workloads: '-', want: 'warn' },
  ])('accepted: $name -> $want', ({ effect, workloads, want }) => {
    const r = load(line(effect, workloads));
    if ('error' in r) throw new Error(r.error.message);
    expect(r.config.assignments[0]?.workloads).toBe(want);
    expect(r.warnings).toEqual([]);
  });

  it.each([
    { name: 'disabled, workloads deny', effect: 'disabled', workloads: 'deny', want: 'deny' },
    { name: 'Disabled, workloads warn', effect: 'Disabled', workloads: 'warn', want: 'warn' },
    { name: 'disabled, workloads audit', effect: 'disabled', workloads: 'audit', want: 'audit' },
  ])('accepted with a warning: $name', ({ effect, workloads, want }) => {
    const r = load(line(effect, workloads));
    if ('error' in r) throw new Error(r.error.message);
    expect(r.config.assignments[0]?.workloads).toBe(want);
    expect(r.warnings.map(show)).toEqual([`4:${col(effect)} assignments[0].workloads: ${IGNORED}`]);
  });

  it.each([
    {
      name: 'audit, workloads deny',
      effect: 'audit',
      workloads: 'deny',
      want: conflict('deny', 'audit', REFUSED),
    },
    {
      name: 'Audit, workloads DENY',
      effect: 'Audit',
      workloads: 'DENY',
      want: conflict('deny', 'audit', REFUSED),
    },
    {
      name: 'audit, workloads warn',
      effect: 'audit',
      workloads: 'warn',
      want: conflict('warn', 'audit', WARNED),
    },
    {
      name: 'warn, workloads deny',
      effect: 'warn',
      workloads: 'deny',
      want: conflict('deny', 'warn', REFUSED),
    },
    {
      name: 'WARN, workloads Deny',
      effect: 'WARN',
      workloads: 'Deny',
      want: conflict('deny', 'warn', REFUSED),
    },
  ])('rejected at the workloads value: $name', ({ effect, workloads, want }) => {
    expect(issuesOf(line(effect, workloads)).map(show)).toEqual([
      `4:${col(effect)} assignments[0].workloads: ${want}`,
    ]);
  });

  it('the message the webhook operator reads, in the ConfigError text', () => {
    const r = load(
      `${HEAD}assignments:\n  - name: a\n    initiative: restricted\n    effect: audit\n    workloads: deny\n`,
    );
    if (!('error' in r)) throw new Error('expected an error');
    expect(r.error.message).toContain(
      'podsec.yaml:7:16: assignments[0].workloads: workloads: deny is stricter than effect: audit: ' +
        'a Deployment would be refused although its pods are admitted; use effect: deny or workloads: audit',
    );
  });

  it('an invalid effect reports only itself, not a conflict', () => {
    expect(issuesOf(line('block', 'deny')).map((i) => i.path)).toEqual(['assignments[0].effect']);
  });
});

describe('loadConfigText: warnings', () => {
  it.each([
    {
      name: 'kube-system no longer excluded',
      text: `${HEAD}assignments:\n  - name: a\n    initiative: baseline\n    excludedNamespaces: [istio-system]\n`,
      want: ['6:25 assignments[0].excludedNamespaces: kube-system is no longer excluded'],
    },
    {
      name: 'expired exemption',
      text: `${HEAD}assignments:\n  - name: a\n    initiative: baseline\n    exemptions:\n      - {checks: [privileged], reason: r, expires: 2026-01-14}\n`,
      want: ['7:52 assignments[0].exemptions[0].expires: exemption expired on 2026-01-14'],
    },
    {
      name: 'version newer than known',
      text: `${HEAD}assignments:\n  - {name: a, initiative: baseline, version: v1.99}\n`,
      want: ['4:46 assignments[0].version: v1.99 is newer than the newest known version'],
    },
    { name: 'no assignments', text: HEAD, want: ['1:1 : no assignments'] },
  ])('$name', ({ text, want }) => {
    const r = load(text);
    expect('config' in r).toBe(true);
    expect(r.warnings.map(show)).toEqual(want.map((w) => expect.stringContaining(w) as unknown));
  });

  it('an exemption expiring today still applies (no warning)', () => {
    const r = load(
      `${HEAD}assignments:\n  - name: a\n    initiative: baseline\n    exemptions:\n      - {checks: [privileged], reason: r, expires: 2026-01-15}\n`,
    );
    expect(r.warnings).toEqual([]);
  });
});

describe('loadConfigText: every error kind, with line and column', () => {
  const A = `${HEAD}assignments:\n`;
  it.each([
    { name: 'broken YAML', text: `${HEAD}assignments: [\n`, want: '4:1 : YAML:' },
    { name: 'tab indentation', text: `${HEAD}assignments:\n\t- name: a\n`, want: '4:1 : YAML:' },
    {
      name: 'duplicate top-level key',
      text: `${HEAD}kind: PodsecConfig\n`,
      want: '3:1 kind: duplicate key "kind" (first on line 2)',
    },
    {
      name: 'duplicate assignment field, quoted the second time',
      text: `${A}  - name: a\n    initiative: baseline\n    effect: deny\n    "effect": warn\n`,
      want: '7:5 assignments[0].effect: duplicate key "effect" (first on line 6)',
    },
    {
      name: 'duplicate label in a flow mapping',
      text: `${A}  - name: a\n    initiative: baseline\n    labelSelector: {matchLabels: {app: a, app: b}}\n`,
      want: '6:43 assignments[0].labelSelector.matchLabels.app: duplicate key "app" (first at column 35)',
    },
    {
      name: 'duplicate parameter',
      text: `${A}  - name: a\n    initiative: azure-baseline\n    parameters:\n      allowHostNetwork: false\n      allowHostNetwork: true\n`,
      want: '8:7 assignments[0].parameters.allowHostNetwork: duplicate key "allowHostNetwork" (first on line 7)',
    },
    { name: 'empty file', text: '', want: '1:1 : empty configuration' },
    { name: 'not a mapping', text: '- a\n', want: '1:1 : expected a mapping, got a list' },
    {
      name: 'wrong apiVersion',
      text: 'apiVersion: v1\nkind: PodsecConfig\n',
      want: '1:13 apiVersion: unsupported apiVersion "v1"',
    },
    {
      name: 'missing kind',
      text: 'apiVersion: podsec.io/v1alpha1\n',
      want: '1:1 : missing required key "kind"',
    },
    {
      name: 'wrong kind',
      text: 'apiVersion: podsec.io/v1alpha1\nkind: Pod\n',
      want: '2:7 kind: unsupported kind "Pod"',
    },
    {
      name: 'unknown top-level key with suggestion',
      text: `${HEAD}assignment: []\n`,
      want: '3:1 assignment: unknown key "assignment"; did you mean "assignments"?',
    },
    {
      name: 'unknown key without a close match lists the keys',
      text: `${HEAD}zzz: 1\n`,
      want: '3:1 zzz: unknown key "zzz"; expected one of apiVersion, kind, exemptions, podTemplatePaths, assignments',
    },
    {
      name: 'unknown assignment key',
      text: `${A}  - name: a\n    initiative: baseline\n    excludedNamespace: [x]\n`,
      want: '6:5 assignments[0].excludedNamespace: unknown key "excludedNamespace"; did you mean "excludedNamespaces"?',
    },
    {
      name: 'assignments not a list',
      text: `${A}  name: a\n`,
      want: '4:3 assignments: expected a list, got a mapping',
    },
    {
      name: 'missing name',
      text: `${A}  - initiative: baseline\n`,
      want: '4:5 assignments[0]: missing required key "name"',
    },
    {
      name: 'bad name',
      text: `${A}  - {name: "my policy", initiative: baseline}\n`,
      want: '4:12 assignments[0].name: "my policy" must be letters',
    },
    {
      name: 'missing initiative',
      text: `${A}  - name: a\n`,
      want: '4:5 assignments[0]: missing required key "initiative"',
    },
    {
      name: 'unknown initiative with suggestion',
      text: `${A}  - {name: a, initiative: restriced}\n`,
      want: '4:27 assignments[0].initiative: "restriced" is not one of baseline, restricted, azure-baseline, azure-restricted; did you mean "restricted"?',
    },
    {
      name: 'bad effect',
      text: `${A}  - {name: a, initiative: baseline, effect: block}\n`,
      want: '4:45 assignments[0].effect: "block" is not one of deny, audit, warn, disabled (any letter case)',
    },
    {
      name: 'effect of the wrong type',
      text: `${A}  - {name: a, initiative: baseline, effect: true}\n`,
      want: '4:45 assignments[0].effect: expected one of deny, audit, warn, disabled, got the boolean true',
    },
    {
      name: 'bad workloads',
      text: `${A}  - {name: a, initiative: baseline, workloads: disabled}\n`,
      want: '4:48 assignments[0].workloads: "disabled" is not one of warn, audit, deny',
    },
    {
      name: 'version with a leading zero',
      text: `${A}  - {name: a, initiative: baseline, version: v1.05}\n`,
      want: '4:46 assignments[0].version: "v1.05" is not a policy version',
    },
    {
      name: 'version as a number',
      text: `${A}  - {name: a, initiative: baseline, version: 1.25}\n`,
      want: '4:46 assignments[0].version: expected "latest" or "v1.N", got the number 1.25',
    },
    {
      name: 'version on an Azure initiative',
      text: `${A}  - {name: a, initiative: azure-baseline, version: v1.30}\n`,
      want: '4:43 assignments[0].version: version applies only to the baseline and restricted initiatives',
    },
    {
      name: 'namespace not a DNS label',
      text: `${A}  - {name: a, initiative: baseline, namespaces: [Team_A]}\n`,
      want: '4:50 assignments[0].namespaces[0]: "Team_A" is not a namespace name',
    },
    {
      name: 'namespaces not a list',
      text: `${A}  - {name: a, initiative: baseline, namespaces: team-a}\n`,
      want: '4:49 assignments[0].namespaces: expected a list of strings, got the string "team-a"',
    },
    {
      name: 'bad selector operator',
      text: `${A}  - name: a\n    initiative: baseline\n    labelSelector:\n      matchExpressions:\n        - {key: tier, operator: in, values: [a]}\n`,
      want: '8:33 assignments[0].labelSelector.matchExpressions[0].operator: "in" is not one of In, NotIn, Exists, DoesNotExist; did you mean "In"?',
    },
    {
      name: 'In without values',
      text: `${A}  - name: a\n    initiative: baseline\n    labelSelector:\n      matchExpressions:\n        - {key: tier, operator: In}\n`,
      want: '8:11 assignments[0].labelSelector.matchExpressions[0].values: operator In needs a non-empty values list',
    },
    {
      name: 'Exists with values',
      text: `${A}  - name: a\n    initiative: baseline\n    labelSelector:\n      matchExpressions:\n        - {key: tier, operator: Exists, values: [a]}\n`,
      want: '8:49 assignments[0].labelSelector.matchExpressions[0].values: operator Exists takes no values',
    },
    {
      name: 'bad label key',
      text: `${A}  - name: a\n    initiative: baseline\n    labelSelector:\n      matchLabels: {"bad key": x}\n`,
      want: '7:21 assignments[0].labelSelector.matchLabels["bad key"]: label key "bad key" must be',
    },
    {
      name: 'label value not a string',
      text: `${A}  - name: a\n    initiative: baseline\n    labelSelector:\n      matchLabels: {enabled: true}\n`,
      want: '7:30 assignments[0].labelSelector.matchLabels.enabled: expected a label value (quote numbers and booleans), got the boolean true',
    },
    {
      name: 'unknown selector key',
      text: `${A}  - name: a\n    initiative: baseline\n    labelSelector:\n      matchLabel: {a: b}\n`,
      want: '7:7 assignments[0].labelSelector.matchLabel: unknown key "matchLabel"; did you mean "matchLabels"?',
    },
    {
      name: 'exemption without reason',
      text: `${A}  - name: a\n    initiative: baseline\n    exemptions:\n      - {checks: [privileged]}\n`,
      want: '7:9 assignments[0].exemptions[0]: missing required key "reason"',
    },
    {
      name: 'exemption with an empty reason',
      text: `${A}  - name: a\n    initiative: baseline\n    exemptions:\n      - {checks: [privileged], reason: " "}\n`,
      want: '7:40 assignments[0].exemptions[0].reason: reason must not be empty',
    },
    {
      name: 'exemption naming nothing',
      text: `${A}  - name: a\n    initiative: baseline\n    exemptions:\n      - {reason: r}\n`,
      want: '7:9 assignments[0].exemptions[0]: an exemption must name at least one of checks, images or containers',
    },
    {
      name: 'unknown check with suggestion',
      text: `${A}  - name: a\n    initiative: baseline\n    exemptions:\n      - {checks: [priviliged], reason: r}\n`,
      want: '7:19 assignments[0].exemptions[0].checks[0]: unknown check "priviliged"; did you mean "privileged"?',
    },
    {
      name: 'star inside an image pattern',
      text: `${A}  - name: a\n    initiative: baseline\n    exemptions:\n      - {images: ["docker.io/*/proxy"], reason: r}\n`,
      want: '7:19 assignments[0].exemptions[0].images[0]: "docker.io/*/proxy": only a trailing "*" (prefix match) is supported',
    },
    {
      name: 'expiry not a calendar date',
      text: `${A}  - name: a\n    initiative: baseline\n    exemptions:\n      - {checks: [privileged], reason: r, expires: 2027-02-30}\n`,
      want: '7:52 assignments[0].exemptions[0].expires: "2027-02-30" is not a date YYYY-MM-DD',
    },
    {
      name: 'expiry in another format',
      text: `${A}  - name: a\n    initiative: baseline\n    exemptions:\n      - {checks: [privileged], reason: r, expires: 30/06/2027}\n`,
      want: '7:52 assignments[0].exemptions[0].expires: "30/06/2027" is not a date YYYY-MM-DD',
    },
    {
      name: 'cluster exemption namespaces of the wrong type',
      text: `${HEAD}exemptions:\n  namespaces: [1]\n`,
      want: '4:16 exemptions.namespaces[0]: expected a string, got the number 1',
    },
    {
      name: 'unknown cluster exemption key',
      text: `${HEAD}exemptions:\n  users: []\n`,
      want: '4:3 exemptions.users: unknown key "users"',
    },
    {
      name: 'template path missing a key',
      text: `${HEAD}podTemplatePaths:\n  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout}\n`,
      want: '4:5 podTemplatePaths[0]: missing required key "path"',
    },
    {
      name: 'template path not dotted',
      text: `${HEAD}podTemplatePaths:\n  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, path: "spec/template"}\n`,
      want: '4:61 podTemplatePaths[0].path: "spec/template" must be a dotted field path',
    },
    {
      name: 'parameters not a mapping',
      text: `${A}  - name: a\n    initiative: azure-restricted\n    parameters: [x]\n`,
      want: '6:17 assignments[0].parameters: expected a mapping of parameter names to values, got a list',
    },
  ])('$name', ({ text, want }) => {
    const issues = issuesOf(text).map(show);
    expect(issues).toContainEqual(expect.stringContaining(want));
  });

  it('reports a duplicate assignment name at the second use, naming the first line', () => {
    const issues = issuesOf(
      `${HEAD}assignments:\n  - {name: a, initiative: baseline}\n  - {name: a, initiative: restricted}\n`,
    );
    expect(issues.map(show)).toEqual([
      '5:12 assignments[1].name: duplicate assignment name "a" (first used on line 4)',
    ]);
  });

  it('places a parameter issue at the offending value', () => {
    const issues = issuesOf(
      `${HEAD}assignments:\n  - name: a\n    initiative: azure-restricted\n    parameters:\n      runAsUserRule: Sometimes\n`,
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 7, column: 22, path: 'assignments[0].parameters.runAsUserRule' });
  });

  it('reports every problem at once, in file order, with file and position', () => {
    const r = load(`apiVersion: podsec.io/v1
kind: PodsecConfig
exemptions:
  namespace: [x]
assignments:
  - name: a
    initiative: restricted
    effect: block
  - name: b
    initiative: azure-baseline
    version: v1.30
    exemptions:
      - {checks: [hostPort], reason: r}
`);
    expect('error' in r).toBe(true);
    if (!('error' in r)) return;
    expect(r.error.issues.map(show)).toEqual([
      '1:13 apiVersion: unsupported apiVersion "podsec.io/v1"; expected podsec.io/v1alpha1',
      '4:3 exemptions.namespace: unknown key "namespace"; did you mean "namespaces"?',
      '8:13 assignments[0].effect: "block" is not one of deny, audit, warn, disabled (any letter case)',
      "11:5 assignments[1].version: version applies only to the baseline and restricted initiatives; azure-baseline follows Azure Policy's definitions",
      '13:19 assignments[1].exemptions[0].checks[0]: unknown check "hostPort"; did you mean "hostPorts"?',
    ]);
    expect(r.error.issues.every((i) => i.file === 'podsec.yaml')).toBe(true);
    expect(r.error.code).toBe('CONFIG_INVALID');
    expect(r.error.message).toContain('podsec.yaml:8:13: assignments[0].effect');
  });
});

describe('loadConfigText: no problem hides another', () => {
  it('reports all 11 assignment problems and 5 exemption problems of one assignment in one pass', () => {
    const issues = issuesOf(`${HEAD}assignments:
  - name: -apps
    initiative: azure-restrcted
    version: v1.030
    effect: block
    workloads: reject
    namespaces: [Team_A]
    excludedNamespaces: kube-system
    labelSelector:
      matchLabels: {"-app": web}
      matchExpressions:
        - {key: tier, operator: Equals, values: [front]}
    parameters:
      allowHostNetwrk: false
      runAsUserRule: Sometimes
    exemptions:
      - {checks: [hostPort], reason: legacy agent}
      - {images: ["a*b"], reason: vendor image}
      - {containers: [sidecar], reason: ""}
      - {checks: [privileged], reason: node agent, expires: 2027-02-30}
      - {reason: names nothing}
`);
    const a = 'assignments[0]';
    expect(issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
      `4:11 ${a}.name`,
      `5:17 ${a}.initiative`,
      `6:14 ${a}.version`,
      `7:13 ${a}.effect`,
      `8:16 ${a}.workloads`,
      `9:18 ${a}.namespaces[0]`,
      `10:25 ${a}.excludedNamespaces`,
      `12:21 ${a}.labelSelector.matchLabels["-app"]`,
      `14:33 ${a}.labelSelector.matchExpressions[0].operator`,
      `16:24 ${a}.parameters.allowHostNetwrk`,
      `17:22 ${a}.parameters.runAsUserRule`,
      `19:19 ${a}.exemptions[0].checks[0]`,
      `20:19 ${a}.exemptions[1].images[0]`,
      `21:41 ${a}.exemptions[2].reason`,
      `22:61 ${a}.exemptions[3].expires`,
      `23:9 ${a}.exemptions[4]`,
    ]);
    expect(issues.slice(11).map((i) => i.message)).toEqual([
      'unknown check "hostPort"; did you mean "hostPorts"?',
      '"a*b": only a trailing "*" (prefix match) is supported',
      'reason must not be empty',
      '"2027-02-30" is not a date YYYY-MM-DD',
      'an exemption must name at least one of checks, images or containers',
    ]);
    expect(issues[1]?.message).toContain('did you mean "azure-restricted"?');
  });

  const BAD_EXEMPTION = '    exemptions:\n      - {checks: [hostPort], reason: r}\n';
  const EXEMPTION_ISSUE = 'exemptions[0].checks[0]: unknown check "hostPort"; did you mean "hostPorts"?';
  it.each([
    {
      name: 'invalid name: parameters and exemptions still checked',
      text: `  - name: _a\n    initiative: baseline\n    parameters: {runAsUserRule: Sometimes}\n${BAD_EXEMPTION}`,
      want: ['name:', 'parameters.runAsUserRule: expected one of', EXEMPTION_ISSUE],
    },
    {
      name: 'invalid parameters: exemptions still checked',
      text: `  - name: a\n    initiative: restricted\n    parameters: {procMount: Weird}\n${BAD_EXEMPTION}`,
      want: ['parameters.procMount:', EXEMPTION_ISSUE],
    },
    {
      name: 'parameters not a mapping: exemptions still checked',
      text: `  - name: a\n    initiative: azure-baseline\n    parameters: 3\n${BAD_EXEMPTION}`,
      want: [
        'parameters: expected a mapping of parameter names to values, got the number 3',
        EXEMPTION_ISSUE,
      ],
    },
    {
      name: 'missing initiative: parameters and exemptions still checked',
      text: `  - name: a\n    parameters: {allowHostNetwork: maybe}\n${BAD_EXEMPTION}`,
      want: [': missing required key "initiative"', 'parameters.allowHostNetwork:', EXEMPTION_ISSUE],
    },
    {
      name: 'invalid initiative: valid parameters and check ids are not reported',
      text: `  - name: a\n    initiative: strict\n    parameters: {allowHostNetwork: false, runAsUserRule: MustRunAsNonRoot}\n    exemptions:\n      - {checks: [hostPorts, privileged], reason: r}\n`,
      want: ['initiative: "strict" is not one of'],
    },
  ])('$name', ({ text, want }) => {
    const issues = issuesOf(`${HEAD}assignments:\n${text}`).map((i) => `${i.path}: ${i.message}`);
    expect(issues).toHaveLength(want.length);
    want.forEach((w, i) => expect(issues[i]).toContain(w));
  });
});

describe('ConfigError text', () => {
  it.each([
    {
      name: 'a document-level issue has no empty path between colons',
      text: '',
      want: 'podsec.yaml: 1 problem\n  podsec.yaml:1:1: empty configuration; expected apiVersion: podsec.io/v1alpha1 and kind: PodsecConfig',
    },
    {
      name: 'a field issue names its path',
      text: 'apiVersion: v1\nkind: PodsecConfig\n',
      want: 'podsec.yaml: 1 problem\n  podsec.yaml:1:13: apiVersion: unsupported apiVersion "v1"; expected podsec.io/v1alpha1',
    },
    {
      name: 'a duplicate key is reported with the other problems',
      text: `${HEAD}kind: PodsecConfig\nassignments: {}\n`,
      want: 'podsec.yaml: 2 problems\n  podsec.yaml:3:1: kind: duplicate key "kind" (first on line 2)\n  podsec.yaml:4:14: assignments: expected a list, got a mapping',
    },
  ])('$name', ({ text, want }) => {
    const r = load(text);
    expect('error' in r && r.error.message).toBe(want);
  });
});
