/** Registry: definition validation, per-(level, version) check lists and their order, level/version parsing. */
import { describe, expect, it } from 'vitest';
import { ALLOWED } from './check-helpers.js';
import {
  allCheckDefinitions,
  buildTable,
  checksFor,
  formatVersion,
  parseLevel,
  parseVersion,
  validateDefinitions,
} from './registry.js';
import type { CheckDefinition, PolicyVersion } from './types.js';

const v = (minor: number): PolicyVersion => ({ latest: false, minor });
const ids = (level: 'privileged' | 'baseline' | 'restricted', version: PolicyVersion) =>
  checksFor(level, version).map((c) => c.id);

const BASELINE_LATEST = [
  'appArmorProfile',
  'capabilities_baseline',
  'hostNamespaces',
  'hostPathVolumes',
  'hostPorts',
  'hostProbesAndHostLifecycle',
  'privileged',
  'procMount',
  'seLinuxOptions',
  'seccompProfile_baseline',
  'sysctls',
  'windowsHostProcess',
];

describe('checksFor', () => {
  it('orders baseline ids alphabetically (byte order)', () => {
    expect(ids('baseline', { latest: true })).toEqual(BASELINE_LATEST);
  });

  it('restricted/latest: non-overridden baseline ids, then restricted ids', () => {
    expect(ids('restricted', { latest: true })).toEqual([
      'appArmorProfile',
      'hostNamespaces',
      'hostPorts',
      'hostProbesAndHostLifecycle',
      'privileged',
      'seLinuxOptions',
      'sysctls',
      'windowsHostProcess',
      'allowPrivilegeEscalation',
      'capabilities_restricted',
      'procMount_restricted',
      'restrictedVolumes',
      'runAsNonRoot',
      'runAsUser',
      'seccompProfile_restricted',
    ]);
  });

  it.each([
    {
      name: 'privileged has no checks',
      level: 'privileged' as const,
      version: v(37),
      has: [],
      lacks: ['privileged'],
    },
    {
      name: 'restricted v1.0: no allowPrivilegeEscalation yet, restrictedVolumes replaces hostPathVolumes',
      level: 'restricted' as const,
      version: v(0),
      has: ['restrictedVolumes', 'capabilities_baseline', 'seccompProfile_baseline', 'runAsNonRoot'],
      lacks: ['allowPrivilegeEscalation', 'hostPathVolumes', 'runAsUser'],
    },
    {
      name: 'restricted v1.8 adds allowPrivilegeEscalation',
      level: 'restricted' as const,
      version: v(8),
      has: ['allowPrivilegeEscalation'],
      lacks: [],
    },
    {
      name: 'restricted v1.18 still uses seccomp annotations',
      level: 'restricted' as const,
      version: v(18),
      has: ['seccompProfile_baseline'],
      lacks: ['seccompProfile_restricted'],
    },
    {
      name: 'restricted v1.19 requires a seccomp profile',
      level: 'restricted' as const,
      version: v(19),
      has: ['seccompProfile_restricted'],
      lacks: ['seccompProfile_baseline'],
    },
    {
      name: 'restricted v1.21 has baseline capabilities',
      level: 'restricted' as const,
      version: v(21),
      has: ['capabilities_baseline'],
      lacks: ['capabilities_restricted', 'runAsUser'],
    },
    {
      name: 'restricted v1.22 requires drop ALL',
      level: 'restricted' as const,
      version: v(22),
      has: ['capabilities_restricted'],
      lacks: ['capabilities_baseline', 'runAsUser'],
    },
    {
      name: 'restricted v1.23 adds runAsUser',
      level: 'restricted' as const,
      version: v(23),
      has: ['runAsUser'],
      lacks: [],
    },
    {
      name: 'baseline v1.33 has no probe host check',
      level: 'baseline' as const,
      version: v(33),
      has: [],
      lacks: ['hostProbesAndHostLifecycle'],
    },
    {
      name: 'restricted v1.34 keeps baseline procMount',
      level: 'restricted' as const,
      version: v(34),
      has: ['procMount', 'hostProbesAndHostLifecycle'],
      lacks: ['procMount_restricted'],
    },
    {
      name: 'restricted v1.35 replaces procMount',
      level: 'restricted' as const,
      version: v(35),
      has: ['procMount_restricted'],
      lacks: ['procMount'],
    },
    {
      name: 'baseline never runs restricted checks',
      level: 'baseline' as const,
      version: v(37),
      has: [],
      lacks: ['runAsNonRoot', 'restrictedVolumes'],
    },
  ])('$name', ({ level, version, has, lacks }) => {
    const list = ids(level, version);
    for (const id of has) expect(list).toContain(id);
    for (const id of lacks) expect(list).not.toContain(id);
    if (level === 'privileged') expect(list).toEqual([]);
  });

  it('latest and versions newer than the engine evaluate as v1.37', () => {
    expect(checksFor('restricted', { latest: true })).toBe(checksFor('restricted', v(37)));
    expect(checksFor('restricted', v(99))).toBe(checksFor('restricted', v(37)));
    expect(checksFor('baseline', v(1000))).toBe(checksFor('baseline', v(37)));
  });

  it('uses the newest implementation at or below the version', () => {
    const sysctls = allCheckDefinitions().find((d) => d.id === 'sysctls')!;
    const at = (minor: number) => checksFor('baseline', v(minor)).find((c) => c.id === 'sysctls')!.check;
    expect(at(26)).toBe(sysctls.versions[0]!.check);
    expect(at(27)).toBe(sysctls.versions[1]!.check);
    expect(at(31)).toBe(sysctls.versions[2]!.check);
    expect(at(36)).toBe(sysctls.versions[3]!.check);
    expect(at(37)).toBe(sysctls.versions[4]!.check);
  });
});

