/**
 * Client certificates that prove which node an NMI runs on, for the issuer's mint API. The
 * issuer trusts one client CA (`--client-ca`) and reads the node from the leaf's subject
 * (`CN=podsec-nmi:<node>`, also a URI SAN `podsec-nmi:<node>`), so the node is proven by a
 * certificate the operator issued, never asserted by the caller. Unlike the webhook's serving
 * CA, this CA's key is kept (0600) so certificates for nodes added later share the same CA.
 */
import { webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/** The subject prefix every NMI client certificate carries before the node name. */
export const NMI_CLIENT_CN_PREFIX = 'podsec-nmi:';
/** A Kubernetes node name (DNS subdomain). */
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

const DAY_MS = 86_400_000;
const SKEW_MS = 60_000;
const GEN: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

export interface ClientCa {
  /** PEM of the CA certificate: what the issuer's `--client-ca` reads. */
  readonly cert: string;
  /** PEM (PKCS#8) of the CA key. */
  readonly key: string;
}

export interface ClientCertificate {
  readonly cert: string;
  readonly key: string;
  readonly node: string;
  readonly notAfter: Date;
}

export function isNodeName(name: string): boolean {
  return name.length <= 253 && NODE_NAME.test(name);
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

function validity(days: number | undefined, now: Date | undefined): { notBefore: Date; notAfter: Date } {
  const d = days ?? 365;
  if (!Number.isInteger(d) || d < 1 || d > 3650) {
    throw new RangeError(`days must be an integer from 1 to 3650, got ${d}`);
  }
  const notBefore = new Date((now ?? new Date()).getTime() - SKEW_MS);
  return { notBefore, notAfter: new Date(notBefore.getTime() + SKEW_MS + d * DAY_MS) };
}

function pemKey(pkcs8: ArrayBuffer): string {
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n';
}

/** A new CA for NMI client certificates (ECDSA P-256). */
export async function generateClientCa(
  opts: { days?: number | undefined; now?: Date | undefined } = {},
): Promise<ClientCa> {
  const { notBefore, notAfter } = validity(opts.days ?? 3650, opts.now);
  const keys = await webcrypto.subtle.generateKey(GEN, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: 'CN=podsec NMI client CA',
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return {
    cert: ca.toString('pem') + '\n',
    key: pemKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
  };
}

/** A client certificate for the NMI on `node`, signed by `ca` (clientAuth only). */
export async function generateNmiClientCertificate(
  ca: ClientCa,
  node: string,
  opts: { days?: number | undefined; now?: Date | undefined } = {},
): Promise<ClientCertificate> {
  if (!isNodeName(node)) throw new RangeError(`not a node name: "${node}"`);
  const { notBefore, notAfter } = validity(opts.days, opts.now);
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.key), GEN, false, [
    'sign',
  ]);
  const keys = await webcrypto.subtle.generateKey(GEN, true, ['sign', 'verify']);
  const leaf = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: `CN=${NMI_CLIENT_CN_PREFIX}${node}`,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `${NMI_CLIENT_CN_PREFIX}${node}` }]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return {
    cert: leaf.toString('pem') + '\n',
    key: pemKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    node,
    notAfter,
  };
}
