import { AsnConvert, AsnUtf8StringConverter } from '@peculiar/asn1-schema';
import { DirectoryString, GeneralName, OtherName } from '@peculiar/asn1-x509';
import { BadParameter } from '../../errors/index.js';
import { ipAddressForSan } from './ip.js';
import type { SubjectAlternativeNames } from './types.js';

/** Microsoft's user principal name, an otherName holding a UTF8String. */
export const UPN_OID = '1.3.6.1.4.1.311.20.2.3';

const DNS_LABEL = '[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const DNS_NAME = new RegExp(`^(\\*\\.)?${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const MAX_DNS_NAME_LENGTH = 253;
const EMAIL = /^[\x21-\x3f\x41-\x7e]+@[\x21-\x3f\x41-\x7e]+$/;
const URI_CHARS = /^[\x21-\x7e]+$/;
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** The GeneralNames for the requested SANs, validated; empty when none are requested. */
export function generalNames(sans: SubjectAlternativeNames | undefined): GeneralName[] {
  if (sans === undefined || sans === null) return [];
  return [
    ...list(sans.dnsNames, 'dnsNames').map((name) => new GeneralName({ dNSName: checkDnsName(name) })),
    ...list(sans.emails, 'emails').map((email) => new GeneralName({ rfc822Name: checkEmail(email) })),
    ...list(sans.upns, 'upns').map((upn) => new GeneralName({ otherName: upnName(upn) })),
    ...list(sans.uris, 'uris').map((uri) => new GeneralName({ uniformResourceIdentifier: checkUri(uri) })),
    ...list(sans.ipAddresses, 'ipAddresses').map((ip) => new GeneralName({ iPAddress: ipAddressForSan(ip) })),
  ];
}

/** The SANs a certificate carries, only the kinds it has; names of other kinds are skipped. */
export function readGeneralNames(names: GeneralName[]): SubjectAlternativeNames {
  const sans: Required<SubjectAlternativeNames> = {
    dnsNames: [],
    emails: [],
    upns: [],
    uris: [],
    ipAddresses: [],
  };
  for (const name of names) {
    if (name.dNSName !== undefined) sans.dnsNames.push(name.dNSName);
    else if (name.rfc822Name !== undefined) sans.emails.push(name.rfc822Name);
    else if (name.uniformResourceIdentifier !== undefined) sans.uris.push(name.uniformResourceIdentifier);
    else if (name.iPAddress !== undefined) sans.ipAddresses.push(name.iPAddress);
    else if (name.otherName?.typeId === UPN_OID) sans.upns.push(...readUpn(name.otherName));
  }
  const present = Object.entries(sans).filter(([, values]) => values.length > 0);
  return Object.fromEntries(present) as SubjectAlternativeNames;
}

function list(values: unknown, kind: string): string[] {
  if (values === undefined || values === null) return [];
  if (!Array.isArray(values) || values.some((value) => typeof value !== 'string')) {
    throw new BadParameter(`The subject alternative names' ${kind} must be an array of strings.`);
  }
  return values as string[];
}

function checkDnsName(name: string): string {
  if (name.length > MAX_DNS_NAME_LENGTH || !DNS_NAME.test(name)) {
    throw new BadParameter(
      `"${name}" is not a valid DNS name: use dot-separated labels of letters, digits and hyphens (a leading "*." wildcard is allowed; write an internationalised name in its xn-- form).`,
    );
  }
  return name;
}

function checkEmail(email: string): string {
  if (!EMAIL.test(email)) {
    throw new BadParameter(
      `"${email}" is not a valid email address for a certificate: write it as local@domain in ASCII, without spaces.`,
    );
  }
  return email;
}

function checkUri(uri: string): string {
  if (!URI_CHARS.test(uri) || !URI_SCHEME.test(uri) || !URL.canParse(uri)) {
    throw new BadParameter(
      `"${uri}" is not a valid URI: give an absolute URI with a scheme (e.g. https://contoso.com/id), percent-encoding spaces and non-ASCII characters.`,
    );
  }
  return uri;
}

function upnName(upn: string): OtherName {
  if (upn.trim() === '' || Array.from(upn).some((char) => char.charCodeAt(0) < 0x20)) {
    throw new BadParameter(`"${upn}" is not a valid user principal name: write it as user@domain.`);
  }
  return new OtherName({ typeId: UPN_OID, value: AsnConvert.serialize(AsnUtf8StringConverter.toASN(upn)) });
}

// Other issuers' certificates may hold a UPN in another string type; that skips the name rather
// than rejecting a certificate Key Vault would store.
function readUpn(name: OtherName): string[] {
  try {
    const value = AsnConvert.parse(name.value, DirectoryString).utf8String;
    return value === undefined ? [] : [value];
  } catch {
    return [];
  }
}
