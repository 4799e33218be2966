/** Parameter parsing: canonical names, Gatekeeper aliases, and every shape error with its path. */
import { describe, expect, it } from 'vitest';
import { initiativeDefaults, PARAMETERS } from './parameters.js';
import { parseParameters, parsePortRange } from './parse.js';
import { INITIATIVE_NAMES } from './types.js';
import type { InitiativeName, ParsedParameters } from './types.js';

describe('parseParameters: accepted spellings', () => {
  const cases: { name: string; raw: unknown; initiative?: InitiativeName; want: ParsedParameters }[] = [
    { name: 'nothing', raw: undefined, want: {} },
    { name: 'null', raw: null, want: {} },
    { name: 'empty mapping', raw: {}, want: {} },
    {
      name: 'allowedCapabilities',
      raw: { allowedCapabilities: ['NET_ADMIN'] },
      want: { allowedCapabilities: ['NET_ADMIN'] },
    },
    {
      name: 'allowedHostPaths, Azure object',
      raw: { allowedHostPaths: { paths: [{ pathPrefix: '/var/log', readOnly: true }] } },
      want: { allowedHostPaths: [{ pathPrefix: '/var/log', readOnly: true }] },
    },
    {
      name: 'allowedHostPaths, Gatekeeper array with readOnly omitted',
      raw: { allowedHostPaths: [{ pathPrefix: '/data' }] },
      want: { allowedHostPaths: [{ pathPrefix: '/data', readOnly: false }] },
    },
    { name: 'hostNetwork alias', raw: { hostNetwork: true }, want: { allowHostNetwork: true } },
    {
      name: 'allowedHostPorts strings and integers',
      raw: { allowedHostPorts: ['80', '3000-5000', 8080] },
      want: {
        allowedHostPorts: [
          { min: 80, max: 80 },
          { min: 3000, max: 5000 },
          { min: 8080, max: 8080 },
        ],
      },
    },
    {
      name: 'Gatekeeper min/max',
      raw: { min: 10, max: 20 },
      want: { allowedHostPorts: [{ min: 10, max: 20 }] },
    },
    {
      name: 'Azure minPort/maxPort',
      raw: { minPort: 0, maxPort: 0 },
      want: { allowedHostPorts: [{ min: 0, max: 0 }] },
    },
    {
      name: 'volumes alias',
      raw: { volumes: ['configMap', '*'] },
      want: { allowedVolumeTypes: ['configMap', '*'] },
    },
    {
      name: 'seccomp in both spellings',
      raw: {
        allowedProfiles: [
          'runtime/default',
          'RuntimeDefault',
          'Localhost',
          'localhost/x.json',
          'unconfined',
          '*',
        ],
      },
      want: {
        allowedProfiles: [
          'runtime/default',
          'RuntimeDefault',
          'Localhost',
          'localhost/x.json',
          'unconfined',
          '*',
        ],
      },
    },
    {
      name: 'allowedSeccompProfiles alias',
      raw: { allowedSeccompProfiles: ['docker/default'] },
      want: { allowedProfiles: ['docker/default'] },
    },
    {
      name: 'procMount alias, any case',
      raw: { procMount: 'unmasked' },
      want: { procMountType: 'Unmasked' },
    },
    {
      name: 'allowedSELinuxOptions, Azure object',
      raw: { allowedSELinuxOptions: { options: [{ type: 'a_t', level: 's0' }] } },
      want: { allowedSELinuxOptions: [{ type: 'a_t', level: 's0' }] },
    },
    {
      name: 'runAsUserRule and ranges (max -1 = unbounded)',
      raw: { runAsUserRule: 'MustRunAs', runAsUserRanges: { ranges: [{ min: 1000, max: -1 }] } },
      want: { runAsUserRule: 'MustRunAs', runAsUserRanges: [{ min: 1000, max: Infinity }] },
    },
    {
      name: 'Gatekeeper runAsUser object',
      raw: { runAsUser: { rule: 'MustRunAsNonRoot' } },
      want: { runAsUserRule: 'MustRunAsNonRoot' },
    },
    {
      name: 'Gatekeeper group objects',
      raw: {
        runAsGroup: { rule: 'MayRunAs', ranges: [{ min: 1, max: 2 }] },
        supplementalGroups: { rule: 'MustRunAs', ranges: [{ min: 3, max: 4 }] },
        fsGroup: { rule: 'RunAsAny' },
      },
      want: {
        runAsGroupRule: 'MayRunAs',
        runAsGroupRanges: [{ min: 1, max: 2 }],
        supplementalGroupsRule: 'MustRunAs',
        supplementalGroupsRanges: [{ min: 3, max: 4 }],
        fsGroupRule: 'RunAsAny',
      },
    },
    {
      name: 'azure-restricted: ranges alone use the initiative rule',
      raw: { runAsGroupRanges: { ranges: [{ min: 5, max: 6 }] } },
      initiative: 'azure-restricted',
      want: { runAsGroupRanges: [{ min: 5, max: 6 }] },
    },
    {
      name: 'azure-restricted: MustRunAs uses the initiative ranges',
      raw: { fsGroupRule: 'MustRunAs' },
      initiative: 'azure-restricted',
      want: { fsGroupRule: 'MustRunAs' },
    },
    {
      name: 'booleans',
      raw: { forcePrivilegeEscalationToBeFalse: true, readOnlyRootFilesystem: false },
      want: { forcePrivilegeEscalationToBeFalse: true, readOnlyRootFilesystem: false },
    },
  ];
  it.each(cases)('$name', ({ raw, initiative, want }) => {
    const { value, issues } = parseParameters(raw, initiative ?? 'restricted');
    expect(issues).toEqual([]);
    expect(value).toEqual(want);
  });
});

