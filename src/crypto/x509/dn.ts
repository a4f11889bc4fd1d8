import type { SubjectFields } from './types.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { BadParameter } from '../../errors/index.js';
import { attributeName, attributeOid, attributeText, attributeValue, isControl } from './dn-attributes.js';

/**
 * Subject strings, RFC 4514 syntax with Windows' leniencies: "CN=a, O=b, C=US".
 * - RDNs are separated by ',' or ';', multi-valued RDNs joined with '+'; spaces around them are ignored.
 * - Types are case-insensitive: CN O OU L ST (or S) C E DC STREET SERIALNUMBER T G SN I UID POSTALCODE,
 *   or a dotted OID ("2.5.4.97=..." or "OID.2.5.4.97=...").
 * - Values may be quoted ("CN=\"a, b\"") or backslash-escaped ("CN=a\, b", "\2C" as hex UTF-8).
 * - RDNs are encoded in the order written (as Windows and Azure do, not RFC 4514's reversed order),
 *   and formatName writes them back in that order.
 */

interface Cursor {
  /** Code points, so surrogate pairs are never split. */
  chars: string[];
  at: number;
  text: string;
}

interface ParsedAttribute {
  typeName: string;
  value: string;
}

const SEPARATORS = new Set([',', ';', '+']);
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Validates and parses a subject DN string; throws BadParameter saying what to fix. */
export function parseSubject(subject: string): Name {
  if (typeof subject !== 'string' || subject.trim() === '') {
    throw new BadParameter('The subject is empty: give at least one attribute, e.g. "CN=www.contoso.com".');
  }
  const rdns = readRdns({ chars: Array.from(subject), at: 0, text: subject });
  return new Name(rdns.map((rdn) => new RelativeDistinguishedName(sortedForDer(rdn.map(toAttribute)))));
}

/**
 * The subject of a certificate or request. RFC 5280 allows an empty subject when the names are
 * in a (then critical) subjectAltName, as a policy with SANs and no subject asks for.
 */
export function subjectName(fields: SubjectFields): Name {
  const hasSans = Object.values(fields.sans ?? {}).some((names) => (names?.length ?? 0) > 0);
  if (hasSans && (fields.subject ?? '').trim() === '') return new Name([]);
  return parseSubject(fields.subject);
}

/** The subject string for a DER-decoded name, in parseSubject's syntax (so it parses back to the same name). */
export function formatName(name: Name): string {
  // Array.from: map on asn1-schema's array classes would build another Name of strings.
  return Array.from(name, (rdn) => Array.from(rdn, formatAttribute).join('+')).join(', ');
}

/** The canonical spelling of a subject string: "cn=a;o=b" -> "CN=a, O=b". */
export function normaliseSubject(subject: string): string {
  return formatName(parseSubject(subject));
}

function toAttribute({ typeName, value }: ParsedAttribute): AttributeTypeAndValue {
  const type = attributeOid(typeName);
  return new AttributeTypeAndValue({ type, value: attributeValue(type, typeName, value) });
}

// DER encodes a SET OF in the order of its members' encodings.
function sortedForDer(attributes: AttributeTypeAndValue[]): AttributeTypeAndValue[] {
  const encoded = attributes.map((attribute) => ({
    attribute,
    der: Buffer.from(AsnConvert.serialize(attribute)),
  }));
  return encoded.sort((a, b) => Buffer.compare(a.der, b.der)).map(({ attribute }) => attribute);
}

function readRdns(cursor: Cursor): ParsedAttribute[][] {
  const rdns: ParsedAttribute[][] = [[]];
  for (;;) {
    const typeName = readType(cursor);
    rdns.at(-1)!.push({ typeName, value: readValue(cursor, typeName) });
    const separator = readSeparator(cursor);
    if (separator === undefined) return rdns;
    if (separator !== '+') rdns.push([]);
  }
}

function readType(cursor: Cursor): string {
  skipSpaces(cursor);
  const start = cursor.at;
  while (cursor.at < cursor.chars.length && cursor.chars[cursor.at] !== '=') {
    if (SEPARATORS.has(cursor.chars[cursor.at]!)) break;
    cursor.at++;
  }
  const typeName = cursor.chars.slice(start, cursor.at).join('').trim();
  if (cursor.chars[cursor.at] !== '=') {
    throw new BadParameter(
      `The subject "${cursor.text}" has "${typeName}" without "=": write each attribute as TYPE=value, e.g. CN=www.contoso.com.`,
    );
  }
  if (typeName === '') {
    throw new BadParameter(`The subject "${cursor.text}" has a value without an attribute type before "=".`);
  }
  cursor.at++;
  return typeName;
}

