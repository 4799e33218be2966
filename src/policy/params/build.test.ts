/**
 * Parameters turned into checks, judged on pods: for each parameter an allowed and a denied pod
 * (aliases included), the azure-* initiatives against PSA's levels, and the PSA-exact identity.
 */
import { describe, expect, it } from 'vitest';
import { makeContainer, makePod, tweak } from '../../../test/support/pods.js';
import type { TestPod } from '../../../test/support/pods.js';
import type { Container, PodSpec } from '../../kube/types.js';
import { checksFor } from '../pss/index.js';
import type { ActiveCheck, Finding, PolicyVersion } from '../pss/types.js';
import { buildChecks } from './build.js';
import { parseParameters } from './parse.js';
import type { InitiativeName } from './types.js';

const LATEST: PolicyVersion = { latest: true };

function base(initiative: InitiativeName, version: PolicyVersion): readonly ActiveCheck[] {
  const level = initiative === 'restricted' || initiative === 'azure-restricted' ? 'restricted' : 'baseline';
  return checksFor(level, initiative.startsWith('azure') ? LATEST : version);
}

function checksOf(
  initiative: InitiativeName,
  params: unknown,
  version: PolicyVersion = LATEST,
): readonly ActiveCheck[] {
  const { value, issues } = parseParameters(params, initiative);
  expect(issues).toEqual([]);
  return buildChecks(initiative, base(initiative, version), value);
}

interface Failure {
  id: string;
  parameter: string | undefined;
  reason: string;
  detail: string;
  findings: readonly Finding[];
}

function failures(checks: readonly ActiveCheck[], pod: TestPod): Failure[] {
  const out: Failure[] = [];
  for (const c of checks) {
    const r = c.check(pod.metadata, pod.spec);
    if (!r.allowed)
      out.push({
        id: c.id,
        parameter: c.parameter,
        reason: r.reason,
        detail: r.detail,
        findings: r.findings,
      });
  }
  return out;
}

/** A restricted-valid pod whose first container is changed by `fn`. */
function withContainer(fn: (c: Container) => void, pod: TestPod = makePod()): TestPod {
  return tweak(pod, (p) => fn(p.spec.containers![0]!));
}

function withSpec(fn: (s: PodSpec) => void, pod: TestPod = makePod()): TestPod {
  return tweak(pod, (p) => fn(p.spec));
}

function sc(c: Container) {
  return (c.securityContext ??= {});
}

const hostPathPod = (path: string, readOnly: boolean | undefined) =>
  withSpec((s) => {
    s.volumes = [{ name: 'logs', hostPath: { path } }];
    s.containers![0]!.volumeMounts = [
      readOnly === undefined
        ? { name: 'logs', mountPath: '/l' }
        : { name: 'logs', mountPath: '/l', readOnly },
    ];
  });

interface Case {
  name: string;
  initiative: InitiativeName;
  params: unknown;
  pod: TestPod;
  version?: PolicyVersion;
  /** Failing check ids, in order (empty = allowed). */
  fails: string[];
  /** The parameter named by the first failure. */
  parameter?: string;
  /** A substring of the first finding's message. */
  message?: string;
  /** The first finding's path. */
  path?: (string | number)[];
}

