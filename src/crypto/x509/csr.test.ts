import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { buildCsr, inspectCsr } from './csr.js';
import { inspectCertificate } from './inspect.js';
import { samePublicKey } from './spki.js';
import { type TestKeySpec, assertBadParameter, openssl, pem, scratchDir, testKey } from './test-fixtures.js';
import type { SubjectFields } from './types.js';

const scratch = scratchDir();
after(() => scratch.remove());

const FIELDS: SubjectFields = {
  subject: 'CN=pending.contoso.com, O=Contoso, C=US',
  sans: { dnsNames: ['pending.contoso.com'], ipAddresses: ['192.0.2.9'], upns: ['svc@contoso.com'] },
  keyUsage: ['digitalSignature', 'keyEncipherment'],
  ekus: ['1.3.6.1.5.5.7.3.1'],
};

function opensslRequest(csr: Buffer, ...args: string[]): string {
  return openssl([
    'req',
    '-in',
    scratch.write('request.csr', pem(csr, 'CERTIFICATE REQUEST')),
    '-noout',
    ...args,
  ]);
}

const KEYS: [string, TestKeySpec][] = [
  ['RSA-2048', { kty: 'RSA', size: 2048 }],
  ['EC P-256', { kty: 'EC', curve: 'P-256' }],
  ['EC P-384', { kty: 'EC', curve: 'P-384' }],
];

describe('buildCsr', () => {
  for (const [label, spec] of KEYS) {
    it(`${label}: openssl verifies the request and reads the requested extensions`, async () => {
      const key = await testKey(spec);
      const csr = await buildCsr(FIELDS, key.spki, key.signer);
      assert.match(opensslRequest(csr, '-verify'), /self-signature verify OK/);
      const text = opensslRequest(csr, '-text');
      assert.match(text, /Subject: CN = pending.contoso.com, O = Contoso, C = US\n/);
      assert.match(text, /Requested Extensions:/);
      assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
      assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
      assert.match(
        text,
        /X509v3 Subject Alternative Name: \n\s+DNS:pending.contoso.com, othername: UPN::svc@contoso.com, IP Address:192.0.2.9\n/,
      );
      assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);

      const inspected = inspectCsr(csr);
      assert.equal(inspected.subject, FIELDS.subject);
      assert.equal(samePublicKey(inspected.publicKeySpki, key.spki), true);
    });
  }

  it('is checked for real: openssl reports a tampered signature', async () => {
    const key = await testKey({ kty: 'EC', curve: 'P-256' });
    const csr = await buildCsr(FIELDS, key.spki, key.signer);
    csr[csr.length - 3]! ^= 1;
    assert.match(opensslRequest(csr, '-verify'), /verify failure/);
  });

  it('requests only basicConstraints when no usages or SANs are given', async () => {
    const key = await testKey({ kty: 'EC', curve: 'P-256' });
    const text = opensslRequest(await buildCsr({ subject: 'CN=bare' }, key.spki, key.signer), '-text');
    assert.doesNotMatch(text, /Key Usage|Alternative Name/);
    assert.match(text, /Basic Constraints: critical\n\s+CA:FALSE/);
  });

  it('yields a certificate with the requested fields when an openssl CA signs it (the merge path)', async () => {
    const caKey = scratch.path('ca.key');
    const caCert = scratch.path('ca.pem');
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        caKey,
      ].concat(['-out', caCert, '-subj', '/CN=OpenSSL Test CA', '-days', '2']),
    );
    const key = await testKey({ kty: 'RSA', size: 2048 });
    const csrFile = scratch.write(
      'merge.csr',
      pem(await buildCsr(FIELDS, key.spki, key.signer), 'CERTIFICATE REQUEST'),
    );
    const certFile = scratch.path('merged.pem');
    openssl(
      ['x509', '-req', '-in', csrFile, '-CA', caCert, '-CAkey', caKey, '-copy_extensions', 'copyall'].concat([
        '-days',
        '1',
        '-out',
        certFile,
      ]),
    );
    const der = Buffer.from(readFileSync(certFile, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const facts = inspectCertificate(der);
    assert.equal(facts.subject, FIELDS.subject);
    assert.equal(facts.issuer, 'CN=OpenSSL Test CA');
    assert.deepEqual(facts.sans, FIELDS.sans);
    assert.deepEqual(facts.keyUsage, FIELDS.keyUsage);
    assert.deepEqual(facts.ekus, FIELDS.ekus);
    assert.equal(samePublicKey(facts.publicKeySpki, key.spki), true);
  });

  it('refuses invalid fields with BadParameter', async () => {
    const key = await testKey({ kty: 'EC', curve: 'P-256' });
    await assertBadParameter(() => buildCsr({ subject: 'CN' }, key.spki, key.signer), /without "="/);
    await assertBadParameter(
      () => buildCsr({ subject: 'CN=x', sans: { ipAddresses: ['1.2.3'] } }, key.spki, key.signer),
      /not an IP address/,
    );
  });

  it('fails with InternalError when the signer does not hold the requested key', async () => {
    const key = await testKey({ kty: 'EC', curve: 'P-256' });
    const other = await testKey({ kty: 'EC', curve: 'P-256' });
    await assert.rejects(buildCsr(FIELDS, key.spki, other.signer), { name: 'InternalError' });
  });
});

describe('inspectCsr', () => {
  it('reads a request openssl made', () => {
    const keyFile = scratch.path('req.key');
    const csrFile = scratch.path('req.csr');
    openssl(
      ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csrFile].concat([
        '-outform',
        'DER',
        '-subj',
        '/C=US/O=Contoso/CN=from openssl',
      ]),
    );
    const inspected = inspectCsr(readFileSync(csrFile));
    assert.equal(inspected.subject, 'C=US, O=Contoso, CN=from openssl');
    const publicKeyFile = scratch.path('req.pub.der');
    openssl(['pkey', '-in', keyFile, '-pubout', '-outform', 'DER', '-out', publicKeyFile]);
    assert.equal(samePublicKey(inspected.publicKeySpki, readFileSync(publicKeyFile)), true);
  });

  it('refuses garbage with BadParameter', () =>
    assertBadParameter(() => inspectCsr(Buffer.from('garbage')), /not a valid PKCS#10/));
});
