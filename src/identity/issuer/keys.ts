/**
 * The issuer's signing keys: one active key that signs new tokens, and retired keys that stay
 * published in the JWKS until every token they signed has expired, so rotation never breaks
 * a resource server holding a still-valid token. Optionally persisted to `--keys-dir` (one PKCS#8
 * PEM per key plus `keys.json`, all written atomically) so restarts and replicas keep the same keys.
 */
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
} from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { writeFileAtomic } from '../../lib/tls/atomic-write.js';

export const SIGNING_ALGORITHMS = ['RS256', 'ES256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export interface SigningKey {
  /** RFC 7638 JWK thumbprint (SHA-256) of the public key. */
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: CryptoKey;
  /** Public JWK as published (kid, alg, use set). */
  readonly publicJwk: JWK;
  readonly createdAt: Date;
  /** Set once a newer key took over; the key is dropped after `retiredAt + retention`. */
  readonly retiredAt?: Date | undefined;
}

export interface KeySetOptions {
  /** How long a retired key stays published: the longest token lifetime plus clock skew. */
  readonly retentionSeconds: number;
  readonly alg?: SigningAlgorithm | undefined;
  /** Directory to persist keys in; in-memory only when absent. */
  readonly dir?: string | undefined;
  readonly now?: (() => Date) | undefined;
}

interface MetadataEntry {
  kid: string;
  alg: SigningAlgorithm;
  file: string;
  createdAt: string;
  retiredAt?: string;
}

interface Metadata {
  version: 1;
  active: string;
  keys: MetadataEntry[];
}

const METADATA_FILE = 'keys.json';

function isSigningAlgorithm(v: unknown): v is SigningAlgorithm {
  return typeof v === 'string' && (SIGNING_ALGORITHMS as readonly string[]).includes(v);
}

async function newKey(alg: SigningAlgorithm, now: Date): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return fromKeys(alg, privateKey, publicKey, now, undefined);
}

async function fromKeys(
  alg: SigningAlgorithm,
  privateKey: CryptoKey,
  publicKey: CryptoKey,
  createdAt: Date,
  retiredAt: Date | undefined,
): Promise<SigningKey> {
  const pub = publicMembers(await exportJWK(publicKey));
  const kid = await calculateJwkThumbprint(pub, 'sha256');
  return { kid, alg, privateKey, publicJwk: { ...pub, kid, alg, use: 'sig' }, createdAt, retiredAt };
}

/** Only the public members: a private member must never reach the JWKS or the thumbprint. */
function publicMembers(jwk: JWK): JWK {
  const names = jwk.kty === 'RSA' ? (['kty', 'n', 'e'] as const) : (['kty', 'crv', 'x', 'y'] as const);
  const out: JWK = {};
  for (const n of names) {
    const v = jwk[n];
    if (typeof v === 'string') out[n] = v;
  }
  return out;
}

/** The public CryptoKey for a PKCS#8-imported private key (the import keeps the private members). */
async function publicFromPrivate(privateKey: CryptoKey, alg: SigningAlgorithm): Promise<CryptoKey> {
  const pub = publicMembers(await exportJWK(privateKey));
  const key = await importJWK({ ...pub, alg }, alg);
  if (key instanceof Uint8Array) throw new Error('unexpected symmetric key');
  return key;
}

export class KeySet {
  private keys: SigningKey[];
  private readonly opts: KeySetOptions;

  private constructor(keys: SigningKey[], opts: KeySetOptions) {
    this.keys = keys;
    this.opts = opts;
  }

  private now(): Date {
    return this.opts.now ? this.opts.now() : new Date();
  }

  /** A fresh in-memory (or, with `dir`, newly written) key set with one active key. */
  static async generate(opts: KeySetOptions): Promise<KeySet> {
    const set = new KeySet([], opts);
    set.keys = [await newKey(opts.alg ?? 'RS256', set.now())];
    await set.persist();
    return set;
  }

  /** Loads `dir` (opts.dir) if it holds a key set, else generates one there. */
  static async loadOrCreate(opts: KeySetOptions & { dir: string }): Promise<KeySet> {
    const loaded = await KeySet.load(opts);
    return loaded ?? KeySet.generate(opts);
  }

