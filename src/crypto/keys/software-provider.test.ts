import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import { supportedAlgorithms } from './algorithms.js';
import { curveParams } from './ec-curves.js';
import {
  AES_BITS,
  EC_SIGNATURES,
  type FixtureKeys,
  KW_IV,
  RSA_CIPHERS,
  RSA_NO_PADDING,
  RSA_PKCS1_OAEP_PADDING,
  RSA_PKCS1_PADDING,
  RSA_PKCS1_PSS_PADDING,
  RSA_SIGNATURES,
  digestOf,
  ecPrivate,
  ecPublic,
  fixtureKeys,
  flipped,
  message,
  octBytes,
  provider,
  rejects400,
  rsaPrivate,
} from './provider-fixtures.js';
import type { RsaPrivateJwk } from './types.js';

// Every cryptographic result is checked against node:crypto (or WebCrypto) on its own terms:
// what the provider produces must open with the standard primitive, and the reverse. The 400
// rules, import and generation are in software-provider-rules.test.ts.

let rsa: RsaPrivateJwk;
let ecKey: FixtureKeys['ecKey'];
let octKey: FixtureKeys['octKey'];

before(async () => {
  ({ rsa, ecKey, octKey } = await fixtureKeys());
});

/** What node:crypto needs to sign or verify RSA the way the algorithm name says. */
function rsaOptions(alg: string, hash: string) {
  if (alg.startsWith('RS')) return { padding: RSA_PKCS1_PADDING };
  return { padding: RSA_PKCS1_PSS_PADDING, saltLength: digestOf(hash).length };
}

/** RSAES-PKCS1-v1_5 by hand, because Node 20 refuses RSA_PKCS1_PADDING in privateDecrypt. */
function pkcs1Decrypt(key: crypto.KeyObject, ciphertext: Buffer): Buffer {
  const em = crypto.privateDecrypt({ key, padding: RSA_NO_PADDING }, ciphertext);
  const separator = em.indexOf(0, 2);
  assert.equal(em[0], 0);
  assert.equal(em[1], 2);
  assert.ok(separator >= 10, 'at least 8 bytes of non-zero padding');
  return em.subarray(separator + 1);
}

function nodeRsaDecrypt(alg: string, ciphertext: Buffer): Buffer {
  const key = rsaPrivate(rsa);
  if (alg === 'RSA1_5') return pkcs1Decrypt(key, ciphertext);
  const oaepHash = alg === 'RSA-OAEP' ? 'sha1' : 'sha256';
  return crypto.privateDecrypt({ key, padding: RSA_PKCS1_OAEP_PADDING, oaepHash }, ciphertext);
}

function nodeRsaEncrypt(alg: string, plaintext: Buffer): Buffer {
  const key = rsaPrivate(rsa);
  if (alg === 'RSA1_5') return crypto.publicEncrypt({ key, padding: RSA_PKCS1_PADDING }, plaintext);
  const oaepHash = alg === 'RSA-OAEP' ? 'sha1' : 'sha256';
  return crypto.publicEncrypt({ key, padding: RSA_PKCS1_OAEP_PADDING, oaepHash }, plaintext);
}

describe('algorithm table', () => {
  it('lists exactly the algorithms of each operation family', () => {
    assert.deepEqual(supportedAlgorithms('sign'), [
      ...['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES256K', 'ES384', 'ES512'],
    ]);
    assert.deepEqual(supportedAlgorithms('encrypt'), [
      ...['RSA1_5', 'RSA-OAEP', 'RSA-OAEP-256', 'A128GCM', 'A192GCM', 'A256GCM'],
      ...['A128CBC', 'A192CBC', 'A256CBC', 'A128CBCPAD', 'A192CBCPAD', 'A256CBCPAD'],
    ]);
    assert.deepEqual(supportedAlgorithms('wrap'), [
      'RSA1_5',
      'RSA-OAEP',
      'RSA-OAEP-256',
      'A128KW',
      'A192KW',
      'A256KW',
    ]);
  });

  it('rejects unknown names, prototype names and other families with NotSupported (400)', async () => {
    for (const name of ['HS256', 'RSNULL', '__proto__', 'constructor', 'toString', 'rs256', '']) {
      await rejects400(
        () => provider.sign(rsa, name, digestOf('sha256')),
        /not supported for sign\/verify.*RS256, /,
      );
    }
    await rejects400(
      () => provider.encrypt(octKey(128), 'A128KW', Buffer.alloc(16)),
      /Supported: RSA1_5, .*A256CBCPAD\./,
    );
    await rejects400(
      () => provider.wrapKey(octKey(128), 'A128GCM', Buffer.alloc(16)),
      /wrapKey\/unwrapKey.*A128KW/,
    );
    await rejects400(() => provider.encrypt(rsa, 'ES256', message), /not supported for encrypt\/decrypt/);
  });
});

