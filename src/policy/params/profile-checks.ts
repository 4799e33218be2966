/**
 * Parameterised kernel-profile checks: seccomp (allowedProfiles), AppArmor
 * (allowedAppArmorProfiles), SELinux (allowedSELinuxOptions / allowedSELinuxTypes), /proc mount
 * (procMountType) and sysctls (allowedSysctls / forbiddenSysctls). Profiles are compared in one
 * canonical spelling, so `runtime/default` and `RuntimeDefault` mean the same thing whichever
 * side (parameter, field or legacy annotation) uses which.
 */
import type { Container, ContainerField, ObjectMeta, PodSpec } from '../../kube/types.js';
import type { FieldPath } from '../../lib/path.js';
import type { CheckFn, CheckResult } from '../pss/types.js';
import {
  ALLOWED,
  atContainer,
  atPod,
  isRecord,
  listOf,
  matchesName,
  merge,
  nameMatcher,
  push,
  result,
  securityContext,
  show,
  visitContainers,
} from './kit.js';
import type { Findings, NameMatcher } from './kit.js';
import type { ProcMountType, SELinuxRule } from './types.js';

// ---------------------------------------------------------------- seccomp

export interface SeccompAllow {
  readonly any: boolean;
  readonly runtimeDefault: boolean;
  readonly unconfined: boolean;
  readonly localhostAny: boolean;
  readonly localhostFiles: ReadonlySet<string>;
  readonly listed: string;
}

/** Why a seccomp spelling is not understood, or null. */
export function seccompProfileProblem(s: string): string | null {
  return seccompToken(s) === null
    ? `unknown seccomp profile "${s}" (expected runtime/default, RuntimeDefault, docker/default, localhost/*, localhost/<file>, Localhost, unconfined, Unconfined or *)`
    : null;
}

type SeccompToken =
  { kind: 'any' | 'runtime' | 'unconfined' | 'localhostAny' } | { kind: 'localhost'; file: string };

function seccompToken(s: string): SeccompToken | null {
  if (s === '*') return { kind: 'any' };
  if (s === 'runtime/default' || s === 'docker/default' || s === 'RuntimeDefault') return { kind: 'runtime' };
  if (s === 'unconfined' || s === 'Unconfined') return { kind: 'unconfined' };
  if (s === 'localhost/*' || s === 'Localhost') return { kind: 'localhostAny' };
  if (s.startsWith('localhost/') && s.length > 'localhost/'.length)
    return { kind: 'localhost', file: s.slice(10) };
  return null;
}

export function seccompAllow(values: readonly string[]): SeccompAllow {
  const out = { any: false, runtimeDefault: false, unconfined: false, localhostAny: false };
  const files = new Set<string>();
  for (const v of values) {
    const t = seccompToken(v);
    if (t === null) continue;
    if (t.kind === 'any') out.any = true;
    else if (t.kind === 'runtime') out.runtimeDefault = true;
    else if (t.kind === 'unconfined') out.unconfined = true;
    else if (t.kind === 'localhostAny') out.localhostAny = true;
    else if (t.kind === 'localhost') files.add(t.file);
  }
  return { ...out, localhostFiles: files, listed: values.length === 0 ? 'none' : values.join(', ') };
}

/** Field form: `{type, localhostProfile}`. */
function fieldAllowed(a: SeccompAllow, profile: Record<string, unknown>): boolean {
  const type = profile['type'];
  if (type === 'RuntimeDefault') return a.runtimeDefault;
  if (type === 'Unconfined') return a.unconfined;
  if (type === 'Localhost') {
    const file = profile['localhostProfile'];
    return a.localhostAny || (typeof file === 'string' && a.localhostFiles.has(file));
  }
  return false;
}

/** Legacy annotation form: `runtime/default`, `docker/default`, `unconfined`, `localhost/<file>`. */
function annotationAllowed(a: SeccompAllow, value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (value === 'runtime/default' || value === 'docker/default') return a.runtimeDefault;
  if (value === 'unconfined') return a.unconfined;
  if (value.startsWith('localhost/')) return a.localhostAny || a.localhostFiles.has(value.slice(10));
  return false;
}

