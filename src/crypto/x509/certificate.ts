import { Certificate } from '@peculiar/asn1-x509';
import { BadParameter } from '../../errors/index.js';
import { parseDer } from './der.js';
import { type ExtensionFacts, declaredSubjectKeyId, readExtensions } from './read-extensions.js';

export interface ParsedCertificate {
  certificate: Certificate;
  extensions: ExtensionFacts;
  subjectKeyId: Buffer | undefined;
}

/** Decodes a certificate and its extensions; anything malformed is BadParameter(`problem`). */
export function parseCertificate(der: Buffer, problem: string): ParsedCertificate {
  const certificate = parseDer(der, Certificate, problem);
  const { extensions } = certificate.tbsCertificate;
  try {
    return {
      certificate,
      extensions: readExtensions(extensions),
      subjectKeyId: declaredSubjectKeyId(extensions),
    };
  } catch {
    throw new BadParameter(`${problem}: one of its extensions is malformed.`);
  }
}
