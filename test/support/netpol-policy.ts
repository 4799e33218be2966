/**
 * A NetworkPolicy for the netpol unit tests, built the way the loader builds one: a test that
 * writes an invalid spec fails with the converter's problems instead of a half-built policy.
 */
import { toNetpolPolicy } from '../../src/netpol/model/policy.js';
import type { NetpolPolicy } from '../../src/netpol/model/types.js';

export function policy(namespace: string, name: string, spec: Record<string, unknown>): NetpolPolicy {
  const r = toNetpolPolicy({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy;
}
