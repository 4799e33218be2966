/**
 * The check registry. It validates the definitions once, at module load, and inflates them into one
 * ordered check list per (level, minor), so evaluating a pod is a table lookup and a loop. A broken
 * definition is a programming fault, so validation throws; a bad level or version from a user is an
 * expected outcome and comes back as a value.
 */
import { allowPrivilegeEscalation } from './checks/allow-privilege-escalation.js';
import { appArmorProfile } from './checks/app-armor-profile.js';
import { capabilitiesBaseline } from './checks/capabilities-baseline.js';
import { capabilitiesRestricted } from './checks/capabilities-restricted.js';
import { hostNamespaces } from './checks/host-namespaces.js';
import { hostPathVolumes } from './checks/host-path-volumes.js';
import { hostPorts } from './checks/host-ports.js';
import { hostProbesAndHostLifecycle } from './checks/host-probes-and-host-lifecycle.js';
import { privileged } from './checks/privileged.js';
import { procMount } from './checks/proc-mount.js';
import { procMountRestricted } from './checks/proc-mount-restricted.js';
import { restrictedVolumes } from './checks/restricted-volumes.js';
import { runAsNonRoot } from './checks/run-as-non-root.js';
import { runAsUser } from './checks/run-as-user.js';
import { seLinuxOptions } from './checks/se-linux-options.js';
import { seccompProfileBaseline } from './checks/seccomp-profile-baseline.js';
import { seccompProfileRestricted } from './checks/seccomp-profile-restricted.js';
import { sysctls } from './checks/sysctls.js';
import { windowsHostProcess } from './checks/windows-host-process.js';
import { byteOrder } from './check-helpers.js';
import { LATEST_MINOR, LEVELS } from './types.js';
import type { ActiveCheck, CheckDefinition, Level, PolicyVersion, VersionedCheck } from './types.js';

const DEFINITIONS: readonly CheckDefinition[] = Object.freeze([
  hostNamespaces,
  privileged,
  capabilitiesBaseline,
  hostPathVolumes,
  hostPorts,
  hostProbesAndHostLifecycle,
  appArmorProfile,
  seLinuxOptions,
  procMount,
  seccompProfileBaseline,
  sysctls,
  windowsHostProcess,
  restrictedVolumes,
  allowPrivilegeEscalation,
  runAsNonRoot,
  runAsUser,
  seccompProfileRestricted,
  capabilitiesRestricted,
  procMountRestricted,
]);

/**
 * Problems with a set of definitions (empty when valid): unique ids, at least one version, strictly
 * increasing minimum versions within [0, LATEST_MINOR], and overrides only from restricted checks naming
 * existing baseline checks.
 */
export function validateDefinitions(defs: readonly CheckDefinition[]): string[] {
  const problems: string[] = [];
  const byId = new Map<string, CheckDefinition>();
  for (const def of defs) {
    if (byId.has(def.id)) problems.push(`duplicate check id ${def.id}`);
    byId.set(def.id, def);
  }
  for (const def of defs) {
    if (def.level !== 'baseline' && def.level !== 'restricted') problems.push(`${def.id}: invalid level`);
    if (def.versions.length === 0) problems.push(`${def.id}: no versions`);
    let previous = -1;
    for (const v of def.versions) {
      if (!Number.isInteger(v.minVersion) || v.minVersion < 0 || v.minVersion > LATEST_MINOR) {
        problems.push(`${def.id}: minVersion ${v.minVersion} outside 0..${LATEST_MINOR}`);
      }
      if (v.minVersion <= previous)
        problems.push(`${def.id}: minVersion ${v.minVersion} not strictly increasing`);
      previous = v.minVersion;
      for (const target of v.overrides ?? []) {
        if (def.level !== 'restricted') problems.push(`${def.id}: only restricted checks may override`);
        const overridden = byId.get(target);
        if (overridden === undefined) problems.push(`${def.id}: overrides unknown check ${target}`);
        else if (overridden.level !== 'baseline')
          problems.push(`${def.id}: may only override baseline checks`);
      }
    }
  }
  return problems;
}

