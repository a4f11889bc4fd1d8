import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Name } from '@peculiar/asn1-x509';
import { toDer } from './der.js';
import { formatName, normaliseSubject, parseSubject } from './dn.js';
import { attributeText } from './dn-attributes.js';
import { assertBadParameter } from './test-fixtures.js';

function attributes(name: Name): { type: string; text: string | undefined }[][] {
  return Array.from(name, (rdn) =>
    Array.from(rdn, (attribute) => ({ type: attribute.type, text: attributeText(attribute.value) })),
  );
}

/** Parsing the formatted name must give back the very same DER. */
function assertRoundTrips(subject: string): void {
  const name = parseSubject(subject);
  assert.deepEqual(toDer(parseSubject(formatName(name))), toDer(name), `${subject} -> ${formatName(name)}`);
}

describe('parseSubject and formatName', () => {
  it('keeps the RDNs in the order written and formats them back the same way', () => {
    const name = parseSubject('CN=example.com, O=Contoso, OU=Web, L=Redmond, ST=WA, C=US');
    assert.deepEqual(attributes(name), [
      [{ type: '2.5.4.3', text: 'example.com' }],
      [{ type: '2.5.4.10', text: 'Contoso' }],
      [{ type: '2.5.4.11', text: 'Web' }],
      [{ type: '2.5.4.7', text: 'Redmond' }],
      [{ type: '2.5.4.8', text: 'WA' }],
      [{ type: '2.5.4.6', text: 'US' }],
    ]);
    assert.equal(formatName(name), 'CN=example.com, O=Contoso, OU=Web, L=Redmond, ST=WA, C=US');
  });

  it('accepts any case, spaces, ";" separators and the Windows aliases', () => {
    assert.equal(
      normaliseSubject(' cn = a ;o=b;  S=WA,EMAIL=x@y.z, dc=com '),
      'CN=a, O=b, ST=WA, E=x@y.z, DC=com',
    );
    assert.equal(
      normaliseSubject('emailAddress=x@y.z, street=1 Main St, serialNumber=42'),
      'E=x@y.z, STREET=1 Main St, SERIALNUMBER=42',
    );
    assert.equal(
      normaliseSubject('T=Dr, G=Ada, SN=Lovelace, I=AL, UID=ada, POSTALCODE=98052'),
      'T=Dr, G=Ada, SN=Lovelace, I=AL, UID=ada, POSTALCODE=98052',
    );
  });

  it('accepts dotted OIDs, with or without the OID. prefix', () => {
    assert.equal(normaliseSubject('CN=a, 2.5.4.97=VATDE-123456789'), 'CN=a, 2.5.4.97=VATDE-123456789');
    assert.equal(normaliseSubject('OID.2.5.4.97=x, oid.2.5.4.3=y'), '2.5.4.97=x, CN=y');
  });

  it('reads quoted values, backslash escapes and hex-escaped UTF-8 alike', () => {
    const quoted = parseSubject('CN="Contoso, Ltd", O=x');
    const escaped = parseSubject('CN=Contoso\\, Ltd, O=x');
    const hex = parseSubject('CN=Contoso\\2C Ltd, O=x');
    assert.deepEqual(toDer(escaped), toDer(quoted));
    assert.deepEqual(toDer(hex), toDer(quoted));
    assert.equal(formatName(quoted), 'CN=Contoso\\, Ltd, O=x');
    assert.equal(normaliseSubject('CN=caf\\C3\\A9'), 'CN=café');
    assert.equal(normaliseSubject('CN="say \\"hi\\""'), 'CN=say \\"hi\\"');
  });

  it('drops unescaped spaces around a value but keeps inner and escaped ones', () => {
    assert.deepEqual(attributes(parseSubject('CN=  a  b  , O=\\ c\\ ')), [
      [{ type: '2.5.4.3', text: 'a  b' }],
      [{ type: '2.5.4.10', text: ' c ' }],
    ]);
  });

  it('encodes multi-valued RDNs joined with "+" as one SET, in DER order', () => {
    const name = parseSubject('OU=b+CN=a, O=c');
    assert.equal(name.length, 2);
    assert.deepEqual(
      Array.from(name[0]!, (attribute) => attribute.type),
      ['2.5.4.3', '2.5.4.11'],
    );
    assert.equal(formatName(name), 'CN=a+OU=b, O=c');
  });

  it('uses PrintableString for C and SERIALNUMBER, IA5String for E and DC, UTF8String otherwise', () => {
    const name = parseSubject('CN=a, C=US, E=x@y.z, DC=com, SERIALNUMBER=7');
    const [cn, c, e, dc, serial] = Array.from(name, (rdn) => rdn[0]!.value);
    assert.equal(cn?.utf8String, 'a');
    assert.equal(c?.printableString, 'US');
    assert.equal(e?.ia5String, 'x@y.z');
    assert.equal(dc?.ia5String, 'com');
    assert.equal(serial?.printableString, '7');
  });

  it('formats values so they parse back to the same name', () => {
    const tricky = [
      ' leading',
      'trailing ',
      '#hash',
      'a+b',
      'a;b',
      'a,b',
      'a"b',
      'a\\b',
      '<a>',
      'a=b',
      'x  y',
      '日本語',
      'Zürich',
      '🙂',
    ];
    for (const value of tricky) {
      const subject = `CN="${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
      assert.equal(attributeText(parseSubject(subject)[0]![0]!.value), value);
      assertRoundTrips(subject);
    }
    assertRoundTrips('CN=a+OU=b+O=c, DC=example, DC=com, 1.2.3.4=x');
  });

  it('writes a non-string value in RFC 4514 #hex form', () => {
    const name = parseSubject('CN=a');
    name[0]![0]!.value = Object.assign(name[0]![0]!.value, {
      utf8String: undefined,
      anyValue: new Uint8Array([0x02, 0x01, 0x05]).buffer,
    });
    assert.equal(formatName(name), 'CN=#020105');
  });
});

describe('parseSubject refuses what it cannot encode, saying what to fix', () => {
  const cases: [string, RegExp][] = [
    ['', /subject is empty/],
    ['   ', /subject is empty/],
    ['example.com', /without "=".*TYPE=value/],
    ['CN=a, example', /"example" without "="/],
    ['=a', /without an attribute type/],
    ['CN=', /CN has an empty value/],
    ['CN=""', /CN has an empty value/],
    ['CN=a,', /ends with ","/],
    ['CN=a; ', /ends with ";"/],
    ['CN=a+', /ends with "\+"/],
    ['FOO=bar', /unknown attribute type "FOO".*CN, O, OU/],
    ['1.50.3=x', /unknown attribute type "1.50.3"/],
    ['C=USA', /two-letter ISO 3166 code/],
    ['C=1A', /two-letter ISO 3166 code/],
    ['SERIALNUMBER=a_b', /SERIALNUMBER may hold only letters/],
    ['E=jürgen@example.com', /E may hold only ASCII/],
    ['CN="a', /without its closing quote/],
    ['CN="a"b', /text after a closing quote/],
    ['CN=#04026869', /starts with "#".*escape a leading # as \\#/],
    ['CN=a\\', /lone backslash/],
    ['CN=a\\00b', /control character/],
    ['CN=a\tb', /control character/],
    ['CN=\\FF', /not valid UTF-8/],
  ];
  for (const [subject, expected] of cases) {
    it(`refuses ${JSON.stringify(subject)}`, () => assertBadParameter(() => parseSubject(subject), expected));
  }

  it('refuses a subject that is not a string', () =>
    assertBadParameter(() => parseSubject(42 as unknown as string), /subject is empty/));
});