function readValue(cursor: Cursor, typeName: string): string {
  skipSpaces(cursor);
  const bytes = cursor.chars[cursor.at] === '"' ? readQuoted(cursor) : readUnquoted(cursor, typeName);
  let value: string;
  try {
    value = UTF8.decode(Buffer.from(bytes));
  } catch {
    throw new BadParameter(`The subject attribute ${typeName} has hex escapes that are not valid UTF-8.`);
  }
  if (value === '') throw new BadParameter(`The subject attribute ${typeName} has an empty value.`);
  return value;
}

function readQuoted(cursor: Cursor): number[] {
  const bytes: number[] = [];
  cursor.at++;
  for (;;) {
    const char = cursor.chars[cursor.at];
    if (char === undefined) {
      throw new BadParameter(`The subject "${cursor.text}" has a quoted value without its closing quote.`);
    }
    if (char === '"') break;
    if (char === '\\') bytes.push(...readEscape(cursor));
    else pushChar(bytes, char, cursor);
  }
  cursor.at++;
  skipSpaces(cursor);
  const next = cursor.chars[cursor.at];
  if (next !== undefined && !SEPARATORS.has(next)) {
    throw new BadParameter(
      `The subject "${cursor.text}" has text after a closing quote: put the whole value inside the quotes.`,
    );
  }
  return bytes;
}

function readUnquoted(cursor: Cursor, typeName: string): number[] {
  if (cursor.chars[cursor.at] === '#') {
    throw new BadParameter(
      `The subject attribute ${typeName} starts with "#", the hex-encoded form, which is not supported: write the value as text and escape a leading # as \\#.`,
    );
  }
  const bytes: number[] = [];
  let pendingSpaces = 0;
  // Unescaped trailing spaces are dropped; spaces inside the value are kept.
  for (let char = cursor.chars[cursor.at]; char !== undefined && !SEPARATORS.has(char);) {
    if (char === ' ') {
      pendingSpaces++;
      cursor.at++;
    } else {
      bytes.push(...Array<number>(pendingSpaces).fill(0x20));
      pendingSpaces = 0;
      if (char === '\\') bytes.push(...readEscape(cursor));
      else pushChar(bytes, char, cursor);
    }
    char = cursor.chars[cursor.at];
  }
  return bytes;
}

/** A backslash and either two hex digits (one UTF-8 byte) or one character taken literally. */
function readEscape(cursor: Cursor): number[] {
  const pair = cursor.chars.slice(cursor.at + 1, cursor.at + 3).join('');
  if (HEX_PAIR.test(pair)) {
    cursor.at += 3;
    return [parseInt(pair, 16)];
  }
  const escaped = cursor.chars[cursor.at + 1];
  if (escaped === undefined) {
    throw new BadParameter(`The subject "${cursor.text}" ends with a lone backslash.`);
  }
  cursor.at += 2;
  return [...Buffer.from(escaped, 'utf8')];
}

function pushChar(bytes: number[], char: string, cursor: Cursor): void {
  bytes.push(...Buffer.from(char, 'utf8'));
  cursor.at++;
}

function readSeparator(cursor: Cursor): string | undefined {
  skipSpaces(cursor);
  const separator = cursor.chars[cursor.at];
  if (separator === undefined) return undefined;
  cursor.at++;
  if (cursor.chars.slice(cursor.at).join('').trim() === '') {
    throw new BadParameter(
      `The subject "${cursor.text}" ends with "${separator}": remove it or add an attribute after it.`,
    );
  }
  return separator;
}

function skipSpaces(cursor: Cursor): void {
  while (cursor.chars[cursor.at] === ' ') cursor.at++;
}

function formatAttribute(attribute: AttributeTypeAndValue): string {
  const text = attributeText(attribute.value);
  // RFC 4514: a value of a non-string type is written as '#' and the hex of its DER.
  const value =
    text === undefined
      ? `#${Buffer.from(attribute.value.anyValue ?? new ArrayBuffer(0)).toString('hex')}`
      : escapeValue(text);
  return `${attributeName(attribute.type)}=${value}`;
}

/** RFC 4514 section 2.4 escaping, so the string parses back to the same value. */
function escapeValue(text: string): string {
  const chars = Array.from(text);
  return chars.map((char, index) => escapeChar(char, index === 0, index === chars.length - 1)).join('');
}

function escapeChar(char: string, first: boolean, last: boolean): string {
  if (/[\\"+,;<>]/.test(char)) return `\\${char}`;
  if (isControl(char)) return `\\${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  if ((first && (char === ' ' || char === '#')) || (last && char === ' ')) return `\\${char}`;
  return char;
}
