import assert from 'node:assert/strict';
import {
  type KeyObject,
  type JsonWebKey as NodeJwk,
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CryptographyClient,
  type JsonWebKey,
  KeyClient,
  type KeyCurveName,
  type KeyType,
  type KeyVaultKey,
} from '@azure/keyvault-keys';
import { type DevServer, startDevServer } from './helpers/server-process.js';
import { startHsmDevServer } from './helpers/softhsm.js';

// Every key operation algorithm through the official CryptographyClient, each checked INDEPENDENTLY
// with node:crypto: what the server makes is opened or verified locally, and what is made locally
// is opened or verified by the server. Keys imported from local material let both sides be checked.

type Hash = 'sha256' | 'sha384' | 'sha512';
const RSA_SIGNATURES = [
  ['RS256', 'sha256'],
  ['RS384', 'sha384'],
  ['RS512', 'sha512'],
  ['PS256', 'sha256'],
  ['PS384', 'sha384'],
  ['PS512', 'sha512'],
] as const;
const EC_SIGNATURES = [
  ['ES256', 'P-256', 'sha256', 'prime256v1', 32],
  ['ES256K', 'P-256K', 'sha256', 'secp256k1', 32],
  ['ES384', 'P-384', 'sha384', 'secp384r1', 48],
  ['ES512', 'P-521', 'sha512', 'secp521r1', 66],
] as const;
const RSA_CIPHERS = [
  ['RSA1_5', undefined],
  ['RSA-OAEP', 'sha1'],
  ['RSA-OAEP-256', 'sha256'],
] as const;
const AES_BITS = [128, 192, 256] as const;
const DIGEST_BYTES: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };
const KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

const b64 = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('base64url');
const digestOf = (hash: Hash, message: Buffer) => createHash(hash).update(message).digest();

/** The public key a KeyClient returned, as a node:crypto key (Azure's P-256K is OpenSSL's secp256k1). */
function publicKeyOf(key: KeyVaultKey): KeyObject {
  const jwk = key.key!;
  if (jwk.kty?.startsWith('RSA')) {
    return createPublicKey({ key: { kty: 'RSA', n: b64(jwk.n), e: b64(jwk.e) }, format: 'jwk' });
  }
  const crv = jwk.crv === 'P-256K' ? 'secp256k1' : jwk.crv;
  return createPublicKey({ key: { kty: 'EC', crv, x: b64(jwk.x), y: b64(jwk.y) }, format: 'jwk' });
}

/** node:crypto sign/verify options for an Azure signature algorithm: PSS salt = digest length, raw r||s. */
function signingKey(alg: string, hash: Hash, key: KeyObject) {
  if (alg.startsWith('PS')) {
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: DIGEST_BYTES[hash] };
  }
  if (alg.startsWith('ES')) return { key, dsaEncoding: 'ieee-p1363' as const };
  return { key, padding: constants.RSA_PKCS1_PADDING };
}

function sdkJwk(jwk: NodeJwk): JsonWebKey {
  const bytes = (name: string) =>
    typeof jwk[name] === 'string' ? Buffer.from(jwk[name], 'base64url') : undefined;
  const [n, e, d, p, q, dp, dq, qi, x, y] = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi', 'x', 'y'].map(bytes);
  const crv = (jwk.crv === 'secp256k1' ? 'P-256K' : jwk.crv) as KeyCurveName | undefined;
  return { kty: jwk.kty as KeyType, crv, n, e, d, p, q, dp, dq, qi, x, y };
}

/** Where the keys live: the software provider in a standard vault, or the PKCS#11 token in a premium one. */
interface Flavor {
  title: string;
  start(): Promise<{ server: DevServer; vaultUrl: string }>;
  /** Create and import the keys as -HSM keys. */
  hsm: boolean;
  /** The RSA encryption algorithms the backend runs (SoftHSM 2.6 has RSA-OAEP with SHA-1 only). */
  rsaCiphers: readonly (typeof RSA_CIPHERS)[number][];
}

