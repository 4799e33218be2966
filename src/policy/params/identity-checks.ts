/**
 * Parameterised user, group and privilege checks (Azure's AllowedUsersGroups,
 * ContainerNoPrivilegeEscalation, ReadOnlyRootFileSystem). As in the Gatekeeper `users`
 * template, a container's own value wins over the pod's, and MustRunAsNonRoot accepts a non-zero
 * runAsUser (PSA's runAsNonRoot check does not); that difference is why these are separate checks.
 */
import type { Container, ContainerField, ObjectMeta, PodSpec } from '../../kube/types.js';
import type { FieldPath } from '../../lib/path.js';
import type { CheckFn, CheckResult } from '../pss/types.js';
import {
  ALLOWED,
  atContainer,
  atPod,
  formatRanges,
  inRanges,
  listOf,
  push,
  result,
  securityContext,
  show,
  visitContainers,
} from './kit.js';
import type { Findings } from './kit.js';
import type { GroupRule, IdRange, UserRule } from './types.js';

/** A container's value, else the pod's, with where it came from. */
function effective(
  c: Container,
  spec: PodSpec,
  key: 'runAsUser' | 'runAsGroup' | 'runAsNonRoot',
): { value: unknown; fromPod: boolean } | undefined {
  const own = securityContext(c)?.[key];
  if (own !== undefined && own !== null) return { value: own, fromPod: false };
  const pod = securityContext(spec)?.[key];
  if (pod !== undefined && pod !== null) return { value: pod, fromPod: true };
  return undefined;
}

function valueOf(c: Container, spec: PodSpec, key: 'runAsUser' | 'runAsGroup' | 'runAsNonRoot'): unknown {
  const own = securityContext(c)?.[key];
  if (own !== undefined && own !== null) return own;
  return securityContext(spec)?.[key];
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

interface UserCtx {
  readonly rule: UserRule;
  readonly ranges: readonly IdRange[];
}

function userOk(c: Container, spec: PodSpec, ctx: UserCtx): boolean {
  const uid = valueOf(c, spec, 'runAsUser');
  if (ctx.rule === 'MustRunAsNonRoot') {
    if (uid !== undefined && uid !== null) return isId(uid) && uid !== 0;
    return valueOf(c, spec, 'runAsNonRoot') === true;
  }
  return isId(uid) && inRanges(ctx.ranges, uid);
}

function userVisitor(
  c: Container,
  field: ContainerField,
  i: number,
  spec: PodSpec,
  _m: ObjectMeta,
  ctx: UserCtx,
  acc: Findings,
): Findings {
  if (userOk(c, spec, ctx)) return acc;
  const uid = effective(c, spec, 'runAsUser');
  const uidPath = (fromPod: boolean): FieldPath =>
    fromPod ? ['spec', 'securityContext', 'runAsUser'] : ['spec', field, i, 'securityContext', 'runAsUser'];
  let message: string;
  let path: FieldPath;
  if (ctx.rule === 'MustRunAsNonRoot') {
    if (uid !== undefined) {
      message = `runAsUser ${show(uid.value)} is not allowed (runAsUserRule is MustRunAsNonRoot)`;
      path = uidPath(uid.fromPod);
    } else {
      message = 'must set runAsNonRoot=true or a non-zero runAsUser (runAsUserRule is MustRunAsNonRoot)';
      path = ['spec', field, i, 'securityContext', 'runAsNonRoot'];
    }
  } else if (uid === undefined) {
    message = `must set runAsUser (runAsUserRule is MustRunAs; runAsUserRanges: ${formatRanges(ctx.ranges)})`;
    path = ['spec', field, i, 'securityContext', 'runAsUser'];
  } else {
    message = `runAsUser ${show(uid.value)} is not in runAsUserRanges (${formatRanges(ctx.ranges)})`;
    path = uidPath(uid.fromPod);
  }
  return push(acc, { ...atContainer(c, field, i, [], message), path });
}

/** runAsUserRule MustRunAsNonRoot | MustRunAs (RunAsAny builds no check). */
export function runAsUserRuleCheck(rule: Exclude<UserRule, 'RunAsAny'>, ranges: readonly IdRange[]): CheckFn {
  const ctx: UserCtx = { rule, ranges };
  const reason = rule === 'MustRunAsNonRoot' ? 'runAsNonRoot != true' : 'runAsUser';
  return (meta, spec) => result(reason, visitContainers(spec, meta, ctx, userVisitor));
}

interface GroupCtx {
  readonly rule: Exclude<GroupRule, 'RunAsAny'>;
  readonly ranges: readonly IdRange[];
}

function groupVisitor(
  c: Container,
  field: ContainerField,
  i: number,
  spec: PodSpec,
  _m: ObjectMeta,
  ctx: GroupCtx,
  acc: Findings,
): Findings {
  const gid = valueOf(c, spec, 'runAsGroup');
  if (gid === undefined || gid === null) {
    if (ctx.rule === 'MayRunAs') return acc;
    return push(
      acc,
      atContainer(
        c,
        field,
        i,
        ['securityContext', 'runAsGroup'],
        `must set runAsGroup (runAsGroupRule is MustRunAs; runAsGroupRanges: ${formatRanges(ctx.ranges)})`,
      ),
    );
  }
  if (isId(gid) && inRanges(ctx.ranges, gid)) return acc;
  const fromPod = effective(c, spec, 'runAsGroup')?.fromPod === true;
  return push(acc, {
    ...atContainer(
      c,
      field,
      i,
      [],
      `runAsGroup ${show(gid)} is not in runAsGroupRanges (${formatRanges(ctx.ranges)})`,
    ),
    path: fromPod
      ? ['spec', 'securityContext', 'runAsGroup']
      : ['spec', field, i, 'securityContext', 'runAsGroup'],
  });
}

/** runAsGroupRule: each container's runAsGroup (its own, else the pod's). */
export function runAsGroupCheck(rule: Exclude<GroupRule, 'RunAsAny'>, ranges: readonly IdRange[]): CheckFn {
  const ctx: GroupCtx = { rule, ranges };
  return (meta, spec) => result('runAsGroup', visitContainers(spec, meta, ctx, groupVisitor));
}

/** fsGroupRule: the pod's fsGroup. */
export function fsGroupCheck(rule: Exclude<GroupRule, 'RunAsAny'>, ranges: readonly IdRange[]): CheckFn {
  return (_meta, spec): CheckResult => {
    const v = securityContext(spec)?.['fsGroup'];
    if (v === undefined || v === null) {
      if (rule === 'MayRunAs') return ALLOWED;
      return result('fsGroup', [
        atPod(
          ['spec', 'securityContext', 'fsGroup'],
          `must set fsGroup (fsGroupRule is MustRunAs; fsGroupRanges: ${formatRanges(ranges)})`,
        ),
      ]);
    }
    if (isId(v) && inRanges(ranges, v)) return ALLOWED;
    return result('fsGroup', [
      atPod(
        ['spec', 'securityContext', 'fsGroup'],
        `fsGroup ${show(v)} is not in fsGroupRanges (${formatRanges(ranges)})`,
      ),
    ]);
  };
}

/** supplementalGroupsRule: every entry of the pod's supplementalGroups; MustRunAs requires at least one. */
export function supplementalGroupsCheck(
  rule: Exclude<GroupRule, 'RunAsAny'>,
  ranges: readonly IdRange[],
): CheckFn {
  return (_meta, spec): CheckResult => {
    const groups = listOf(securityContext(spec)?.['supplementalGroups']);
    let acc: Findings = null;
    if (groups.length === 0 && rule === 'MustRunAs') {
      acc = push(
        acc,
        atPod(
          ['spec', 'securityContext', 'supplementalGroups'],
          `must set supplementalGroups (supplementalGroupsRule is MustRunAs; supplementalGroupsRanges: ${formatRanges(ranges)})`,
        ),
      );
    }
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (isId(g) && inRanges(ranges, g)) continue;
      acc = push(
        acc,
        atPod(
          ['spec', 'securityContext', 'supplementalGroups', i],
          `supplementalGroups entry ${show(g)} is not in supplementalGroupsRanges (${formatRanges(ranges)})`,
        ),
      );
    }
    return result('supplementalGroups', acc);
  };
}