function describeField(profile: Record<string, unknown>): string {
  const type = typeof profile['type'] === 'string' ? profile['type'] : JSON.stringify(profile['type'] ?? '');
  const file = profile['localhostProfile'];
  return type === 'Localhost' && typeof file === 'string' ? `Localhost (${file})` : type;
}

const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION = 'container.seccomp.security.alpha.kubernetes.io/';

function annotationsOf(meta: ObjectMeta): Record<string, unknown> | undefined {
  const a: unknown = meta.annotations;
  return isRecord(a) ? a : undefined;
}

interface SeccompCtx {
  readonly allow: SeccompAllow;
  readonly parameter: string;
  /** The pod-level profile is set (field or annotation). */
  readonly podSet: boolean;
}

function seccompVisitor(
  c: Container,
  field: ContainerField,
  i: number,
  _s: PodSpec,
  meta: ObjectMeta,
  ctx: SeccompCtx,
  acc: Findings,
): Findings {
  const profile = securityContext(c)?.['seccompProfile'];
  if (isRecord(profile)) {
    if (fieldAllowed(ctx.allow, profile)) return acc;
    return push(
      acc,
      atContainer(
        c,
        field,
        i,
        ['securityContext', 'seccompProfile', 'type'],
        `seccomp profile ${describeField(profile)} is not in ${ctx.parameter} (${ctx.allow.listed})`,
      ),
    );
  }
  const annotations = annotationsOf(meta);
  if (annotations !== undefined && typeof c.name === 'string') {
    const key = SECCOMP_CONTAINER_ANNOTATION + c.name;
    const value = annotations[key];
    if (value !== undefined) {
      if (annotationAllowed(ctx.allow, value)) return acc;
      return push(acc, {
        ...atContainer(
          c,
          field,
          i,
          [],
          `seccomp profile ${show(value)} is not in ${ctx.parameter} (${ctx.allow.listed})`,
        ),
        path: ['metadata', 'annotations', key],
      });
    }
  }
  // Inherits the pod's profile: judged once at pod level.
  if (ctx.podSet) return acc;
  return push(
    acc,
    atContainer(
      c,
      field,
      i,
      ['securityContext', 'seccompProfile', 'type'],
      `no seccomp profile is set (pod or container); ${ctx.parameter} allows ${ctx.allow.listed}`,
    ),
  );
}

/** Azure's AllowedSeccompProfile: each container's effective profile must be allowed. */
export function seccompCheck(values: readonly string[], parameter: string): CheckFn {
  const allow = seccompAllow(values);
  return (meta, spec): CheckResult => {
    if (allow.any) return ALLOWED;
    let acc: Findings = null;
    const podSc = securityContext(spec);
    const podProfile = podSc?.['seccompProfile'];
    let podSet = false;
    if (isRecord(podProfile)) {
      podSet = true;
      if (!fieldAllowed(allow, podProfile)) {
        acc = push(
          acc,
          atPod(
            ['spec', 'securityContext', 'seccompProfile', 'type'],
            `seccomp profile ${describeField(podProfile)} is not in ${parameter} (${allow.listed})`,
          ),
        );
      }
    } else {
      const value = annotationsOf(meta)?.[SECCOMP_POD_ANNOTATION];
      if (value !== undefined) {
        podSet = true;
        if (!annotationAllowed(allow, value)) {
          acc = push(
            acc,
            atPod(
              ['metadata', 'annotations', SECCOMP_POD_ANNOTATION],
              `seccomp profile ${show(value)} is not in ${parameter} (${allow.listed})`,
            ),
          );
        }
      }
    }
    const ctx: SeccompCtx = { allow, parameter, podSet };
    return result('seccompProfile', visitContainers(spec, meta, ctx, seccompVisitor, acc));
  };
}

// ---------------------------------------------------------------- AppArmor

/** Canonical AppArmor spelling: annotation form (`runtime/default`, `localhost/x`, `unconfined`). */
function canonicalAppArmor(s: string): string {
  if (s === 'RuntimeDefault') return 'runtime/default';
  if (s === 'Unconfined') return 'unconfined';
  if (s === 'Localhost') return 'localhost/*';
  return s;
}

interface AppArmorAllow {
  readonly any: boolean;
  readonly exact: ReadonlySet<string>;
  readonly localhostAny: boolean;
  readonly listed: string;
}

function appArmorAllowed(a: AppArmorAllow, value: string): boolean {
  return a.any || a.exact.has(value) || (a.localhostAny && value.startsWith('localhost/'));
}

