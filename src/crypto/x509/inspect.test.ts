import assert from 'node:assert/strict';
import { X509Certificate, constants, createHash, createPrivateKey, privateEncrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { inspectCertificate } from './inspect.js';
import { issueCertificate } from './issue.js';
import { signingAlgorithmFor } from './signature.js';
import { samePublicKey } from './spki.js';
import { assertBadParameter, openssl, pem, scratchDir, testKey } from './test-fixtures.js';
import type { Signer } from './types.js';

const scratch = scratchDir();
after(() => scratch.remove());

const SAN =
  'subjectAltName=DNS:a.example,DNS:*.b.example,IP:10.0.0.1,IP:2001:db8::5,email:me@example.com,' +
  'URI:https://example.com/x,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user@example.com';

/** A self-signed RSA CA made entirely by openssl, with a serial whose top bit is set. */
function opensslCertificate(): { der: Buffer; keyFile: string } {
  const keyFile = scratch.path('openssl.key');
  const certFile = scratch.path('openssl.der');
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-outform', 'DER', '-out', certFile]
      .concat([
        '-subj',
        '/CN=openssl.example/O=Contoso, Ltd/C=US',
        '-days',
        '30',
        '-set_serial',
        '0x8899aabbccddeeff',
      ])
      .concat(['-addext', SAN, '-addext', 'keyUsage=critical,digitalSignature,keyCertSign,cRLSign'])
      .concat([
        '-addext',
        'extendedKeyUsage=serverAuth,1.2.3.4',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
      ]),
  );
  return { der: readFileSync(certFile), keyFile };
}

/** The test signer the brief describes: PKCS#1 v1.5 over a digest via privateEncrypt(DigestInfo || digest). */
function rsaSignerFromPem(keyFile: string): Signer {
  const key = createPrivateKey(readFileSync(keyFile));
  const sha256DigestInfo = Buffer.from('3031300d060960864801650304020105000420', 'hex');
  return {
    alg: 'RS256',
    sign: (digest) =>
      Promise.resolve(
        privateEncrypt(
          { key, padding: constants.RSA_PKCS1_PADDING },
          Buffer.concat([sha256DigestInfo, digest]),
        ),
      ),
  };
}

describe('inspectCertificate', () => {
  let made: { der: Buffer; keyFile: string };
  before(() => {
    made = opensslCertificate();
  });

  it('reads an openssl-made certificate as node:crypto does', () => {
    const facts = inspectCertificate(made.der);
    const cert = new X509Certificate(made.der);
    assert.equal(facts.subject, 'CN=openssl.example, O=Contoso\\, Ltd, C=US');
    assert.equal(facts.issuer, facts.subject);
    assert.equal(facts.selfIssued, true);
    assert.equal(facts.isCa, cert.ca);
    assert.equal(facts.isCa, true);
    assert.deepEqual(facts.sans, {
      dnsNames: ['a.example', '*.b.example'],
      emails: ['me@example.com'],
      upns: ['user@example.com'],
      uris: ['https://example.com/x'],
      ipAddresses: ['10.0.0.1', '2001:db8::5'],
    });
    assert.deepEqual(facts.keyUsage, ['digitalSignature', 'keyCertSign', 'cRLSign']);
    assert.deepEqual(facts.ekus, ['1.3.6.1.5.5.7.3.1', '1.2.3.4']);
    assert.deepEqual(facts.ekus, cert.keyUsage);
    assert.equal(facts.notBefore, Date.parse(cert.validFrom) / 1000);
    assert.equal(facts.notAfter, Date.parse(cert.validTo) / 1000);
    assert.equal(facts.notAfter - facts.notBefore, 30 * 24 * 3600);
    assert.equal(facts.serialNumber, '8899AABBCCDDEEFF');
    assert.equal(facts.serialNumber, cert.serialNumber);
    assert.equal(facts.x5t, Buffer.from(cert.fingerprint.replace(/:/g, ''), 'hex').toString('base64url'));
    assert.equal(facts.x5t, createHash('sha1').update(made.der).digest('base64url'));
    assert.deepEqual(facts.publicKeySpki, cert.publicKey.export({ type: 'spki', format: 'der' }));
  });

  it('issues under an openssl CA through a node:crypto signer, and openssl verifies the leaf', async () => {
    const leafKey = await testKey({ kty: 'EC', curve: 'P-256' });
    const now = Date.now();
    const leaf = await issueCertificate({
      fields: {
        subject: 'CN=leaf.example',
        sans: { dnsNames: ['leaf.example'] },
        keyUsage: ['digitalSignature'],
      },
      publicKeySpki: leafKey.spki,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 86_400_000),
      signer: rsaSignerFromPem(made.keyFile),
      issuerCertificate: made.der,
    });
    const ca = scratch.write('openssl-ca.pem', pem(made.der));
    assert.match(openssl(['verify', '-CAfile', ca, scratch.write('leaf.pem', pem(leaf))]), /leaf.pem: OK/);
    const facts = inspectCertificate(leaf);
    assert.equal(facts.issuer, 'CN=openssl.example, O=Contoso\\, Ltd, C=US');
    assert.equal(facts.selfIssued, false);
    assert.equal(facts.isCa, false);
    assert.equal(samePublicKey(facts.publicKeySpki, leafKey.spki), true);
  });

  it('reports only the SAN kinds present, and empty usages when the extensions are absent', async () => {
    const key = await testKey({ kty: 'EC', curve: 'P-256' });
    const der = await issueCertificate({
      fields: { subject: 'CN=x', sans: { ipAddresses: ['::1'] } },
      publicKeySpki: key.spki,
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 1000_000),
      signer: key.signer,
    });
    const facts = inspectCertificate(der);
    assert.deepEqual(facts.sans, { ipAddresses: ['::1'] });
    assert.deepEqual(facts.keyUsage, []);
    assert.deepEqual(facts.ekus, []);
  });

  it('refuses anything but exactly one DER certificate with BadParameter', async () => {
    const garbage = [
      Buffer.alloc(0),
      Buffer.from('hello'),
      Buffer.from(pem(made.der)),
      made.der.subarray(0, made.der.length - 1),
      Buffer.concat([made.der, Buffer.from([0])]),
      Buffer.from('3003020101', 'hex'),
    ];
    for (const der of garbage) {
      await assertBadParameter(() => inspectCertificate(der), /not a valid X.509 certificate/);
    }
  });
});

