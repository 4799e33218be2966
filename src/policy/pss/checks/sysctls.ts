/**
 * sysctls (baseline, v1.0; v1.27; v1.29; v1.32; v1.37 each allow more): sysctls can disable security
 * mechanisms or affect the whole node; only a "safe" namespaced subset is allowed.
 *
 * Restricted fields: spec.securityContext.sysctls[*].name
 * Allowed values (exact names; values are not checked):
 *   v1.0:  kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.tcp_syncookies,
 *          net.ipv4.ping_group_range, net.ipv4.ip_unprivileged_port_start
 *   v1.27: + net.ipv4.ip_local_reserved_ports
 *   v1.29: + net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl,
 *          net.ipv4.tcp_keepalive_probes
 *   v1.32: + net.ipv4.tcp_rmem, net.ipv4.tcp_wmem
 *   v1.37: + net.ipv4.tcp_slow_start_after_idle, net.ipv4.tcp_notsent_lowat
 */
import type { ObjectMeta, PodSpec } from '../../../kube/types.js';
import { ALLOWED, fail, isRecord, listOf, podFinding, str } from '../check-helpers.js';
import type { CheckDefinition, CheckFn, CheckResult, Finding } from '../types.js';

const V1_0 = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
];
const V1_27 = [...V1_0, 'net.ipv4.ip_local_reserved_ports'];
const V1_29 = [
  ...V1_27,
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const V1_32 = [...V1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];
const V1_37 = [...V1_32, 'net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_notsent_lowat'];

function nameOf(sysctl: unknown): unknown {
  return isRecord(sysctl) ? sysctl['name'] : undefined;
}

function sysctlsAllowing(names: readonly string[]): CheckFn {
  const allowed: ReadonlySet<unknown> = new Set(names);
  return (_meta: ObjectMeta, spec: PodSpec): CheckResult => {
    const sc: unknown = spec.securityContext;
    if (!isRecord(sc)) return ALLOWED;
    const list = listOf(sc['sysctls']);
    let any = false;
    for (let i = 0; i < list.length; i++) if (!allowed.has(nameOf(list[i]))) any = true;
    if (!any) return ALLOWED;
    const forbidden: string[] = [];
    const findings: Finding[] = [];
    list.forEach((sysctl, i) => {
      const name = nameOf(sysctl);
      if (allowed.has(name)) return;
      forbidden.push(str(name));
      findings.push(
        podFinding(
          ['spec', 'securityContext', 'sysctls', i, 'name'],
          `sysctl ${str(name)} is not in the allowed set`,
        ),
      );
    });
    return fail('forbidden sysctls', forbidden.join(', '), findings);
  };
}

export const sysctls: CheckDefinition = {
  id: 'sysctls',
  level: 'baseline',
  versions: [
    { minVersion: 0, check: sysctlsAllowing(V1_0) },
    { minVersion: 27, check: sysctlsAllowing(V1_27) },
    { minVersion: 29, check: sysctlsAllowing(V1_29) },
    { minVersion: 32, check: sysctlsAllowing(V1_32) },
    { minVersion: 37, check: sysctlsAllowing(V1_37) },
  ],
  hint: 'Remove the sysctls outside the safe set from spec.securityContext.sysctls (or set them on the node).',
};
