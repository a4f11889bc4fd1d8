import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import forge from 'node-forge';
import { decodePkcs12, encodePkcs12 } from './index.js';
import { type Credential, KEY_KINDS, OpensslDir } from './openssl-fixtures.js';
import { assertBadParameter, assertBundle, assertOpensslRead, pemBlocks } from './test-helpers.js';

// Every PFX read here was written by OpenSSL 3 (or node-forge's own writer), and every PFX
// written here is read back by OpenSSL 3 and node:tls, besides decodePkcs12.

const PASSWORD = 's3cret-Pa55';
const NON_ASCII_PASSWORD = 'pässwörd-€-密码';

let ws: OpensslDir;
let ca: Credential;
let leaf: Credential;

before(() => {
  ws = new OpensslDir();
  ca = ws.selfSigned('rsa', '/CN=Coffer Test CA');
  leaf = ws.issued('P-256', ca);
});

after(() => ws.remove());

function partsOf(credential: Credential, ...chain: Credential[]) {
  return {
    privateKeyPkcs8: credential.pkcs8,
    certificates: [credential, ...chain].map(({ certificate }) => certificate.raw),
  };
}

describe('decodePkcs12 reads what OpenSSL 3 writes', () => {
  for (const kind of KEY_KINDS) {
    it(`${kind}: the default (PBES2 AES-256-CBC, SHA-256 MAC)`, () => {
      const credential = ws.selfSigned(kind);
      assertBundle(decodePkcs12(ws.pkcs12(credential, PASSWORD), PASSWORD), credential);
    });

    it(`${kind}: -legacy (3DES key, RC2-40 certificates, SHA-1 MAC)`, () => {
      const credential = ws.selfSigned(kind);
      assertBundle(decodePkcs12(ws.pkcs12(credential, PASSWORD, '-legacy'), PASSWORD), credential);
    });
  }

  it('the -legacy fixture really uses RC2-40, which OpenSSL 3 reads only with -legacy', () => {
    const pfx = ws.pkcs12(leaf, PASSWORD, '-legacy');
    assert.throws(() => ws.readPkcs12(pfx, PASSWORD));
    assert.match(ws.pkcs12Info(pfx, PASSWORD, '-legacy'), /pbeWithSHA1And40BitRC2-CBC/);
  });

  it('an empty password, given as none or as an empty string', () => {
    const pfx = ws.pkcs12(leaf, '');
    assertBundle(decodePkcs12(pfx), leaf);
    assertBundle(decodePkcs12(pfx, ''), leaf);
  });

  it('a non-ASCII password, default and -legacy', () => {
    assertBundle(decodePkcs12(ws.pkcs12(leaf, NON_ASCII_PASSWORD), NON_ASCII_PASSWORD), leaf);
    assertBundle(decodePkcs12(ws.pkcs12(leaf, NON_ASCII_PASSWORD, '-legacy'), NON_ASCII_PASSWORD), leaf);
  });

  it('no encryption and no MAC (a plain key bag)', () => {
    const pfx = ws.pkcs12(leaf, '', '-keypbe', 'NONE', '-certpbe', 'NONE', '-nomac');
    assert.doesNotMatch(ws.pkcs12Info(pfx, ''), /Shrouded|Encrypted|MAC:/);
    assertBundle(decodePkcs12(pfx), leaf);
  });

  it('encryption without a MAC', () => {
    assertBundle(decodePkcs12(ws.pkcs12(leaf, PASSWORD, '-nomac'), PASSWORD), leaf);
  });

  it('certificates only (-nokeys)', () => {
    const pfx = ws.pkcs12(leaf, PASSWORD, '-nokeys');
    const parts = decodePkcs12(pfx, PASSWORD);
    assert.equal(parts.privateKeyPkcs8, undefined);
    assert.deepEqual(parts.certificates, [leaf.certificate.raw]);
  });

  it('a chain, leaf first then the CA', () => {
    const pfx = ws.pkcs12(leaf, PASSWORD, '-certfile', ca.certFile);
    assertBundle(decodePkcs12(pfx, PASSWORD), leaf, ca.certificate);
  });

  it('puts the leaf first when the file lists the CA first', () => {
    const rsaLeaf = ws.issued('rsa', ca);
    const key = forge.pki.privateKeyFromPem(ws.read(rsaLeaf.keyFile).toString());
    const chain = [ca, rsaLeaf].map(({ certFile }) =>
      forge.pki.certificateFromPem(ws.read(certFile).toString()),
    );
    const asn1 = forge.pkcs12.toPkcs12Asn1(key, chain, PASSWORD, { algorithm: '3des' });
    const pfx = Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
    const listed = pemBlocks(ws.readPkcs12(pfx, PASSWORD), 'CERTIFICATE');
    assert.equal(listed.length, 2);
    assert.deepEqual(
      new X509Certificate(listed[0] ?? '').raw,
      ca.certificate.raw,
      'the fixture lists the CA first',
    );
    assertBundle(decodePkcs12(pfx, PASSWORD), rsaLeaf, ca.certificate);
  });
});

