import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import { CofferError } from '../../errors/index.js';
import { supportedAlgorithms } from './algorithms.js';
import {
  AES_BITS,
  EC_SIGNATURES,
  type FixtureKeys,
  RSA_CIPHERS,
  RSA_NO_PADDING,
  assert400,
  digestOf,
  fixtureKeys,
  flipped,
  message,
  nodeCurve,
  provider,
  rejects400,
  rsaPrivate,
} from './provider-fixtures.js';
import type { Curve, RsaPrivateJwk, StoredKeyMaterial } from './types.js';

// Import, generation, and every client mistake the provider must answer with a 400.

let rsa: RsaPrivateJwk;
let ecKey: FixtureKeys['ecKey'];
let octKey: FixtureKeys['octKey'];

before(async () => {
  ({ rsa, ecKey, octKey } = await fixtureKeys());
});

describe('import and generate', () => {
  it('an imported RSA JWK signs RS256 byte for byte like the original key', async () => {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const imported = provider.importJwk({ ...privateKey.export({ format: 'jwk' }), key_ops: ['sign'] });
    const signature = await provider.sign(imported, 'RS256', digestOf('sha256'));
    assert.deepEqual(signature, crypto.sign('sha256', message, privateKey));
    assert.deepEqual(Object.keys(provider.publicJwk(imported)).sort(), ['e', 'kty', 'n']);
    assert.equal(provider.keySize(imported), 2048);
    assert.deepEqual(provider.importJwk(rsa), rsa, 'generated material re-imports unchanged');
  });

  for (const curve of ['P-256', 'P-256K', 'P-384', 'P-521'] as const) {
    it(`an imported ${curve} JWK signs what the original public key verifies`, async () => {
      const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: nodeCurve(curve) });
      const imported = provider.importJwk({ ...privateKey.export({ format: 'jwk' }), crv: curve });
      const [alg, hash] = EC_SIGNATURES.find((entry) => entry[2] === curve) ?? EC_SIGNATURES[0];
      const signature = await provider.sign(imported, alg, digestOf(hash));
      assert.ok(crypto.verify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature));
      assert.deepEqual(Object.keys(provider.publicJwk(imported)).sort(), ['crv', 'kty', 'x', 'y']);
      assert.deepEqual(
        provider.importJwk(ecKey(curve)),
        ecKey(curve),
        'generated material re-imports unchanged',
      );
    });
  }

  it('generates RSA 3072 and 4096 and oct keys of the asked size; shows nothing secret of oct', async () => {
    const [rsa3072, rsa4096] = await Promise.all([
      provider.generate({ kty: 'RSA', size: 3072 }),
      provider.generate({ kty: 'RSA', size: 4096, publicExponent: 65537 }),
    ]);
    assert.equal(provider.keySize(rsa3072), 3072);
    assert.equal(provider.keySize(rsa4096), 4096);
    assert.ok(
      crypto.verify(
        'sha512',
        message,
        rsaPrivate(rsa4096 as RsaPrivateJwk),
        await provider.sign(rsa4096, 'RS512', digestOf('sha512')),
      ),
    );
    for (const bits of AES_BITS) assert.equal(provider.keySize(octKey(bits)), bits);
    assert.deepEqual(provider.publicJwk(octKey(256)), { kty: 'oct' });
    assert.equal(provider.keySize(ecKey('P-521')), 521);
  });

  it('rejects sizes, curves and exponents it does not offer', async () => {
    await assert.rejects(provider.generate({ kty: 'RSA', size: 1024 }), /2048, 3072, 4096/);
    await assert.rejects(provider.generate({ kty: 'RSA', publicExponent: 4 }), /odd integer/);
    await assert.rejects(
      provider.generate({ kty: 'EC', curve: 'P-192' as Curve }),
      /P-256, P-256K, P-384, P-521/,
    );
    await assert.rejects(provider.generate({ kty: 'oct', size: 512 }), /128, 192, 256/);
  });

  it('rejects a malformed private JWK, naming what is missing and quoting no value', () => {
    const good = crypto
      .generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ format: 'jwk' });
    const other = crypto
      .generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ format: 'jwk' });
    const secrets = [String(good.d), String(good.p), String(other.d)];
    assert400(
      () => provider.importJwk({ ...good, p: undefined, q: 'not base64!' }),
      /missing or malformed: p, q\./,
      secrets,
    );
    assert400(() => provider.importJwk({ ...good, d: other.d }), /RSA key is inconsistent/, secrets);
    assert400(() => provider.importJwk({ kty: 'RSA-HSM' }), /kty must be RSA, EC or oct/);
    const p256 = ecKey('P-256');
    assert400(() => provider.importJwk({ ...p256, d: undefined }), /missing or malformed: d\./);
    assert400(() => provider.importJwk({ ...p256, d: ecKey('P-256K').d }), /d does not match/, [
      ecKey('P-256K').d,
    ]);
    assert400(() => provider.importJwk({ ...p256, crv: 'secp256k1' }), /crv must be one of/);
    assert400(() => provider.importJwk({ kty: 'oct' }), /oct private key needs k/);
    assert400(
      () => provider.importJwk({ kty: 'oct', k: Buffer.alloc(20).toString('base64url') }),
      /128, 192, 256 bits/,
    );
  });
});

