import { randomBytes } from 'node:crypto';
import {
  Certificate,
  type Extension,
  Extensions,
  type Name,
  TBSCertificate,
  Version,
} from '@peculiar/asn1-x509';
import { BadParameter, InternalError } from '../../errors/index.js';
import { parseCertificate } from './certificate.js';
import { arrayBufferOf, toDer } from './der.js';
import { subjectName } from './dn.js';
import {
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  checkEkus,
  checkKeyUsages,
  extendedKeyUsageExtension,
  keyUsageExtension,
  present,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
} from './extensions.js';
import { generalNames } from './sans.js';
import { signDer, signatureAlgorithmIdentifier, signatureVerifies } from './signature.js';
import { keyIdentifier, subjectPublicKeyInfo } from './spki.js';
import type { Signer, SubjectFields } from './types.js';
import { validity } from './validity.js';

export interface IssueOptions {
  fields: SubjectFields;
  publicKeySpki: Buffer;
  notBefore: Date;
  notAfter: Date;
  signer: Signer;
  /** The issuing CA's certificate DER; absent = self-signed (issuer = subject, AKI = own SKI). */
  issuerCertificate?: Buffer;
  /** basicConstraints cA:true. Default: true when keyUsage contains keyCertSign, else false. */
  isCa?: boolean;
}

interface Issuer {
  name: Name;
  keyId: Buffer;
  spki: Buffer;
}

/**
 * Builds an X.509 v3 certificate, has `signer` sign it and returns its DER. Throws BadParameter
 * for invalid fields or an issuer that is not a CA, and InternalError when the signature does not
 * verify with the issuer's key (the signer holds some other key).
 */
export async function issueCertificate(options: IssueOptions): Promise<Buffer> {
  const subject = subjectName(options.fields);
  const spki = subjectPublicKeyInfo(options.publicKeySpki);
  const ownKeyId = keyIdentifier(spki);
  const issuer = options.issuerCertificate
    ? issuerOf(options.issuerCertificate)
    : { name: subject, keyId: ownKeyId, spki: toDer(spki) };
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: randomSerial(),
    signature: signatureAlgorithmIdentifier(options.signer.alg),
    issuer: issuer.name,
    validity: validity(options.notBefore, options.notAfter),
    subject,
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(certificateExtensions(options, subject, ownKeyId, issuer.keyId)),
  });
  const signatureValue = await signChecked(options.signer, toDer(tbs), issuer);
  return toDer(
    new Certificate({
      tbsCertificate: tbs,
      signatureAlgorithm: signatureAlgorithmIdentifier(options.signer.alg),
      signatureValue: arrayBufferOf(signatureValue),
    }),
  );
}

function certificateExtensions(
  { fields, isCa }: IssueOptions,
  subject: Name,
  ownKeyId: Buffer,
  issuerKeyId: Buffer,
): Extension[] {
  const keyUsage = checkKeyUsages(fields.keyUsage);
  return present(
    basicConstraintsExtension(isCa ?? keyUsage.includes('keyCertSign')),
    keyUsageExtension(keyUsage),
    extendedKeyUsageExtension(checkEkus(fields.ekus)),
    subjectAltNameExtension(generalNames(fields.sans), subject.length === 0),
    subjectKeyIdentifierExtension(ownKeyId),
    authorityKeyIdentifierExtension(issuerKeyId),
  );
}

function issuerOf(der: Buffer): Issuer {
  const parsed = parseCertificate(der, 'The issuer certificate is not a valid X.509 certificate (DER)');
  const tbs = parsed.certificate.tbsCertificate;
  const { isCa, keyUsage } = parsed.extensions;
  if (!isCa) {
    throw new BadParameter(
      'The issuer certificate is not a CA certificate (basicConstraints cA is not set).',
    );
  }
  if (keyUsage.length > 0 && !keyUsage.includes('keyCertSign')) {
    throw new BadParameter(
      'The issuer certificate may not sign certificates: its key usage lacks keyCertSign.',
    );
  }
  // The CA's declared key id, not a recomputed one, is what chain builders match the AKI against.
  const keyId = parsed.subjectKeyId ?? keyIdentifier(tbs.subjectPublicKeyInfo);
  return { name: tbs.subject, keyId, spki: toDer(tbs.subjectPublicKeyInfo) };
}

async function signChecked(signer: Signer, tbs: Buffer, issuer: Issuer): Promise<Buffer> {
  const signature = await signDer(signer, tbs);
  if (!signatureVerifies(signer.alg, tbs, signature, issuer.spki)) {
    throw new InternalError(
      `The ${signer.alg} certificate signature does not verify with the issuing public key (the certificate's own for a self-signed one): the signer holds another key`,
    );
  }
  return signature;
}

/** 16 random bytes with the top bit clear and the first byte non-zero: a positive 16-byte serial (RFC 5280). */
function randomSerial(): ArrayBuffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return arrayBufferOf(serial);
}
