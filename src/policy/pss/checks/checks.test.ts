/**
 * Per-check unit tests: a minimal valid restricted pod plus one change, at chosen policy versions. Each case
 * pins upstream's reason and detail wording and, for failures, the structured findings' paths.
 */
import { describe, expect, it } from 'vitest';
import { makeContainer, makePod, tweak, type TestPod } from '../../../../test/support/pods.js';
import { ALLOWED } from '../check-helpers.js';
import { allCheckDefinitions, checksFor, evaluatePod } from '../index.js';
import type { CheckResult } from '../types.js';

/** The implementation of check `id` in force at minor `minor`. */
function checkAt(id: string, minor: number) {
  const def = allCheckDefinitions().find((d) => d.id === id);
  if (def === undefined) throw new Error(`no check ${id}`);
  const version = [...def.versions].reverse().find((v) => v.minVersion <= minor);
  if (version === undefined) throw new Error(`${id} not in force at v1.${minor}`);
  return version.check;
}

function run(id: string, minor: number, pod: TestPod): CheckResult {
  return checkAt(id, minor)(pod.metadata, pod.spec);
}

const base = makePod();
const initAndApp = makePod({ initContainers: ['init'], containers: ['app'] });
const twoApps = makePod({ containers: ['a', 'b'] });

interface Case {
  name: string;
  id: string;
  minor?: number;
  pod: TestPod;
  /** undefined = allowed */
  reason?: string;
  detail?: string;
  paths?: (string | number)[][];
}