describe('client mistakes are 400s with a helpful message', () => {
  it('a digest of the wrong length', async () => {
    await rejects400(
      () => provider.sign(rsa, 'RS256', digestOf('sha384')),
      /RS256 signs a 32-byte SHA256 digest.* 48 bytes/,
    );
    await rejects400(
      () => provider.verify(ecKey('P-384'), 'ES384', message, Buffer.alloc(96)),
      /ES384 signs a 48-byte/,
    );
  });

  it('an algorithm that does not fit the key type', async () => {
    await rejects400(
      () => provider.sign(rsa, 'ES256', digestOf('sha256')),
      /ES256 needs an EC key; this is an RSA key/,
    );
    await rejects400(
      () => provider.sign(ecKey('P-256'), 'PS256', digestOf('sha256')),
      /PS256 needs an RSA key/,
    );
    await rejects400(
      () => provider.encrypt(octKey(256), 'RSA-OAEP', message),
      /RSA-OAEP needs an RSA key; this is an oct/,
    );
    await rejects400(() => provider.encrypt(rsa, 'A256GCM', message), /A256GCM needs an oct key/);
  });

  it('an EC curve or AES key size that does not match the algorithm', async () => {
    await rejects400(
      () => provider.sign(ecKey('P-256'), 'ES384', digestOf('sha384')),
      /ES384 needs a P-384 key; .* P-256/,
    );
    await rejects400(
      () => provider.sign(ecKey('P-256'), 'ES256K', digestOf('sha256')),
      /ES256K needs a P-256K key/,
    );
    const k = octKey(128).k;
    await rejects400(
      () => provider.encrypt(octKey(128), 'A256GCM', message),
      /256-bit oct key; this key has 128/,
      [k],
    );
    await rejects400(
      () => provider.wrapKey(octKey(256), 'A192KW', Buffer.alloc(16)),
      /A192KW needs a 192-bit oct key/,
    );
  });

  it('a tampered GCM tag, ciphertext or aad, and a missing tag', async () => {
    const key = octKey(256);
    const out = await provider.encrypt(key, 'A256GCM', message, { aad: Buffer.from('a') });
    const base = { iv: out.iv, aad: Buffer.from('a'), tag: out.tag };
    const secrets = [key.k, message.toString('base64url'), message.toString()];
    await rejects400(
      () => provider.decrypt(key, 'A256GCM', out.result, { ...base, tag: flipped(out.tag as Buffer) }),
      /Decryption failed/,
      secrets,
    );
    await rejects400(
      () => provider.decrypt(key, 'A256GCM', flipped(out.result), base),
      /Decryption failed/,
      secrets,
    );
    await rejects400(
      () => provider.decrypt(key, 'A256GCM', out.result, { ...base, aad: Buffer.from('b') }),
      /Decryption failed/,
    );
    await rejects400(() => provider.decrypt(key, 'A256GCM', out.result, { iv: out.iv }), /needs the tag/);
    await rejects400(
      () => provider.decrypt(key, 'A256GCM', out.result, { ...base, tag: out.tag?.subarray(0, 12) }),
      /16-byte tag/,
    );
    await rejects400(
      () => provider.encrypt(key, 'A256GCM', message, { iv: Buffer.alloc(12) }),
      /takes no iv: the service chooses/,
    );
    await rejects400(
      () => provider.encrypt(rsa, 'RSA-OAEP', message, { aad: Buffer.alloc(4) }),
      /RSA-OAEP takes no iv, aad or tag/,
    );
  });

  it('a tampered RSA ciphertext, for every padding', async () => {
    for (const alg of ['RSA-OAEP', 'RSA-OAEP-256'] as const) {
      const ciphertext = (await provider.encrypt(rsa, alg, message)).result;
      const tampered = flipped(ciphertext, 200);
      await rejects400(() => provider.decrypt(rsa, alg, tampered), /Decryption failed/, [
        rsa.d,
        message.toString(),
      ]);
      await rejects400(() => provider.unwrapKey(rsa, alg, tampered), /Decryption failed/);
    }
    for (const alg of RSA_CIPHERS) {
      const ciphertext = (await provider.encrypt(rsa, alg, message)).result;
      await rejects400(() => provider.decrypt(rsa, alg, ciphertext.subarray(1)), /must be 256 bytes/);
    }
    await rejects400(() => provider.encrypt(rsa, 'RSA-OAEP-256', Buffer.alloc(191)), /at most 190 bytes/);
  });

  it('RSA1_5: every broken PKCS#1 v1.5 rule fails, and the shortest valid padding opens', async () => {
    // Blocks are put through the raw public operation, so each breaks exactly one rule.
    const encryptRaw = (block: Buffer) =>
      crypto.publicEncrypt({ key: rsaPrivate(rsa), padding: RSA_NO_PADDING }, block);
    const block = (head: number[], paddingBytes: number, separator = [0]) => {
      const body = Buffer.concat([
        Buffer.from(head),
        Buffer.alloc(paddingBytes, 0x5a),
        Buffer.from(separator),
      ]);
      return Buffer.concat([body, Buffer.alloc(256 - body.length, 0x42)]);
    };
    const cases: [string, Buffer][] = [
      ['type 1 instead of 2', block([0, 1], 8)],
      ['non-zero leading byte', block([1, 2], 8)],
      ['only 7 bytes of padding', block([0, 2], 7)],
      ['no zero separator', Buffer.concat([Buffer.from([0, 2]), Buffer.alloc(254, 0x5a)])],
    ];
    for (const [rule, broken] of cases) {
      await rejects400(() => provider.decrypt(rsa, 'RSA1_5', encryptRaw(broken)), /Decryption failed/, [
        rsa.d,
      ]);
      await rejects400(() => provider.unwrapKey(rsa, 'RSA1_5', encryptRaw(broken)), /Decryption failed/, [
        rule,
      ]);
    }
    const shortest = block([0, 2], 8);
    assert.deepEqual(await provider.decrypt(rsa, 'RSA1_5', encryptRaw(shortest)), shortest.subarray(11));
  });

  it('CBC plaintext that is not a multiple of 16, and a broken CBCPAD padding', async () => {
    await rejects400(
      () => provider.encrypt(octKey(128), 'A128CBC', Buffer.alloc(17)),
      /multiple of 16 bytes.*A128CBCPAD/,
    );
    const out = await provider.encrypt(octKey(128), 'A128CBCPAD', message);
    // A block that decrypts to a last byte of 0, which is never valid PKCS#7 padding. (Flipping a
    // ciphertext byte instead leaves valid-looking padding about once in 256 runs.)
    const key = Buffer.from(octKey(128).k, 'base64url');
    const cipher = crypto.createCipheriv('aes-128-cbc', key, out.iv!).setAutoPadding(false);
    const badPadding = Buffer.concat([cipher.update(Buffer.alloc(16, 0)), cipher.final()]);
    await rejects400(
      () => provider.decrypt(octKey(128), 'A128CBCPAD', badPadding, { iv: out.iv }),
      /Decryption failed/,
    );
    await rejects400(
      () => provider.decrypt(octKey(128), 'A128CBC', Buffer.alloc(20), { iv: out.iv }),
      /multiple of 16/,
    );
    await rejects400(() => provider.decrypt(octKey(128), 'A128CBC', out.result, {}), /needs the iv/);
    await rejects400(
      () => provider.encrypt(octKey(128), 'A128CBCPAD', message, { aad: Buffer.from('x') }),
      /only the GCM/,
    );
  });

  it('a key-wrap input of the wrong length, and a wrapped key that fails its integrity check', async () => {
    const key = octKey(256);
    await rejects400(
      () => provider.wrapKey(key, 'A256KW', Buffer.alloc(12)),
      /at least 16 bytes in multiples of 8/,
    );
    const wrapped = await provider.wrapKey(key, 'A256KW', crypto.randomBytes(32));
    await rejects400(() => provider.unwrapKey(key, 'A256KW', flipped(wrapped, 3)), /Unwrap failed/, [key.k]);
    await rejects400(
      () => provider.unwrapKey(octKey(256), 'A256KW', wrapped.subarray(0, 20)),
      /at least 24 bytes/,
    );
  });

  it('only BadParameter or NotSupported ever escapes for garbage input', async () => {
    const keys: StoredKeyMaterial[] = [rsa, ecKey('P-256'), octKey(128), octKey(256)];
    const algs = [...supportedAlgorithms('encrypt'), ...supportedAlgorithms('wrap')];
    for (const key of keys) {
      for (const alg of algs) {
        for (const size of [0, 1, 16, 24, 40, 256]) {
          const garbage = crypto.randomBytes(size);
          const options = { iv: crypto.randomBytes(12), tag: crypto.randomBytes(16) };
          for (const call of [
            () => provider.decrypt(key, alg, garbage, options),
            () => provider.unwrapKey(key, alg, garbage),
          ]) {
            try {
              await call();
            } catch (error) {
              assert.ok(error instanceof CofferError && error.status === 400, `${alg}: ${String(error)}`);
            }
          }
        }
      }
    }
  });
});
