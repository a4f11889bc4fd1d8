import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodePem, encodePem } from './index.js';
import { type Credential, KEY_KINDS, OpensslDir } from './openssl-fixtures.js';
import { assertBadParameter, assertBundle, pemBlocks } from './test-helpers.js';

// PEM inputs come from the openssl CLI in each encoding it writes; encodePem's output is read
// back by node:crypto and openssl.

let ws: OpensslDir;
let ca: Credential;
let leaf: Credential;

before(() => {
  ws = new OpensslDir();
  ca = ws.selfSigned('P-384', '/CN=Coffer Test CA');
  leaf = ws.issued('rsa', ca);
});

after(() => ws.remove());

const text = (file: string) => ws.read(file).toString();

describe('encodePem', () => {
  it('writes the key, then the certificates, in 64-character lines', () => {
    const pem = encodePem({
      privateKeyPkcs8: leaf.pkcs8,
      certificates: [leaf.certificate.raw, ca.certificate.raw],
    });
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(pem.endsWith('-----END CERTIFICATE-----\n'));
    for (const line of pem.split('\n').filter((line) => line && !line.startsWith('-----'))) {
      assert.ok(line.length <= 64, 'lines of at most 64 characters');
    }
    assert.equal(pemBlocks(pem, 'PRIVATE KEY').length, 1);
    const certificates = pemBlocks(pem, 'CERTIFICATE').map((block) => new X509Certificate(block).raw);
    assert.deepEqual(certificates, [leaf.certificate.raw, ca.certificate.raw]);
    const file = ws.write('encoded.pem', pem);
    assert.deepEqual(createPrivateKey(text(file)).export({ type: 'pkcs8', format: 'der' }), leaf.pkcs8);
    assert.match(ws.openssl('pkey', '-in', file, '-noout', '-text').toString(), /Private-Key: \(2048 bit/);
    assert.match(ws.openssl('x509', '-in', file, '-noout', '-subject').toString(), /CN ?= ?leaf/);
  });

  it('writes certificates alone when there is no key', () => {
    const pem = encodePem({ certificates: [ca.certificate.raw] });
    assert.equal(pem, ca.certificate.toString().replace(/\r/g, ''));
  });

  for (const kind of KEY_KINDS) {
    it(`${kind}: decodePem reads back what encodePem wrote`, () => {
      const credential = ws.selfSigned(kind);
      const parts = { privateKeyPkcs8: credential.pkcs8, certificates: [credential.certificate.raw] };
      assert.deepEqual(decodePem(encodePem(parts)), parts);
    });
  }
});

describe('decodePem reads every key encoding openssl writes', () => {
  for (const kind of KEY_KINDS) {
    it(`${kind}: PKCS#8, traditional (PKCS#1 or SEC1) and encrypted PKCS#8`, () => {
      const credential = ws.selfSigned(kind);
      const certificate = text(credential.certFile);
      const traditional = ws.openssl('pkey', '-in', credential.keyFile, '-traditional').toString();
      assert.match(traditional, kind === 'rsa' ? /BEGIN RSA PRIVATE KEY/ : /BEGIN EC PRIVATE KEY/);
      const encrypted = ws
        .openssl(
          'pkcs8',
          '-topk8',
          '-in',
          credential.keyFile,
          '-v2',
          'aes-256-cbc',
          '-passout',
          'pass:pem-pass',
        )
        .toString();
      assert.match(encrypted, /BEGIN ENCRYPTED PRIVATE KEY/);
      assertBundle(decodePem(text(credential.keyFile) + certificate), credential);
      assertBundle(decodePem(traditional + certificate), credential);
      assertBundle(decodePem(encrypted + certificate, 'pem-pass'), credential);
    });
  }

  it('a traditional key encrypted with a Proc-Type header', () => {
    const encrypted = ws
      .openssl('rsa', '-in', leaf.keyFile, '-aes256', '-traditional', '-passout', 'pass:legacy')
      .toString();
    assert.match(encrypted, /Proc-Type: 4,ENCRYPTED/);
    assertBundle(decodePem(encrypted + text(leaf.certFile), 'legacy'), leaf);
    assertBadParameter(() => decodePem(encrypted + text(leaf.certFile)), /encrypted; supply its password/);
  });

  it('an EC key after its EC PARAMETERS block', () => {
    ws.openssl('ecparam', '-name', 'prime256v1', '-genkey', '-out', 'with-params.key');
    ws.openssl(
      'req',
      '-x509',
      '-key',
      'with-params.key',
      '-subj',
      '/CN=params',
      '-days',
      '1',
      '-out',
      'with-params.crt',
    );
    assert.match(text('with-params.key'), /BEGIN EC PARAMETERS/);
    const parts = decodePem(text('with-params.key') + text('with-params.crt'));
    assert.deepEqual(
      parts.privateKeyPkcs8,
      createPrivateKey(ws.read('with-params.key')).export({ type: 'pkcs8', format: 'der' }),
    );
    assert.deepEqual(parts.certificates, [new X509Certificate(ws.read('with-params.crt')).raw]);
  });

  it('blocks in any order with text around them, leaf first in the result', () => {
    const pem = `Bag Attributes\n${text(ca.certFile)}junk between\n${text(leaf.certFile)}\n${text(leaf.keyFile)}trailing`;
    assertBundle(decodePem(pem), leaf, ca.certificate);
  });

  it('what openssl pkcs12 -nodes prints', () => {
    const output = ws.readPkcs12(ws.pkcs12(leaf, 'p', '-certfile', ca.certFile), 'p');
    assert.match(output, /Bag Attributes/);
    assertBundle(decodePem(output), leaf, ca.certificate);
  });

  it('certificates without a key, in the order given', () => {
    const parts = decodePem(text(ca.certFile) + text(leaf.certFile));
    assert.deepEqual(parts, { certificates: [ca.certificate.raw, leaf.certificate.raw] });
  });

  it('CRLF line endings', () => {
    const pem = (text(leaf.keyFile) + text(leaf.certFile)).replace(/\n/g, '\r\n');
    assertBundle(decodePem(pem), leaf);
  });
});

describe('decodePem rejects, with a BadParameter that says why', () => {
  it('text without PEM blocks', () => {
    assertBadParameter(() => decodePem('not a certificate'), /not PEM/);
    assertBadParameter(() => decodePem(''), /not PEM/);
  });

  it('a key without a certificate', () => {
    assertBadParameter(() => decodePem(text(leaf.keyFile)), /holds no certificate/);
  });

  it('two private keys', () => {
    const pem = text(leaf.keyFile) + text(ca.keyFile) + text(leaf.certFile);
    assertBadParameter(() => decodePem(pem), /holds 2 private keys/);
  });

  it('a key of none of the certificates', () => {
    assertBadParameter(() => decodePem(text(ca.keyFile) + text(leaf.certFile)), /does not belong to any/);
  });

  it('an encrypted key without or with a wrong password, without repeating it', () => {
    const encrypted = ws.openssl('pkcs8', '-topk8', '-in', leaf.keyFile, '-passout', 'pass:right').toString();
    const pem = encrypted + text(leaf.certFile);
    assertBadParameter(() => decodePem(pem), /^The PEM private key is encrypted; supply its password\.$/);
    assertBadParameter(
      () => decodePem(pem, 'wrong'),
      /^The password does not decrypt the PEM private key\.$/,
    );
  });

  it('damaged blocks', () => {
    const damagedKey = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
    assertBadParameter(
      () => decodePem(damagedKey + text(leaf.certFile)),
      /PRIVATE KEY block is not a valid private key/,
    );
    const damagedCertificate = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    assertBadParameter(
      () => decodePem(damagedCertificate),
      /Certificate 1 in the PEM is not a valid X.509 certificate/,
    );
    const notBase64 = '-----BEGIN CERTIFICATE-----\n*** ***\n-----END CERTIFICATE-----\n';
    assertBadParameter(() => decodePem(notBase64), /not valid base64/);
  });
});
