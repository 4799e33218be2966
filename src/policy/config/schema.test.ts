import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PARAMETERS } from '../params/index.js';
import { loadConfigText } from './load.js';
import { allCheckIds, anyCasePattern, buildConfigSchema } from './schema.js';

const SCHEMA_FILE = fileURLToPath(new URL('../../../schemas/podsec-config.schema.json', import.meta.url));
const EXAMPLE_FILE = fileURLToPath(new URL('../../../examples/podsec.yaml', import.meta.url));
const NOW = new Date('2026-01-15T12:00:00Z');

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

function validator(schema: object) {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('schemas/podsec-config.schema.json', () => {
  it('is in sync with the loader tables and the parameter table (UPDATE_SCHEMAS=1 rewrites it)', () => {
    // Compared as data, so the committed file may be formatted by prettier.
    const want = buildConfigSchema();
    if (process.env['UPDATE_SCHEMAS'] === '1')
      writeFileSync(SCHEMA_FILE, `${JSON.stringify(want, null, 2)}\n`);
    expect(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'))).toEqual(want);
  });

  it('compiles in strict mode', () => {
    expect(() => validator(buildConfigSchema())).not.toThrow();
  });

  it('names every parameter and alias of the parameter table', () => {
    type Node = { properties: Record<string, Node>; items: Node };
    const schema = buildConfigSchema() as unknown as Node;
    const props = schema.properties['assignments']!.items.properties['parameters']!.properties;
    for (const p of PARAMETERS) {
      expect(props, p.name).toHaveProperty(p.name);
      for (const alias of p.aliases) {
        const name = /^[A-Za-z]+/.exec(alias)?.[0] ?? '';
        if (!alias.startsWith('plain array')) expect(props, alias).toHaveProperty(name);
      }
    }
  });

  it('lists every check an exemption may name', () => {
    expect(allCheckIds()).toEqual(
      expect.arrayContaining(['privileged', 'capabilities_restricted', 'hostPorts']),
    );
  });

  it('matches effects in any letter case, and nothing else', () => {
    const re = new RegExp(anyCasePattern(['deny', 'audit']));
    expect(['deny', 'Deny', 'AUDIT', 'aUdIt'].every((s) => re.test(s))).toBe(true);
    expect(['denyx', 'den', ' deny', 'warn'].some((s) => re.test(s))).toBe(false);
  });
});

const HEAD = 'apiVersion: podsec.io/v1alpha1\nkind: PodsecConfig\n';
const A = `${HEAD}assignments:\n`;

const VALID: { name: string; text: string }[] = [
  { name: 'examples/podsec.yaml', text: readFileSync(EXAMPLE_FILE, 'utf8') },
  { name: 'minimal', text: HEAD },
  { name: 'one assignment', text: `${A}  - {name: a, initiative: restricted}\n` },
  {
    name: 'every field',
    text: `${HEAD}exemptions:
  usernames: [admin]
  namespaces: [istio-system]
  runtimeClasses: [kata]
podTemplatePaths:
  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, path: spec.template}
  - {apiVersion: example.com/*, kind: Worker, path: .spec.podTemplate}
assignments:
  - name: apps
    initiative: baseline
    version: v1.30
    effect: Warn
    workloads: AUDIT
    namespaces: [team-a]
    excludedNamespaces: [kube-system]
    labelSelector:
      matchLabels: {app.kubernetes.io/name: web, tier: ""}
      matchExpressions:
        - {key: tier, operator: NotIn, values: [back]}
        - {key: legacy, operator: DoesNotExist}
    exemptions:
      - {checks: [capabilities_baseline], images: ["docker.io/istio/proxyv2*"], containers: [istio-init], reason: mesh, expires: 2027-06-30}
      - {images: ["*"], reason: everything in this scope}
`,
  },
  {
    name: 'effect audit, workloads absent',
    text: `${A}  - {name: a, initiative: baseline, effect: Audit}\n`,
  },
  {
    name: 'workloads equal to effect',
    text: `${A}  - {name: a, initiative: baseline, effect: WARN, workloads: warn}\n  - {name: b, initiative: baseline, effect: audit, workloads: AUDIT}\n`,
  },
  {
    name: 'workloads milder than effect',
    text: `${A}  - {name: a, initiative: baseline, effect: warn, workloads: audit}\n  - {name: b, initiative: baseline, workloads: audit}\n`,
  },
  {
    name: 'disabled with workloads deny (warned, ignored)',
    text: `${A}  - {name: a, initiative: baseline, effect: disabled, workloads: deny}\n`,
  },
  {
    name: 'Azure parameters, canonical and aliases',
    text: `${A}  - name: a
    initiative: azure-restricted
    effect: Audit
    parameters:
      allowedCapabilities: [NET_BIND_SERVICE]
      requiredDropCapabilities: [ALL]
      volumes: [configMap, secret]
      allowedHostPaths: [{pathPrefix: /var/log, readOnly: true}]
      minPort: 8000
      maxPort: 8080
      runAsUser: {rule: MustRunAs, ranges: [{min: 1000, max: 2000}]}
      fsGroupRule: MayRunAs
      fsGroupRanges: {ranges: [{min: 1, max: 65535}]}
`,
  },
];

describe('valid configurations pass both the schema and the loader', () => {
  const validate = validator(buildConfigSchema());
  it.each(VALID)('$name', ({ text }) => {
    const r = loadConfigText(text, null, { now: NOW });
    expect('error' in r ? r.error.message : 'ok').toBe('ok');
    const ok = validate(parse(text));
    expect(ok ? 'ok' : JSON.stringify(validate.errors, null, 1)).toBe('ok');
  });
});

const INVALID: { name: string; text: string }[] = [
  { name: 'wrong apiVersion', text: 'apiVersion: podsec.io/v1\nkind: PodsecConfig\n' },
  { name: 'missing kind', text: 'apiVersion: podsec.io/v1alpha1\n' },
  { name: 'unknown top-level key', text: `${HEAD}assignment: []\n` },
  {
    name: 'unknown assignment key',
    text: `${A}  - {name: a, initiative: baseline, excludedNamespace: [x]}\n`,
  },
  { name: 'missing initiative', text: `${A}  - {name: a}\n` },
  { name: 'unknown initiative', text: `${A}  - {name: a, initiative: strict}\n` },
  { name: 'bad effect', text: `${A}  - {name: a, initiative: baseline, effect: block}\n` },
  { name: 'workloads disabled', text: `${A}  - {name: a, initiative: baseline, workloads: disabled}\n` },
  {
    name: 'workloads deny on effect audit',
    text: `${A}  - {name: a, initiative: baseline, effect: audit, workloads: deny}\n`,
  },
  {
    name: 'workloads Warn on effect AUDIT',
    text: `${A}  - {name: a, initiative: baseline, effect: AUDIT, workloads: Warn}\n`,
  },
  {
    name: 'workloads deny on effect warn',
    text: `${A}  - {name: a, initiative: baseline, effect: Warn, workloads: deny}\n`,
  },
  { name: 'version with leading zero', text: `${A}  - {name: a, initiative: baseline, version: v1.05}\n` },
  { name: 'version as a number', text: `${A}  - {name: a, initiative: baseline, version: 1.25}\n` },
  { name: 'version on azure', text: `${A}  - {name: a, initiative: azure-baseline, version: latest}\n` },
  { name: 'bad namespace', text: `${A}  - {name: a, initiative: baseline, namespaces: [Team_A]}\n` },
  {
    name: 'selector operator in lower case',
    text: `${A}  - {name: a, initiative: baseline, labelSelector: {matchExpressions: [{key: k, operator: in, values: [a]}]}}\n`,
  },
  {
    name: 'In without values',
    text: `${A}  - {name: a, initiative: baseline, labelSelector: {matchExpressions: [{key: k, operator: In}]}}\n`,
  },
  {
    name: 'Exists with values',
    text: `${A}  - {name: a, initiative: baseline, labelSelector: {matchExpressions: [{key: k, operator: Exists, values: [a]}]}}\n`,
  },
  {
    name: 'label value not a string',
    text: `${A}  - {name: a, initiative: baseline, labelSelector: {matchLabels: {on: true}}}\n`,
  },
  {
    name: 'exemption without reason',
    text: `${A}  - {name: a, initiative: baseline, exemptions: [{checks: [privileged]}]}\n`,
  },
  {
    name: 'exemption naming nothing',
    text: `${A}  - {name: a, initiative: baseline, exemptions: [{reason: r}]}\n`,
  },
  {
    name: 'exemption with empty lists only',
    text: `${A}  - {name: a, initiative: baseline, exemptions: [{checks: [], images: [], reason: r}]}\n`,
  },
  {
    name: 'unknown check',
    text: `${A}  - {name: a, initiative: baseline, exemptions: [{checks: [hostPort], reason: r}]}\n`,
  },
  {
    name: 'star inside an image',
    text: `${A}  - {name: a, initiative: baseline, exemptions: [{images: ["a/*/b"], reason: r}]}\n`,
  },
  {
    name: 'not a calendar date',
    text: `${A}  - {name: a, initiative: baseline, exemptions: [{checks: [privileged], reason: r, expires: 2027-02-30}]}\n`,
  },
  {
    name: 'unknown parameter',
    text: `${A}  - {name: a, initiative: azure-restricted, parameters: {allowedCaps: []}}\n`,
  },
  {
    name: 'parameter of the wrong shape',
    text: `${A}  - {name: a, initiative: azure-restricted, parameters: {allowHostNetwork: "yes"}}\n`,
  },
  {
    name: 'template path not dotted',
    text: `${HEAD}podTemplatePaths: [{apiVersion: a/v1, kind: K, path: a/b}]\n`,
  },
];

describe('invalid configurations are rejected by both the schema and the loader', () => {
  const validate = validator(buildConfigSchema());
  it.each(INVALID)('$name', ({ text }) => {
    expect('error' in loadConfigText(text, null, { now: NOW })).toBe(true);
    expect(validate(parse(text))).toBe(false);
  });

  it('only the loader sees duplicate assignment names (JSON Schema cannot compare fields)', () => {
    const text = `${A}  - {name: a, initiative: baseline}\n  - {name: a, initiative: restricted}\n`;
    expect('error' in loadConfigText(text, null)).toBe(true);
    expect(validate(parse(text))).toBe(true);
  });
});
