/**
 * The JSON Schema of podsec.yaml, built from the same tables the loader uses (effects,
 * initiatives, check ids, Azure parameters), so editors and CI can validate the file and
 * the committed schemas/podsec-config.schema.json cannot drift: a test compares the two
 * (`UPDATE_SCHEMAS=1 npx vitest run src/policy/config` rewrites the file).
 */
import { PARAMETERS } from '../params/index.js';
import { allCheckDefinitions } from '../pss/index.js';
import { SELECTOR_OPERATORS } from '../../lib/label-selector/index.js';
import {
  API_VERSION,
  DEFAULT_EXCLUDED_NAMESPACES,
  EFFECTS,
  INITIATIVES,
  KIND,
  WORKLOAD_EFFECTS,
} from './types.js';
import { workloadsConflict } from './workload-effect.js';

type Schema = Record<string, unknown>;

export const CONFIG_SCHEMA_ID = 'https://podsec.io/schemas/podsec-config.schema.json';

/** A regex matching any of `words` in any letter case (JSON Schema regexes have no `i` flag). */
export function anyCasePattern(words: readonly string[]): string {
  const one = (w: string): string =>
    [...w]
      .map((c) => (c.toLowerCase() === c.toUpperCase() ? c : `[${c.toUpperCase()}${c.toLowerCase()}]`))
      .join('');
  return `^(?:${words.map(one).join('|')})$`;
}

const NAMESPACE = {
  type: 'string',
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  maxLength: 63,
  description: 'A namespace name.',
};
const LABEL_KEY_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
const LABEL_VALUE = { type: 'string', pattern: '^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$' };

function stringList(description: string, items: Schema = { type: 'string', minLength: 1 }): Schema {
  return { type: 'array', description, items };
}

/** Every check id an exemption may name: the upstream checks and those parameters add. */
export function allCheckIds(): string[] {
  const ids = new Set(allCheckDefinitions().map((d) => d.id));
  for (const p of PARAMETERS) for (const c of p.checks) ids.add(c);
  return [...ids].sort();
}

/**
 * Parameters from the params table: each canonical name with its schema, plus its aliases,
 * whose spellings the table gives as `name`, `group.field` (Gatekeeper's `{rule, ranges}`
 * objects), `a + b` (a port range as two integers) or `plain array ...` (the list without its
 * wrapping object). An alias in any other form throws, so a new one cannot be forgotten here.
 */
function parametersSchema(): Schema {
  const properties: Record<string, Schema> = {};
  const nested = new Map<string, Record<string, Schema>>();
  for (const p of PARAMETERS) {
    const canonical = p.schema as Schema;
    const anyOfPlain: Schema[] = [canonical];
    for (const alias of p.aliases) {
      let m: RegExpExecArray | null;
      if (/^[A-Za-z]+$/.test(alias)) {
        properties[alias] = { description: `Alias of ${p.name}.`, ...canonical };
      } else if ((m = /^([A-Za-z]+)\.([A-Za-z]+)$/.exec(alias)) !== null) {
        const [, head = '', field = ''] = m;
        const inner = (canonical['properties'] as Record<string, Schema> | undefined)?.[field];
        const fields = nested.get(head) ?? {};
        fields[field] = inner ?? canonical;
        nested.set(head, fields);
      } else if ((m = /^([A-Za-z]+) \+ ([A-Za-z]+)/.exec(alias)) !== null) {
        for (const name of [m[1], m[2]]) {
          properties[name!] = {
            description: `With its partner, one inclusive host port range (alias of ${p.name}).`,
            type: 'integer',
            minimum: 0,
            maximum: 65535,
          };
        }
      } else if (alias.startsWith('plain array')) {
        // The table's schema may already accept the plain list.
        if (canonical['anyOf'] !== undefined) continue;
        const props = canonical['properties'] as Record<string, Schema> | undefined;
        const required = canonical['required'] as string[] | undefined;
        const wrapped = required?.length === 1 ? props?.[required[0]!] : undefined;
        if (wrapped === undefined) throw new Error(`cannot derive the plain-array alias of ${p.name}`);
        anyOfPlain.push(wrapped);
      } else {
        throw new Error(`parameter ${p.name}: alias "${alias}" has a form the schema builder does not know`);
      }
    }
    const description = `${p.description} Checks: ${p.checks.join(', ')}.`;
    properties[p.name] =
      anyOfPlain.length === 1 ? { description, ...canonical } : { description, anyOf: anyOfPlain };
  }
  for (const [head, fields] of nested) {
    properties[head] = {
      description: `Gatekeeper spelling of ${Object.keys(fields)
        .map((f) => `${head}${f[0]!.toUpperCase()}${f.slice(1)}`)
        .join(' and ')}.`,
      type: 'object',
      additionalProperties: false,
      required: ['rule'],
      properties: fields,
    };
  }
  return {
    type: 'object',
    description:
      "Azure Policy parameters (names and shapes as Azure's AKS definitions, Gatekeeper spellings as aliases; " +
      'see docs/parameters.md). A parameter replaces the allowed values of the checks it maps to.',
    additionalProperties: false,
    properties,
  };
}

