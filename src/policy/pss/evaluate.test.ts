/** Evaluator: the loop over a check list, failure records, and PSA's denial/warning text. */
import { describe, expect, it } from 'vitest';
import { makeContainer, makePod, tweak } from '../../../test/support/pods.js';
import { checksFor, evaluatePod, formatDenial, formatWarning } from './index.js';
import type { ActiveCheck } from './types.js';

const latest = checksFor('restricted', { latest: true });

describe('evaluatePod', () => {
  it('allows a valid pod with no failures', () => {
    const pod = makePod({ containers: ['a', 'b', 'c'] });
    const r = evaluatePod(latest, pod.metadata, pod.spec);
    expect(r).toEqual({ allowed: true, failures: [] });
    // The same frozen object every time: the passing path allocates nothing.
    expect(evaluatePod(latest, pod.metadata, pod.spec)).toBe(r);
  });

  it('reports every failing check in list order with PSA text', () => {
    const pod = tweak(makePod({ containers: ['a', 'b'] }), (p) => {
      p.spec.containers![0]!.securityContext!.privileged = true;
      delete p.spec.containers![0]!.securityContext!.allowPrivilegeEscalation;
      p.spec.hostPID = true;
    });
    const r = evaluatePod(latest, pod.metadata, pod.spec);
    expect(r.allowed).toBe(false);
    expect(r.failures.map((f) => f.id)).toEqual(['hostNamespaces', 'privileged', 'allowPrivilegeEscalation']);
    expect(formatDenial('restricted', 'latest', r.failures)).toBe(
      'violates PodSecurity "restricted:latest": host namespaces (hostPID=true), ' +
        'privileged (container "a" must not set securityContext.privileged=true), ' +
        'allowPrivilegeEscalation != false (container "a" must set securityContext.allowPrivilegeEscalation=false)',
    );
    expect(formatWarning('restricted', 'v1.30', r.failures)).toMatch(
      /^would violate PodSecurity "restricted:v1\.30": host namespaces \(hostPID=true\), privileged \(/,
    );
    expect(r.failures[1]!.hint).toContain('privileged');
  });

  it('baseline ignores restricted-only problems', () => {
    const pod = makePod({ containers: [{ name: 'bare', image: 'x' }], spec: { securityContext: {} } });
    expect(evaluatePod(checksFor('baseline', { latest: true }), pod.metadata, pod.spec).allowed).toBe(true);
    expect(evaluatePod(latest, pod.metadata, pod.spec).failures.map((f) => f.id)).toEqual([
      'allowPrivilegeEscalation',
      'capabilities_restricted',
      'runAsNonRoot',
      'seccompProfile_restricted',
    ]);
  });

  it('runs any list it is given and carries parameters and empty details', () => {
    const custom: ActiveCheck[] = [
      {
        id: 'imageTag',
        level: 'baseline',
        hint: 'pin the tag',
        parameter: 'allowedImages',
        check: (_m, spec) =>
          spec.containers?.some((c) => c.image?.endsWith(':latest'))
            ? { allowed: false, reason: 'latest tag', detail: '', findings: [] }
            : { allowed: true },
      },
    ];
    const pod = makePod({ containers: [makeContainer('a', { image: 'x:latest' })] });
    const r = evaluatePod(custom, pod.metadata, pod.spec);
    expect(r.failures).toEqual([
      {
        id: 'imageTag',
        reason: 'latest tag',
        detail: '',
        findings: [],
        hint: 'pin the tag',
        parameter: 'allowedImages',
      },
    ]);
    expect(formatDenial('restricted', 'v1.37', r.failures)).toBe(
      'violates PodSecurity "restricted:v1.37": latest tag',
    );
  });
});