const cases: Case[] = [
  // hostNamespaces
  { name: 'valid pod', id: 'hostNamespaces', pod: base },
  {
    name: 'hostNetwork and hostPID',
    id: 'hostNamespaces',
    pod: tweak(base, (p) => Object.assign(p.spec, { hostNetwork: true, hostPID: true, hostIPC: false })),
    reason: 'host namespaces',
    detail: 'hostNetwork=true, hostPID=true',
    paths: [
      ['spec', 'hostNetwork'],
      ['spec', 'hostPID'],
    ],
  },
  // privileged
  {
    name: 'privileged=false is allowed',
    id: 'privileged',
    pod: tweak(base, (p) => (p.spec.containers![0]!.securityContext!.privileged = false)),
  },
  {
    name: 'one privileged container',
    id: 'privileged',
    pod: tweak(twoApps, (p) => (p.spec.containers![1]!.securityContext!.privileged = true)),
    reason: 'privileged',
    detail: 'container "b" must not set securityContext.privileged=true',
    paths: [['spec', 'containers', 1, 'securityContext', 'privileged']],
  },
  {
    name: 'init and app containers privileged, init listed first',
    id: 'privileged',
    pod: tweak(initAndApp, (p) => {
      p.spec.containers![0]!.securityContext!.privileged = true;
      p.spec.initContainers![0]!.securityContext!.privileged = true;
    }),
    reason: 'privileged',
    detail: 'containers "init", "app" must not set securityContext.privileged=true',
    paths: [
      ['spec', 'initContainers', 0, 'securityContext', 'privileged'],
      ['spec', 'containers', 0, 'securityContext', 'privileged'],
    ],
  },
  {
    name: 'privileged ephemeral container',
    id: 'privileged',
    pod: makePod({
      ephemeralContainers: [makeContainer('debug', { securityContext: { privileged: true } })],
    }),
    reason: 'privileged',
    detail: 'container "debug" must not set securityContext.privileged=true',
    paths: [['spec', 'ephemeralContainers', 0, 'securityContext', 'privileged']],
  },
  // capabilities_baseline
  {
    name: 'default capability CHOWN allowed',
    id: 'capabilities_baseline',
    pod: tweak(base, (p) => (p.spec.containers![0]!.securityContext!.capabilities!.add = ['CHOWN'])),
  },
  {
    name: 'NET_RAW and SYS_ADMIN on two containers',
    id: 'capabilities_baseline',
    pod: tweak(twoApps, (p) => {
      p.spec.containers![0]!.securityContext!.capabilities!.add = ['SYS_ADMIN', 'NET_RAW'];
      p.spec.containers![1]!.securityContext!.capabilities!.add = ['CHOWN', 'NET_RAW'];
    }),
    reason: 'non-default capabilities',
    detail: 'containers "a", "b" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add',
    paths: [
      ['spec', 'containers', 0, 'securityContext', 'capabilities', 'add', 0],
      ['spec', 'containers', 0, 'securityContext', 'capabilities', 'add', 1],
      ['spec', 'containers', 1, 'securityContext', 'capabilities', 'add', 1],
    ],
  },
  {
    name: 'lower-case and CAP_-prefixed names are not in the default set',
    id: 'capabilities_baseline',
    pod: tweak(
      base,
      (p) => (p.spec.containers![0]!.securityContext!.capabilities!.add = ['chown', 'CAP_CHOWN']),
    ),
    reason: 'non-default capabilities',
    detail: 'container "app" must not include "CAP_CHOWN", "chown" in securityContext.capabilities.add',
  },
  // hostPathVolumes
  {
    name: 'one hostPath volume',
    id: 'hostPathVolumes',
    pod: makePod({
      spec: {
        volumes: [
          { name: 'ok', emptyDir: {} },
          { name: 'x', hostPath: { path: '/' } },
        ],
      },
    }),
    reason: 'hostPath volumes',
    detail: 'volume "x"',
    paths: [['spec', 'volumes', 1, 'hostPath']],
  },
  {
    name: 'two hostPath volumes',
    id: 'hostPathVolumes',
    pod: makePod({
      spec: {
        volumes: [
          { name: 'x', hostPath: {} },
          { name: 'y', hostPath: {} },
        ],
      },
    }),
    reason: 'hostPath volumes',
    detail: 'volumes "x", "y"',
  },
  // hostPorts
  {
    name: 'hostPort 0 allowed',
    id: 'hostPorts',
    pod: tweak(base, (p) => (p.spec.containers![0]!.ports = [{ containerPort: 80, hostPort: 0 }])),
  },
  {
    name: 'one container with a hostPort',
    id: 'hostPorts',
    pod: makePod({
      containers: [makeContainer('c', { ports: [{ containerPort: 80 }, { hostPort: 8080 }] })],
    }),
    reason: 'hostPort',
    detail: 'container "c" uses hostPort 8080',
    paths: [['spec', 'containers', 0, 'ports', 1, 'hostPort']],
  },
  {
    name: 'two containers with hostPorts',
    id: 'hostPorts',
    pod: tweak(twoApps, (p) => {
      p.spec.containers![0]!.ports = [{ hostPort: 9090 }];
      p.spec.containers![1]!.ports = [{ hostPort: 8080 }, { hostPort: 9090 }];
    }),
    reason: 'hostPort',
    detail: 'containers "a", "b" use hostPorts 8080, 9090',
  },
  // hostProbesAndHostLifecycle
  {
    name: 'empty probe host allowed',
    id: 'hostProbesAndHostLifecycle',
    minor: 34,
    pod: tweak(base, (p) => (p.spec.containers![0]!.readinessProbe = { tcpSocket: { host: '', port: 80 } })),
  },
  {
    name: 'probe host at v1.34',
    id: 'hostProbesAndHostLifecycle',
    minor: 34,
    pod: tweak(
      base,
      (p) => (p.spec.containers![0]!.livenessProbe = { httpGet: { host: 'evil.example', port: 80 } }),
    ),
    reason: 'probe or lifecycle host',
    detail: 'container "app" uses probe or lifecycle host "evil.example"',
    paths: [['spec', 'containers', 0, 'livenessProbe', 'httpGet', 'host']],
  },
  {
    name: 'lifecycle hosts on two containers are sorted and de-duplicated',
    id: 'hostProbesAndHostLifecycle',
    pod: tweak(twoApps, (p) => {
      p.spec.containers![0]!.lifecycle = { preStop: { tcpSocket: { host: 'z.example' } } };
      p.spec.containers![1]!.lifecycle = { postStart: { httpGet: { host: 'a.example' } } };
      p.spec.containers![1]!.startupProbe = { httpGet: { host: 'a.example' } };
    }),
    reason: 'probe or lifecycle host',
    detail: 'containers "a", "b" use probe or lifecycle hosts "a.example", "z.example"',
    paths: [
      ['spec', 'containers', 0, 'lifecycle', 'preStop', 'tcpSocket', 'host'],
      ['spec', 'containers', 1, 'startupProbe', 'httpGet', 'host'],
      ['spec', 'containers', 1, 'lifecycle', 'postStart', 'httpGet', 'host'],
    ],
  },
  // appArmorProfile
  {
    name: 'localhost annotation and RuntimeDefault field allowed',
    id: 'appArmorProfile',
    pod: makePod({
      metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'localhost/custom' } },
      spec: { securityContext: { runAsNonRoot: true, appArmorProfile: { type: 'RuntimeDefault' } } },
    }),
  },
  {
    name: 'container Unconfined field',
    id: 'appArmorProfile',
    pod: tweak(
      base,
      (p) => (p.spec.containers![0]!.securityContext!.appArmorProfile = { type: 'Unconfined' }),
    ),
    reason: 'forbidden AppArmor profile',
    detail: 'container "app" must not set AppArmor profile type to "Unconfined"',
    paths: [['spec', 'containers', 0, 'securityContext', 'appArmorProfile', 'type']],
  },
  {
    name: 'unconfined annotation',
    id: 'appArmorProfile',
    pod: makePod({
      metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' } },
    }),
    reason: 'forbidden AppArmor profile',
    detail:
      'annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/app="unconfined""',
    paths: [['metadata', 'annotations', 'container.apparmor.security.beta.kubernetes.io/app']],
  },
  {
    name: 'pod, container and annotation together',
    id: 'appArmorProfile',
    pod: makePod({
      metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' } },
      spec: { securityContext: { appArmorProfile: { type: 'Unconfined' } } },
      containers: [makeContainer('app', { securityContext: { appArmorProfile: { type: 'Other' } } })],
    }),
    reason: 'forbidden AppArmor profiles',
    detail:
      'pod and container "app" and annotation must not set AppArmor profile type to "Other", "Unconfined", "container.apparmor.security.beta.kubernetes.io/app="unconfined""',
  },
  // seLinuxOptions
  {
    name: 'empty type and a level are allowed',
    id: 'seLinuxOptions',
    pod: makePod({ spec: { securityContext: { seLinuxOptions: { type: '', level: 's0:c1' } } } }),
  },
  {
    name: 'container_engine_t before v1.31',
    id: 'seLinuxOptions',
    minor: 30,
    pod: tweak(
      base,
      (p) => (p.spec.containers![0]!.securityContext!.seLinuxOptions = { type: 'container_engine_t' }),
    ),
    reason: 'seLinuxOptions',
    detail: 'container "app" set forbidden securityContext.seLinuxOptions: type "container_engine_t"',
    paths: [['spec', 'containers', 0, 'securityContext', 'seLinuxOptions', 'type']],
  },
  {
    name: 'container_engine_t from v1.31',
    id: 'seLinuxOptions',
    minor: 31,
    pod: tweak(
      base,
      (p) => (p.spec.containers![0]!.securityContext!.seLinuxOptions = { type: 'container_engine_t' }),
    ),
  },
  {
    name: 'pod user and role',
    id: 'seLinuxOptions',
    pod: makePod({ spec: { securityContext: { seLinuxOptions: { user: 'u', role: 'r' } } } }),
    reason: 'seLinuxOptions',
    detail: 'pod set forbidden securityContext.seLinuxOptions: user may not be set; role may not be set',
    paths: [
      ['spec', 'securityContext', 'seLinuxOptions', 'user'],
      ['spec', 'securityContext', 'seLinuxOptions', 'role'],
    ],
  },
  {
    name: 'pod type and two containers',
    id: 'seLinuxOptions',
    pod: makePod({
      spec: { securityContext: { seLinuxOptions: { type: 'spc_t' } } },
      containers: [
        makeContainer('a', { securityContext: { seLinuxOptions: { type: 'unconfined_t' } } }),
        makeContainer('b', { securityContext: { seLinuxOptions: { user: 'root' } } }),
      ],
    }),
    reason: 'seLinuxOptions',
    detail:
      'pod and containers "a", "b" set forbidden securityContext.seLinuxOptions: types "spc_t", "unconfined_t"; user may not be set',
  },
  // procMount
  {
    name: 'Default allowed',
    id: 'procMount',
    pod: tweak(base, (p) => (p.spec.containers![0]!.securityContext!.procMount = 'Default')),
  },
  {
    name: 'Unmasked',
    id: 'procMount',
    pod: tweak(base, (p) => (p.spec.containers![0]!.securityContext!.procMount = 'Unmasked')),
    reason: 'procMount',
    detail: 'container "app" must not set securityContext.procMount to "Unmasked"',
    paths: [['spec', 'containers', 0, 'securityContext', 'procMount']],
  },
  {
    name: 'Unmasked with hostUsers false at v1.34',
    id: 'procMount',
    minor: 34,
    pod: tweak(base, (p) => {
      p.spec.hostUsers = false;
      p.spec.containers![0]!.securityContext!.procMount = 'Unmasked';
    }),
    reason: 'procMount',
    detail: 'container "app" must not set securityContext.procMount to "Unmasked"',
  },
  {
    name: 'Unmasked with hostUsers false at v1.35 (baseline relaxes)',
    id: 'procMount',
    minor: 35,
    pod: tweak(base, (p) => {
      p.spec.hostUsers = false;
      p.spec.containers![0]!.securityContext!.procMount = 'Unmasked';
    }),
  },
  {
    name: 'Unmasked with hostUsers false at v1.35 (restricted does not)',
    id: 'procMount_restricted',
    minor: 35,
    pod: tweak(base, (p) => {
      p.spec.hostUsers = false;
      p.spec.containers![0]!.securityContext!.procMount = 'Unmasked';
    }),
    reason: 'procMount',
    detail: 'container "app" must not set securityContext.procMount to "Unmasked"',
  },
  // seccompProfile_baseline
  {
    name: 'unconfined pod annotation at v1.18',
    id: 'seccompProfile_baseline',
    minor: 18,
    pod: makePod({ metadata: { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } } }),
    reason: 'seccompProfile',
    detail: 'forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined"',
    paths: [['metadata', 'annotations', 'seccomp.security.alpha.kubernetes.io/pod']],
  },
  {
    name: 'annotations ignored from v1.19',
    id: 'seccompProfile_baseline',
    minor: 19,
    pod: makePod({ metadata: { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } } }),
  },
  {
    name: 'annotation for a container that does not exist is ignored',
    id: 'seccompProfile_baseline',
    minor: 18,
    pod: makePod({
      metadata: { annotations: { 'container.seccomp.security.alpha.kubernetes.io/ghost': 'unconfined' } },
    }),
  },
  {
    name: 'two container annotations at v1.18, sorted',
    id: 'seccompProfile_baseline',
    minor: 18,
    pod: makePod({
      containers: ['b', 'a'],
      metadata: {
        annotations: {
          'container.seccomp.security.alpha.kubernetes.io/b': 'unconfined',
          'container.seccomp.security.alpha.kubernetes.io/a': 'docker/default',
          'seccomp.security.alpha.kubernetes.io/pod': 'localhost/x',
        },
      },
    }),
    reason: 'seccompProfile',
    detail: 'forbidden annotation container.seccomp.security.alpha.kubernetes.io/b="unconfined"',
  },
  {
    name: 'container Unconfined field at v1.19',
    id: 'seccompProfile_baseline',
    minor: 19,
    pod: tweak(
      base,
      (p) => (p.spec.containers![0]!.securityContext!.seccompProfile = { type: 'Unconfined' }),
    ),
    reason: 'seccompProfile',
    detail: 'container "app" must not set securityContext.seccompProfile.type to "Unconfined"',
    paths: [['spec', 'containers', 0, 'securityContext', 'seccompProfile', 'type']],
  },
  // sysctls
  {
    name: 'two forbidden sysctls in spec order',
    id: 'sysctls',
    pod: makePod({
      spec: {
        securityContext: {
          sysctls: [
            { name: 'net.core.somaxconn', value: '1' },
            { name: 'kernel.shm_rmid_forced', value: '1' },
            { name: 'kernel.msgmax', value: '1' },
          ],
        },
      },
    }),
    reason: 'forbidden sysctls',
    detail: 'net.core.somaxconn, kernel.msgmax',
    paths: [
      ['spec', 'securityContext', 'sysctls', 0, 'name'],
      ['spec', 'securityContext', 'sysctls', 2, 'name'],
    ],
  },
  ...(
    [
      ['net.ipv4.ip_local_reserved_ports', 27],
      ['net.ipv4.tcp_keepalive_time', 29],
      ['net.ipv4.tcp_fin_timeout', 29],
      ['net.ipv4.tcp_rmem', 32],
      ['net.ipv4.tcp_wmem', 32],
      ['net.ipv4.tcp_slow_start_after_idle', 37],
      ['net.ipv4.tcp_notsent_lowat', 37],
    ] as const
  ).flatMap(([name, since]): Case[] => {
    const pod = makePod({ spec: { securityContext: { sysctls: [{ name, value: '1' }] } } });
    return [
      {
        name: `${name} before v1.${since}`,
        id: 'sysctls',
        minor: since - 1,
        pod,
        reason: 'forbidden sysctls',
        detail: name,
      },
      { name: `${name} from v1.${since}`, id: 'sysctls', minor: since, pod },
    ];
  }),
  // windowsHostProcess
  {
    name: 'pod hostProcess',
    id: 'windowsHostProcess',
    pod: makePod({ spec: { securityContext: { windowsOptions: { hostProcess: true } } } }),
    reason: 'hostProcess',
    detail: 'pod must not set securityContext.windowsOptions.hostProcess=true',
    paths: [['spec', 'securityContext', 'windowsOptions', 'hostProcess']],
  },
  {
    name: 'pod and container hostProcess',
    id: 'windowsHostProcess',
    pod: makePod({
      spec: { securityContext: { windowsOptions: { hostProcess: true } } },
      containers: [makeContainer('a', { securityContext: { windowsOptions: { hostProcess: true } } })],
    }),
    reason: 'hostProcess',
    detail: 'pod and container "a" must not set securityContext.windowsOptions.hostProcess=true',
  },
  // restrictedVolumes
  {
    name: 'allowed volume sources, and a source-less volume (defaulted to emptyDir)',
    id: 'restrictedVolumes',
    pod: makePod({
      spec: {
        volumes: [
          { name: 'plain' },
          { name: 'img', image: { reference: 'x' } },
          { name: 'csi', csi: { driver: 'd' } },
          { name: 'eph', ephemeral: {} },
        ],
      },
    }),
  },
  {
    name: 'one nfs volume',
    id: 'restrictedVolumes',
    pod: makePod({ spec: { volumes: [{ name: 'n', nfs: { server: 's', path: '/' } }] } }),
    reason: 'restricted volume types',
    detail: 'volume "n" uses restricted volume type "nfs"',
    paths: [['spec', 'volumes', 0, 'nfs']],
  },
  {
    name: 'hostPath, nfs and an unknown source',
    id: 'restrictedVolumes',
    pod: makePod({
      spec: {
        volumes: [
          { name: 'h', hostPath: { path: '/' } },
          { name: 'ok', secret: {} },
          { name: 'n', nfs: {} },
          { name: 'u', fancyNewSource: {} },
        ],
      },
    }),
    reason: 'restricted volume types',
    detail: 'volumes "h", "n", "u" use restricted volume types "hostPath", "nfs", "unknown"',
    paths: [
      ['spec', 'volumes', 0, 'hostPath'],
      ['spec', 'volumes', 2, 'nfs'],
      ['spec', 'volumes', 3],
    ],
  },
  // allowPrivilegeEscalation
  {
    name: 'unset allowPrivilegeEscalation',
    id: 'allowPrivilegeEscalation',
    pod: tweak(base, (p) => delete p.spec.containers![0]!.securityContext!.allowPrivilegeEscalation),
    reason: 'allowPrivilegeEscalation != false',
    detail: 'container "app" must set securityContext.allowPrivilegeEscalation=false',
    paths: [['spec', 'containers', 0, 'securityContext', 'allowPrivilegeEscalation']],
  },
  {
    name: 'init container without securityContext and app with true',
    id: 'allowPrivilegeEscalation',
    pod: tweak(initAndApp, (p) => {
      delete p.spec.initContainers![0]!.securityContext;
      p.spec.containers![0]!.securityContext!.allowPrivilegeEscalation = true;
    }),
    reason: 'allowPrivilegeEscalation != false',
    detail: 'containers "init", "app" must set securityContext.allowPrivilegeEscalation=false',
  },
  {
    name: 'windows pod at v1.24 is not exempt',
    id: 'allowPrivilegeEscalation',
    minor: 24,
    pod: makePod({ containers: [{ name: 'w', image: 'w' }], spec: { os: { name: 'windows' } } }),
    reason: 'allowPrivilegeEscalation != false',
    detail: 'container "w" must set securityContext.allowPrivilegeEscalation=false',
  },
  {
    name: 'windows pod at v1.25 is exempt',
    id: 'allowPrivilegeEscalation',
    minor: 25,
    pod: makePod({ containers: [{ name: 'w', image: 'w' }], spec: { os: { name: 'windows' } } }),
  },
  {
    name: 'linux os changes nothing at v1.25',
    id: 'allowPrivilegeEscalation',
    minor: 25,
    pod: makePod({ containers: [{ name: 'l', image: 'l' }], spec: { os: { name: 'linux' } } }),
    reason: 'allowPrivilegeEscalation != false',
    detail: 'container "l" must set securityContext.allowPrivilegeEscalation=false',
  },
  // runAsNonRoot
  {
    name: 'pod false even though the container says true',
    id: 'runAsNonRoot',
    pod: makePod({
      spec: { securityContext: { runAsNonRoot: false } },
      containers: [makeContainer('a', { securityContext: { runAsNonRoot: true } })],
    }),
    reason: 'runAsNonRoot != true',
    detail: 'pod must not set securityContext.runAsNonRoot=false',
    paths: [['spec', 'securityContext', 'runAsNonRoot']],
  },
  {
    name: 'container false even though the pod says true',
    id: 'runAsNonRoot',
    pod: tweak(twoApps, (p) => (p.spec.containers![1]!.securityContext!.runAsNonRoot = false)),
    reason: 'runAsNonRoot != true',
    detail: 'container "b" must not set securityContext.runAsNonRoot=false',
    paths: [['spec', 'containers', 1, 'securityContext', 'runAsNonRoot']],
  },
  {
    name: 'unset everywhere; runAsUser does not satisfy it',
    id: 'runAsNonRoot',
    pod: tweak(initAndApp, (p) => {
      p.spec.securityContext = { runAsUser: 1000 };
    }),
    reason: 'runAsNonRoot != true',
    detail: 'pod or containers "init", "app" must set securityContext.runAsNonRoot=true',
    paths: [
      ['spec', 'initContainers', 0, 'securityContext', 'runAsNonRoot'],
      ['spec', 'containers', 0, 'securityContext', 'runAsNonRoot'],
    ],
  },
  {
    name: 'every container true, pod unset',
    id: 'runAsNonRoot',
    pod: makePod({
      spec: { securityContext: {} },
      containers: [makeContainer('a', { securityContext: { runAsNonRoot: true } })],
    }),
  },
  {
    name: 'hostUsers false at v1.34 still fails',
    id: 'runAsNonRoot',
    minor: 34,
    pod: makePod({ spec: { hostUsers: false, securityContext: { runAsNonRoot: false } } }),
    reason: 'runAsNonRoot != true',
    detail: 'pod must not set securityContext.runAsNonRoot=false',
  },
  {
    name: 'hostUsers false at v1.35 passes',
    id: 'runAsNonRoot',
    minor: 35,
    pod: makePod({ spec: { hostUsers: false, securityContext: { runAsNonRoot: false } } }),
  },
  {
    name: 'windows pods are not exempt',
    id: 'runAsNonRoot',
    pod: makePod({ spec: { os: { name: 'windows' }, securityContext: {} } }),
    reason: 'runAsNonRoot != true',
    detail: 'pod or container "app" must set securityContext.runAsNonRoot=true',
  },
  // runAsUser
  {
    name: 'pod and container run as 0',
    id: 'runAsUser',
    pod: makePod({
      spec: { securityContext: { runAsNonRoot: true, runAsUser: 0 } },
      containers: [makeContainer('a', { securityContext: { runAsUser: 0 } }), 'b'],
    }),
    reason: 'runAsUser=0',
    detail: 'pod and container "a" must not set runAsUser=0',
    paths: [
      ['spec', 'securityContext', 'runAsUser'],
      ['spec', 'containers', 0, 'securityContext', 'runAsUser'],
    ],
  },
  {
    name: 'non-zero runAsUser allowed',
    id: 'runAsUser',
    pod: makePod({ spec: { securityContext: { runAsUser: 1000 } } }),
  },
  {
    name: 'hostUsers false at v1.35',
    id: 'runAsUser',
    minor: 35,
    pod: makePod({ spec: { hostUsers: false, securityContext: { runAsUser: 0 } } }),
  },
  {
    name: 'hostUsers false at v1.34',
    id: 'runAsUser',
    minor: 34,
    pod: makePod({ spec: { hostUsers: false, securityContext: { runAsUser: 0 } } }),
    reason: 'runAsUser=0',
    detail: 'pod must not set runAsUser=0',
  },
  // seccompProfile_restricted
  {
    name: 'nothing set anywhere',
    id: 'seccompProfile_restricted',
    pod: makePod({ spec: { securityContext: { runAsNonRoot: true } }, containers: ['a', 'b'] }),
    reason: 'seccompProfile',
    detail:
      'pod or containers "a", "b" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
    paths: [
      ['spec', 'containers', 0, 'securityContext', 'seccompProfile', 'type'],
      ['spec', 'containers', 1, 'securityContext', 'seccompProfile', 'type'],
    ],
  },
  {
    name: 'every container sets Localhost',
    id: 'seccompProfile_restricted',
    pod: makePod({
      spec: { securityContext: { runAsNonRoot: true } },
      containers: [
        makeContainer('a', {
          securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'p' } },
        }),
      ],
    }),
  },
  {
    name: 'container Unconfined under a valid pod profile',
    id: 'seccompProfile_restricted',
    pod: tweak(
      base,
      (p) => (p.spec.containers![0]!.securityContext!.seccompProfile = { type: 'Unconfined' }),
    ),
    reason: 'seccompProfile',
    detail: 'container "app" must not set securityContext.seccompProfile.type to "Unconfined"',
  },
  {
    name: 'invalid pod profile even though containers are valid',
    id: 'seccompProfile_restricted',
    pod: makePod({
      spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'Unconfined' } } },
      containers: [makeContainer('a', { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } })],
    }),
    reason: 'seccompProfile',
    detail: 'pod must not set securityContext.seccompProfile.type to "Unconfined"',
    paths: [['spec', 'securityContext', 'seccompProfile', 'type']],
  },
  {
    name: 'windows pod at v1.24',
    id: 'seccompProfile_restricted',
    minor: 24,
    pod: makePod({ spec: { os: { name: 'windows' }, securityContext: { runAsNonRoot: true } } }),
    reason: 'seccompProfile',
    detail:
      'pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
  },
  {
    name: 'windows pod at v1.25',
    id: 'seccompProfile_restricted',
    minor: 25,
    pod: makePod({ spec: { os: { name: 'windows' }, securityContext: { runAsNonRoot: true } } }),
  },
  // capabilities_restricted
  {
    name: 'drop ALL and add NET_BIND_SERVICE allowed',
    id: 'capabilities_restricted',
    pod: tweak(
      base,
      (p) => (p.spec.containers![0]!.securityContext!.capabilities!.add = ['NET_BIND_SERVICE']),
    ),
  },
  {
    name: 'drop "all" is not "ALL"',
    id: 'capabilities_restricted',
    pod: tweak(base, (p) => (p.spec.containers![0]!.securityContext!.capabilities!.drop = ['all'])),
    reason: 'unrestricted capabilities',
    detail: 'container "app" must set securityContext.capabilities.drop=["ALL"]',
    paths: [['spec', 'containers', 0, 'securityContext', 'capabilities', 'drop']],
  },
  {
    name: 'missing drop on one container and CHOWN added on another',
    id: 'capabilities_restricted',
    pod: tweak(twoApps, (p) => {
      delete p.spec.containers![0]!.securityContext!.capabilities;
      p.spec.containers![1]!.securityContext!.capabilities!.add = ['CHOWN', 'NET_BIND_SERVICE'];
    }),
    reason: 'unrestricted capabilities',
    detail:
      'container "a" must set securityContext.capabilities.drop=["ALL"]; container "b" must not include "CHOWN" in securityContext.capabilities.add',
    paths: [
      ['spec', 'containers', 0, 'securityContext', 'capabilities', 'drop'],
      ['spec', 'containers', 1, 'securityContext', 'capabilities', 'add', 0],
    ],
  },
  {
    name: 'windows pod at v1.25 exempt',
    id: 'capabilities_restricted',
    minor: 25,
    pod: makePod({ containers: [{ name: 'w', image: 'w' }], spec: { os: { name: 'windows' } } }),
  },
  {
    name: 'windows pod at v1.24 not exempt',
    id: 'capabilities_restricted',
    minor: 24,
    pod: makePod({ containers: [{ name: 'w', image: 'w' }], spec: { os: { name: 'windows' } } }),
    reason: 'unrestricted capabilities',
    detail: 'container "w" must set securityContext.capabilities.drop=["ALL"]',
  },
];