const LABEL_SELECTOR: Schema = {
  type: 'object',
  description: "Kubernetes label selector, matched against the pod's labels (the template's for workloads).",
  additionalProperties: false,
  properties: {
    matchLabels: {
      type: 'object',
      description: 'Labels that must all be present with these values.',
      propertyNames: { pattern: LABEL_KEY_PATTERN },
      additionalProperties: LABEL_VALUE,
    },
    matchExpressions: {
      type: 'array',
      description: 'Requirements that must all hold.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string', pattern: LABEL_KEY_PATTERN },
          operator: { enum: [...SELECTOR_OPERATORS] },
          values: { type: 'array', items: LABEL_VALUE },
        },
        allOf: [
          {
            if: { properties: { operator: { enum: ['In', 'NotIn'] } } },
            then: { required: ['values'], properties: { values: { type: 'array', minItems: 1 } } },
          },
          {
            if: { properties: { operator: { enum: ['Exists', 'DoesNotExist'] } } },
            then: { properties: { values: { type: 'array', maxItems: 0 } } },
          },
        ],
      },
    },
  },
};

const NON_EMPTY_LIST = { type: 'array', minItems: 1 };

function exemptionSchema(): Schema {
  return {
    type: 'object',
    description:
      'Exempts violations matching every dimension given (checks x images x containers; an absent dimension ' +
      'matches anything). Exempted violations are still reported, with this reason.',
    additionalProperties: false,
    required: ['reason'],
    properties: {
      checks: stringList('Check ids (PSS ids such as capabilities_baseline, or parameter checks).', {
        enum: allCheckIds(),
      }),
      images: stringList('Container images; a trailing * is a prefix match, anything else is exact.', {
        type: 'string',
        pattern: '^[^*]+\\*?$|^\\*$',
      }),
      containers: stringList('Container names.'),
      reason: { type: 'string', pattern: '\\S', description: 'Why the exemption exists (required).' },
      expires: {
        type: 'string',
        format: 'date',
        pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
        description:
          'Last day (UTC) the exemption applies, YYYY-MM-DD. Expired exemptions are ignored, with a warning.',
      },
    },
    anyOf: [
      { required: ['checks'], properties: { checks: NON_EMPTY_LIST } },
      { required: ['images'], properties: { images: NON_EMPTY_LIST } },
      { required: ['containers'], properties: { containers: NON_EMPTY_LIST } },
    ],
  };
}

