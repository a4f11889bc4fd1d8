import { createHash, createPublicKey } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { BadParameter } from '../../errors/index.js';

/** The DER node:crypto writes for a SubjectPublicKeyInfo, so equal keys have equal bytes. */
export function normalisedSpki(spki: Buffer, what = 'The public key'): Buffer {
  try {
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    return key.export({ type: 'spki', format: 'der' });
  } catch {
    throw new BadParameter(`${what} is not a valid SubjectPublicKeyInfo (DER).`);
  }
}

/** The SubjectPublicKeyInfo structure for a certificate or request, validated and normalised. */
export function subjectPublicKeyInfo(spki: Buffer): SubjectPublicKeyInfo {
  return AsnConvert.parse(normalisedSpki(spki), SubjectPublicKeyInfo);
}

/** Whether two SubjectPublicKeyInfo DERs denote the same public key. */
export function samePublicKey(a: Buffer, b: Buffer): boolean {
  return normalisedSpki(a).equals(normalisedSpki(b));
}

/** RFC 5280 section 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits. */
export function keyIdentifier(spki: SubjectPublicKeyInfo): Buffer {
  return createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest();
}