describe('PSS checks', () => {
  it.each(cases)('$id: $name', ({ id, minor, pod, reason, detail, paths }) => {
    const result = run(id, minor ?? 37, pod);
    if (reason === undefined) {
      // Passing returns the one shared result object: nothing allocated.
      expect(result).toBe(ALLOWED);
      return;
    }
    expect(result.allowed).toBe(false);
    if (result.allowed) return;
    expect(result.reason).toBe(reason);
    if (detail !== undefined) expect(result.detail).toBe(detail);
    expect(result.findings.length).toBeGreaterThan(0);
    if (paths !== undefined) expect(result.findings.map((f) => f.path)).toEqual(paths);
  });

  it('the minimal restricted pod passes every check at every version and level', () => {
    for (let minor = 0; minor <= 40; minor++) {
      for (const level of ['baseline', 'restricted'] as const) {
        const checks = checksFor(level, { latest: false, minor });
        expect(evaluatePod(checks, base.metadata, base.spec).allowed, `${level} v1.${minor}`).toBe(true);
      }
    }
  });

  it('probe and lifecycle hosts are only checked from v1.34', () => {
    const pod = tweak(
      base,
      (p) => (p.spec.containers![0]!.livenessProbe = { httpGet: { host: 'evil.example' } }),
    );
    expect(
      evaluatePod(checksFor('baseline', { latest: false, minor: 33 }), pod.metadata, pod.spec).allowed,
    ).toBe(true);
    const at34 = evaluatePod(checksFor('baseline', { latest: false, minor: 34 }), pod.metadata, pod.spec);
    expect(at34.failures.map((f) => f.id)).toEqual(['hostProbesAndHostLifecycle']);
  });

  it('container findings carry the container name, list and image', () => {
    const pod = makePod({
      initContainers: ['init'],
      ephemeralContainers: [makeContainer('debug', { securityContext: { privileged: true } })],
    });
    const result = run('privileged', 37, pod);
    expect(result.allowed).toBe(false);
    if (result.allowed) return;
    expect(result.findings).toEqual([
      {
        path: ['spec', 'ephemeralContainers', 0, 'securityContext', 'privileged'],
        container: 'debug',
        containerField: 'ephemeralContainers',
        image: 'registry.example/debug:1.0',
        message: 'container "debug" must not set securityContext.privileged=true',
      },
    ]);
  });

  it('tolerates malformed manifests without throwing', () => {
    const junk = {
      containers: [null, 'x', { name: 5, securityContext: 'nope', ports: 'none' }],
      initContainers: 'not a list',
      volumes: [null, { name: 'v', hostPath: null }],
      securityContext: { sysctls: [null, { name: 7 }] },
    } as never;
    for (const level of ['baseline', 'restricted'] as const) {
      expect(() => evaluatePod(checksFor(level, { latest: true }), {}, junk)).not.toThrow();
    }
  });
});
