import { before, describe, it } from 'node:test';
import { issueCertificate } from './issue.js';
import { type TestKey, assertBadParameter, testKey } from './test-fixtures.js';
import type { SubjectFields } from './types.js';

const NOT_BEFORE = new Date(Date.now() - 3600_000);
const NOT_AFTER = new Date(Date.now() + 86_400_000);

describe('issueCertificate refuses invalid input with BadParameter', () => {
  let key: TestKey;
  before(async () => {
    key = await testKey({ kty: 'EC', curve: 'P-256' });
  });
  const issueWith = (fields: Partial<SubjectFields>, dates: { notBefore?: Date; notAfter?: Date } = {}) =>
    issueCertificate({
      fields: { subject: 'CN=x', ...fields },
      publicKeySpki: key.spki,
      notBefore: dates.notBefore ?? NOT_BEFORE,
      notAfter: dates.notAfter ?? NOT_AFTER,
      signer: key.signer,
    });

  const cases: [string, Partial<SubjectFields>, RegExp][] = [
    ['a bad subject', { subject: 'CN=a,' }, /ends with ","/],
    ['an IPv4 address out of range', { sans: { ipAddresses: ['192.0.2.256'] } }, /not an IP address/],
    ['an IP with a prefix', { sans: { ipAddresses: ['10.0.0.0/8'] } }, /not an IP address/],
    ['an IPv6 zone', { sans: { ipAddresses: ['fe80::1%eth0'] } }, /not an IP address/],
    ['a DNS name with a space', { sans: { dnsNames: ['exa mple.com'] } }, /not a valid DNS name/],
    ['a DNS name with a bad wildcard', { sans: { dnsNames: ['www.*.com'] } }, /not a valid DNS name/],
    ['a non-ASCII DNS name', { sans: { dnsNames: ['bücher.de'] } }, /xn-- form/],
    ['an email without @', { sans: { emails: ['admin.contoso.com'] } }, /not a valid email/],
    ['a relative URI', { sans: { uris: ['/relative/path'] } }, /not a valid URI/],
    ['an empty UPN', { sans: { upns: [' '] } }, /not a valid user principal name/],
    [
      'a SAN list that is not an array',
      { sans: { dnsNames: 'a.com' as unknown as string[] } },
      /dnsNames must be an array/,
    ],
    ['an EKU name instead of an OID', { ekus: ['serverAuth'] }, /not an extended key usage OID/],
    ['an unknown key usage', { keyUsage: ['signing' as never] }, /"signing" is not a key usage/],
  ];
  for (const [what, fields, expected] of cases) {
    it(`refuses ${what}`, () => assertBadParameter(() => issueWith(fields), expected));
  }

  it('refuses a validity that ends before it starts, and invalid dates', async () => {
    await assertBadParameter(
      () => issueWith({}, { notAfter: NOT_BEFORE }),
      /notAfter must be after notBefore/,
    );
    await assertBadParameter(
      () => issueWith({}, { notBefore: new Date('x') }),
      /notBefore must be a valid date/,
    );
  });

  it('refuses a public key that is not a SubjectPublicKeyInfo', () =>
    assertBadParameter(
      () =>
        issueCertificate({
          fields: { subject: 'CN=x' },
          publicKeySpki: Buffer.from('not a key'),
          notBefore: NOT_BEFORE,
          notAfter: NOT_AFTER,
          signer: key.signer,
        }),
      /not a valid SubjectPublicKeyInfo/,
    ));
});
