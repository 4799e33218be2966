/** Field paths into Kubernetes objects, kept as segments and rendered the way kubectl users read them. */

export type PathSegment = string | number;
export type FieldPath = readonly PathSegment[];

/** `['spec','containers',1,'securityContext']` -> `spec.containers[1].securityContext`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