/** The DER of the TBSCertificate's fields as openssl's asn1parse delimits them (version, serial, sigalg, issuer, validity, subject...). */
function tbsFields(der: Buffer): Buffer[] {
  const lines = openssl(['asn1parse', '-inform', 'DER'], der).split('\n');
  return lines.flatMap((line) => {
    const match = /^\s*(\d+):d=2\s+hl=\s*(\d+)\s+l=\s*(\d+)/.exec(line);
    if (!match) return [];
    const [offset, header, length] = match.slice(1).map(Number) as [number, number, number];
    return [der.subarray(offset, offset + header + length)];
  });
}

describe('issuing under a CA whose name uses legacy string types', () => {
  it('copies the issuer name byte for byte and formats T61String and BMPString values', async () => {
    const config = scratch.write(
      'mask.cnf',
      '[req]\ndistinguished_name = dn\nstring_mask = default\nx509_extensions = ext\n[dn]\n' +
        '[ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign\nsubjectKeyIdentifier = hash\n',
    );
    const keyFile = scratch.path('legacy.key');
    const certFile = scratch.path('legacy.der');
    openssl(
      [
        'req',
        '-x509',
        '-config',
        config,
        '-utf8',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
      ].concat([
        '-outform',
        'DER',
        '-out',
        certFile,
        '-subj',
        '/C=DE/O=Zürich Ltd/CN=Straße 日本 Root',
        '-days',
        '2',
      ]),
    );
    const ca = readFileSync(certFile);
    const asn1 = openssl(['asn1parse', '-inform', 'DER'], ca);
    assert.match(asn1, /T61STRING/);
    assert.match(asn1, /BMPSTRING/);
    assert.equal(inspectCertificate(ca).subject, 'C=DE, O=Zürich Ltd, CN=Straße 日本 Root');

    const leafKey = await testKey({ kty: 'EC', curve: 'P-256' });
    const leaf = await issueCertificate({
      fields: { subject: 'CN=leaf' },
      publicKeySpki: leafKey.spki,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signer: rsaSignerFromPem(keyFile),
      issuerCertificate: ca,
    });
    const caSubject = tbsFields(ca)[5];
    assert.ok(caSubject && caSubject.length > 40, 'asn1parse gave the CA subject');
    assert.deepEqual(tbsFields(leaf)[3], caSubject);
    const caFile = scratch.write('legacy-ca.pem', pem(ca));
    assert.match(openssl(['verify', '-CAfile', caFile, scratch.write('legacy-leaf.pem', pem(leaf))]), /OK/);
  });
});

describe('samePublicKey', () => {
  it('compares keys, not encodings', async () => {
    const rsa = await testKey({ kty: 'RSA', size: 2048 });
    const ec = await testKey({ kty: 'EC', curve: 'P-256' });
    const otherEc = await testKey({ kty: 'EC', curve: 'P-256' });
    assert.equal(samePublicKey(rsa.spki, Buffer.from(rsa.spki)), true);
    assert.equal(samePublicKey(ec.spki, otherEc.spki), false);
    assert.equal(samePublicKey(rsa.spki, ec.spki), false);
  });

  it('refuses something that is not a SubjectPublicKeyInfo', async () => {
    const ec = await testKey({ kty: 'EC', curve: 'P-256' });
    await assertBadParameter(
      () => samePublicKey(ec.spki, Buffer.from('nope')),
      /not a valid SubjectPublicKeyInfo/,
    );
  });
});

describe('signingAlgorithmFor', () => {
  it('maps each key kind to the algorithm its certificates are signed with', async () => {
    assert.equal(signingAlgorithmFor({ kty: 'RSA' }), 'RS256');
    assert.equal(signingAlgorithmFor({ kty: 'EC', crv: 'P-256' }), 'ES256');
    assert.equal(signingAlgorithmFor({ kty: 'EC', crv: 'P-384' }), 'ES384');
    assert.equal(signingAlgorithmFor({ kty: 'EC', crv: 'P-521' }), 'ES512');
    assert.equal(signingAlgorithmFor({ kty: 'EC', crv: 'P-256K' }), 'ES256K');
    await assertBadParameter(() => signingAlgorithmFor({ kty: 'oct' } as never), /must be RSA or EC/);
  });
});