  /** Loads the key set in `opts.dir`; undefined when the directory has none yet. */
  static async load(opts: KeySetOptions & { dir: string }): Promise<KeySet | undefined> {
    let text: string;
    try {
      text = await readFile(join(opts.dir, METADATA_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`cannot read ${join(opts.dir, METADATA_FILE)}`, { cause: err });
    }
    let meta: Metadata;
    try {
      meta = JSON.parse(text) as Metadata;
    } catch (err) {
      throw new Error(`${join(opts.dir, METADATA_FILE)} is not valid JSON`, { cause: err });
    }
    if (meta.version !== 1 || !Array.isArray(meta.keys) || typeof meta.active !== 'string') {
      throw new Error(`${join(opts.dir, METADATA_FILE)}: unsupported key metadata`);
    }
    const keys: SigningKey[] = [];
    for (const entry of meta.keys) {
      if (!isSigningAlgorithm(entry.alg) || !/^[A-Za-z0-9_-]+\.pem$/.test(entry.file)) {
        throw new Error(`${join(opts.dir, METADATA_FILE)}: bad entry for key ${String(entry.kid)}`);
      }
      const pem = await readFile(join(opts.dir, entry.file), 'utf8');
      const privateKey = await importPKCS8(pem, entry.alg, { extractable: true });
      const key = await fromKeys(
        entry.alg,
        privateKey,
        await publicFromPrivate(privateKey, entry.alg),
        new Date(entry.createdAt),
        entry.retiredAt === undefined ? undefined : new Date(entry.retiredAt),
      );
      if (key.kid !== entry.kid) {
        throw new Error(`${join(opts.dir, entry.file)}: key does not match kid ${entry.kid}`);
      }
      keys.push(key);
    }
    const active = keys.find((k) => k.kid === meta.active && k.retiredAt === undefined);
    if (!active) throw new Error(`${join(opts.dir, METADATA_FILE)}: active key ${meta.active} missing`);
    const set = new KeySet([active, ...keys.filter((k) => k !== active)], opts);
    await set.prune();
    return set;
  }

  /** The key that signs new tokens. */
  active(): SigningKey {
    const first = this.keys[0];
    if (!first) throw new Error('key set is empty');
    return first;
  }

  /** Every key still published (active first), after dropping the expired retired ones. */
  published(): readonly SigningKey[] {
    const now = this.now().getTime();
    return this.keys.filter(
      (k) => k.retiredAt === undefined || k.retiredAt.getTime() + this.opts.retentionSeconds * 1000 > now,
    );
  }

  find(kid: string): SigningKey | undefined {
    return this.published().find((k) => k.kid === kid);
  }

  /** The JWKS document: public keys only. */
  jwks(): { keys: JWK[] } {
    return { keys: this.published().map((k) => ({ ...k.publicJwk })) };
  }

  /** Makes a new active key; the old one is retired and stays published for `retentionSeconds`. */
  async rotate(): Promise<SigningKey> {
    const now = this.now();
    const fresh = await newKey(this.opts.alg ?? this.active().alg, now);
    this.keys = [fresh, ...this.keys.map((k) => (k.retiredAt === undefined ? { ...k, retiredAt: now } : k))];
    await this.prune();
    await this.persist();
    return fresh;
  }

  /** Drops retired keys whose tokens have all expired (and their files). Returns the dropped kids. */
  async prune(): Promise<string[]> {
    const keep = new Set(this.published());
    const dropped = this.keys.filter((k) => !keep.has(k));
    if (dropped.length === 0) return [];
    this.keys = this.keys.filter((k) => keep.has(k));
    await this.persist();
    if (this.opts.dir) {
      for (const k of dropped) await unlink(join(this.opts.dir, `${k.kid}.pem`)).catch(() => undefined);
    }
    return dropped.map((k) => k.kid);
  }

  private async persist(): Promise<void> {
    const dir = this.opts.dir;
    if (!dir) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const entries: MetadataEntry[] = [];
    for (const k of this.keys) {
      const file = `${k.kid}.pem`;
      // key files first, metadata last: a crash midway leaves the old metadata pointing at files that exist
      await writeFileAtomic(join(dir, file), await exportPKCS8(k.privateKey), 0o600);
      const entry: MetadataEntry = { kid: k.kid, alg: k.alg, file, createdAt: k.createdAt.toISOString() };
      if (k.retiredAt) entry.retiredAt = k.retiredAt.toISOString();
      entries.push(entry);
    }
    const meta: Metadata = { version: 1, active: this.active().kid, keys: entries };
    await writeFileAtomic(join(dir, METADATA_FILE), `${JSON.stringify(meta, null, 2)}\n`, 0o600);
  }
}
