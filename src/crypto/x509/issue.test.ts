import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { inspectCertificate } from './inspect.js';
import { issueCertificate } from './issue.js';
import {
  type TestKey,
  type TestKeySpec,
  assertBadParameter,
  openssl,
  pem,
  scratchDir,
  testKey,
} from './test-fixtures.js';
import type { SubjectFields } from './types.js';

const scratch = scratchDir();
after(() => scratch.remove());

const HOUR_MS = 3600 * 1000;
// Valid now (openssl verify checks the dates), starting on a whole second plus 750 ms.
const WHOLE_SECOND = Math.floor(Date.now() / 1000) * 1000 - HOUR_MS;
const NOT_BEFORE = new Date(WHOLE_SECOND + 750);
const NOT_AFTER = new Date(WHOLE_SECOND + 365 * 24 * HOUR_MS);
const FIELDS: SubjectFields = {
  subject: 'CN=www.contoso.com, O=Contoso, OU=Web, L=Redmond, ST=WA, C=US, E=admin@contoso.com, DC=contoso',
  sans: {
    dnsNames: ['www.contoso.com', '*.contoso.com'],
    emails: ['admin@contoso.com'],
    upns: ['admin@contoso.onmicrosoft.com'],
    uris: ['https://contoso.com/id/1'],
    ipAddresses: ['192.0.2.1', '2001:db8::1', '::ffff:198.51.100.7'],
  },
  keyUsage: ['digitalSignature', 'keyEncipherment'],
  ekus: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
};

function selfSigned(
  key: TestKey,
  fields: SubjectFields = FIELDS,
  validity = { notBefore: NOT_BEFORE, notAfter: NOT_AFTER },
): Promise<Buffer> {
  return issueCertificate({ fields, publicKeySpki: key.spki, ...validity, signer: key.signer });
}

/** openssl's text dump of a DER certificate. */
function opensslText(der: Buffer): string {
  return openssl(
    ['x509', '-noout', '-text', '-nameopt', 'sep_comma_plus_space,show_type,esc_2253,utf8'],
    pem(der),
  );
}

function opensslVerify(ca: Buffer, leaf: Buffer, untrusted?: Buffer): string {
  const args = ['verify', '-CAfile', scratch.write('ca.pem', pem(ca))];
  if (untrusted) args.push('-untrusted', scratch.write('untrusted.pem', pem(untrusted)));
  return openssl([...args, scratch.write('leaf.pem', pem(leaf))]);
}

function keyIdentifiers(text: string): { ski?: string; aki?: string } {
  const ski = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(text)?.[1];
  const aki = /Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1];
  return { ski, aki };
}

const KEYS: [string, TestKeySpec, string][] = [
  ['RSA-2048', { kty: 'RSA', size: 2048 }, 'sha256WithRSAEncryption'],
  ['EC P-256', { kty: 'EC', curve: 'P-256' }, 'ecdsa-with-SHA256'],
  ['EC P-384', { kty: 'EC', curve: 'P-384' }, 'ecdsa-with-SHA384'],
  ['EC P-521', { kty: 'EC', curve: 'P-521' }, 'ecdsa-with-SHA512'],
  ['EC P-256K', { kty: 'EC', curve: 'P-256K' }, 'ecdsa-with-SHA256'],
];

describe('issueCertificate: self-signed', () => {
  for (const [label, spec, signatureName] of KEYS) {
    it(`${label}: node:crypto and openssl read the requested fields and verify the signature`, async () => {
      const der = await selfSigned(await testKey(spec));
      const cert = new X509Certificate(der);
      assert.equal(cert.verify(cert.publicKey), true);
      assert.equal(cert.ca, false);
      assert.equal(cert.subject, cert.issuer);
      assert.equal(
        cert.subjectAltName,
        'DNS:www.contoso.com, DNS:*.contoso.com, email:admin@contoso.com, othername:UPN:admin@contoso.onmicrosoft.com, ' +
          'URI:https://contoso.com/id/1, IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:C633:6407',
      );
      // node:crypto's X509Certificate.keyUsage lists the extended key usages.
      assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
      assert.equal(cert.infoAccess, undefined);
      // DER times have whole seconds: the 750 ms of notBefore are dropped.
      assert.equal(new Date(cert.validFrom).getTime(), WHOLE_SECOND);
      assert.equal(new Date(cert.validTo).getTime(), NOT_AFTER.getTime());
      // 16 bytes, positive, no leading zero byte.
      assert.match(cert.serialNumber, /^(?!00)[0-7][0-9A-F]{31}$/);

      const text = opensslText(der);
      assert.match(text, new RegExp(`Signature Algorithm: ${signatureName}`));
      assert.match(
        text,
        /Subject: CN=UTF8STRING:www.contoso.com, O=UTF8STRING:Contoso, OU=UTF8STRING:Web, L=UTF8STRING:Redmond, ST=UTF8STRING:WA, C=PRINTABLESTRING:US, emailAddress=IA5STRING:admin@contoso.com, DC=IA5STRING:contoso\n/,
      );
      assert.match(text, /Version: 3 \(0x2\)/);
      assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
      assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
      assert.match(
        text,
        /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/,
      );
      assert.match(text, /X509v3 Subject Alternative Name: \n/);
      const { ski, aki } = keyIdentifiers(text);
      assert.ok(ski);
      assert.equal(aki, ski);
      assert.match(opensslVerify(der, der), /leaf.pem: OK/);
    });
  }

  it('encodes validity as UTCTime before 2050 and GeneralizedTime from 2050 on', async () => {
    const der = await selfSigned(await testKey({ kty: 'EC', curve: 'P-256' }), FIELDS, {
      notBefore: new Date('2049-12-31T23:59:59.999Z'),
      notAfter: new Date('2050-01-01T00:00:00Z'),
    });
    const parsed = openssl(['asn1parse', '-inform', 'DER'], der);
    assert.match(parsed, /UTCTIME\s+:491231235959Z/);
    assert.match(parsed, /GENERALIZEDTIME\s+:20500101000000Z/);
    assert.equal(new X509Certificate(der).validTo, 'Jan  1 00:00:00 2050 GMT');
  });

  it('leaves out keyUsage, EKU and SAN when none are requested, and gives each certificate a new serial', async () => {
    const key = await testKey({ kty: 'EC', curve: 'P-256' });
    const first = await selfSigned(key, { subject: 'CN=bare' });
    const second = await selfSigned(key, { subject: 'CN=bare' });
    const text = opensslText(first);
    assert.doesNotMatch(text, /Key Usage|Alternative Name/);
    assert.match(text, /Basic Constraints: critical\n\s+CA:FALSE/);
    assert.notEqual(inspectCertificate(first).serialNumber, inspectCertificate(second).serialNumber);
  });
});

