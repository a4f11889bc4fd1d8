import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  ExtendedKeyUsage,
  type Extension,
  KeyUsage as KeyUsageBits,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { readGeneralNames } from './sans.js';
import { KEY_USAGES, type KeyUsage, type SubjectAlternativeNames } from './types.js';

/** What inspection reports from a certificate's extensions; absent extensions give empty values. */
export interface ExtensionFacts {
  sans: SubjectAlternativeNames;
  keyUsage: KeyUsage[];
  ekus: string[];
  isCa: boolean;
}

/** Throws asn1-schema's plain Error for a malformed extension; callers turn it into BadParameter. */
export function readExtensions(extensions: Extension[] | undefined): ExtensionFacts {
  const facts: ExtensionFacts = { sans: {}, keyUsage: [], ekus: [], isCa: false };
  for (const { extnID, extnValue } of extensions ?? []) {
    const der = extnValue.buffer;
    if (extnID === id_ce_subjectAltName)
      facts.sans = readGeneralNames(AsnConvert.parse(der, SubjectAlternativeName));
    else if (extnID === id_ce_keyUsage) facts.keyUsage = keyUsages(AsnConvert.parse(der, KeyUsageBits));
    else if (extnID === id_ce_extKeyUsage) facts.ekus = [...AsnConvert.parse(der, ExtendedKeyUsage)];
    else if (extnID === id_ce_basicConstraints) facts.isCa = AsnConvert.parse(der, BasicConstraints).cA;
  }
  return facts;
}

function keyUsages(bits: KeyUsageBits): KeyUsage[] {
  const flags = bits.toNumber();
  return KEY_USAGES.filter((_usage, index) => (flags & (1 << index)) !== 0);
}

/** The subject key identifier a certificate declares, if any (used for AKI and chain building). */
export function declaredSubjectKeyId(extensions: Extension[] | undefined): Buffer | undefined {
  const ski = extensions?.find((item) => item.extnID === id_ce_subjectKeyIdentifier);
  return ski ? Buffer.from(AsnConvert.parse(ski.extnValue.buffer, SubjectKeyIdentifier).buffer) : undefined;
}
