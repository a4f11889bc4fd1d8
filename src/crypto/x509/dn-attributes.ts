import { AttributeValue } from '@peculiar/asn1-x509';
import { BadParameter } from '../../errors/index.js';
import { isObjectIdentifier } from './oid.js';

/** How a DN attribute's value is encoded: RFC 5280 wants UTF8String except where X.520 fixes the type. */
type StringKind = 'utf8' | 'printable' | 'ia5';

interface AttributeType {
  /** The name formatName writes; parseSubject accepts it and the aliases, in any case. */
  name: string;
  oid: string;
  aliases: string[];
  kind: StringKind;
}

const ATTRIBUTE_TYPES: readonly AttributeType[] = [
  { name: 'CN', oid: '2.5.4.3', aliases: ['COMMONNAME'], kind: 'utf8' },
  { name: 'O', oid: '2.5.4.10', aliases: ['ORGANIZATIONNAME'], kind: 'utf8' },
  { name: 'OU', oid: '2.5.4.11', aliases: ['ORGANIZATIONALUNITNAME'], kind: 'utf8' },
  { name: 'L', oid: '2.5.4.7', aliases: ['LOCALITYNAME'], kind: 'utf8' },
  { name: 'ST', oid: '2.5.4.8', aliases: ['S', 'STATEORPROVINCENAME'], kind: 'utf8' },
  { name: 'C', oid: '2.5.4.6', aliases: ['COUNTRYNAME'], kind: 'printable' },
  { name: 'E', oid: '1.2.840.113549.1.9.1', aliases: ['EMAIL', 'EMAILADDRESS'], kind: 'ia5' },
  { name: 'DC', oid: '0.9.2342.19200300.100.1.25', aliases: ['DOMAINCOMPONENT'], kind: 'ia5' },
  { name: 'STREET', oid: '2.5.4.9', aliases: ['STREETADDRESS'], kind: 'utf8' },
  { name: 'SERIALNUMBER', oid: '2.5.4.5', aliases: [], kind: 'printable' },
  { name: 'T', oid: '2.5.4.12', aliases: ['TITLE'], kind: 'utf8' },
  { name: 'G', oid: '2.5.4.42', aliases: ['GN', 'GIVENNAME'], kind: 'utf8' },
  { name: 'SN', oid: '2.5.4.4', aliases: ['SURNAME'], kind: 'utf8' },
  { name: 'I', oid: '2.5.4.43', aliases: ['INITIALS'], kind: 'utf8' },
  { name: 'UID', oid: '0.9.2342.19200300.100.1.1', aliases: ['USERID'], kind: 'utf8' },
  { name: 'POSTALCODE', oid: '2.5.4.17', aliases: [], kind: 'utf8' },
];

const BY_NAME = new Map(
  ATTRIBUTE_TYPES.flatMap((type) => [type.name, ...type.aliases].map((name) => [name, type] as const)),
);
const BY_OID = new Map(ATTRIBUTE_TYPES.map((type) => [type.oid, type]));

// X.680 PrintableString: what C and SERIALNUMBER may hold.
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const ASCII = /^[\x20-\x7e]*$/;

export const SUPPORTED_TYPES = ATTRIBUTE_TYPES.map((type) => type.name).join(', ');

/** The OID of a DN attribute named in a subject string: a known name, or a dotted OID (optionally "OID."-prefixed). */
export function attributeOid(typeName: string): string {
  const upper = typeName.toUpperCase();
  const known = BY_NAME.get(upper);
  if (known) return known.oid;
  const dotted = upper.startsWith('OID.') ? typeName.slice(4) : typeName;
  if (isObjectIdentifier(dotted)) return dotted;
  throw new BadParameter(
    `The subject has an unknown attribute type "${typeName}": use one of ${SUPPORTED_TYPES} or a dotted OID.`,
  );
}

/** The name formatName writes for an attribute: its short name, or the dotted OID. */
export function attributeName(oid: string): string {
  return BY_OID.get(oid)?.name ?? oid;
}

/** Checks a value against what its attribute type can encode, and wraps it in the right string type. */
export function attributeValue(oid: string, typeName: string, value: string): AttributeValue {
  if (Array.from(value).some(isControl)) {
    throw new BadParameter(`The subject attribute ${typeName} contains a control character; remove it.`);
  }
  const kind = BY_OID.get(oid)?.kind ?? 'utf8';
  if (oid === '2.5.4.6' && !/^[A-Za-z]{2}$/.test(value)) {
    throw new BadParameter(
      `The subject's country C=${value} is not a two-letter ISO 3166 code: write e.g. C=US.`,
    );
  }
  if (kind === 'printable' && !PRINTABLE.test(value)) {
    throw new BadParameter(
      `The subject attribute ${typeName} may hold only letters, digits, spaces and ' ( ) + , - . / : = ?`,
    );
  }
  if (kind === 'ia5' && !ASCII.test(value)) {
    throw new BadParameter(`The subject attribute ${typeName} may hold only ASCII characters.`);
  }
  if (kind === 'printable') return new AttributeValue({ printableString: value });
  if (kind === 'ia5') return new AttributeValue({ ia5String: value });
  return new AttributeValue({ utf8String: value });
}

/** The text of a value in any of the string types a DN may use; undefined for other ASN.1 types. */
export function attributeText(value: AttributeValue): string | undefined {
  return (
    value.utf8String ??
    value.printableString ??
    value.ia5String ??
    value.teletexString ??
    value.bmpString ??
    value.universalString
  );
}

/** C0 controls and DEL, which have no place in a name. */
export function isControl(char: string): boolean {
  const code = char.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}