/** The implementation in force at `minor`, if the check exists yet. */
function versionAt(def: CheckDefinition, minor: number): VersionedCheck | undefined {
  let found: VersionedCheck | undefined;
  for (const v of def.versions) if (v.minVersion <= minor) found = v;
  return found;
}

function activate(def: CheckDefinition, v: VersionedCheck): ActiveCheck {
  return Object.freeze({ id: def.id, level: def.level, check: v.check, hint: def.hint });
}

/** Builds the ordered lists: baseline ids then restricted ids, each sorted, overridden baseline checks dropped. */
export function buildTable(
  defs: readonly CheckDefinition[],
): Record<Level, readonly (readonly ActiveCheck[])[]> {
  const sorted = [...defs].sort((a, b) => byteOrder(a.id, b.id));
  const baseline: (readonly ActiveCheck[])[] = [];
  const restricted: (readonly ActiveCheck[])[] = [];
  const privileged: (readonly ActiveCheck[])[] = [];
  for (let minor = 0; minor <= LATEST_MINOR; minor++) {
    const base: { def: CheckDefinition; v: VersionedCheck }[] = [];
    const strict: { def: CheckDefinition; v: VersionedCheck }[] = [];
    for (const def of sorted) {
      const v = versionAt(def, minor);
      if (v !== undefined) (def.level === 'baseline' ? base : strict).push({ def, v });
    }
    const overridden = new Set(strict.flatMap(({ v }) => v.overrides ?? []));
    baseline.push(Object.freeze(base.map(({ def, v }) => activate(def, v))));
    restricted.push(
      Object.freeze([
        ...base.filter(({ def }) => !overridden.has(def.id)).map(({ def, v }) => activate(def, v)),
        ...strict.map(({ def, v }) => activate(def, v)),
      ]),
    );
    privileged.push(Object.freeze([]));
  }
  return { privileged, baseline, restricted };
}

const problems = validateDefinitions(DEFINITIONS);
if (problems.length > 0) throw new Error(`invalid Pod Security Standards checks: ${problems.join('; ')}`);
const TABLE = buildTable(DEFINITIONS);

/** Every check definition, in registration order. */
export function allCheckDefinitions(): readonly CheckDefinition[] {
  return DEFINITIONS;
}

/** The minor a version evaluates as: `latest` and anything newer than the engine use the newest. */
export function effectiveMinor(version: PolicyVersion): number {
  return version.latest ? LATEST_MINOR : Math.min(Math.max(version.minor, 0), LATEST_MINOR);
}

/** The checks in force for a level and version, in PSA's order. `privileged` has none. */
export function checksFor(level: Level, version: PolicyVersion): readonly ActiveCheck[] {
  return TABLE[level][effectiveMinor(version)] ?? [];
}

export type ParseResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export function parseLevel(s: string): ParseResult<Level> {
  const level = LEVELS.find((l) => l === s);
  return level === undefined
    ? { ok: false, error: `invalid level "${s}": must be one of ${LEVELS.join(', ')}` }
    : { ok: true, value: level };
}

const VERSION_RE = /^v1\.(0|[1-9][0-9]*)$/;

export function parseVersion(s: string): ParseResult<PolicyVersion> {
  if (s === 'latest') return { ok: true, value: { latest: true } };
  const m = VERSION_RE.exec(s);
  const minor = m?.[1] === undefined ? NaN : Number(m[1]);
  if (!Number.isSafeInteger(minor)) {
    return {
      ok: false,
      error: `invalid version "${s}": must be "latest" or "v1.<minor>" (e.g. v1.${LATEST_MINOR})`,
    };
  }
  return { ok: true, value: { latest: false, minor } };
}

export function formatVersion(v: PolicyVersion): string {
  return v.latest ? 'latest' : `v1.${v.minor}`;
}
