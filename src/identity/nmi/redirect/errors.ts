/**
 * Faults of the redirect's data plane, each with a stable reason and a hint saying what to do,
 * so the CLI prints one clear line instead of a stack trace when nft is missing, the process
 * lacks CAP_NET_ADMIN, or the pod interfaces are on a bridge CNI without --allow-bridge-cni.
 */
import { PodsecError } from '../../../lib/errors.js';

export const REDIRECT_FAULTS = ['nft-missing', 'permission', 'nft-failed', 'bridge-cni'] as const;
export type RedirectFault = (typeof REDIRECT_FAULTS)[number];

export class RedirectError extends PodsecError {
  readonly reason: RedirectFault;

  constructor(reason: RedirectFault, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('INTERNAL', message, options);
    this.reason = reason;
  }
}
