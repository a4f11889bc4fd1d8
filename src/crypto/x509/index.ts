export type { Name as DistinguishedName } from '@peculiar/asn1-x509';
export { orderChain } from './chain.js';
export { buildCsr, inspectCsr } from './csr.js';
export { formatName, normaliseSubject, parseSubject } from './dn.js';
export { inspectCertificate } from './inspect.js';
export { type IssueOptions, issueCertificate } from './issue.js';
export { signingAlgorithmFor } from './signature.js';
export { samePublicKey } from './spki.js';
export {
  type CertificateFacts,
  KEY_USAGES,
  type KeyUsage,
  type Signer,
  type SigningAlgorithm,
  type SubjectAlternativeNames,
  type SubjectFields,
} from './types.js';