describe('parseParameters: issues', () => {
  const cases: {
    name: string;
    raw: unknown;
    initiative?: InitiativeName;
    issues: { path: (string | number)[]; message: RegExp }[];
  }[] = [
    {
      name: 'not a mapping',
      raw: ['a'],
      issues: [{ path: [], message: /expected a mapping of parameter names/ }],
    },
    {
      name: 'unknown name lists the valid names',
      raw: { allowedCaps: ['X'] },
      issues: [
        {
          path: ['allowedCaps'],
          message:
            /unknown parameter "allowedCaps"; valid parameters: allowedCapabilities, requiredDropCapabilities,/,
        },
      ],
    },
    {
      name: 'wrong case suggests the name',
      raw: { AllowedCapabilities: ['X'] },
      issues: [{ path: ['AllowedCapabilities'], message: /did you mean allowedCapabilities\?/ }],
    },
    {
      name: 'exemptImages is not a parameter',
      raw: { exemptImages: ['x'] },
      issues: [{ path: ['exemptImages'], message: /exemptions/ }],
    },
    {
      name: 'effect is not a parameter',
      raw: { effect: 'Deny' },
      issues: [{ path: ['effect'], message: /field of the assignment/ }],
    },
    {
      name: 'string instead of list',
      raw: { allowedCapabilities: 'NET_ADMIN' },
      issues: [
        { path: ['allowedCapabilities'], message: /expected a list of strings, got the string "NET_ADMIN"/ },
      ],
    },
    {
      name: 'non-string entry',
      raw: { allowedCapabilities: ['A', 3] },
      issues: [
        { path: ['allowedCapabilities', 1], message: /expected a non-empty string, got the number 3/ },
      ],
    },
    {
      name: 'boolean expected',
      raw: { allowHostNetwork: 'yes' },
      issues: [{ path: ['allowHostNetwork'], message: /expected true or false/ }],
    },
    {
      name: 'allowedHostPaths entry without pathPrefix',
      raw: { allowedHostPaths: { paths: [{ readOnly: true }] } },
      issues: [
        { path: ['allowedHostPaths', 'paths', 0, 'pathPrefix'], message: /expected an absolute path/ },
      ],
    },
    {
      name: 'allowedHostPaths unknown field and bad readOnly',
      raw: { allowedHostPaths: [{ pathPrefix: '/a', readonly: true, readOnly: 'yes' }] },
      issues: [
        { path: ['allowedHostPaths', 0, 'readonly'], message: /unknown field "readonly"/ },
        { path: ['allowedHostPaths', 0, 'readOnly'], message: /expected true or false/ },
      ],
    },
    {
      name: 'allowedHostPaths a string',
      raw: { allowedHostPaths: '/a' },
      issues: [{ path: ['allowedHostPaths'], message: /expected \{paths:/ }],
    },
    {
      name: 'bad port',
      raw: { allowedHostPorts: ['80', '70000', '90-80'] },
      issues: [
        { path: ['allowedHostPorts', 1], message: /within 0-65535/ },
        { path: ['allowedHostPorts', 2], message: /inclusive range/ },
      ],
    },
    {
      name: 'min without max',
      raw: { min: 10 },
      issues: [{ path: ['min'], message: /min and max go together/ }],
    },
    {
      name: 'max below min',
      raw: { minPort: 10, maxPort: 5 },
      issues: [{ path: ['maxPort'], message: /maxPort 5 is below minPort 10/ }],
    },
    {
      name: 'alias and Azure name together',
      raw: { allowHostNetwork: false, hostNetwork: true },
      issues: [
        { path: ['hostNetwork'], message: /hostNetwork and allowHostNetwork both set allowHostNetwork/ },
      ],
    },
    {
      name: 'min/max together with allowedHostPorts',
      raw: { allowedHostPorts: ['80'], min: 1, max: 2 },
      issues: [{ path: ['min'], message: /min and allowedHostPorts both set allowedHostPorts/ }],
    },
    {
      name: 'volume type in the wrong case',
      raw: { volumes: ['HostPath'] },
      issues: [{ path: ['volumes', 0], message: /did you mean hostPath\?/ }],
    },
    {
      name: 'unknown volume type',
      raw: { allowedVolumeTypes: ['blob'] },
      issues: [
        {
          path: ['allowedVolumeTypes', 0],
          message: /unknown volume type "blob"; valid: awsElasticBlockStore/,
        },
      ],
    },
    {
      name: 'unknown seccomp profile',
      raw: { allowedProfiles: ['default'] },
      issues: [{ path: ['allowedProfiles', 0], message: /unknown seccomp profile "default"/ }],
    },
    {
      name: 'bad rule',
      raw: { runAsUserRule: 'MayRunAs' },
      issues: [{ path: ['runAsUserRule'], message: /expected one of MustRunAs, MustRunAsNonRoot, RunAsAny/ }],
    },
    {
      name: 'range problems with paths',
      raw: {
        fsGroupRule: 'MustRunAs',
        fsGroupRanges: { ranges: [{ min: 5, max: 1 }, { min: -2, max: 3 }, { min: 1 }] },
      },
      issues: [
        { path: ['fsGroupRanges', 'ranges', 0, 'max'], message: /max 1 is below min 5/ },
        { path: ['fsGroupRanges', 'ranges', 1, 'min'], message: /expected an integer from 0/ },
        { path: ['fsGroupRanges', 'ranges', 2, 'max'], message: /expected an integer from -1/ },
      ],
    },
    {
      name: 'ranges not wrapped in {ranges}',
      raw: { runAsGroupRule: 'MustRunAs', runAsGroupRanges: [{ min: 1, max: 2 }] },
      issues: [{ path: ['runAsGroupRanges'], message: /expected \{ranges: \[\{min, max\}\]\}, got a list/ }],
    },
    {
      name: 'MustRunAs without ranges',
      raw: { runAsUserRule: 'MustRunAs' },
      issues: [{ path: ['runAsUserRule'], message: /runAsUserRule MustRunAs needs runAsUserRanges/ }],
    },
    {
      name: 'ranges without a rule',
      raw: { supplementalGroupsRanges: { ranges: [] } },
      initiative: 'baseline',
      issues: [
        { path: ['supplementalGroupsRanges'], message: /has no effect without supplementalGroupsRule/ },
      ],
    },
    {
      name: 'Gatekeeper object MustRunAs without ranges points at the alias',
      raw: { runAsGroup: { rule: 'MustRunAs' } },
      issues: [{ path: ['runAsGroup'], message: /runAsGroupRule MustRunAs needs runAsGroup.ranges/ }],
    },
    {
      name: 'Gatekeeper object without rule',
      raw: { fsGroup: { ranges: [] } },
      issues: [{ path: ['fsGroup', 'rule'], message: /rule is required/ }],
    },
    {
      name: 'SELinux entry with a number',
      raw: { allowedSELinuxOptions: [{ type: 1 }] },
      issues: [{ path: ['allowedSELinuxOptions', 0, 'type'], message: /expected a string/ }],
    },
    {
      name: 'every issue is reported at once',
      raw: { nope: 1, allowedCapabilities: 1, allowHostNetwork: 1, procMountType: 'x' },
      issues: [
        { path: ['nope'], message: /unknown parameter/ },
        { path: ['allowedCapabilities'], message: /expected a list/ },
        { path: ['allowHostNetwork'], message: /expected true or false/ },
        { path: ['procMountType'], message: /expected one of Default, Unmasked/ },
      ],
    },
  ];
  it.each(cases)('$name', ({ raw, initiative, issues }) => {
    const got = parseParameters(raw, initiative ?? 'restricted').issues;
    expect(got.map((i) => i.path)).toEqual(issues.map((i) => i.path));
    got.forEach((g, k) => expect(g.message).toMatch(issues[k]!.message));
  });

  it('never throws on odd input', () => {
    for (const raw of [
      1,
      'x',
      true,
      [],
      { a: null },
      { allowedHostPaths: null },
      { runAsUser: [] },
      { allowedHostPorts: [null] },
    ]) {
      expect(() => parseParameters(raw, 'baseline')).not.toThrow();
    }
  });
});

describe('defaults and docs table', () => {
  it.each(INITIATIVE_NAMES.map((i) => ({ initiative: i })))(
    '$initiative defaults parse cleanly',
    ({ initiative }) => {
      expect(parseParameters(initiativeDefaults(initiative), initiative).issues).toEqual([]);
    },
  );

  it('PSA initiatives have no defaults', () => {
    expect(initiativeDefaults('baseline')).toEqual({});
    expect(initiativeDefaults('restricted')).toEqual({});
  });

  it('every documented parameter is accepted by its name', () => {
    for (const p of PARAMETERS) {
      const { issues } = parseParameters({ [p.name]: null }, 'baseline');
      expect(issues.every((i) => !/unknown parameter/.test(i.message))).toBe(true);
    }
  });
});

describe('parsePortRange', () => {
  it.each([
    { name: 'single', in: '443', want: { min: 443, max: 443 } },
    { name: 'range with spaces', in: ' 1 - 2 ', want: { min: 1, max: 2 } },
    { name: 'integer', in: 22, want: { min: 22, max: 22 } },
    { name: 'negative integer', in: -1, want: null },
    { name: 'words', in: 'http', want: null },
  ])('$name', ({ in: input, want }) => {
    const r = parsePortRange(input);
    if (want === null) expect(typeof r).toBe('string');
    else expect(r).toEqual(want);
  });
});