function escalationVisitor(
  c: Container,
  field: ContainerField,
  i: number,
  spec: PodSpec,
  _m: ObjectMeta,
  forced: boolean,
  acc: Findings,
): Findings {
  const v = securityContext(c)?.['allowPrivilegeEscalation'];
  if (v === false) return acc;
  if (!forced && v !== true) {
    const uid = valueOf(c, spec, 'runAsUser');
    if (isId(uid) && uid !== 0) return acc;
  }
  const message = forced
    ? 'must set securityContext.allowPrivilegeEscalation=false (forcePrivilegeEscalationToBeFalse)'
    : v === true
      ? 'must not set securityContext.allowPrivilegeEscalation=true'
      : 'must set securityContext.allowPrivilegeEscalation=false or run as a non-zero runAsUser (forcePrivilegeEscalationToBeFalse is false)';
  return push(acc, atContainer(c, field, i, ['securityContext', 'allowPrivilegeEscalation'], message));
}

/** Azure's ContainerNoPrivilegeEscalation with forcePrivilegeEscalationToBeFalse. */
export function allowPrivilegeEscalationCheck(forced: boolean): CheckFn {
  return (meta, spec) =>
    result('allowPrivilegeEscalation != false', visitContainers(spec, meta, forced, escalationVisitor));
}

function readOnlyRootVisitor(
  c: Container,
  field: ContainerField,
  i: number,
  _s: PodSpec,
  _m: ObjectMeta,
  _p: null,
  acc: Findings,
): Findings {
  if (securityContext(c)?.['readOnlyRootFilesystem'] === true) return acc;
  return push(
    acc,
    atContainer(
      c,
      field,
      i,
      ['securityContext', 'readOnlyRootFilesystem'],
      'must set securityContext.readOnlyRootFilesystem=true',
    ),
  );
}

/** Every container's root filesystem must be read-only. */
export const readOnlyRootFilesystemCheck: CheckFn = (meta, spec) =>
  result('readOnlyRootFilesystem != true', visitContainers(spec, meta, null, readOnlyRootVisitor));