const FLAVORS: Flavor[] = [
  {
    title: 'software keys in a standard vault',
    start: async () => {
      const server = await startDevServer();
      return { server, vaultUrl: server.facts.vaultUrl };
    },
    hsm: false,
    rsaCiphers: RSA_CIPHERS,
  },
  {
    title: 'HSM keys in a premium vault (SoftHSM2 over PKCS#11)',
    start: () => startHsmDevServer(),
    hsm: true,
    rsaCiphers: RSA_CIPHERS.filter(([alg]) => alg !== 'RSA-OAEP-256'),
  },
];

for (const flavor of FLAVORS) cryptoSuite(flavor);

function cryptoSuite(flavor: Flavor): void {
  describe(`key operations through CryptographyClient, cross-checked with node:crypto: ${flavor.title}`, () => {
    let server: DevServer;
    let client: KeyClient;
    const RSA_CIPHERS = flavor.rsaCiphers;
    const hsm = flavor.hsm;
    const generated = new Map<string, KeyVaultKey>();
    const imported = new Map<string, { key: KeyVaultKey; privateKey: KeyObject; publicKey: KeyObject }>();
    const octKeys = new Map<number, { key: KeyVaultKey; k: Buffer }>();

    /**
     * A CryptographyClient that holds no key material, so every operation goes to the server. Given a
     * key id alone, the SDK would fetch the public key and run RSA encrypt and wrapKey itself.
     */
    const remote = (key: KeyVaultKey) =>
      new CryptographyClient(
        { name: key.name, id: key.id, properties: { name: key.name, vaultUrl: key.properties.vaultUrl } },
        server.credential,
      );
    const gen = (name: string) => generated.get(name)!;
    const imp = (name: string) => imported.get(name)!;
    const oct = (bits: number) => octKeys.get(bits)!;

    before(async () => {
      let vaultUrl: string;
      ({ server, vaultUrl } = await flavor.start());
      client = new KeyClient(vaultUrl, server.credential);
      const importLocal = async (name: string, pair: { privateKey: KeyObject; publicKey: KeyObject }) => {
        const jwk = sdkJwk(pair.privateKey.export({ format: 'jwk' }));
        const key = await client.importKey(name, jwk, { hardwareProtected: hsm });
        imported.set(name, { key, ...pair });
      };
      await Promise.all([
        client.createRsaKey('gen-rsa', { keySize: 2048, hsm }).then((key) => generated.set('rsa', key)),
        ...EC_SIGNATURES.map(([, curve]) =>
          client.createEcKey(`gen-${curve}`, { curve, hsm }).then((key) => generated.set(curve, key)),
        ),
        importLocal('rsa', generateKeyPairSync('rsa', { modulusLength: 2048 })),
        ...EC_SIGNATURES.map(([, curve, , nodeCurve]) =>
          importLocal(curve, generateKeyPairSync('ec', { namedCurve: nodeCurve })),
        ),
        ...AES_BITS.map(async (bits) => {
          const k = randomBytes(bits / 8);
          const key = await client.importKey(`oct-${bits}`, { kty: 'oct', k }, { hardwareProtected: hsm });
          octKeys.set(bits, { key, k });
        }),
      ]);
    });
    after(async () => {
      assert.equal(await server.stop(), 0);
    });

    if (hsm) {
      it('the keys are -HSM keys held by the token, and what the token cannot run is a 400, not a fallback', async () => {
        for (const key of [...generated.values(), ...[...imported.values()].map(({ key }) => key)]) {
          assert.match(key.keyType ?? '', /-HSM$/, key.name);
          assert.equal(key.properties.hsmPlatform, 'SoftHSM project SoftHSM v2', key.name);
        }
        const key = gen('rsa');
        for (const call of [
          () => remote(key).decrypt({ algorithm: 'RSA-OAEP-256', ciphertext: randomBytes(256) }),
          () => remote(key).encrypt({ algorithm: 'RSA-OAEP-256', plaintext: randomBytes(16) }),
          () => remote(key).unwrapKey('RSA-OAEP-256', randomBytes(256)),
        ]) {
          await assert.rejects(call(), (error: unknown) => {
            const { statusCode, code, message } = error as {
              statusCode?: number;
              code?: string;
              message: string;
            };
            assert.equal(statusCode, 400);
            assert.equal(code, 'NotSupported');
            assert.match(message, /HSM that holds this key does not support RSA-OAEP-256/);
            return true;
          });
        }
      });
    }

    it('server RS*/PS* signatures verify locally over the original message', async () => {
      const key = gen('rsa');
      const publicKey = publicKeyOf(key);
      for (const [alg, hash] of RSA_SIGNATURES) {
        const message = randomBytes(200);
        const { result } = await remote(key).sign(alg, digestOf(hash, message));
        assert.equal(result.length, 256, alg);
        assert.ok(verify(hash, message, signingKey(alg, hash, publicKey), result), `${alg} verifies locally`);
        const other = Buffer.concat([message, Buffer.from([0])]);
        assert.ok(!verify(hash, other, signingKey(alg, hash, publicKey), result), `${alg} binds the message`);
        const again = await remote(key).signData(alg, message);
        assert.ok(verify(hash, message, signingKey(alg, hash, publicKey), again.result), `${alg} signData`);
        // PKCS#1 v1.5 is deterministic; PSS has a random salt.
        assert.equal(Buffer.from(again.result).equals(result), alg.startsWith('RS'), `${alg} determinism`);
      }
    });

    it('server ES* signatures verify locally as raw r||s on the right curve', async () => {
      for (const [alg, curve, hash, , bytes] of EC_SIGNATURES) {
        const key = gen(curve);
        const message = randomBytes(77);
        const { result } = await remote(key).sign(alg, digestOf(hash, message));
        assert.equal(result.length, 2 * bytes, `${alg} signature is r||s`);
        const publicKey = signingKey(alg, hash, publicKeyOf(key));
        assert.ok(verify(hash, message, publicKey, result), `${alg} verifies locally`);
        assert.ok(!verify(hash, randomBytes(77), publicKey, result), `${alg} binds the message`);
        const second = await remote(key).sign(alg, digestOf(hash, message));
        assert.ok(!Buffer.from(second.result).equals(result), `${alg} uses a fresh nonce`);
        assert.ok(verify(hash, message, publicKey, second.result));
      }
    });

    it('locally made signatures verify through CryptographyClient.verify, and altered ones do not', async () => {
      const cases = [
        ...RSA_SIGNATURES.map(([alg, hash]) => [alg, hash, 'rsa'] as const),
        ...EC_SIGNATURES.map(([alg, curve, hash]) => [alg, hash, curve] as const),
      ];
      for (const [alg, hash, name] of cases) {
        const { key, privateKey } = imp(name);
        const message = randomBytes(64);
        const digest = digestOf(hash, message);
        const signature = sign(hash, message, signingKey(alg, hash, privateKey));
        assert.equal((await remote(key).verify(alg, digest, signature)).result, true, `${alg} verifies`);
        assert.equal(
          (await remote(key).verifyData(alg, message, signature)).result,
          true,
          `${alg} verifyData`,
        );
        const flipped = Buffer.from(signature);
        flipped[flipped.length - 1]! ^= 1;
        assert.equal((await remote(key).verify(alg, digest, flipped)).result, false, `${alg} altered`);
        const otherDigest = digestOf(hash, randomBytes(64));
        assert.equal((await remote(key).verify(alg, otherDigest, signature)).result, false, `${alg} other`);
      }
    });

    it('an imported RSA key signs exactly as the original private key; PSS verifies with its public key', async () => {
      const { key, privateKey, publicKey } = imp('rsa');
      assert.equal(b64(key.key?.n), publicKey.export({ format: 'jwk' }).n);
      for (const [alg, hash] of RSA_SIGNATURES) {
        const message = Buffer.from(`imported ${alg}`);
        const { result } = await remote(key).sign(alg, digestOf(hash, message));
        if (alg.startsWith('RS')) {
          assert.deepEqual(Buffer.from(result), sign(hash, message, privateKey), `${alg} byte-equal`);
        } else {
          assert.ok(verify(hash, message, signingKey(alg, hash, publicKey), result), `${alg} verifies`);
        }
      }
    });

    it("an imported EC key's signatures verify with the original public key on every curve", async () => {
      for (const [alg, curve, hash] of EC_SIGNATURES) {
        const { key, publicKey } = imp(curve);
        const message = Buffer.from(`imported ${alg}`);
        const { result } = await remote(key).sign(alg, digestOf(hash, message));
        assert.ok(verify(hash, message, signingKey(alg, hash, publicKey), result), `${alg} on ${curve}`);
      }
    });

    it('RSA1_5, RSA-OAEP and RSA-OAEP-256: local encrypt -> server decrypt, and server round trips', async () => {
      const key = gen('rsa');
      for (const [alg, oaepHash] of RSA_CIPHERS) {
        const plaintext = randomBytes(alg === 'RSA-OAEP-256' ? 190 : 100);
        const padding = oaepHash ? constants.RSA_PKCS1_OAEP_PADDING : constants.RSA_PKCS1_PADDING;
        const local = publicEncrypt({ key: publicKeyOf(key), padding, oaepHash }, plaintext);
        const opened = await remote(key).decrypt({ algorithm: alg, ciphertext: local });
        assert.deepEqual(Buffer.from(opened.result), plaintext, `${alg}: server decrypts a local ciphertext`);

        const first = await remote(key).encrypt({ algorithm: alg, plaintext });
        const second = await remote(key).encrypt({ algorithm: alg, plaintext });
        assert.equal(first.result.length, 256);
        assert.ok(!Buffer.from(first.result).equals(second.result), `${alg} is randomised`);
        const back = await remote(key).decrypt({ algorithm: alg, ciphertext: first.result });
        assert.deepEqual(Buffer.from(back.result), plaintext, `${alg}: server round trip`);
      }
    });

    it('server RSA ciphertexts open locally with the private key of an imported key', async () => {
      const { key, privateKey } = imp('rsa');
      for (const [alg, oaepHash] of RSA_CIPHERS) {
        const plaintext = randomBytes(48);
        const { result } = await remote(key).encrypt({ algorithm: alg, plaintext });
        if (oaepHash) {
          const opened = privateDecrypt(
            { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash },
            result,
          );
          assert.deepEqual(opened, plaintext, alg);
        } else {
          // Node 20 refuses PKCS#1 v1.5 private decryption (Marvin); check EME-PKCS1-v1_5 by hand.
          const em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, result);
          const separator = em.indexOf(0, 2);
          assert.deepEqual([em[0], em[1]], [0, 2], 'EME-PKCS1-v1_5 block type 2');
          assert.ok(separator >= 10, 'at least 8 bytes of non-zero padding');
          assert.deepEqual(em.subarray(separator + 1), plaintext, alg);
        }
      }
    });

    it('A128/192/256GCM: iv, aad and tag as the spec says, checked against node in both directions', async () => {
      for (const bits of AES_BITS) {
        const { key, k } = oct(bits);
        const algorithm = `A${bits}GCM` as const;
        const cipherName = `aes-${bits}-gcm` as const;
        const plaintext = randomBytes(45);
        const aad = Buffer.from(`header ${bits}`);

        const sealed = await remote(key).encrypt({ algorithm, plaintext, additionalAuthenticatedData: aad });
        assert.equal(sealed.iv?.length, 12, `${algorithm}: the server makes a 12-byte iv`);
        assert.equal(sealed.authenticationTag?.length, 16);
        assert.deepEqual(Buffer.from(sealed.additionalAuthenticatedData ?? []), aad);
        assert.equal(sealed.result.length, plaintext.length);
        const decipher = createDecipheriv(cipherName, k, sealed.iv!).setAAD(aad);
        decipher.setAuthTag(sealed.authenticationTag!);
        const opened = Buffer.concat([decipher.update(sealed.result), decipher.final()]);
        assert.deepEqual(opened, plaintext, `${algorithm}: node opens the server's ciphertext`);

        const iv = randomBytes(12);
        const cipher = createCipheriv(cipherName, k, iv).setAAD(aad);
        const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
        const decrypted = await remote(key).decrypt({
          algorithm,
          ciphertext,
          iv,
          authenticationTag: cipher.getAuthTag(),
          additionalAuthenticatedData: aad,
        });
        assert.deepEqual(Buffer.from(decrypted.result), plaintext, `${algorithm}: the server opens node's`);
        const roundTrip = await remote(key).decrypt({
          algorithm,
          ciphertext: sealed.result,
          iv: sealed.iv!,
          authenticationTag: sealed.authenticationTag!,
          additionalAuthenticatedData: aad,
        });
        assert.deepEqual(Buffer.from(roundTrip.result), plaintext);
      }
    });

    it('A*CBC and A*CBCPAD equal node aes-*-cbc byte for byte, in both directions', async () => {
      for (const bits of AES_BITS) {
        const { key, k } = oct(bits);
        for (const [algorithm, padded] of [
          [`A${bits}CBC`, false],
          [`A${bits}CBCPAD`, true],
        ] as const) {
          const plaintext = randomBytes(padded ? 37 : 48);
          const iv = randomBytes(16);
          const localCipher = createCipheriv(`aes-${bits}-cbc`, k, iv).setAutoPadding(padded);
          const ciphertext = Buffer.concat([localCipher.update(plaintext), localCipher.final()]);
          assert.equal(ciphertext.length, 48, 'PKCS#7 pads 37 bytes to 48; 48 bytes stay 48 without padding');

          const sealed = await remote(key).encrypt({ algorithm, plaintext, iv });
          assert.deepEqual(Buffer.from(sealed.result), ciphertext, `${algorithm}: same bytes as node`);
          assert.deepEqual(Buffer.from(sealed.iv ?? []), iv);
          const opened = await remote(key).decrypt({ algorithm, ciphertext, iv });
          assert.deepEqual(Buffer.from(opened.result), plaintext, `${algorithm}: the server opens node's`);

          // Without an iv the server makes one and returns it.
          const fresh = await remote(key).encrypt({ algorithm, plaintext });
          assert.equal(fresh.iv?.length, 16);
          const decipher = createDecipheriv(`aes-${bits}-cbc`, k, fresh.iv!).setAutoPadding(padded);
          assert.deepEqual(Buffer.concat([decipher.update(fresh.result), decipher.final()]), plaintext);
        }
      }
    });

    it('RSA wrapKey/unwrapKey: server round trip, local wrap -> server unwrap, server wrap -> local unwrap', async () => {
      const key = gen('rsa');
      const { key: importedKey, privateKey } = imp('rsa');
      for (const [alg, oaepHash] of RSA_CIPHERS) {
        const cek = randomBytes(32);
        const wrapped = await remote(key).wrapKey(alg, cek);
        assert.equal(wrapped.result.length, 256);
        assert.deepEqual(Buffer.from((await remote(key).unwrapKey(alg, wrapped.result)).result), cek, alg);
        const padding = oaepHash ? constants.RSA_PKCS1_OAEP_PADDING : constants.RSA_PKCS1_PADDING;
        const local = publicEncrypt({ key: publicKeyOf(key), padding, oaepHash }, cek);
        assert.deepEqual(Buffer.from((await remote(key).unwrapKey(alg, local)).result), cek, `${alg} local`);
        if (oaepHash) {
          const byServer = await remote(importedKey).wrapKey(alg, cek);
          const unwrapped = privateDecrypt({ key: privateKey, padding, oaepHash }, byServer.result);
          assert.deepEqual(unwrapped, cek, `${alg}: node unwraps the server's`);
        }
      }
    });

    it('A128KW/A192KW/A256KW equal node id-aes*-wrap, in both directions', async () => {
      for (const bits of AES_BITS) {
        const { key, k } = oct(bits);
        const algorithm = `A${bits}KW` as const;
        for (const cekBytes of [16, 24, 32]) {
          const cek = randomBytes(cekBytes);
          const wrapCipher = createCipheriv(`id-aes${bits}-wrap`, k, KW_IV);
          const expected = Buffer.concat([wrapCipher.update(cek), wrapCipher.final()]);
          const wrapped = await remote(key).wrapKey(algorithm, cek);
          assert.deepEqual(Buffer.from(wrapped.result), expected, `${algorithm} of ${cekBytes} bytes`);
          const unwrapped = await remote(key).unwrapKey(algorithm, expected);
          assert.deepEqual(Buffer.from(unwrapped.result), cek);
        }
      }
    });

    it('A*KW matches the RFC 3394 test vectors (4.1, 4.3, 4.6)', async () => {
      const vectors = [
        [
          '000102030405060708090a0b0c0d0e0f',
          '00112233445566778899aabbccddeeff',
          '1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5',
        ],
        [
          '000102030405060708090a0b0c0d0e0f1011121314151617',
          '00112233445566778899aabbccddeeff',
          '96778b25ae6ca435f92b5b97c050aed2468ab8a17ad84e5d',
        ],
        [
          '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
          '00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f',
          '28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21',
        ],
      ] as const;
      for (const [kek, data, wrappedHex] of vectors) {
        const bits = kek.length * 4;
        const jwk = { kty: 'oct' as const, k: Buffer.from(kek, 'hex') };
        const key = await client.importKey(`rfc3394-${bits}`, jwk, { hardwareProtected: hsm });
        const algorithm = `A${bits}KW` as 'A128KW' | 'A192KW' | 'A256KW';
        const wrapped = await remote(key).wrapKey(algorithm, Buffer.from(data, 'hex'));
        assert.equal(Buffer.from(wrapped.result).toString('hex'), wrappedHex, `RFC 3394 ${algorithm}`);
        const unwrapped = await remote(key).unwrapKey(algorithm, Buffer.from(wrappedHex, 'hex'));
        assert.equal(Buffer.from(unwrapped.result).toString('hex'), data);
      }
    });

    it('the SDK as users call it (a key id, local public-key encrypt) interoperates with the server', async () => {
      const key = gen('rsa');
      const usual = new CryptographyClient(key.id!, server.credential);
      const plaintext = randomBytes(32);
      // The SDK encrypts RSA-OAEP locally with the fetched public key; the server must open it.
      const sealed = await usual.encrypt({ algorithm: 'RSA-OAEP', plaintext });
      assert.deepEqual(
        Buffer.from((await usual.decrypt({ algorithm: 'RSA-OAEP', ciphertext: sealed.result })).result),
        plaintext,
      );
      const wrapped = await usual.wrapKey('RSA1_5', plaintext);
      assert.deepEqual(Buffer.from((await usual.unwrapKey('RSA1_5', wrapped.result)).result), plaintext);
      // verifyData runs locally. (SDK 4.10.2 verifies PS* locally as PKCS#1 v1.5, so only RS* works there.)
      const signed = await usual.signData('RS512', plaintext);
      assert.equal((await usual.verifyData('RS512', plaintext, signed.result)).result, true);
    });
  });
}
