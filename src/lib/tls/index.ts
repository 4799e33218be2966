/** Public surface of certificate handling: generation, checked loading, and file watching for reloads. */
export { generateCertificates, servingNames, KEY_ALGORITHMS } from './generate.js';
export type { CertificateRequest, GeneratedCertificates, KeyAlgorithm } from './generate.js';
export { checkKeyPair, readKeyPair } from './key-pair.js';
export type { KeyPair, KeyPairResult } from './key-pair.js';
export { watchFiles } from './file-watch.js';
export type { FileWatch, FileWatchOptions } from './file-watch.js';
export { writeFileAtomic } from './atomic-write.js';
export {
  generateClientCa,
  generateNmiClientCertificate,
  isNodeName,
  NMI_CLIENT_CN_PREFIX,
} from './client-certs.js';
export type { ClientCa, ClientCertificate } from './client-certs.js';