function fieldToAppArmor(profile: Record<string, unknown>): string {
  const type = profile['type'];
  if (type === 'RuntimeDefault') return 'runtime/default';
  if (type === 'Unconfined') return 'unconfined';
  if (type === 'Localhost') {
    const p = profile['localhostProfile'];
    return `localhost/${typeof p === 'string' ? p : ''}`;
  }
  return typeof type === 'string' ? type : JSON.stringify(type ?? '');
}

const APPARMOR_CONTAINER_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

function appArmorVisitor(
  c: Container,
  field: ContainerField,
  i: number,
  spec: PodSpec,
  meta: ObjectMeta,
  a: AppArmorAllow,
  acc: Findings,
): Findings {
  let value: string;
  let path: FieldPath;
  const own = securityContext(c)?.['appArmorProfile'];
  const annotations = annotationsOf(meta);
  const key =
    annotations !== undefined && typeof c.name === 'string'
      ? APPARMOR_CONTAINER_ANNOTATION + c.name
      : undefined;
  const annotated = key !== undefined ? annotations?.[key] : undefined;
  const pod = securityContext(spec)?.['appArmorProfile'];
  if (isRecord(own)) {
    if (own['type'] === 'RuntimeDefault' && a.exact.has('runtime/default')) return acc;
    value = fieldToAppArmor(own);
    path = ['spec', field, i, 'securityContext', 'appArmorProfile', 'type'];
  } else if (annotated !== undefined) {
    value = typeof annotated === 'string' ? annotated : JSON.stringify(annotated);
    path = ['metadata', 'annotations', key!];
  } else if (isRecord(pod)) {
    if (pod['type'] === 'RuntimeDefault' && a.exact.has('runtime/default')) return acc;
    value = fieldToAppArmor(pod);
    path = ['spec', 'securityContext', 'appArmorProfile', 'type'];
  } else {
    value = 'runtime/default';
    path = ['spec', field, i, 'securityContext', 'appArmorProfile'];
  }
  if (appArmorAllowed(a, value)) return acc;
  return push(acc, {
    ...atContainer(
      c,
      field,
      i,
      [],
      `AppArmor profile ${value} is not in allowedAppArmorProfiles (${a.listed})`,
    ),
    path,
  });
}

/** Azure's EnforceAppArmorProfile; an unset profile counts as runtime/default, as Gatekeeper does. */
export function appArmorCheck(values: readonly string[]): CheckFn {
  const canonical = values.map(canonicalAppArmor);
  const allow: AppArmorAllow = {
    any: canonical.includes('*'),
    exact: new Set(canonical),
    localhostAny: canonical.includes('localhost/*'),
    listed: values.length === 0 ? 'none' : values.join(', '),
  };
  return (meta, spec) =>
    result('forbidden AppArmor profile', visitContainers(spec, meta, allow, appArmorVisitor));
}

// ---------------------------------------------------------------- SELinux

interface SELinuxCtx {
  readonly options: readonly SELinuxRule[] | null;
  readonly types: ReadonlySet<string> | null;
  readonly typesListed: string;
}

const SELINUX_FIELDS = ['level', 'role', 'type', 'user'] as const;

function seLinuxProblems(opts: Record<string, unknown>, ctx: SELinuxCtx, out: string[] | null): boolean {
  let bad = false;
  const type = opts['type'];
  if (
    ctx.types !== null &&
    type !== undefined &&
    type !== '' &&
    !(typeof type === 'string' && ctx.types.has(type))
  ) {
    bad = true;
    out?.push(`SELinux type ${show(type)} is not in allowedSELinuxTypes (${ctx.typesListed})`);
  }
  if (ctx.options !== null) {
    let matched = false;
    for (const rule of ctx.options) {
      let ok = true;
      for (const f of SELINUX_FIELDS) {
        const v = opts[f];
        if (v !== undefined && v !== '' && rule[f] !== v) ok = false;
      }
      if (ok) {
        matched = true;
        break;
      }
    }
    if (!matched) {
      bad = true;
      out?.push(`seLinuxOptions ${JSON.stringify(opts)} match no entry of allowedSELinuxOptions`);
    }
  } else {
    for (const f of ['user', 'role'] as const) {
      const v = opts[f];
      if (v !== undefined && v !== '') {
        bad = true;
        out?.push(`seLinuxOptions.${f} must be empty (allowedSELinuxOptions is not set)`);
      }
    }
  }
  return bad;
}

