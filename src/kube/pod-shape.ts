/**
 * Type checks for the pod fields the Pod Security Standards read. The API server rejects a pod
 * whose `privileged` is the string "yes"; a scanner that compared `=== true` would silently pass
 * it. So the scanner reports such values as input errors (with their path) instead of guessing.
 * Only security-relevant fields are checked: this is not a full OpenAPI validation.
 */
import { isRecord } from '../lib/is-record.js';
import type { FieldPath, PathSegment } from '../lib/path.js';
import { CONTAINER_FIELDS } from './types.js';

export interface ShapeProblem {
  readonly path: FieldPath;
  readonly message: string;
}

type Kind = 'boolean' | 'integer' | 'string' | 'object' | 'array';

const describe = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'string'
        ? `the string ${JSON.stringify(v)}`
        : `${typeof v} ${JSON.stringify(v)}`;

const EXPECTED: Record<Kind, string> = {
  boolean: 'a boolean (true or false)',
  integer: 'an integer',
  string: 'a string',
  object: 'a mapping',
  array: 'a list',
};

function isKind(v: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'string':
      return typeof v === 'string';
    case 'object':
      return isRecord(v);
    case 'array':
      return Array.isArray(v);
  }
}

class Checker {
  readonly problems: ShapeProblem[] = [];

  /** Returns the value when present and of the right kind; records a problem when present and wrong. */
  field(parent: Record<string, unknown>, key: string, kind: Kind, path: readonly PathSegment[]): unknown {
    const v = parent[key];
    if (v === undefined || v === null) return undefined;
    if (!isKind(v, kind)) {
      this.problems.push({ path: [...path, key], message: `must be ${EXPECTED[kind]}, not ${describe(v)}` });
      return undefined;
    }
    return v;
  }

  obj(
    parent: Record<string, unknown>,
    key: string,
    path: readonly PathSegment[],
  ): Record<string, unknown> | undefined {
    return this.field(parent, key, 'object', path) as Record<string, unknown> | undefined;
  }

  list(parent: Record<string, unknown>, key: string, path: readonly PathSegment[]): unknown[] | undefined {
    return this.field(parent, key, 'array', path) as unknown[] | undefined;
  }

  fields(parent: Record<string, unknown>, kinds: Record<string, Kind>, path: readonly PathSegment[]): void {
    for (const [key, kind] of Object.entries(kinds)) this.field(parent, key, kind, path);
  }

  stringList(parent: Record<string, unknown>, key: string, path: readonly PathSegment[]): void {
    const items = this.list(parent, key, path);
    items?.forEach((item, i) => {
      if (typeof item !== 'string') {
        this.problems.push({
          path: [...path, key, i],
          message: `must be ${EXPECTED.string}, not ${describe(item)}`,
        });
      }
    });
  }