function assignmentSchema(): Schema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'initiative'],
    properties: {
      name: {
        type: 'string',
        pattern: '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$',
        maxLength: 253,
        description: 'Unique name, reported with each violation.',
      },
      initiative: {
        enum: [...INITIATIVES],
        description:
          'baseline / restricted: Pod Security Admission exactly. azure-baseline / azure-restricted: the member ' +
          "policies and defaults of Azure Policy's AKS pod security initiatives.",
      },
      version: {
        type: 'string',
        pattern: '^(latest|v1\\.(0|[1-9][0-9]*))$',
        default: 'latest',
        description: 'Pod Security Standards version (baseline and restricted only).',
      },
      effect: {
        type: 'string',
        pattern: anyCasePattern(EFFECTS),
        default: 'deny',
        description: 'deny | audit | warn | disabled, in any letter case. Default deny (fail closed).',
      },
      workloads: {
        type: 'string',
        pattern: anyCasePattern(WORKLOAD_EFFECTS),
        default: 'warn',
        description:
          'How the webhook answers workload kinds (Deployment, ...) at admission: warn | audit | deny. ' +
          'Never stricter than effect (deny > warn > audit); when absent, warn capped at the effect ' +
          '(audit for effect audit). Ignored when effect is disabled. scan and audit judge templates by effect.',
      },
      namespaces: stringList('Only these namespaces; empty or absent = every namespace.', NAMESPACE),
      excludedNamespaces: {
        ...stringList('Namespaces never evaluated. A list given here replaces the default.', NAMESPACE),
        default: [...DEFAULT_EXCLUDED_NAMESPACES],
      },
      labelSelector: LABEL_SELECTOR,
      exemptions: { type: 'array', description: 'Per-assignment exemptions.', items: exemptionSchema() },
      parameters: parametersSchema(),
    },
    allOf: [
      {
        if: {
          required: ['initiative'],
          properties: { initiative: { enum: ['azure-baseline', 'azure-restricted'] } },
        },
        then: { not: { required: ['version'] } },
      },
      // workloads never stricter than effect, from the loader's own rule; an absent effect is deny.
      ...workloadsLimits(),
    ],
  };
}

/**
 * For each effect that limits `workloads` (audit, warn), an if/then allowing only the values
 * workload-effect.ts accepts with it, in any letter case; an absent `workloads` is always fine.
 */
function workloadsLimits(): Schema[] {
  const out: Schema[] = [];
  for (const effect of EFFECTS) {
    const allowed = WORKLOAD_EFFECTS.filter((w) => workloadsConflict(w, effect) === null);
    if (allowed.length === WORKLOAD_EFFECTS.length) continue;
    out.push({
      if: {
        required: ['effect'],
        properties: { effect: { type: 'string', pattern: anyCasePattern([effect]) } },
      },
      then: { properties: { workloads: { type: 'string', pattern: anyCasePattern(allowed) } } },
    });
  }
  return out;
}

/** The whole schema (draft 2020-12). */
export function buildConfigSchema(): Schema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: CONFIG_SCHEMA_ID,
    title: 'podsec configuration (podsec.yaml)',
    description:
      'Assignments of Pod Security Standards / Azure Policy initiatives, with scope and exemptions.',
    type: 'object',
    additionalProperties: false,
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { const: API_VERSION },
      kind: { const: KIND },
      exemptions: {
        type: 'object',
        description:
          "Cluster-wide exemptions, as Pod Security Admission's: matching requests are not evaluated.",
        additionalProperties: false,
        properties: {
          usernames: stringList('Request user names, exact.'),
          namespaces: stringList('Namespaces, exact.', NAMESPACE),
          runtimeClasses: stringList('spec.runtimeClassName values, exact.'),
        },
      },
      podTemplatePaths: {
        type: 'array',
        description:
          'Where kinds that podsec does not know keep a pod template (Argo Rollouts and the like).',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['apiVersion', 'kind', 'path'],
          properties: {
            apiVersion: {
              type: 'string',
              pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?([a-z0-9]+|\\*)$',
              description: 'v1, group/version, or group/* for any version of the group.',
            },
            kind: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9]*$' },
            path: {
              type: 'string',
              pattern: '^\\.?[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$',
              description: 'Dotted path to the pod template, e.g. spec.template.',
            },
          },
        },
      },
      assignments: {
        type: 'array',
        description: 'Policy assignments; names must be unique.',
        items: assignmentSchema(),
      },
    },
  };
}
