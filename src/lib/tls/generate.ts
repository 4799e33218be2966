/**
 * Certificates for the admission webhook when no cert-manager is around: a private CA and a
 * serving certificate for `<service>.<namespace>.svc`, made with WebCrypto and @peculiar/x509
 * (no openssl at run time). The CA key is never written out: rotating means running
 * `podsec certs` again and re-injecting the new caBundle, which keeps the blast radius of a
 * leaked directory to one serving pair.
 */
import { webcrypto } from 'node:crypto';
// @peculiar/x509 resolves its providers through tsyringe, which needs the Reflect metadata polyfill first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export const KEY_ALGORITHMS = ['ecdsa-p256', 'rsa-2048'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export interface CertificateRequest {
  /** The Service name, e.g. `podsec-webhook`. */
  readonly service: string;
  readonly namespace: string;
  /** Validity of both certificates, in days (default 365). */
  readonly days?: number | undefined;
  /** Also valid for `localhost` and 127.0.0.1 (local runs and tests). */
  readonly localhost?: boolean | undefined;
  /** Extra DNS names or IP addresses. */
  readonly extraNames?: readonly string[] | undefined;
  readonly algorithm?: KeyAlgorithm | undefined;
  /** The start of validity (default now, one minute back for clock skew). */
  readonly now?: Date | undefined;
}

export interface GeneratedCertificates {
  /** PEM of the CA certificate: what goes into `caBundle`. */
  readonly caCert: string;
  /** PEM of the serving certificate. */
  readonly cert: string;
  /** PEM (PKCS#8) of the serving key. */
  readonly key: string;
  /** The names the serving certificate is valid for. */
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly notAfter: Date;
}

const DAY_MS = 86_400_000;
const SKEW_MS = 60_000;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isIpAddress(name: string): boolean {
  return IPV4.test(name) || (name.includes(':') && /^[0-9a-fA-F:.]+$/.test(name));
}

/** Every DNS name and IP address a serving certificate for this request covers. */
export function servingNames(req: CertificateRequest): { dnsNames: string[]; ipAddresses: string[] } {
  const dns = [
    req.service,
    `${req.service}.${req.namespace}`,
    `${req.service}.${req.namespace}.svc`,
    `${req.service}.${req.namespace}.svc.cluster.local`,
  ];
  const ips: string[] = [];
  if (req.localhost === true) {
    dns.push('localhost');
    ips.push('127.0.0.1', '::1');
  }
  for (const n of req.extraNames ?? []) (isIpAddress(n) ? ips : dns).push(n);
  return { dnsNames: [...new Set(dns)], ipAddresses: [...new Set(ips)] };
}

function keyParams(algorithm: KeyAlgorithm): {
  gen: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams;
  sign: webcrypto.EcdsaParams | webcrypto.Algorithm;
} {
  if (algorithm === 'rsa-2048') {
    return {
      gen: {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      sign: { name: 'RSASSA-PKCS1-v1_5' },
    };
  }
  return { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } };
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive INTEGER
  if (bytes[0] === 0) bytes[0] = 1;
  return Buffer.from(bytes).toString('hex');
}

/** RFC 4514 escaping for a CN value built from user-given names. */
function cn(value: string): string {
  return `CN=${value.replace(/([,+"\\<>;=])/g, '\\$1')}`;
}

/** Makes a CA and a serving certificate signed by it. */
export async function generateCertificates(req: CertificateRequest): Promise<GeneratedCertificates> {
  const days = req.days ?? 365;
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new RangeError(`days must be an integer from 1 to 3650, got ${days}`);
  }
  const crypto = webcrypto;
  const { gen, sign } = keyParams(req.algorithm ?? 'ecdsa-p256');
  const start = new Date((req.now ?? new Date()).getTime() - SKEW_MS);
  const notAfter = new Date(start.getTime() + SKEW_MS + days * DAY_MS);
  const usage: webcrypto.KeyUsage[] = ['sign', 'verify'];

  const caKeys = await crypto.subtle.generateKey(gen, true, usage);
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: cn(`podsec-ca ${req.service}.${req.namespace}`),
      notBefore: start,
      notAfter,
      keys: caKeys,
      signingAlgorithm: sign,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  const { dnsNames, ipAddresses } = servingNames(req);
  const leafKeys = await crypto.subtle.generateKey(gen, true, usage);
  const digitalSignature =
    req.algorithm === 'rsa-2048'
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : x509.KeyUsageFlags.digitalSignature;
  const leaf = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: cn(`${req.service}.${req.namespace}.svc`),
      issuer: ca.subject,
      notBefore: start,
      notAfter,
      publicKey: leafKeys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: sign,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
          ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
        ]),
        await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  const pkcs8 = await crypto.subtle.exportKey('pkcs8', leafKeys.privateKey);
  return {
    caCert: ca.toString('pem') + '\n',
    cert: leaf.toString('pem') + '\n',
    key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n',
    dnsNames,
    ipAddresses,
    notAfter,
  };
}