  stringMap(parent: Record<string, unknown>, key: string, path: readonly PathSegment[]): void {
    const map = this.obj(parent, key, path);
    if (map === undefined) return;
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== 'string') {
        this.problems.push({
          path: [...path, key, k],
          message: `must be ${EXPECTED.string}, not ${describe(v)}`,
        });
      }
    }
  }

  profile(parent: Record<string, unknown>, key: string, path: readonly PathSegment[]): void {
    const p = this.obj(parent, key, path);
    if (p !== undefined) this.fields(p, { type: 'string', localhostProfile: 'string' }, [...path, key]);
  }

  securityContext(sc: Record<string, unknown>, path: readonly PathSegment[], pod: boolean): void {
    this.fields(sc, { runAsNonRoot: 'boolean', runAsUser: 'integer', runAsGroup: 'integer' }, path);
    const se = this.obj(sc, 'seLinuxOptions', path);
    if (se !== undefined) {
      this.fields(se, { user: 'string', role: 'string', type: 'string', level: 'string' }, [
        ...path,
        'seLinuxOptions',
      ]);
    }
    this.profile(sc, 'seccompProfile', path);
    this.profile(sc, 'appArmorProfile', path);
    const win = this.obj(sc, 'windowsOptions', path);
    if (win !== undefined) this.fields(win, { hostProcess: 'boolean' }, [...path, 'windowsOptions']);
    if (pod) {
      this.field(sc, 'fsGroup', 'integer', path);
      const groups = this.list(sc, 'supplementalGroups', path);
      groups?.forEach((g, i) => {
        if (!isKind(g, 'integer')) {
          this.problems.push({
            path: [...path, 'supplementalGroups', i],
            message: `must be ${EXPECTED.integer}, not ${describe(g)}`,
          });
        }
      });
      const sysctls = this.list(sc, 'sysctls', path);
      sysctls?.forEach((s, i) => {
        if (!isKind(s, 'object')) {
          this.problems.push({
            path: [...path, 'sysctls', i],
            message: `must be ${EXPECTED.object}, not ${describe(s)}`,
          });
        } else this.field(s as Record<string, unknown>, 'name', 'string', [...path, 'sysctls', i]);
      });
    } else {
      this.fields(
        sc,
        {
          privileged: 'boolean',
          allowPrivilegeEscalation: 'boolean',
          readOnlyRootFilesystem: 'boolean',
          procMount: 'string',
        },
        path,
      );
      const caps = this.obj(sc, 'capabilities', path);
      if (caps !== undefined) {
        this.stringList(caps, 'add', [...path, 'capabilities']);
        this.stringList(caps, 'drop', [...path, 'capabilities']);
      }
    }
  }

  container(c: Record<string, unknown>, path: readonly PathSegment[]): void {
    this.fields(c, { name: 'string', image: 'string' }, path);
    const ports = this.list(c, 'ports', path);
    ports?.forEach((p, i) => {
      if (isKind(p, 'object'))
        this.field(p as Record<string, unknown>, 'hostPort', 'integer', [...path, 'ports', i]);
    });
    const sc = this.obj(c, 'securityContext', path);
    if (sc !== undefined) this.securityContext(sc, [...path, 'securityContext'], false);
  }
}

/**
 * Problems in the security-relevant fields of a pod-shaped object (`{metadata, spec}`) whose
 * spec sits at `basePath` (paths in the problems are absolute within the document's object).
 */
export function podShapeProblems(pod: unknown, basePath: readonly PathSegment[]): ShapeProblem[] {
  const c = new Checker();
  if (!isKind(pod, 'object')) return c.problems;
  const root = pod as Record<string, unknown>;
  const meta = c.obj(root, 'metadata', basePath);
  if (meta !== undefined) {
    c.stringMap(meta, 'labels', [...basePath, 'metadata']);
    c.stringMap(meta, 'annotations', [...basePath, 'metadata']);
  }
  const spec = c.obj(root, 'spec', basePath);
  if (spec === undefined) return c.problems;
  const specPath = [...basePath, 'spec'];
  c.fields(
    spec,
    { hostNetwork: 'boolean', hostPID: 'boolean', hostIPC: 'boolean', hostUsers: 'boolean' },
    specPath,
  );
  const os = c.obj(spec, 'os', specPath);
  if (os !== undefined) c.field(os, 'name', 'string', [...specPath, 'os']);
  const sc = c.obj(spec, 'securityContext', specPath);
  if (sc !== undefined) c.securityContext(sc, [...specPath, 'securityContext'], true);
  const containers = spec['containers'];
  if (
    containers === undefined ||
    containers === null ||
    (Array.isArray(containers) && containers.length === 0)
  ) {
    c.problems.push({
      path: [...specPath, 'containers'],
      message: 'is required: a pod needs at least one container',
    });
  }
  for (const field of CONTAINER_FIELDS) {
    const list = c.list(spec, field, specPath);
    list?.forEach((item, i) => {
      if (!isKind(item, 'object')) {
        c.problems.push({
          path: [...specPath, field, i],
          message: `must be a container mapping, not ${describe(item)}`,
        });
      } else c.container(item as Record<string, unknown>, [...specPath, field, i]);
    });
  }
  const volumes = c.list(spec, 'volumes', specPath);
  volumes?.forEach((v, i) => {
    if (!isKind(v, 'object')) {
      c.problems.push({
        path: [...specPath, 'volumes', i],
        message: `must be a volume mapping, not ${describe(v)}`,
      });
    }
  });
  return c.problems;
}
