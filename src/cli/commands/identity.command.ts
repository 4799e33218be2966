/**
 * `podsec identity`: the pod identity verbs. Each subcommand is declared by its own
 * `identity-<sub>.command.ts` (flags only, implementation imported lazily), one function each.
 */
import type { Command } from 'commander';
import { defineIdentityController } from './identity-controller.command.js';
import { defineIdentityIssuer } from './identity-issuer.command.js';
import { defineIdentityNmi } from './identity-nmi.command.js';
import { defineIdentityUp } from './identity-up.command.js';

export function defineIdentity(program: Command): void {
  const identity = program
    .command('identity')
    .description('pod identity: a token issuer, the MIC controller and the per-node NMI');
  defineIdentityIssuer(identity);
  defineIdentityNmi(identity);
  defineIdentityController(identity);
  defineIdentityUp(identity);
}
