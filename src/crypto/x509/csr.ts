import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { id_pkcs9_at_extensionRequest } from '@peculiar/asn1-pkcs9';
import { Attribute, Extensions } from '@peculiar/asn1-x509';
import { InternalError } from '../../errors/index.js';
import { arrayBufferOf, parseDer, toDer } from './der.js';
import { formatName, subjectName } from './dn.js';
import {
  basicConstraintsExtension,
  checkEkus,
  checkKeyUsages,
  extendedKeyUsageExtension,
  keyUsageExtension,
  present,
  subjectAltNameExtension,
} from './extensions.js';
import { generalNames } from './sans.js';
import { signDer, signatureAlgorithmIdentifier, signatureVerifies } from './signature.js';
import { subjectPublicKeyInfo } from './spki.js';
import type { Signer, SubjectFields } from './types.js';

/**
 * A DER PKCS#10 request signed by `signer` (which must hold the key of `publicKeySpki`), with an
 * extensionRequest carrying keyUsage (critical), extendedKeyUsage, subjectAltName and
 * basicConstraints cA:false, as Azure's pending-certificate CSRs do.
 */
export async function buildCsr(
  fields: SubjectFields,
  publicKeySpki: Buffer,
  signer: Signer,
): Promise<Buffer> {
  const subject = subjectName(fields);
  const spki = subjectPublicKeyInfo(publicKeySpki);
  const requested = new Extensions(
    present(
      keyUsageExtension(checkKeyUsages(fields.keyUsage)),
      extendedKeyUsageExtension(checkEkus(fields.ekus)),
      subjectAltNameExtension(generalNames(fields.sans), subject.length === 0),
      basicConstraintsExtension(false),
    ),
  );
  const info = new CertificationRequestInfo({
    version: 0,
    subject,
    subjectPKInfo: spki,
    attributes: new Attributes([
      new Attribute({ type: id_pkcs9_at_extensionRequest, values: [arrayBufferOf(toDer(requested))] }),
    ]),
  });
  const infoDer = toDer(info);
  const signature = await signDer(signer, infoDer);
  if (!signatureVerifies(signer.alg, infoDer, signature, toDer(spki))) {
    throw new InternalError(
      `The ${signer.alg} CSR signature does not verify with the requested public key: the signer holds another key`,
    );
  }
  return toDer(
    new CertificationRequest({
      certificationRequestInfo: info,
      signatureAlgorithm: signatureAlgorithmIdentifier(signer.alg),
      signature: arrayBufferOf(signature),
    }),
  );
}

/** The subject and public key of a DER PKCS#10 request (its signature is not checked). */
export function inspectCsr(der: Buffer): { subject: string; publicKeySpki: Buffer } {
  const csr = parseDer(
    der,
    CertificationRequest,
    'The CSR is not a valid PKCS#10 certification request (DER).',
  );
  const info = csr.certificationRequestInfo;
  return { subject: formatName(info.subject), publicKeySpki: toDer(info.subjectPKInfo) };
}