describe('RSA signatures over a digest', () => {
  for (const [alg, hash] of RSA_SIGNATURES) {
    it(`${alg}: verifies with crypto.verify over the message, and accepts crypto.sign's signature`, async () => {
      const signature = await provider.sign(rsa, alg, digestOf(hash));
      const options = rsaOptions(alg, hash);
      assert.ok(crypto.verify(hash, message, { key: rsaPrivate(rsa), ...options }, signature));
      const nodeSignature = crypto.sign(hash, message, { key: rsaPrivate(rsa), ...options });
      assert.ok(await provider.verify(rsa, alg, digestOf(hash), nodeSignature));
      assert.equal(await provider.verify(rsa, alg, digestOf(hash), flipped(signature, 100)), false);
      assert.equal(await provider.verify(rsa, alg, digestOf(hash, Buffer.from('other')), signature), false);
      assert.equal(await provider.verify(rsa, alg, digestOf(hash), signature.subarray(1)), false);
    });
  }

  it('PS256 verify accepts the maximum salt length (node:crypto default) and rejects an RS256 signature', async () => {
    const maxSalt = crypto.sign('sha256', message, { key: rsaPrivate(rsa), padding: RSA_PKCS1_PSS_PADDING });
    assert.ok(await provider.verify(rsa, 'PS256', digestOf('sha256'), maxSalt));
    assert.equal(
      await provider.verify(
        rsa,
        'PS256',
        digestOf('sha256'),
        await provider.sign(rsa, 'RS256', digestOf('sha256')),
      ),
      false,
    );
  });

  it('PS256 works when the modulus length is not a multiple of 8 (2049 bits)', async () => {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2049 });
    const odd = provider.importJwk(privateKey.export({ format: 'jwk' }));
    const signature = await provider.sign(odd, 'PS256', digestOf('sha256'));
    const options = { key: privateKey, padding: RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    assert.ok(crypto.verify('sha256', message, options, signature));
    assert.ok(
      await provider.verify(odd, 'PS256', digestOf('sha256'), crypto.sign('sha256', message, options)),
    );
  });
});

describe('ECDSA signatures over a digest (raw r||s)', () => {
  for (const [alg, hash, curve] of EC_SIGNATURES) {
    it(`${alg} on ${curve}: verifies with crypto.verify over the message, and accepts crypto.sign's signature`, async () => {
      const key = ecKey(curve);
      const signature = await provider.sign(key, alg, digestOf(hash));
      assert.equal(signature.length, 2 * (curveParams(curve)?.bytes ?? 0));
      assert.ok(crypto.verify(hash, message, { key: ecPublic(key), dsaEncoding: 'ieee-p1363' }, signature));
      const nodeSignature = crypto.sign(hash, message, { key: ecPrivate(key), dsaEncoding: 'ieee-p1363' });
      assert.ok(await provider.verify(key, alg, digestOf(hash), nodeSignature));
      assert.equal(await provider.verify(key, alg, digestOf(hash), flipped(signature, 5)), false);
      assert.equal(await provider.verify(key, alg, digestOf(hash, Buffer.from('other')), signature), false);
      const der = crypto.sign(hash, message, ecPrivate(key));
      assert.equal(
        await provider.verify(key, alg, digestOf(hash), der),
        false,
        'DER is not the JWS encoding',
      );
    });
  }
});