function seLinuxVisitor(
  c: Container,
  field: ContainerField,
  i: number,
  _s: PodSpec,
  _m: ObjectMeta,
  ctx: SELinuxCtx,
  acc: Findings,
): Findings {
  const opts = securityContext(c)?.['seLinuxOptions'];
  if (!isRecord(opts) || !seLinuxProblems(opts, ctx, null)) return acc;
  const messages: string[] = [];
  seLinuxProblems(opts, ctx, messages);
  for (const m of messages)
    acc = push(acc, atContainer(c, field, i, ['securityContext', 'seLinuxOptions'], m));
  return acc;
}

/** Azure's SELinux definition: options matched field by field, types from a list. */
export function seLinuxCheck(
  options: readonly SELinuxRule[] | null,
  types: readonly string[] | null,
): CheckFn {
  const ctx: SELinuxCtx = {
    options,
    types: types === null ? null : new Set(types),
    typesListed: types === null || types.length === 0 ? 'none' : types.join(', '),
  };
  return (meta, spec): CheckResult => {
    let acc: Findings = null;
    const podOpts = securityContext(spec)?.['seLinuxOptions'];
    if (isRecord(podOpts) && seLinuxProblems(podOpts, ctx, null)) {
      const messages: string[] = [];
      seLinuxProblems(podOpts, ctx, messages);
      for (const m of messages) acc = push(acc, atPod(['spec', 'securityContext', 'seLinuxOptions'], m));
    }
    return result('seLinuxOptions', visitContainers(spec, meta, ctx, seLinuxVisitor, acc));
  };
}

// ---------------------------------------------------------------- procMount

function procMountVisitor(
  c: Container,
  field: ContainerField,
  i: number,
  _s: PodSpec,
  _m: ObjectMeta,
  type: ProcMountType,
  acc: Findings,
): Findings {
  const v = securityContext(c)?.['procMount'];
  if (v === undefined || v === null) return acc;
  if (typeof v === 'string') {
    const lower = v.toLowerCase();
    if (lower === 'default' || (type === 'Unmasked' && lower === 'unmasked')) return acc;
  }
  return push(
    acc,
    atContainer(
      c,
      field,
      i,
      ['securityContext', 'procMount'],
      `procMount ${show(v)} is not allowed (procMountType is ${type})`,
    ),
  );
}

/** Azure's AllowedProcMountType: only containers that set procMount are checked. */
export function procMountCheck(type: ProcMountType): CheckFn {
  return (meta, spec) => result('procMount', visitContainers(spec, meta, type, procMountVisitor));
}

// ---------------------------------------------------------------- sysctls

/**
 * allowedSysctls / forbiddenSysctls; forbidden wins. With no allowed list, `upstream` (the
 * version's safe-list check) still decides what is allowed, or everything is when it is null.
 */
export function sysctlsCheck(
  allowed: readonly string[] | null,
  forbidden: readonly string[] | null,
  upstream: CheckFn | null,
): CheckFn {
  const allow: NameMatcher | null = allowed === null ? null : nameMatcher(allowed, { prefixes: true });
  const deny: NameMatcher | null = forbidden === null ? null : nameMatcher(forbidden, { prefixes: true });
  return (meta, spec): CheckResult => {
    const sysctls = listOf(securityContext(spec)?.['sysctls']);
    let acc: Findings = null;
    for (let i = 0; i < sysctls.length; i++) {
      const s = sysctls[i];
      const name = isRecord(s) && typeof s['name'] === 'string' ? s['name'] : '';
      const path = ['spec', 'securityContext', 'sysctls', i, 'name'];
      if (deny !== null && matchesName(deny, name)) {
        acc = push(acc, atPod(path, `sysctl ${name} is in forbiddenSysctls`));
      } else if (allow !== null && !matchesName(allow, name)) {
        acc = push(acc, atPod(path, `sysctl ${name} is not in allowedSysctls`));
      }
    }
    const own = result('forbidden sysctls', acc);
    return allow === null && upstream !== null ? merge(upstream(meta, spec), own) : own;
  };
}
