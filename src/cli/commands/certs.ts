/**
 * `podsec certs`: a CA and serving certificate for clusters without cert-manager, and the CA put
 * where the API server reads it (`caBundle` of the webhook registrations), either in manifest
 * files (`--inject`) or in the cluster (`--patch-webhooks`). Only webhooks whose clientConfig
 * points at the given Service are touched, so a file or cluster with other webhooks is safe.
 */
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isSeq, parseAllDocuments, type Document } from 'yaml';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import type { KubeObject } from '../../kube/types.js';
import { PodsecError, UsageError } from '../../lib/errors.js';
import {
  checkKeyPair,
  generateCertificates,
  generateClientCa,
  generateNmiClientCertificate,
  isNodeName,
  writeFileAtomic,
  KEY_ALGORITHMS,
  type ClientCa,
  type KeyAlgorithm,
} from '../../lib/tls/index.js';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';

export interface CertsOptions {
  readonly service: string;
  readonly namespace: string;
  readonly out: string;
  readonly days?: string | undefined;
  readonly algorithm?: string | undefined;
  readonly localhost?: boolean | undefined;
  readonly inject?: readonly string[] | undefined;
  readonly patchWebhooks?: boolean | undefined;
  readonly state?: string | undefined;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  /** --nmi-client: write NMI client certificates for these nodes (and nothing else). */
  readonly nmiClients?: readonly string[] | undefined;
}

export interface CertsRuntime {
  readonly openSource?:
    ((o: { state?: string; kubeconfig?: string; context?: string }) => Promise<ClusterSource>) | undefined;
  readonly stdout?: { write(text: string): unknown } | undefined;
}

/** The label the podsec webhook registrations carry (deploy/base/validating-webhooks.yaml). */
export const WEBHOOK_SELECTOR = 'app.kubernetes.io/name=podsec';
const WEBHOOK_KIND = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingWebhookConfiguration',
};
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

class InjectError extends PodsecError {
  constructor(file: string, message: string) {
    super('INPUT_PARSE', `${file}: ${message}`, { location: { file } });
  }
}

function parseDays(text: string | undefined): number {
  if (text === undefined) return 365;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 3650)
    throw new UsageError(`--days must be a whole number from 1 to 3650, got "${text}"`);
  return n;
}

function parseAlgorithm(text: string | undefined): KeyAlgorithm {
  if (text === undefined) return 'ecdsa-p256';
  if (!(KEY_ALGORITHMS as readonly string[]).includes(text)) {
    throw new UsageError(`--algorithm must be one of ${KEY_ALGORITHMS.join(', ')}, got "${text}"`);
  }
  return text as KeyAlgorithm;
}

/** Whether a webhook's clientConfig points at our Service (namespace may be left to kustomize). */
function pointsAt(clientConfig: unknown, service: string, namespace: string): boolean {
  if (typeof clientConfig !== 'object' || clientConfig === null) return false;
  const svc = (clientConfig as { service?: { name?: unknown; namespace?: unknown } }).service;
  if (svc === undefined || svc === null || svc.name !== service) return false;
  return svc.namespace === undefined || svc.namespace === namespace;
}

const REGISTRATION_KINDS = new Set(['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']);

/** Sets caBundle in a YAML document's webhooks that point at the Service; returns how many. */
function injectDocument(doc: Document, caBundle: string, service: string, namespace: string): number {
  const root = doc.contents;
  if (!isMap(root) || !REGISTRATION_KINDS.has(String(root.get('kind')))) return 0;
  const webhooks = root.get('webhooks');
  if (!isSeq(webhooks)) return 0;
  let count = 0;
  webhooks.items.forEach((item, i) => {
    if (!isMap(item)) return;
    const clientConfig = item.get('clientConfig');
    const plain: unknown = isMap(clientConfig) ? clientConfig.toJSON() : undefined;
    if (!pointsAt(plain, service, namespace)) return;
    doc.setIn(['webhooks', i, 'clientConfig', 'caBundle'], caBundle);
    count++;
  });
  return count;
}

