/**
 * @peculiar/x509 2.x resolves its providers through tsyringe, which refuses to load unless a
 * `Reflect.getMetadata` polyfill is installed first, and the `reflect-metadata` package is not
 * among podsec's dependencies. tsyringe uses only defineMetadata, getMetadata and
 * getOwnMetadata, so this module installs those three (only when absent) and must be imported
 * before @peculiar/x509. Replace it with `import 'reflect-metadata'` if that package is added.
 */

type MetadataTarget = object;
const store = new WeakMap<MetadataTarget, Map<string | symbol | undefined, Map<unknown, unknown>>>();

function table(
  target: MetadataTarget,
  property: string | symbol | undefined,
  create: boolean,
): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (byProperty === undefined) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (entries === undefined && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

interface MetadataReflect {
  defineMetadata?: unknown;
  getMetadata?: unknown;
  getOwnMetadata?: unknown;
}

const reflect = Reflect as unknown as MetadataReflect;
if (typeof reflect.getMetadata !== 'function') {
  const getOwn = (key: unknown, target: MetadataTarget, property?: string | symbol): unknown =>
    table(target, property, false)?.get(key);
  reflect.defineMetadata = (
    key: unknown,
    value: unknown,
    target: MetadataTarget,
    property?: string | symbol,
  ): void => {
    table(target, property, true)?.set(key, value);
  };
  reflect.getOwnMetadata = getOwn;
  reflect.getMetadata = (key: unknown, target: MetadataTarget, property?: string | symbol): unknown => {
    for (
      let t: MetadataTarget | null = target;
      t !== null;
      t = Object.getPrototypeOf(t) as MetadataTarget | null
    ) {
      const entries = table(t, property, false);
      if (entries?.has(key) === true) return entries.get(key);
    }
    return undefined;
  };
}

export {};