const cases: Case[] = [
  // allowedCapabilities
  {
    name: 'allowedCapabilities: restricted allows a listed add',
    initiative: 'restricted',
    params: { allowedCapabilities: ['NET_ADMIN'] },
    pod: withContainer((c) => (sc(c).capabilities = { drop: ['ALL'], add: ['NET_ADMIN'] })),
    fails: [],
  },
  {
    name: 'allowedCapabilities: restricted denies an unlisted add, naming the parameter',
    initiative: 'restricted',
    params: { allowedCapabilities: ['NET_ADMIN'] },
    pod: withContainer((c) => (sc(c).capabilities = { drop: ['ALL'], add: ['NET_ADMIN', 'SYS_ADMIN'] })),
    fails: ['capabilities_restricted'],
    parameter: 'allowedCapabilities',
    message: 'capability SYS_ADMIN is not in allowedCapabilities',
    path: ['spec', 'containers', 0, 'securityContext', 'capabilities', 'add', 1],
  },
  {
    name: 'allowedCapabilities: matched case-insensitively',
    initiative: 'restricted',
    params: { allowedCapabilities: ['net_admin'] },
    pod: withContainer((c) => (sc(c).capabilities = { drop: ['ALL'], add: ['NET_ADMIN'] })),
    fails: [],
  },
  {
    name: 'allowedCapabilities: restricted still requires drop ALL (upstream part kept)',
    initiative: 'restricted',
    params: { allowedCapabilities: ['NET_ADMIN'] },
    pod: withContainer((c) => (sc(c).capabilities = { add: ['NET_ADMIN'] })),
    fails: ['capabilities_restricted'],
    message: 'must drop ALL',
    path: ['spec', 'containers', 0, 'securityContext', 'capabilities', 'drop'],
  },
  {
    name: 'allowedCapabilities: baseline replaces the upstream list (CHOWN no longer allowed)',
    initiative: 'baseline',
    params: { allowedCapabilities: ['NET_RAW'] },
    pod: withContainer((c) => (sc(c).capabilities = { add: ['CHOWN'] })),
    fails: ['capabilities_baseline'],
    parameter: 'allowedCapabilities',
  },
  {
    name: 'allowedCapabilities: baseline allows NET_RAW when listed',
    initiative: 'baseline',
    params: { allowedCapabilities: ['NET_RAW'] },
    pod: withContainer((c) => (sc(c).capabilities = { add: ['NET_RAW'] })),
    fails: [],
  },
  {
    name: 'allowedCapabilities: * allows anything',
    initiative: 'baseline',
    params: { allowedCapabilities: ['*'] },
    pod: withContainer((c) => (sc(c).capabilities = { add: ['SYS_ADMIN'] })),
    fails: [],
  },
  {
    name: 'allowedCapabilities: init containers are checked too',
    initiative: 'baseline',
    params: { allowedCapabilities: [] },
    pod: makePod({
      initContainers: [makeContainer('init', { securityContext: { capabilities: { add: ['KILL'] } } })],
    }),
    fails: ['capabilities_baseline'],
    path: ['spec', 'initContainers', 0, 'securityContext', 'capabilities', 'add', 0],
  },
  // requiredDropCapabilities
  {
    name: 'requiredDropCapabilities: restricted accepts dropping the listed names instead of ALL',
    initiative: 'restricted',
    params: { requiredDropCapabilities: ['NET_RAW', 'SYS_ADMIN'] },
    pod: withContainer((c) => (sc(c).capabilities = { drop: ['net_raw', 'SYS_ADMIN'] })),
    fails: [],
  },
  {
    name: 'requiredDropCapabilities: restricted denies a missing drop',
    initiative: 'restricted',
    params: { requiredDropCapabilities: ['NET_RAW', 'SYS_ADMIN'] },
    pod: withContainer((c) => (sc(c).capabilities = { drop: ['NET_RAW'] })),
    fails: ['capabilities_restricted'],
    parameter: 'requiredDropCapabilities',
    message: 'must drop ALL or NET_RAW, SYS_ADMIN (requiredDropCapabilities)',
  },
  {
    name: 'requiredDropCapabilities: baseline adds a drop-only capabilities_restricted',
    initiative: 'baseline',
    params: { requiredDropCapabilities: ['NET_RAW'] },
    pod: withContainer((c) => (sc(c).capabilities = {})),
    fails: ['capabilities_restricted'],
    parameter: 'requiredDropCapabilities',
  },
  // allowedHostPaths
  {
    name: 'allowedHostPaths: read-only mount under the prefix is allowed',
    initiative: 'baseline',
    params: { allowedHostPaths: { paths: [{ pathPrefix: '/var/log', readOnly: true }] } },
    pod: hostPathPod('/var/log/app', true),
    fails: [],
  },
  {
    name: 'allowedHostPaths: writable mount of a readOnly prefix is denied at the mount',
    initiative: 'baseline',
    params: { allowedHostPaths: { paths: [{ pathPrefix: '/var/log', readOnly: true }] } },
    pod: hostPathPod('/var/log', undefined),
    fails: ['hostPathVolumes'],
    parameter: 'allowedHostPaths',
    message: 'must be mounted readOnly',
    path: ['spec', 'containers', 0, 'volumeMounts', 0, 'readOnly'],
  },
  {
    name: 'allowedHostPaths: prefix matches whole segments (/var/logs is not under /var/log)',
    initiative: 'baseline',
    params: { allowedHostPaths: { paths: [{ pathPrefix: '/var/log', readOnly: false }] } },
    pod: hostPathPod('/var/logs', false),
    fails: ['hostPathVolumes'],
    message: 'hostPath /var/logs of volume "logs" is not in allowedHostPaths',
    path: ['spec', 'volumes', 0, 'hostPath', 'path'],
  },
  {
    name: 'allowedHostPaths: Gatekeeper plain array',
    initiative: 'baseline',
    params: { allowedHostPaths: [{ pathPrefix: '/data' }] },
    pod: hostPathPod('/data/x', false),
    fails: [],
  },
  {
    name: 'allowedHostPaths: empty list blocks every hostPath',
    initiative: 'baseline',
    params: { allowedHostPaths: { paths: [] } },
    pod: hostPathPod('/data', true),
    fails: ['hostPathVolumes'],
  },
  // allowHostNetwork
  {
    name: 'allowHostNetwork: true allows hostNetwork',
    initiative: 'baseline',
    params: { allowHostNetwork: true },
    pod: withSpec((s) => (s.hostNetwork = true)),
    fails: [],
  },
  {
    name: 'allowHostNetwork: hostPID stays forbidden',
    initiative: 'baseline',
    params: { hostNetwork: true },
    pod: withSpec((s) => (s.hostPID = true)),
    fails: ['hostNamespaces'],
    path: ['spec', 'hostPID'],
  },
  {
    name: 'allowHostNetwork: false denies hostNetwork, naming the parameter',
    initiative: 'baseline',
    params: { allowHostNetwork: false },
    pod: withSpec((s) => (s.hostNetwork = true)),
    fails: ['hostNamespaces'],
    parameter: 'allowHostNetwork',
    message: 'allowHostNetwork is false',
  },
  // allowedHostPorts
  {
    name: 'allowedHostPorts: a port inside a range is allowed',
    initiative: 'baseline',
    params: { allowedHostPorts: ['80', '3000-5000'] },
    pod: withContainer(
      (c) =>
        (c.ports = [
          { containerPort: 80, hostPort: 80 },
          { containerPort: 1, hostPort: 4000 },
        ]),
    ),
    fails: [],
  },
  {
    name: 'allowedHostPorts: a port outside is denied',
    initiative: 'baseline',
    params: { allowedHostPorts: ['80', '3000-5000'] },
    pod: withContainer(
      (c) =>
        (c.ports = [
          { containerPort: 80, hostPort: 80 },
          { containerPort: 1, hostPort: 8080 },
        ]),
    ),
    fails: ['hostPorts'],
    parameter: 'allowedHostPorts',
    message: 'hostPort 8080 is not in allowedHostPorts (80, 3000-5000)',
    path: ['spec', 'containers', 0, 'ports', 1, 'hostPort'],
  },
  {
    name: 'allowedHostPorts: Gatekeeper min/max alias',
    initiative: 'baseline',
    params: { min: 1000, max: 2000 },
    pod: withContainer((c) => (c.ports = [{ containerPort: 80, hostPort: 2001 }])),
    fails: ['hostPorts'],
    parameter: 'allowedHostPorts',
  },
  {
    name: 'allowedHostPorts: Azure minPort/maxPort alias',
    initiative: 'baseline',
    params: { minPort: 1000, maxPort: 2000 },
    pod: withContainer((c) => (c.ports = [{ containerPort: 80, hostPort: 1500 }])),
    fails: [],
  },
  // allowedVolumeTypes
  {
    name: 'allowedVolumeTypes: restricted allows a listed hostPath',
    initiative: 'restricted',
    params: { allowedVolumeTypes: ['configMap', 'hostPath'] },
    pod: withSpec((s) => (s.volumes = [{ name: 'h', hostPath: { path: '/x' } }])),
    fails: [],
  },
  {
    name: 'allowedVolumeTypes: restricted denies an unlisted type',
    initiative: 'restricted',
    params: { volumes: ['configMap'] },
    pod: withSpec((s) => (s.volumes = [{ name: 'e', emptyDir: {} }])),
    fails: ['restrictedVolumes'],
    parameter: 'allowedVolumeTypes',
    message: 'volume "e" uses type emptyDir, which is not in allowedVolumeTypes',
    path: ['spec', 'volumes', 0, 'emptyDir'],
  },
  {
    name: 'allowedVolumeTypes: * allows all',
    initiative: 'restricted',
    params: { allowedVolumeTypes: ['*'] },
    pod: withSpec((s) => (s.volumes = [{ name: 'n', nfs: { server: 's', path: '/' } }])),
    fails: [],
  },
  {
    name: 'allowedVolumeTypes: baseline adds restrictedVolumes',
    initiative: 'baseline',
    params: { allowedVolumeTypes: ['configMap'] },
    pod: withSpec((s) => (s.volumes = [{ name: 'e', emptyDir: {} }])),
    fails: ['restrictedVolumes'],
  },
  // allowedProfiles (seccomp)
  {
    name: 'allowedProfiles: runtime/default allows the RuntimeDefault field',
    initiative: 'restricted',
    params: { allowedProfiles: ['runtime/default'] },
    pod: makePod(),
    fails: [],
  },
  {
    name: 'allowedProfiles: Localhost denied when only the runtime default is listed',
    initiative: 'restricted',
    params: { allowedProfiles: ['RuntimeDefault'] },
    pod: withContainer((c) => (sc(c).seccompProfile = { type: 'Localhost', localhostProfile: 'p.json' })),
    fails: ['seccompProfile_restricted'],
    parameter: 'allowedProfiles',
    message: 'seccomp profile Localhost (p.json) is not in allowedProfiles (RuntimeDefault)',
    path: ['spec', 'containers', 0, 'securityContext', 'seccompProfile', 'type'],
  },
  {
    name: 'allowedProfiles: localhost/<file> allows that file',
    initiative: 'restricted',
    params: { allowedSeccompProfiles: ['localhost/p.json'] },
    pod: withSpec(
      (s) => (s.securityContext!.seccompProfile = { type: 'Localhost', localhostProfile: 'p.json' }),
    ),
    fails: [],
  },
  {
    name: 'allowedProfiles: unconfined allows Unconfined',
    initiative: 'restricted',
    params: { allowedProfiles: ['unconfined', 'runtime/default'] },
    pod: withContainer((c) => (sc(c).seccompProfile = { type: 'Unconfined' })),
    fails: [],
  },
  {
    name: 'allowedProfiles: baseline requires a listed profile (unset fails)',
    initiative: 'baseline',
    params: { allowedProfiles: ['docker/default'] },
    pod: withSpec((s) => delete s.securityContext!.seccompProfile),
    fails: ['seccompProfile_baseline'],
    message: 'no seccomp profile is set',
  },
  {
    name: 'allowedProfiles: legacy annotation counts',
    initiative: 'baseline',
    params: { allowedProfiles: ['runtime/default'] },
    pod: tweak(makePod(), (p) => {
      delete p.spec.securityContext!.seccompProfile;
      p.metadata.annotations = { 'seccomp.security.alpha.kubernetes.io/pod': 'docker/default' };
    }),
    fails: [],
  },
  // sysctls
  {
    name: 'allowedSysctls: prefix entry allows a sysctl upstream forbids',
    initiative: 'baseline',
    params: { allowedSysctls: ['net.core.*'] },
    pod: withSpec((s) => (s.securityContext!.sysctls = [{ name: 'net.core.somaxconn', value: '1024' }])),
    fails: [],
  },
  {
    name: 'allowedSysctls: replaces the upstream safe list',
    initiative: 'baseline',
    params: { allowedSysctls: ['net.core.*'] },
    pod: withSpec((s) => (s.securityContext!.sysctls = [{ name: 'kernel.shm_rmid_forced', value: '1' }])),
    fails: ['sysctls'],
    parameter: 'allowedSysctls',
    message: 'sysctl kernel.shm_rmid_forced is not in allowedSysctls',
  },
  {
    name: 'forbiddenSysctls: forbids a safe sysctl',
    initiative: 'baseline',
    params: { forbiddenSysctls: ['kernel.*'] },
    pod: withSpec((s) => (s.securityContext!.sysctls = [{ name: 'kernel.shm_rmid_forced', value: '1' }])),
    fails: ['sysctls'],
    parameter: 'forbiddenSysctls',
    message: 'sysctl kernel.shm_rmid_forced is in forbiddenSysctls',
  },
  {
    name: 'forbiddenSysctls: the upstream list still applies without allowedSysctls',
    initiative: 'baseline',
    params: { forbiddenSysctls: ['kernel.*'] },
    pod: withSpec((s) => (s.securityContext!.sysctls = [{ name: 'net.core.somaxconn', value: '1' }])),
    fails: ['sysctls'],
  },
  // procMountType
  {
    name: 'procMountType: Unmasked allows Unmasked',
    initiative: 'baseline',
    params: { procMountType: 'Unmasked' },
    pod: withContainer((c) => (sc(c).procMount = 'Unmasked')),
    fails: [],
  },
  {
    name: 'procMountType: Default denies Unmasked (alias procMount)',
    initiative: 'restricted',
    params: { procMount: 'Default' },
    pod: withContainer((c) => (sc(c).procMount = 'Unmasked')),
    fails: ['procMount_restricted'],
    parameter: 'procMountType',
    message: 'procMount Unmasked is not allowed (procMountType is Default)',
  },
  // allowedAppArmorProfiles
  {
    name: 'allowedAppArmorProfiles: an unset profile counts as runtime/default',
    initiative: 'baseline',
    params: { allowedAppArmorProfiles: ['runtime/default'] },
    pod: makePod(),
    fails: [],
  },
  {
    name: 'allowedAppArmorProfiles: Unconfined field denied',
    initiative: 'baseline',
    params: { allowedAppArmorProfiles: ['runtime/default'] },
    pod: withContainer((c) => (sc(c).appArmorProfile = { type: 'Unconfined' })),
    fails: ['appArmorProfile'],
    parameter: 'allowedAppArmorProfiles',
    message: 'AppArmor profile unconfined is not in allowedAppArmorProfiles',
    path: ['spec', 'containers', 0, 'securityContext', 'appArmorProfile', 'type'],
  },
  {
    name: 'allowedAppArmorProfiles: localhost/* allows a localhost annotation',
    initiative: 'baseline',
    params: { allowedAppArmorProfiles: ['localhost/*'] },
    pod: tweak(
      makePod(),
      (p) =>
        (p.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/app': 'localhost/k8s' }),
    ),
    fails: [],
  },
  // SELinux
  {
    name: 'allowedSELinuxTypes: a listed custom type is allowed',
    initiative: 'baseline',
    params: { allowedSELinuxTypes: ['my_t'] },
    pod: withContainer((c) => (sc(c).seLinuxOptions = { type: 'my_t' })),
    fails: [],
  },
  {
    name: 'allowedSELinuxTypes: replaces the upstream types',
    initiative: 'baseline',
    params: { allowedSELinuxTypes: ['my_t'] },
    pod: withContainer((c) => (sc(c).seLinuxOptions = { type: 'container_t' })),
    fails: ['seLinuxOptions'],
    parameter: 'allowedSELinuxTypes',
    message: 'SELinux type container_t is not in allowedSELinuxTypes (my_t)',
  },
  {
    name: 'allowedSELinuxOptions: field-by-field match',
    initiative: 'baseline',
    params: { allowedSELinuxOptions: { options: [{ type: 'my_t', level: 's0:c1' }] } },
    pod: withSpec((s) => (s.securityContext!.seLinuxOptions = { type: 'my_t', level: 's0:c1' })),
    fails: [],
  },
  {
    name: 'allowedSELinuxOptions: a user not in any entry is denied (Gatekeeper array)',
    initiative: 'baseline',
    params: { allowedSELinuxOptions: [{ type: 'my_t' }] },
    pod: withSpec((s) => (s.securityContext!.seLinuxOptions = { type: 'my_t', user: 'system_u' })),
    fails: ['seLinuxOptions'],
    path: ['spec', 'securityContext', 'seLinuxOptions'],
  },
  // forcePrivilegeEscalationToBeFalse
  {
    name: 'forcePrivilegeEscalationToBeFalse false: unset is accepted for a non-root user',
    initiative: 'restricted',
    params: { forcePrivilegeEscalationToBeFalse: false },
    pod: withContainer((c) => {
      delete sc(c).allowPrivilegeEscalation;
      sc(c).runAsUser = 1000;
    }),
    fails: [],
  },
  {
    name: 'forcePrivilegeEscalationToBeFalse false: true is denied',
    initiative: 'restricted',
    params: { forcePrivilegeEscalationToBeFalse: false },
    pod: withContainer((c) => (sc(c).allowPrivilegeEscalation = true)),
    fails: ['allowPrivilegeEscalation'],
    parameter: 'forcePrivilegeEscalationToBeFalse',
  },
  {
    name: 'forcePrivilegeEscalationToBeFalse true: baseline adds the check',
    initiative: 'baseline',
    params: { forcePrivilegeEscalationToBeFalse: true },
    pod: withContainer((c) => delete sc(c).allowPrivilegeEscalation),
    fails: ['allowPrivilegeEscalation'],
    message: 'forcePrivilegeEscalationToBeFalse',
  },
  // runAsUserRule
  {
    name: 'runAsUserRule MustRunAsNonRoot: a non-zero runAsUser satisfies it (PSA would not)',
    initiative: 'restricted',
    params: { runAsUserRule: 'MustRunAsNonRoot' },
    pod: withSpec(
      (s) => (s.securityContext = { runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } }),
    ),
    fails: [],
  },
  {
    name: 'runAsUserRule MustRunAsNonRoot: runAsUser 0 is denied even with runAsNonRoot',
    initiative: 'restricted',
    params: { runAsUserRule: 'MustRunAsNonRoot' },
    pod: withContainer((c) => (sc(c).runAsUser = 0)),
    fails: ['runAsNonRoot'],
    parameter: 'runAsUserRule',
    message: 'runAsUser 0 is not allowed',
    path: ['spec', 'containers', 0, 'securityContext', 'runAsUser'],
  },
  {
    name: 'runAsUserRule MustRunAs: in range',
    initiative: 'restricted',
    params: { runAsUserRule: 'MustRunAs', runAsUserRanges: { ranges: [{ min: 1000, max: 2000 }] } },
    pod: withSpec((s) => (s.securityContext!.runAsUser = 1500)),
    fails: [],
  },
  {
    name: 'runAsUserRule MustRunAs: container value wins over the pod value',
    initiative: 'restricted',
    params: { runAsUser: { rule: 'MustRunAs', ranges: [{ min: 1000, max: 2000 }] } },
    pod: withContainer(
      (c) => (sc(c).runAsUser = 3000),
      withSpec((s) => (s.securityContext!.runAsUser = 1500)),
    ),
    fails: ['runAsUser'],
    message: 'runAsUser 3000 is not in runAsUserRanges (1000-2000)',
  },
  {
    name: 'runAsUserRule RunAsAny: removes both user checks',
    initiative: 'restricted',
    params: { runAsUserRule: 'RunAsAny' },
    pod: withSpec((s) => (s.securityContext = { runAsUser: 0, seccompProfile: { type: 'RuntimeDefault' } })),
    fails: [],
  },
  // group rules
  {
    name: 'runAsGroupRule MustRunAs: unset is denied',
    initiative: 'baseline',
    params: { runAsGroupRule: 'MustRunAs', runAsGroupRanges: { ranges: [{ min: 1000, max: 2000 }] } },
    pod: makePod(),
    fails: ['runAsGroup'],
    parameter: 'runAsGroupRule',
    message: 'must set runAsGroup',
  },
  {
    name: 'runAsGroupRule MustRunAs: pod value applies to containers',
    initiative: 'baseline',
    params: { runAsGroup: { rule: 'MustRunAs', ranges: [{ min: 1000, max: -1 }] } },
    pod: withSpec((s) => (s.securityContext!.runAsGroup = 99999)),
    fails: [],
  },
  {
    name: 'supplementalGroupsRule MayRunAs: unset is allowed',
    initiative: 'baseline',
    params: {
      supplementalGroupsRule: 'MayRunAs',
      supplementalGroupsRanges: { ranges: [{ min: 1, max: 10 }] },
    },
    pod: makePod(),
    fails: [],
  },
  {
    name: 'supplementalGroupsRule MayRunAs: an entry outside is denied at its index',
    initiative: 'baseline',
    params: { supplementalGroups: { rule: 'MayRunAs', ranges: [{ min: 1, max: 10 }] } },
    pod: withSpec((s) => (s.securityContext!.supplementalGroups = [5, 50])),
    fails: ['supplementalGroups'],
    path: ['spec', 'securityContext', 'supplementalGroups', 1],
  },
  {
    name: 'fsGroupRule MustRunAs: outside the range',
    initiative: 'baseline',
    params: { fsGroupRule: 'MustRunAs', fsGroupRanges: { ranges: [{ min: 1, max: 10 }] } },
    pod: withSpec((s) => (s.securityContext!.fsGroup = 0)),
    fails: ['fsGroup'],
    message: 'fsGroup 0 is not in fsGroupRanges (1-10)',
  },
  // readOnlyRootFilesystem
  {
    name: 'readOnlyRootFilesystem: denied when not set',
    initiative: 'restricted',
    params: { readOnlyRootFilesystem: true },
    pod: makePod(),
    fails: ['readOnlyRootFilesystem'],
    parameter: 'readOnlyRootFilesystem',
  },
  {
    name: 'readOnlyRootFilesystem: allowed when set',
    initiative: 'restricted',
    params: { readOnlyRootFilesystem: true },
    pod: withContainer((c) => (sc(c).readOnlyRootFilesystem = true)),
    fails: [],
  },
  // Windows relaxations follow the version of the replaced check
  {
    name: 'Windows pod without drop ALL passes a parameterised capabilities_restricted at v1.25',
    initiative: 'restricted',
    params: { allowedCapabilities: ['NET_ADMIN'] },
    version: { latest: false, minor: 25 },
    pod: withContainer(
      (c) => (sc(c).capabilities = {}),
      withSpec((s) => (s.os = { name: 'windows' })),
    ),
    fails: [],
  },
  {
    name: 'Windows pod without drop ALL fails a parameterised capabilities_restricted at v1.24',
    initiative: 'restricted',
    params: { allowedCapabilities: ['NET_ADMIN'] },
    version: { latest: false, minor: 24 },
    pod: withContainer(
      (c) => (sc(c).capabilities = {}),
      withSpec((s) => (s.os = { name: 'windows' })),
    ),
    fails: ['capabilities_restricted'],
  },
];