/** Rewrites one manifest file in place (atomically, keeping comments and its mode). */
export async function injectCaBundle(
  file: string,
  caBundle: string,
  service: string,
  namespace: string,
): Promise<number> {
  let text: string;
  let mode = 0o644;
  try {
    text = await readFile(file, 'utf8');
    mode = (await stat(file)).mode & 0o777;
  } catch (err) {
    throw new PodsecError('INPUT_UNREADABLE', `cannot read ${file}`, { cause: err });
  }
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new InjectError(file, 'not YAML');
  for (const d of docs) {
    if (d.errors.length > 0) throw new InjectError(file, `not valid YAML: ${d.errors[0]?.message ?? ''}`);
  }
  let count = 0;
  for (const d of docs) count += injectDocument(d, caBundle, service, namespace);
  if (count === 0) {
    throw new InjectError(
      file,
      `no webhook registration whose clientConfig.service is ${namespace}/${service}`,
    );
  }
  const isJson = /\.json$/i.test(file);
  const output = isJson
    ? `${JSON.stringify(docs.length === 1 ? docs[0]?.toJS() : docs.map((d) => d.toJS() as unknown), null, 2)}\n`
    : docs.map((d, i) => (i === 0 ? d.toString() : `---\n${d.toString()}`)).join('');
  await writeFileAtomic(file, output, mode);
  return count;
}

/** Sets caBundle on the cluster's podsec registrations; returns the names updated. */
export async function patchWebhooks(
  source: ClusterSource,
  caBundle: string,
  service: string,
  namespace: string,
): Promise<string[]> {
  const patched: string[] = [];
  const names: string[] = [];
  for await (const page of source.listPages(WEBHOOK_KIND, { labelSelector: WEBHOOK_SELECTOR })) {
    for (const o of page) if (o.metadata?.name !== undefined) names.push(o.metadata.name);
  }
  for (const name of names) {
    for (let attempt = 0; ; attempt++) {
      const current = await source.get({ ...WEBHOOK_KIND, name });
      if (current === undefined) break;
      const next = structuredClone(current) as KubeObject & {
        webhooks?: { clientConfig?: Record<string, unknown> }[];
      };
      let changed = 0;
      for (const w of next.webhooks ?? []) {
        if (w.clientConfig !== undefined && pointsAt(w.clientConfig, service, namespace)) {
          w.clientConfig['caBundle'] = caBundle;
          changed++;
        }
      }
      if (changed === 0) break;
      try {
        await source.update(next);
        patched.push(name);
        break;
      } catch (err) {
        const conflict = err instanceof Error && err.name === 'ConflictError';
        if (!conflict || attempt >= 4) throw err;
      }
    }
  }
  return patched;
}

async function defaultOpenSource(o: {
  state?: string;
  kubeconfig?: string;
  context?: string;
}): Promise<ClusterSource> {
  const { openClusterSource } = await import('../../kube/cluster-source/index.js');
  return openClusterSource(o);
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PodsecError('INPUT_UNREADABLE', `cannot read ${file}`, { cause: err });
  }
}

/**
 * `--nmi-client`: the client CA in --out is reused (so certificates of nodes added later chain to
 * the CA the issuer already trusts) or created; one certificate and key per node. Nothing else
 * in --out is touched.
 */
async function writeNmiClients(
  opts: CertsOptions,
  days: number,
  out: { write(text: string): unknown },
): Promise<number> {
  const nodes = [...new Set(opts.nmiClients ?? [])];
  const bad = nodes.filter((n) => !isNodeName(n));
  if (bad.length > 0) {
    throw new UsageError(
      `--nmi-client takes node names (lower-case DNS names), got ${bad.map((b) => `"${b}"`).join(', ')}`,
    );
  }
  if (opts.inject !== undefined || opts.patchWebhooks === true || opts.localhost === true) {
    throw new UsageError(
      '--nmi-client writes client certificates only: drop --inject, --patch-webhooks and --localhost',
    );
  }
  const caCertFile = join(opts.out, 'client-ca.crt');
  const caKeyFile = join(opts.out, 'client-ca.key');
  await mkdir(opts.out, { recursive: true, mode: 0o755 });
  const existingCert = await readIfPresent(caCertFile);
  const existingKey = await readIfPresent(caKeyFile);
  let ca: ClientCa;
  if (existingCert !== undefined && existingKey !== undefined) {
    const check = checkKeyPair(existingCert, existingKey);
    if (!check.ok) throw new UsageError(`${caCertFile} and ${caKeyFile} cannot be used: ${check.message}`);
    ca = { cert: existingCert, key: existingKey };
    out.write(`using the client CA in ${caCertFile}\n`);
  } else if (existingCert !== undefined || existingKey !== undefined) {
    throw new UsageError(
      `${opts.out} holds only one of client-ca.crt and client-ca.key: restore the other or remove both`,
    );
  } else {
    ca = await generateClientCa();
    await writeFileAtomic(caCertFile, ca.cert, 0o644);
    await writeFileAtomic(caKeyFile, ca.key, 0o600);
    await chmod(caKeyFile, 0o600);
    out.write(
      `wrote ${caCertFile} and ${caKeyFile} (give ${caCertFile} to podsec identity issuer --client-ca)\n`,
    );
  }
  for (const node of nodes) {
    const c = await generateNmiClientCertificate(ca, node, { days });
    const certFile = join(opts.out, `nmi-${node}.crt`);
    const keyFile = join(opts.out, `nmi-${node}.key`);
    await writeFileAtomic(certFile, c.cert, 0o644);
    await writeFileAtomic(keyFile, c.key, 0o600);
    await chmod(keyFile, 0o600);
    out.write(
      `wrote ${certFile} and ${keyFile} for node ${node} (valid until ${c.notAfter.toISOString()})\n`,
    );
  }
  return EXIT_OK;
}