describe('encodePkcs12 writes what OpenSSL 3 and node:tls read', () => {
  for (const kind of KEY_KINDS) {
    it(`${kind}: without a password (opens with an empty one)`, () => {
      const credential = ws.selfSigned(kind);
      const pfx = encodePkcs12(partsOf(credential));
      assertOpensslRead(ws.readPkcs12(pfx, ''), credential);
      createSecureContext({ pfx });
      assertBundle(decodePkcs12(pfx), credential);
    });

    it(`${kind}: with a password (AES-256-CBC, PBKDF2-SHA256, SHA-256 MAC)`, () => {
      const credential = ws.selfSigned(kind);
      const pfx = encodePkcs12(partsOf(credential), PASSWORD);
      const info = ws.pkcs12Info(pfx, PASSWORD);
      assert.match(info, /MAC: sha256/);
      assert.match(info, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/);
      assert.match(info, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC/);
      assertOpensslRead(ws.readPkcs12(pfx, PASSWORD), credential);
      createSecureContext({ pfx, passphrase: PASSWORD });
      assert.throws(() => createSecureContext({ pfx, passphrase: 'wrong' }));
      assertBundle(decodePkcs12(pfx, PASSWORD), credential);
    });
  }

  it('without a password, keeps the key shrouded and the certificates in clear', () => {
    const info = ws.pkcs12Info(encodePkcs12(partsOf(leaf)), '');
    assert.match(info, /Shrouded Keybag: PBES2/);
    assert.doesNotMatch(info, /PKCS7 Encrypted data/);
  });

  it('a chain, in the given order', () => {
    const pfx = encodePkcs12(partsOf(leaf, ca), PASSWORD);
    assertOpensslRead(ws.readPkcs12(pfx, PASSWORD), leaf, ca.certificate);
    createSecureContext({ pfx, passphrase: PASSWORD });
    assertBundle(decodePkcs12(pfx, PASSWORD), leaf, ca.certificate);
  });

  it('a non-ASCII password, encoded as OpenSSL does', () => {
    const pfx = encodePkcs12(partsOf(leaf), NON_ASCII_PASSWORD);
    assertOpensslRead(ws.readPkcs12(pfx, NON_ASCII_PASSWORD), leaf);
    createSecureContext({ pfx, passphrase: NON_ASCII_PASSWORD });
  });

  it('certificates only', () => {
    const pfx = encodePkcs12({ certificates: [leaf.certificate.raw] });
    assert.deepEqual(pemBlocks(ws.readPkcs12(pfx, ''), 'PRIVATE KEY'), []);
    assert.deepEqual(decodePkcs12(pfx), { certificates: [leaf.certificate.raw] });
  });
});

describe('decodePkcs12 rejects, with a BadParameter that says why', () => {
  it('a wrong password, without repeating it', () => {
    const pfx = ws.pkcs12(leaf, PASSWORD);
    assertBadParameter(
      () => decodePkcs12(pfx, 'not-the-password'),
      /^The password does not open this PKCS#12 file\.$/,
    );
  });

  it('a missing password', () => {
    assertBadParameter(() => decodePkcs12(ws.pkcs12(leaf, PASSWORD)), /protected by a password; supply it/);
    assertBadParameter(
      () => decodePkcs12(ws.pkcs12(leaf, PASSWORD, '-legacy'), ''),
      /protected by a password/,
    );
  });

  it('garbage, a certificate and a truncated file', () => {
    const pfx = ws.pkcs12(leaf, PASSWORD);
    for (const value of [
      randomBytes(300),
      Buffer.alloc(0),
      leaf.certificate.raw,
      pfx.subarray(0, pfx.length - 40),
    ]) {
      assertBadParameter(
        () => decodePkcs12(value, PASSWORD),
        /^The value is not a valid PKCS#12 \(PFX\) file\.$/,
      );
    }
  });

  it('a tampered file', () => {
    const pfx = Buffer.from(ws.pkcs12(leaf, PASSWORD));
    const offset = pfx.length - 100;
    pfx.writeUInt8(pfx.readUInt8(offset) ^ 0x01, offset);
    assertBadParameter(() => decodePkcs12(pfx, PASSWORD), /PKCS#12/);
  });

  it('more key derivation iterations than Coffer spends time on', () => {
    const pfx = ws.pkcs12(leaf, PASSWORD, '-iter', '200000');
    assertBadParameter(() => decodePkcs12(pfx, PASSWORD), /asks for 200000 key derivation iterations/);
  });

  it('a wrong password on a file without a MAC', () => {
    const pfx = ws.pkcs12(leaf, PASSWORD, '-nomac');
    assertBadParameter(() => decodePkcs12(pfx, 'not-the-password'), /password does not open/);
  });

  it('a key that belongs to none of the certificates', () => {
    const pfx = encodePkcs12({ privateKeyPkcs8: ca.pkcs8, certificates: [leaf.certificate.raw] });
    assertBadParameter(
      () => decodePkcs12(pfx),
      /private key in the PKCS#12 file does not belong to any of its certificates/,
    );
  });

  it('a file without certificates', () => {
    const pfx = encodePkcs12({ privateKeyPkcs8: leaf.pkcs8, certificates: [] });
    assertBadParameter(() => decodePkcs12(pfx), /holds no certificate/);
  });
});