describe('buildChecks: parameters on PSA initiatives', () => {
  it.each(cases)('$name', ({ initiative, params, pod, version, fails, parameter, message, path }) => {
    const got = failures(checksOf(initiative, params, version), pod);
    expect(got.map((f) => f.id)).toEqual(fails);
    const first = got[0];
    if (parameter !== undefined) expect(first?.parameter).toBe(parameter);
    if (message !== undefined) {
      expect(first?.findings[0]?.message).toContain(message);
      expect(first?.detail).toContain(message);
    }
    if (path !== undefined) expect(first?.findings[0]?.path).toEqual(path);
  });
});

describe('buildChecks: PSA-exact without parameters', () => {
  it.each([
    { name: 'baseline latest', initiative: 'baseline' as const, version: LATEST },
    { name: 'restricted latest', initiative: 'restricted' as const, version: LATEST },
    {
      name: 'restricted v1.22',
      initiative: 'restricted' as const,
      version: { latest: false, minor: 22 } as const,
    },
  ])('$name: returns base unchanged', ({ initiative, version }) => {
    const b = base(initiative, version);
    expect(buildChecks(initiative, b, {})).toBe(b);
  });

  it('a replaced check keeps its upstream id and position order, tagged with the parameter', () => {
    const b = base('baseline', LATEST);
    const built = checksOf('baseline', { allowedCapabilities: ['NET_RAW'] });
    expect(built.map((c) => c.id)).toEqual(b.map((c) => c.id));
    expect(built.find((c) => c.id === 'capabilities_baseline')?.parameter).toBe('allowedCapabilities');
    expect(built.filter((c) => c.parameter !== undefined)).toHaveLength(1);
  });

  it('finding carries container name, list and image', () => {
    const pod = withContainer((c) => (sc(c).capabilities = { add: ['SYS_ADMIN'] }));
    const [f] = failures(checksOf('baseline', { allowedCapabilities: [] }), pod);
    expect(f?.findings[0]).toMatchObject({
      container: 'app',
      containerField: 'containers',
      image: 'registry.example/app:1.0',
    });
    expect(f?.reason).toBe('non-default capabilities');
    expect(f?.detail).toBe('container "app": capability SYS_ADMIN is not in allowedCapabilities');
  });
});

