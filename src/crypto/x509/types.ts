/** JWS names of the signature algorithms certificates are signed with (Azure's key operation names). */
export type SigningAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512' | 'ES256K';

/**
 * Signs a digest the caller computed, so the private key can stay behind a KeyProvider (an HSM
 * later). RSA: PKCS#1 v1.5 signature bytes. EC: raw r||s (JWS form); this module converts it to
 * the DER that X.509 carries.
 */
export interface Signer {
  alg: SigningAlgorithm;
  sign(digest: Buffer): Promise<Buffer>;
}

export interface SubjectAlternativeNames {
  dnsNames?: string[];
  emails?: string[];
  upns?: string[];
  uris?: string[];
  ipAddresses?: string[];
}

/** Azure's KeyUsageType names, which are also the RFC 5280 KeyUsage bit names. */
export type KeyUsage =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** In RFC 5280 bit order: index i is bit i of the KeyUsage BIT STRING. */
export const KEY_USAGES: readonly KeyUsage[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

/** What a certificate or request says about its subject (Azure's x509_props). */
export interface SubjectFields {
  subject: string;
  sans?: SubjectAlternativeNames;
  keyUsage?: KeyUsage[];
  ekus?: string[];
}

export interface CertificateFacts {
  /** The subject DN in parseSubject's syntax, RDNs in the order the certificate encodes them. */
  subject: string;
  issuer: string;
  /** Only the kinds the certificate has. */
  sans: SubjectAlternativeNames;
  keyUsage: KeyUsage[];
  /** Dotted OIDs. */
  ekus: string[];
  /** Unix seconds. */
  notBefore: number;
  notAfter: number;
  /** Hex, upper case, without a DER sign byte (as OpenSSL and node:crypto show it). */
  serialNumber: string;
  /** SHA-1 thumbprint of the DER, base64url without padding. */
  x5t: string;
  /** basicConstraints cA. */
  isCa: boolean;
  /** SubjectPublicKeyInfo DER. */
  publicKeySpki: Buffer;
  /** Subject and issuer are the same name. */
  selfIssued: boolean;
}