describe('issueCertificate: a CA issuing certificates', () => {
  let rootKey: TestKey;
  let root: Buffer;
  before(async () => {
    rootKey = await testKey({ kty: 'RSA', size: 2048 });
    root = await issueCertificate({
      fields: { subject: 'CN=Contoso Root CA, O=Contoso', keyUsage: ['keyCertSign', 'cRLSign'] },
      publicKeySpki: rootKey.spki,
      notBefore: NOT_BEFORE,
      notAfter: new Date('2035-01-01T00:00:00Z'),
      signer: rootKey.signer,
    });
  });

  it('marks a keyCertSign certificate as a CA with critical basicConstraints', () => {
    assert.equal(new X509Certificate(root).ca, true);
    assert.match(opensslText(root), /Basic Constraints: critical\n\s+CA:TRUE\n/);
    assert.equal(inspectCertificate(root).isCa, true);
  });

  it('issues a leaf that openssl verify and node:crypto accept, whose AKI is the CA SKI', async () => {
    const leafKey = await testKey({ kty: 'EC', curve: 'P-256' });
    const leaf = await issueCertificate({
      fields: {
        subject: 'CN=leaf.contoso.com',
        sans: { dnsNames: ['leaf.contoso.com'] },
        keyUsage: ['digitalSignature'],
      },
      publicKeySpki: leafKey.spki,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      signer: rootKey.signer,
      issuerCertificate: root,
    });
    const cert = new X509Certificate(leaf);
    const ca = new X509Certificate(root);
    assert.equal(cert.checkIssued(ca), true);
    assert.equal(cert.verify(ca.publicKey), true);
    assert.equal(cert.ca, false);
    assert.equal(cert.issuer, ca.subject);
    assert.match(opensslVerify(root, leaf), /leaf.pem: OK/);
    assert.equal(keyIdentifiers(opensslText(leaf)).aki, keyIdentifiers(opensslText(root)).ski);
    const facts = inspectCertificate(leaf);
    assert.equal(facts.issuer, 'CN=Contoso Root CA, O=Contoso');
    assert.equal(facts.selfIssued, false);
  });

  it('builds a three-level chain through an intermediate', async () => {
    const interKey = await testKey({ kty: 'EC', curve: 'P-384' });
    const intermediate = await issueCertificate({
      fields: { subject: 'CN=Contoso Issuing CA', keyUsage: ['keyCertSign'] },
      publicKeySpki: interKey.spki,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      signer: rootKey.signer,
      issuerCertificate: root,
    });
    const leafKey = await testKey({ kty: 'RSA', size: 2048 });
    const leaf = await issueCertificate({
      fields: { subject: 'CN=deep.contoso.com' },
      publicKeySpki: leafKey.spki,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      signer: interKey.signer,
      issuerCertificate: intermediate,
    });
    assert.match(opensslText(intermediate), /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(opensslText(leaf), /Signature Algorithm: ecdsa-with-SHA384/);
    assert.match(opensslVerify(root, leaf, intermediate), /leaf.pem: OK/);
  });

  it('lets isCa override the keyCertSign default both ways', async () => {
    const key = await testKey({ kty: 'EC', curve: 'P-256' });
    const issue = (isCa: boolean, keyUsage: SubjectFields['keyUsage']) =>
      issueCertificate({
        fields: { subject: 'CN=x', keyUsage },
        publicKeySpki: key.spki,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
        signer: key.signer,
        isCa,
      });
    assert.equal(new X509Certificate(await issue(true, [])).ca, true);
    assert.equal(new X509Certificate(await issue(false, ['keyCertSign'])).ca, false);
  });

  it('refuses an issuer that is not a CA, and garbage as the issuer', async () => {
    const key = await testKey({ kty: 'EC', curve: 'P-256' });
    const notCa = await selfSigned(key);
    const options = {
      fields: FIELDS,
      publicKeySpki: key.spki,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      signer: key.signer,
    };
    await assertBadParameter(
      () => issueCertificate({ ...options, issuerCertificate: notCa }),
      /not a CA certificate/,
    );
    await assertBadParameter(
      () => issueCertificate({ ...options, issuerCertificate: Buffer.from('nope') }),
      /issuer certificate is not a valid X.509 certificate/,
    );
  });

  it('fails with InternalError when the signer does not hold the issuer key', async () => {
    const leafKey = await testKey({ kty: 'EC', curve: 'P-256' });
    await assert.rejects(
      issueCertificate({
        fields: { subject: 'CN=x' },
        publicKeySpki: leafKey.spki,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
        signer: leafKey.signer,
        issuerCertificate: root,
      }),
      { name: 'InternalError', message: /does not verify with the issuing public key/ },
    );
  });
});
