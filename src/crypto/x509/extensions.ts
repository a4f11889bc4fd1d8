import { OctetString } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  GeneralName,
  KeyIdentifier,
  KeyUsage as KeyUsageBits,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { BadParameter } from '../../errors/index.js';
import { toDer } from './der.js';
import { isObjectIdentifier } from './oid.js';
import { KEY_USAGES, type KeyUsage } from './types.js';

/** Validates requested key usages; duplicates are dropped, order does not matter (it is a bit string). */
export function checkKeyUsages(usages: unknown): KeyUsage[] {
  if (usages === undefined || usages === null) return [];
  if (!Array.isArray(usages))
    throw new BadParameter(`The key usage must be an array of ${KEY_USAGES.join(', ')}.`);
  for (const usage of usages) {
    if (!KEY_USAGES.includes(usage as KeyUsage)) {
      throw new BadParameter(`"${String(usage)}" is not a key usage: use ${KEY_USAGES.join(', ')}.`);
    }
  }
  return KEY_USAGES.filter((usage) => usages.includes(usage));
}

/** Validates requested extended key usages (dotted OIDs); duplicates are dropped. */
export function checkEkus(ekus: unknown): string[] {
  if (ekus === undefined || ekus === null) return [];
  if (!Array.isArray(ekus))
    throw new BadParameter('The extended key usages must be an array of dotted OIDs.');
  for (const eku of ekus) {
    if (!isObjectIdentifier(eku)) {
      throw new BadParameter(
        `"${String(eku)}" is not an extended key usage OID: write it dotted, e.g. 1.3.6.1.5.5.7.3.1 for server authentication.`,
      );
    }
  }
  return [...new Set(ekus as string[])];
}

// RFC 5280 4.2.1.9: a CA certificate's basicConstraints MUST be critical; marking it so on
// end-entity certificates too is common (OpenSSL, Windows) and harmless.
export function basicConstraintsExtension(isCa: boolean): Extension {
  return extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: isCa }));
}

export function keyUsageExtension(usages: KeyUsage[]): Extension | undefined {
  if (usages.length === 0) return undefined;
  // Bit i of KEY_USAGES is flag 2^i; BitString drops the trailing zero bits as DER requires.
  const flags = usages.reduce((sum, usage) => sum | (1 << KEY_USAGES.indexOf(usage)), 0);
  return extension(id_ce_keyUsage, true, new KeyUsageBits(flags));
}

export function extendedKeyUsageExtension(ekus: string[]): Extension | undefined {
  return ekus.length === 0 ? undefined : extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage(ekus));
}

/** RFC 5280 4.2.1.6: critical when the subject is empty, since the SANs are then the only identity. */
export function subjectAltNameExtension(names: GeneralName[], subjectEmpty: boolean): Extension | undefined {
  if (names.length === 0) return undefined;
  return extension(id_ce_subjectAltName, subjectEmpty, new SubjectAlternativeName(names));
}

export function subjectKeyIdentifierExtension(keyId: Buffer): Extension {
  return extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId));
}

export function authorityKeyIdentifierExtension(keyId: Buffer): Extension {
  const value = new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyId) });
  return extension(id_ce_authorityKeyIdentifier, false, value);
}

/** Extensions in the order given, skipping absent ones. */
export function present(...extensions: (Extension | undefined)[]): Extension[] {
  return extensions.filter((item): item is Extension => item !== undefined);
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(toDer(value)) });
}
