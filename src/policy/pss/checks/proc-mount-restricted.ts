/**
 * procMount_restricted (restricted, v1.35+, overrides procMount): from v1.35 baseline relaxes procMount for
 * user-namespace pods; the restricted level keeps the unconditional rule.
 *
 * Restricted fields: spec.containers[*].securityContext.procMount (and init/ephemeral containers)
 * Allowed values: undefined, "Default" (no user-namespace relaxation)
 */
import type { CheckDefinition } from '../types.js';
import { procMountStrict } from './proc-mount.js';

export const procMountRestricted: CheckDefinition = {
  id: 'procMount_restricted',
  level: 'restricted',
  versions: [{ minVersion: 35, check: procMountStrict, overrides: ['procMount'] }],
  hint: 'Remove securityContext.procMount (or set it to Default); the restricted level allows no other value.',
};
