/**
 * Parameterised host-access checks: privileged, host namespaces (allowHostNetwork), host ports
 * (allowedHostPorts), hostPath volumes (allowedHostPaths) and volume types (allowedVolumeTypes).
 * Semantics follow Azure Policy's AKS definitions and the Gatekeeper templates behind them.
 */
import type { Container, ContainerField, ObjectMeta, PodSpec } from '../../kube/types.js';
import type { CheckFn, CheckResult } from '../pss/types.js';
import {
  ALLOWED,
  atContainer,
  atPod,
  formatRanges,
  inRanges,
  isRecord,
  listOf,
  push,
  result,
  securityContext,
  visitContainers,
} from './kit.js';
import type { Findings } from './kit.js';
import type { HostPathRule, PortRange } from './types.js';

function privilegedVisitor(
  c: Container,
  field: ContainerField,
  i: number,
  _s: PodSpec,
  _m: ObjectMeta,
  _p: null,
  acc: Findings,
) {
  if (securityContext(c)?.['privileged'] !== true) return acc;
  return push(
    acc,
    atContainer(
      c,
      field,
      i,
      ['securityContext', 'privileged'],
      'must not set securityContext.privileged=true',
    ),
  );
}

/** Azure's ContainerNoPrivilege (no parameters). */
export const privilegedCheck: CheckFn = (meta, spec) =>
  result('privileged', visitContainers(spec, meta, null, privilegedVisitor));

/** hostPID and hostIPC are always forbidden; hostNetwork unless allowHostNetwork. */
export function hostNamespacesCheck(allowHostNetwork: boolean): CheckFn {
  return (_meta, spec): CheckResult => {
    const net = spec.hostNetwork === true && !allowHostNetwork;
    if (!net && spec.hostPID !== true && spec.hostIPC !== true) return ALLOWED;
    let acc: Findings = null;
    if (net)
      acc = push(
        acc,
        atPod(['spec', 'hostNetwork'], 'hostNetwork=true is not allowed (allowHostNetwork is false)'),
      );
    if (spec.hostPID === true) acc = push(acc, atPod(['spec', 'hostPID'], 'must not set hostPID=true'));
    if (spec.hostIPC === true) acc = push(acc, atPod(['spec', 'hostIPC'], 'must not set hostIPC=true'));
    return result('host namespaces', acc);
  };
}

function hostPortVisitor(
  c: Container,
  field: ContainerField,
  i: number,
  _s: PodSpec,
  _m: ObjectMeta,
  ranges: readonly PortRange[],
  acc: Findings,
): Findings {
  const ports = listOf(c.ports);
  for (let j = 0; j < ports.length; j++) {
    const p = ports[j];
    if (!isRecord(p)) continue;
    const hostPort = p['hostPort'];
    if (typeof hostPort !== 'number' || hostPort === 0 || inRanges(ranges, hostPort)) continue;
    acc = push(
      acc,
      atContainer(
        c,
        field,
        i,
        ['ports', j, 'hostPort'],
        `hostPort ${hostPort} is not in allowedHostPorts (${formatRanges(ranges)})`,
      ),
    );
  }
  return acc;
}

/** Azure's HostNetworkPorts port part: every non-zero hostPort must be inside an allowed range. */
export function hostPortsCheck(ranges: readonly PortRange[]): CheckFn {
  return (meta, spec) => result('hostPort', visitContainers(spec, meta, ranges, hostPortVisitor));
}

function trimSlashes(p: string): string {
  let end = p.length;
  while (end > 1 && p[end - 1] === '/') end--;
  return p.slice(0, end);
}

/** Prefix match by whole path segments: `/foo` matches `/foo` and `/foo/bar`, not `/fool`. */
export function pathHasPrefix(path: string, prefix: string): boolean {
  const p = trimSlashes(path);
  const pre = trimSlashes(prefix);
  if (pre === '/') return p.startsWith('/');
  return p === pre || (p.startsWith(pre) && p[pre.length] === '/');
}

function mountsOf(spec: PodSpec, volume: string, acc: Findings, path: string): Findings {
  return visitContainers(
    spec,
    {},
    volume,
    (c, field, i, _s, _m, name, inner) => {
      const mounts = listOf(c.volumeMounts);
      for (let k = 0; k < mounts.length; k++) {
        const m = mounts[k];
        if (!isRecord(m) || m['name'] !== name || m['readOnly'] === true) continue;
        inner = push(
          inner,
          atContainer(
            c,
            field,
            i,
            ['volumeMounts', k, 'readOnly'],
            `volume "${name}" (hostPath ${path}) must be mounted readOnly (allowedHostPaths)`,
          ),
        );
      }
      return inner;
    },
    acc,
  );
}

function allMountsReadOnly(spec: PodSpec, volume: string): boolean {
  return mountsOf(spec, volume, null, '') === null;
}

/** Azure's AllowedHostPaths: each hostPath must fall under an allowed prefix (read-only where required). */
export function hostPathVolumesCheck(rules: readonly HostPathRule[]): CheckFn {
  return (_meta, spec): CheckResult => {
    const volumes = listOf(spec.volumes);
    let acc: Findings = null;
    for (let i = 0; i < volumes.length; i++) {
      const v = volumes[i];
      if (!isRecord(v) || !isRecord(v['hostPath'])) continue;
      const rawPath = v['hostPath']['path'];
      const path = typeof rawPath === 'string' ? rawPath : '';
      const name = typeof v['name'] === 'string' ? v['name'] : '';
      let matched = false;
      let ok = false;
      for (const rule of rules) {
        if (!pathHasPrefix(path, rule.pathPrefix)) continue;
        matched = true;
        if (!rule.readOnly || allMountsReadOnly(spec, name)) {
          ok = true;
          break;
        }
      }
      if (ok) continue;
      if (!matched) {
        acc = push(
          acc,
          atPod(
            ['spec', 'volumes', i, 'hostPath', 'path'],
            `hostPath ${path === '' ? '""' : path} of volume "${name}" is not in allowedHostPaths`,
          ),
        );
      } else {
        acc = mountsOf(spec, name, acc, path);
      }
    }
    return result('hostPath volumes', acc);
  };
}

/** Azure's AllowedVolumeTypes: every source field of every volume must be listed (`*` = all). */
export function restrictedVolumesCheck(allowed: readonly string[]): CheckFn {
  const any = allowed.includes('*');
  const set: ReadonlySet<string> = new Set(allowed);
  return (_meta, spec): CheckResult => {
    if (any) return ALLOWED;
    const volumes = listOf(spec.volumes);
    let acc: Findings = null;
    for (let i = 0; i < volumes.length; i++) {
      const v = volumes[i];
      if (!isRecord(v)) continue;
      for (const key in v) {
        if (key === 'name' || set.has(key) || v[key] === undefined || v[key] === null) continue;
        const name = typeof v['name'] === 'string' ? v['name'] : '';
        acc = push(
          acc,
          atPod(
            ['spec', 'volumes', i, key],
            `volume "${name}" uses type ${key}, which is not in allowedVolumeTypes`,
          ),
        );
      }
    }
    return result('restricted volume types', acc);
  };
}