describe('validateDefinitions', () => {
  const check = () => ALLOWED;
  const def = (over: Partial<CheckDefinition>): CheckDefinition => ({
    id: 'x',
    level: 'baseline',
    versions: [{ minVersion: 0, check }],
    hint: 'h',
    ...over,
  });

  it('accepts the built-in definitions', () => {
    expect(validateDefinitions(allCheckDefinitions())).toEqual([]);
    expect(allCheckDefinitions()).toHaveLength(19);
  });

  it.each([
    { name: 'duplicate ids', defs: [def({}), def({})], problem: 'duplicate check id x' },
    {
      name: 'versions not strictly increasing',
      defs: [
        def({
          versions: [
            { minVersion: 5, check },
            { minVersion: 5, check },
          ],
        }),
      ],
      problem: 'x: minVersion 5 not strictly increasing',
    },
    { name: 'no versions', defs: [def({ versions: [] })], problem: 'x: no versions' },
    {
      name: 'baseline overriding',
      defs: [def({ id: 'a' }), def({ versions: [{ minVersion: 0, check, overrides: ['a'] }] })],
      problem: 'x: only restricted checks may override',
    },
    {
      name: 'overriding a restricted check',
      defs: [
        def({ id: 'a', level: 'restricted' }),
        def({ level: 'restricted', versions: [{ minVersion: 0, check, overrides: ['a'] }] }),
      ],
      problem: 'x: may only override baseline checks',
    },
    {
      name: 'overriding an unknown check',
      defs: [def({ level: 'restricted', versions: [{ minVersion: 0, check, overrides: ['nope'] }] })],
      problem: 'x: overrides unknown check nope',
    },
  ])('rejects $name', ({ defs, problem }) => {
    expect(validateDefinitions(defs)).toContain(problem);
  });

  it('an override applies only from the version that declares it', () => {
    const table = buildTable([
      def({ id: 'b' }),
      def({ id: 'r', level: 'restricted', versions: [{ minVersion: 3, check, overrides: ['b'] }] }),
    ]);
    expect(table.restricted[2]!.map((c) => c.id)).toEqual(['b']);
    expect(table.restricted[3]!.map((c) => c.id)).toEqual(['r']);
    expect(table.baseline[3]!.map((c) => c.id)).toEqual(['b']);
  });
});

describe('parsing', () => {
  it.each([
    ['latest', { latest: true }],
    ['v1.0', { latest: false, minor: 0 }],
    ['v1.37', { latest: false, minor: 37 }],
    ['v1.100', { latest: false, minor: 100 }],
  ])('parseVersion(%s)', (input, value) => {
    expect(parseVersion(input)).toEqual({ ok: true, value });
  });

  it.each([
    'v1.01',
    'v2.0',
    '1.2',
    'v1.',
    'Latest',
    ' v1.2',
    'v1.2 ',
    'v1.-1',
    '',
    'v1.99999999999999999999',
  ])('parseVersion rejects %j', (input) => {
    const r = parseVersion(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain('invalid version');
  });

  it('parseLevel', () => {
    expect(parseLevel('restricted')).toEqual({ ok: true, value: 'restricted' });
    expect(parseLevel('privileged')).toEqual({ ok: true, value: 'privileged' });
    expect(parseLevel('Restricted').ok).toBe(false);
    expect(parseLevel('strict').ok).toBe(false);
  });

  it('formatVersion round-trips', () => {
    for (const s of ['latest', 'v1.0', 'v1.25']) {
      const r = parseVersion(s);
      expect(r.ok && formatVersion(r.value)).toBe(s);
    }
  });
});