export async function runCerts(opts: CertsOptions, runtime: CertsRuntime = {}): Promise<number> {
  const out = runtime.stdout ?? process.stdout;
  const days = parseDays(opts.days);
  if (opts.nmiClients !== undefined) return writeNmiClients(opts, days, out);
  const algorithm = parseAlgorithm(opts.algorithm);
  for (const [flag, value] of [
    ['--service', opts.service],
    ['--namespace', opts.namespace],
  ] as const) {
    if (!DNS_LABEL.test(value))
      throw new UsageError(`${flag} must be a DNS label (lower-case letters, digits, -), got "${value}"`);
  }
  if (opts.state !== undefined && opts.kubeconfig !== undefined) {
    throw new UsageError('--state and --kubeconfig cannot be combined');
  }
  if (
    (opts.state !== undefined || opts.kubeconfig !== undefined || opts.context !== undefined) &&
    opts.patchWebhooks !== true
  ) {
    throw new UsageError(
      '--state, --kubeconfig and --context only choose where --patch-webhooks writes',
      'add --patch-webhooks',
    );
  }

  const certs = await generateCertificates({
    service: opts.service,
    namespace: opts.namespace,
    days,
    algorithm,
    localhost: opts.localhost === true,
  });
  await mkdir(opts.out, { recursive: true, mode: 0o755 });
  await writeFileAtomic(join(opts.out, 'ca.crt'), certs.caCert, 0o644);
  await writeFileAtomic(join(opts.out, 'tls.crt'), certs.cert, 0o644);
  await writeFileAtomic(join(opts.out, 'tls.key'), certs.key, 0o600);
  await chmod(join(opts.out, 'tls.key'), 0o600);
  out.write(
    `wrote ${join(opts.out, 'ca.crt')}, ${join(opts.out, 'tls.crt')}, ${join(opts.out, 'tls.key')} (valid until ${certs.notAfter.toISOString()})\n` +
      `names: ${[...certs.dnsNames, ...certs.ipAddresses].join(', ')}\n`,
  );

  const caBundle = Buffer.from(certs.caCert, 'utf8').toString('base64');
  for (const file of opts.inject ?? []) {
    const n = await injectCaBundle(file, caBundle, opts.service, opts.namespace);
    out.write(`injected caBundle into ${n} webhook${n === 1 ? '' : 's'} in ${file}\n`);
  }

  if (opts.patchWebhooks === true) {
    const sourceOptions: { state?: string; kubeconfig?: string; context?: string } = {};
    if (opts.state !== undefined) sourceOptions.state = opts.state;
    if (opts.kubeconfig !== undefined) sourceOptions.kubeconfig = opts.kubeconfig;
    if (opts.context !== undefined) sourceOptions.context = opts.context;
    const source = await (runtime.openSource ?? defaultOpenSource)(sourceOptions);
    try {
      const patched = await patchWebhooks(source, caBundle, opts.service, opts.namespace);
      if (patched.length === 0) {
        process.stderr.write(
          `podsec: no ValidatingWebhookConfiguration labelled ${WEBHOOK_SELECTOR} points at ${opts.namespace}/${opts.service}\n`,
        );
        return EXIT_USAGE;
      }
      out.write(`patched caBundle of ${patched.join(', ')} in ${source.description}\n`);
    } finally {
      await source.close();
    }
  }
  return EXIT_OK;
}