describe('RSA encryption and key wrap', () => {
  for (const alg of RSA_CIPHERS) {
    it(`${alg}: node:crypto opens what the provider encrypts and wraps, and the reverse`, async () => {
      const secret = crypto.randomBytes(32);
      assert.deepEqual(nodeRsaDecrypt(alg, (await provider.encrypt(rsa, alg, secret)).result), secret);
      assert.deepEqual(nodeRsaDecrypt(alg, await provider.wrapKey(rsa, alg, secret)), secret);
      assert.deepEqual(await provider.decrypt(rsa, alg, nodeRsaEncrypt(alg, secret)), secret);
      assert.deepEqual(await provider.unwrapKey(rsa, alg, nodeRsaEncrypt(alg, secret)), secret);
    });
  }

  it('RSA-OAEP-256 uses MGF1-SHA256: WebCrypto RSA-OAEP/SHA-256 agrees both ways', async () => {
    const subtle = crypto.webcrypto.subtle;
    const algorithm = { name: 'RSA-OAEP', hash: 'SHA-256' };
    const jwk = { ...rsa, alg: 'RSA-OAEP-256' };
    const privateKey = await subtle.importKey('jwk', jwk, algorithm, false, ['decrypt']);
    const publicKey = await subtle.importKey('jwk', { kty: 'RSA', n: rsa.n, e: rsa.e }, algorithm, false, [
      'encrypt',
    ]);
    const secret = crypto.randomBytes(32);
    const fromProvider = (await provider.encrypt(rsa, 'RSA-OAEP-256', secret)).result;
    assert.deepEqual(Buffer.from(await subtle.decrypt(algorithm, privateKey, fromProvider)), secret);
    const fromWebCrypto = Buffer.from(await subtle.encrypt(algorithm, publicKey, secret));
    assert.deepEqual(await provider.decrypt(rsa, 'RSA-OAEP-256', fromWebCrypto), secret);
  });
});

describe('AES encryption', () => {
  for (const bits of AES_BITS) {
    it(`A${bits}GCM: server-made 12-byte iv and 16-byte tag; node:crypto agrees both ways, with aad`, async () => {
      const key = octBytes(octKey(bits));
      const aad = Buffer.from('header');
      const out = await provider.encrypt(octKey(bits), `A${bits}GCM`, message, { aad });
      assert.equal(out.iv?.length, 12);
      assert.equal(out.tag?.length, 16);
      const decipher = crypto.createDecipheriv(`aes-${bits}-gcm`, key, out.iv as Buffer);
      decipher.setAuthTag(out.tag as Buffer).setAAD(aad);
      assert.deepEqual(Buffer.concat([decipher.update(out.result), decipher.final()]), message);
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv(`aes-${bits}-gcm`, key, iv).setAAD(aad);
      const result = Buffer.concat([cipher.update(message), cipher.final()]);
      const opened = await provider.decrypt(octKey(bits), `A${bits}GCM`, result, {
        iv,
        aad,
        tag: cipher.getAuthTag(),
      });
      assert.deepEqual(opened, message);
    });

    for (const padded of [false, true]) {
      const alg = `A${bits}CBC${padded ? 'PAD' : ''}`;
      it(`${alg}: node:crypto agrees both ways; iv is generated when absent`, async () => {
        const key = octBytes(octKey(bits));
        const plaintext = padded ? message : message.subarray(0, 32);
        const out = await provider.encrypt(octKey(bits), alg, plaintext);
        assert.equal(out.iv?.length, 16);
        assert.equal(out.result.length, padded ? 48 : 32);
        const decipher = crypto
          .createDecipheriv(`aes-${bits}-cbc`, key, out.iv as Buffer)
          .setAutoPadding(padded);
        assert.deepEqual(Buffer.concat([decipher.update(out.result), decipher.final()]), plaintext);
        const iv = crypto.randomBytes(16);
        const cipher = crypto.createCipheriv(`aes-${bits}-cbc`, key, iv).setAutoPadding(padded);
        const result = Buffer.concat([cipher.update(plaintext), cipher.final()]);
        assert.deepEqual(await provider.decrypt(octKey(bits), alg, result, { iv }), plaintext);
      });
    }

    it(`A${bits}KW: node's id-aes${bits}-wrap unwraps what the provider wraps, and the reverse`, async () => {
      const key = octBytes(octKey(bits));
      const secret = crypto.randomBytes(32);
      const wrapped = await provider.wrapKey(octKey(bits), `A${bits}KW`, secret);
      assert.equal(wrapped.length, 40);
      const decipher = crypto.createDecipheriv(`id-aes${bits}-wrap`, key, KW_IV);
      assert.deepEqual(Buffer.concat([decipher.update(wrapped), decipher.final()]), secret);
      const cipher = crypto.createCipheriv(`id-aes${bits}-wrap`, key, KW_IV);
      const nodeWrapped = Buffer.concat([cipher.update(secret), cipher.final()]);
      assert.deepEqual(await provider.unwrapKey(octKey(bits), `A${bits}KW`, nodeWrapped), secret);
    });
  }

  it('A128KW matches the RFC 3394 §4.1 test vector', async () => {
    const kek = provider.importJwk({
      kty: 'oct',
      k: Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex').toString('base64url'),
    });
    const wrapped = await provider.wrapKey(
      kek,
      'A128KW',
      Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
    );
    assert.equal(wrapped.toString('hex'), '1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5');
  });
});
