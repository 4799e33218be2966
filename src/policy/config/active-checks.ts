/**
 * The checks an assignment runs, computed once when a policy is compiled (never per object):
 * the Pod Security Standards checks of its level and version, then Azure Policy's initiative
 * selection and parameters applied by src/policy/params.
 */
import { buildChecks } from '../params/index.js';
import type { InitiativeName } from '../params/index.js';
import { allCheckDefinitions, checksFor } from '../pss/index.js';
import type { ActiveCheck, PolicyVersion } from '../pss/index.js';
import type { AssignmentParameters } from './types.js';

const LATEST: PolicyVersion = { latest: true };

/** The PSS level whose checks an initiative starts from. */
export function baseLevel(initiative: InitiativeName): 'baseline' | 'restricted' {
  return initiative === 'restricted' || initiative === 'azure-restricted' ? 'restricted' : 'baseline';
}

/**
 * Checks for one assignment. Azure initiatives are not versioned by the Pod Security
 * Standards; they start from the newest check implementations.
 */
export function activeChecks(
  initiative: InitiativeName,
  version: PolicyVersion,
  parameters: AssignmentParameters,
): readonly ActiveCheck[] {
  const isAzure = initiative === 'azure-baseline' || initiative === 'azure-restricted';
  const base = checksFor(baseLevel(initiative), isAzure ? LATEST : version);
  return buildChecks(initiative, [...base], parameters);
}

let pssIds: ReadonlySet<string> | null = null;

/** Every check id an exemption of this assignment may name (any version, plus parameter checks). */
export function knownCheckIds(
  initiative: InitiativeName,
  parameters: AssignmentParameters,
): ReadonlySet<string> {
  if (pssIds === null) {
    pssIds = new Set(allCheckDefinitions().map((d) => d.id));
  }
  const extra = activeChecks(initiative, LATEST, parameters).filter((c) => !pssIds!.has(c.id));
  if (extra.length === 0) return pssIds;
  const all = new Set(pssIds);
  for (const c of extra) all.add(c.id);
  return all;
}
