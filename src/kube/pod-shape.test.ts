import { describe, expect, it } from 'vitest';
import { formatPath } from '../lib/path.js';
import { podShapeProblems } from './pod-shape.js';

const ok = {
  metadata: { labels: { app: 'a' }, annotations: { note: 'x' } },
  spec: {
    hostNetwork: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      supplementalGroups: [1],
      sysctls: [{ name: 'x' }],
    },
    containers: [
      {
        name: 'a',
        image: 'a',
        ports: [{ containerPort: 80, hostPort: 0 }],
        securityContext: { privileged: false, capabilities: { add: ['CHOWN'], drop: ['ALL'] } },
      },
    ],
    volumes: [{ name: 'v', emptyDir: {} }],
  },
};

describe('podShapeProblems', () => {
  it('accepts a well-typed pod', () => {
    expect(podShapeProblems(ok, [])).toEqual([]);
  });

  it.each([
    [
      'privileged as a string',
      ['spec', 'containers', 0, 'securityContext', 'privileged'],
      'yes',
      /must be a boolean/,
    ],
    ['hostPort as a string', ['spec', 'containers', 0, 'ports', 0, 'hostPort'], '80', /must be an integer/],
    ['runAsUser as a float', ['spec', 'securityContext', 'runAsUser'], 1.5, /must be an integer/],
    ['hostPID as a string', ['spec', 'hostPID'], 'true', /must be a boolean/],
    [
      'a capability as a number',
      ['spec', 'containers', 0, 'securityContext', 'capabilities', 'add', 0],
      7,
      /must be a string/,
    ],
    ['containers as a mapping', ['spec', 'containers'], { a: 1 }, /must be a list/],
    ['an annotation value as a number', ['metadata', 'annotations', 'note'], 3, /must be a string/],
    ['a sysctl name as a number', ['spec', 'securityContext', 'sysctls', 0, 'name'], 1, /must be a string/],
  ])('reports %s with its path', (_name, path, value, message) => {
    const pod = structuredClone(ok) as Record<string, unknown>;
    let cur = pod as Record<string | number, unknown>;
    for (const seg of path.slice(0, -1)) cur = cur[seg] as Record<string | number, unknown>;
    cur[path[path.length - 1]!] = value;
    const problems = podShapeProblems(pod, ['spec', 'template']);
    expect(problems).toHaveLength(1);
    expect(formatPath(problems[0]!.path)).toBe(formatPath(['spec', 'template', ...path]));
    expect(problems[0]!.message).toMatch(message);
  });

  it('ignores a non-object', () => {
    expect(podShapeProblems('x', [])).toEqual([]);
  });
});