/** A pod that satisfies every azure-restricted member. */
const azureRestrictedPod = withSpec(
  (s) =>
    (s.securityContext = {
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      supplementalGroups: [1000],
      seccompProfile: { type: 'RuntimeDefault' },
    }),
);

describe('azure initiatives', () => {
  it('azure-baseline allows NET_RAW; PSA baseline denies it', () => {
    const pod = withContainer((c) => (sc(c).capabilities = { add: ['NET_RAW'] }));
    expect(failures(checksOf('azure-baseline', {}), pod)).toEqual([]);
    expect(failures(checksOf('baseline', {}), pod).map((f) => f.id)).toEqual(['capabilities_baseline']);
  });

  it('azure-baseline has its member checks only', () => {
    expect(checksOf('azure-baseline', {}).map((c) => c.id)).toEqual([
      'capabilities_baseline',
      'hostNamespaces',
      'hostPathVolumes',
      'hostPorts',
      'privileged',
    ]);
  });

  it('azure-restricted has its member checks', () => {
    expect(checksOf('azure-restricted', {}).map((c) => c.id)).toEqual([
      'capabilities_baseline',
      'hostNamespaces',
      'hostPorts',
      'privileged',
      'allowPrivilegeEscalation',
      'fsGroup',
      'restrictedVolumes',
      'runAsGroup',
      'runAsNonRoot',
      'seccompProfile_restricted',
      'supplementalGroups',
    ]);
  });

  it('azure-* ignore the base list', () => {
    const ids = (b: readonly ActiveCheck[]) => buildChecks('azure-restricted', b, {}).map((c) => c.id);
    expect(ids([])).toEqual(ids(checksFor('restricted', LATEST)));
  });

  const azureCases: Omit<Case, 'params'>[] = [
    {
      name: 'azure-baseline: Unconfined seccomp is not a member',
      initiative: 'azure-baseline',
      pod: withSpec((s) => (s.securityContext = { seccompProfile: { type: 'Unconfined' } })),
      fails: [],
    },
    {
      name: 'azure-baseline: hostNetwork denied',
      initiative: 'azure-baseline',
      pod: withSpec((s) => (s.hostNetwork = true)),
      fails: ['hostNamespaces'],
      parameter: 'allowHostNetwork',
    },
    {
      name: 'azure-baseline: any hostPort denied',
      initiative: 'azure-baseline',
      pod: withContainer((c) => (c.ports = [{ containerPort: 80, hostPort: 80 }])),
      fails: ['hostPorts'],
    },
    {
      name: 'azure-baseline: hostPath denied by default',
      initiative: 'azure-baseline',
      pod: hostPathPod('/var/log', true),
      fails: ['hostPathVolumes'],
      parameter: 'allowedHostPaths',
    },
    {
      name: 'azure-baseline: privileged denied',
      initiative: 'azure-baseline',
      pod: withContainer((c) => (sc(c).privileged = true)),
      fails: ['privileged'],
    },
    {
      name: 'azure-baseline: capabilities matched case-insensitively',
      initiative: 'azure-baseline',
      pod: withContainer((c) => (sc(c).capabilities = { add: ['net_raw'] })),
      fails: [],
    },
    {
      name: 'azure-restricted: a complete pod passes',
      initiative: 'azure-restricted',
      pod: azureRestrictedPod,
      fails: [],
    },
    {
      name: 'azure-restricted: runAsGroup 0 is outside 1-65535',
      initiative: 'azure-restricted',
      pod: withSpec((s) => (s.securityContext!.runAsGroup = 0), azureRestrictedPod),
      fails: ['runAsGroup'],
      parameter: 'runAsGroupRule',
      message: 'runAsGroup 0 is not in runAsGroupRanges (1-65535)',
      path: ['spec', 'securityContext', 'runAsGroup'],
    },
    {
      name: 'azure-restricted: fsGroup 70000 is outside 1-65535',
      initiative: 'azure-restricted',
      pod: withSpec((s) => (s.securityContext!.fsGroup = 70000), azureRestrictedPod),
      fails: ['fsGroup'],
    },
    {
      name: 'azure-restricted: supplementalGroups required',
      initiative: 'azure-restricted',
      pod: withSpec((s) => delete s.securityContext!.supplementalGroups, azureRestrictedPod),
      fails: ['supplementalGroups'],
    },
    {
      name: 'azure-restricted: runAsUser 0 denied',
      initiative: 'azure-restricted',
      pod: withContainer((c) => (sc(c).runAsUser = 0), azureRestrictedPod),
      fails: ['runAsNonRoot'],
    },
    {
      name: 'azure-restricted: Localhost seccomp not allowed',
      initiative: 'azure-restricted',
      pod: withSpec(
        (s) => (s.securityContext!.seccompProfile = { type: 'Localhost', localhostProfile: 'x' }),
        azureRestrictedPod,
      ),
      fails: ['seccompProfile_restricted'],
    },
    {
      name: 'azure-restricted: image volume not allowed',
      initiative: 'azure-restricted',
      pod: withSpec((s) => (s.volumes = [{ name: 'i', image: { reference: 'x' } }]), azureRestrictedPod),
      fails: ['restrictedVolumes'],
    },
    {
      name: 'azure-restricted: NET_RAW allowed without drop ALL',
      initiative: 'azure-restricted',
      pod: withContainer((c) => (sc(c).capabilities = { add: ['NET_RAW'] }), azureRestrictedPod),
      fails: [],
    },
    {
      name: 'azure-restricted: allowPrivilegeEscalation true denied',
      initiative: 'azure-restricted',
      pod: withContainer((c) => (sc(c).allowPrivilegeEscalation = true), azureRestrictedPod),
      fails: ['allowPrivilegeEscalation'],
    },
  ];
  it.each(azureCases)('$name', ({ initiative, pod, fails, parameter, message, path }) => {
    const got = failures(checksOf(initiative, {}), pod);
    expect(got.map((f) => f.id)).toEqual(fails);
    if (parameter !== undefined) expect(got[0]?.parameter).toBe(parameter);
    if (message !== undefined) expect(got[0]?.findings[0]?.message).toContain(message);
    if (path !== undefined) expect(got[0]?.findings[0]?.path).toEqual(path);
  });

  const overrides: Case[] = [
    {
      name: 'user allowedHostPaths replaces the azure-baseline default',
      initiative: 'azure-baseline',
      params: { allowedHostPaths: { paths: [{ pathPrefix: '/var/log', readOnly: true }] } },
      pod: hostPathPod('/var/log', true),
      fails: [],
    },
    {
      name: 'user allowedCapabilities replaces the 14',
      initiative: 'azure-baseline',
      params: { allowedCapabilities: ['CHOWN'] },
      pod: withContainer((c) => (sc(c).capabilities = { add: ['NET_RAW'] })),
      fails: ['capabilities_baseline'],
    },
    {
      name: 'runAsGroupRule RunAsAny drops the group check',
      initiative: 'azure-restricted',
      params: { runAsGroupRule: 'RunAsAny' },
      pod: withSpec((s) => delete s.securityContext!.runAsGroup, azureRestrictedPod),
      fails: [],
    },
    {
      name: 'runAsGroupRanges alone keeps MustRunAs',
      initiative: 'azure-restricted',
      params: { runAsGroupRanges: { ranges: [{ min: 5000, max: 6000 }] } },
      pod: azureRestrictedPod,
      fails: ['runAsGroup'],
    },
    {
      name: 'requiredDropCapabilities adds a drop check',
      initiative: 'azure-restricted',
      params: { requiredDropCapabilities: ['ALL'] },
      pod: withContainer((c) => (sc(c).capabilities = {}), azureRestrictedPod),
      fails: ['capabilities_restricted'],
    },
    {
      name: 'forcePrivilegeEscalationToBeFalse true requires false even for non-root',
      initiative: 'azure-restricted',
      params: { forcePrivilegeEscalationToBeFalse: true },
      pod: withContainer((c) => delete sc(c).allowPrivilegeEscalation, azureRestrictedPod),
      fails: ['allowPrivilegeEscalation'],
    },
    {
      name: 'forcePrivilegeEscalationToBeFalse default tolerates unset for non-root',
      initiative: 'azure-restricted',
      params: {},
      pod: withContainer((c) => delete sc(c).allowPrivilegeEscalation, azureRestrictedPod),
      fails: [],
    },
    {
      name: 'allowedProfiles * accepts a pod without profile',
      initiative: 'azure-restricted',
      params: { allowedProfiles: ['*'] },
      pod: withSpec((s) => delete s.securityContext!.seccompProfile, azureRestrictedPod),
      fails: [],
    },
  ];
  it.each(overrides)('override: $name', ({ initiative, params, pod, fails }) => {
    expect(failures(checksOf(initiative, params), pod).map((f) => f.id)).toEqual(fails);
  });
});

describe('pass path', () => {
  it('a passing pod returns the shared ALLOWED result from every parameterised check', () => {
    const checks = checksOf('azure-restricted', {
      allowedSysctls: ['net.*'],
      readOnlyRootFilesystem: true,
      allowedAppArmorProfiles: ['runtime/default'],
    });
    const pod = withContainer((c) => (sc(c).readOnlyRootFilesystem = true), azureRestrictedPod);
    const results = checks.map((c) => c.check(pod.metadata, pod.spec));
    expect(results.every((r) => r.allowed)).toBe(true);
    expect(new Set(results).size).toBe(1);
  });
});
