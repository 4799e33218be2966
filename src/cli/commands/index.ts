/**
 * Every podsec verb. Each `*.command.ts` declares only its flags (commander is all it imports);
 * its action imports the implementation lazily, so a verb loads only what it uses.
 */
import type { Command } from 'commander';
import { defineAudit } from './audit.command.js';
import { defineCerts } from './certs.command.js';
import { defineIdentity } from './identity.command.js';
import { defineNetpol } from './netpol.command.js';
import { defineScan } from './scan.command.js';
import { defineWebhook } from './webhook.command.js';

export const COMMANDS: readonly ((program: Command) => void)[] = [
  defineScan,
  defineAudit,
  defineWebhook,
  defineCerts,
  defineNetpol,
  defineIdentity,
];
