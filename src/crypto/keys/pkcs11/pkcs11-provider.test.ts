import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  createTestToken,
  listObjects,
  objectBlocks,
  type TestToken,
} from '../../../../test/helpers/softhsm.js';
import { CofferError, InternalError } from '../../../errors/index.js';
import {
  AES_BITS,
  EC_SIGNATURES,
  RSA_SIGNATURES,
  RSA_PKCS1_OAEP_PADDING,
  RSA_PKCS1_PADDING,
  RSA_PKCS1_PSS_PADDING,
  digestOf,
  nodeCurve,
  rejects400,
} from '../provider-fixtures.js';
import type { HsmKeyMaterial } from '../types.js';
import { Pkcs11KeyProvider } from './provider.js';
import { Pkcs11Token } from './token.js';

// Every HSM operation in a real PKCS#11 token (SoftHSM2), each result checked INDEPENDENTLY with
// node:crypto: what the token signs or encrypts is verified or opened locally, and what is made
// locally is verified or opened in the token.

let token: TestToken;
let hsm: Pkcs11KeyProvider;

before(async () => {
  token = createTestToken({ label: 'provider-test' });
  process.env.SOFTHSM2_CONF = token.conf;
  hsm = new Pkcs11KeyProvider(
    await Pkcs11Token.open({ library: token.library, tokenLabel: token.label, pin: token.pin, sessions: 4 }),
  );
});

after(() => hsm.close());

const publicKeyOf = (material: HsmKeyMaterial) => {
  const jwk = hsm.publicJwk(material);
  if (jwk.kty === 'EC')
    return crypto.createPublicKey({ key: { ...jwk, crv: nodeCurve(jwk.crv) }, format: 'jwk' });
  return crypto.createPublicKey({ key: jwk as crypto.JsonWebKey, format: 'jwk' });
};

const rsaOptions = (alg: string, hash: string) =>
  alg.startsWith('RS')
    ? { padding: RSA_PKCS1_PADDING }
    : { padding: RSA_PKCS1_PSS_PADDING, saltLength: digestOf(hash).length };

describe('PKCS#11 provider: keys generated in the token', () => {
  let rsa: HsmKeyMaterial;

  before(async () => {
    rsa = await hsm.generate({ kty: 'RSA', size: 2048 }, 'unit/rsa');
  });

  it('RSA signatures made in the token verify with node:crypto, and the reverse', async () => {
    assert.equal(hsm.keySize(rsa), 2048);
    for (const [alg, hash] of RSA_SIGNATURES) {
      const digest = digestOf(hash);
      const signature = await hsm.sign(rsa, alg, digest);
      const ok = crypto.verify(
        hash,
        Buffer.from('The quick brown fox jumps over the lazy dog'),
        { key: publicKeyOf(rsa), ...rsaOptions(alg, hash) },
        signature,
      );
      assert.ok(ok, `${alg} signature verifies locally`);
      assert.equal(await hsm.verify(rsa, alg, digest, signature), true, `${alg} verifies in the token`);
      const tampered = Buffer.from(signature);
      tampered[10]! ^= 1;
      assert.equal(await hsm.verify(rsa, alg, digest, tampered), false, `${alg} tampered`);
    }
  });

  it('RSA1_5 and RSA-OAEP: local encryptions decrypt in the token, token encryptions decrypt locally', async () => {
    const key = publicKeyOf(rsa);
    const plaintext = crypto.randomBytes(32);
    const oaep = crypto.publicEncrypt({ key, padding: RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, plaintext);
    assert.deepEqual(await hsm.decrypt(rsa, 'RSA-OAEP', oaep), plaintext);
    const pkcs1 = crypto.publicEncrypt({ key, padding: RSA_PKCS1_PADDING }, plaintext);
    assert.deepEqual(await hsm.decrypt(rsa, 'RSA1_5', pkcs1), plaintext);
    assert.deepEqual(await hsm.unwrapKey(rsa, 'RSA-OAEP', oaep), plaintext);
    // The other way needs the private key, which never leaves the token: round trips prove it.
    for (const alg of ['RSA1_5', 'RSA-OAEP']) {
      const { result } = await hsm.encrypt(rsa, alg, plaintext);
      assert.equal(result.length, 256);
      assert.deepEqual(await hsm.decrypt(rsa, alg, result), plaintext);
      assert.deepEqual(await hsm.unwrapKey(rsa, alg, await hsm.wrapKey(rsa, alg, plaintext)), plaintext);
    }
    await rejects400(() => hsm.decrypt(rsa, 'RSA-OAEP', crypto.randomBytes(256)), /Decryption failed/);
  });

  it('an algorithm the token lacks answers 400 NotSupported, never a software fallback', async () => {
    // SoftHSM 2.6 implements RSA-OAEP with SHA-1 only.
    await assert.rejects(hsm.encrypt(rsa, 'RSA-OAEP-256', Buffer.from('x')), (error: unknown) => {
      assert.ok(error instanceof CofferError && error.status === 400 && error.code === 'NotSupported');
      assert.match(error.message, /HSM .* does not support RSA-OAEP-256/);
      return true;
    });
    await rejects400(() => hsm.sign(rsa, 'ES256', digestOf('sha256')), /needs an EC key/);
    await rejects400(() => hsm.sign(rsa, 'RS256', Buffer.alloc(31)), /32-byte SHA256 digest/);
    // The same input rules as software keys: RSA takes no iv, aad or tag; GCM chooses its own iv.
    const iv = crypto.randomBytes(12);
    await rejects400(() => hsm.encrypt(rsa, 'RSA-OAEP', Buffer.from('x'), { iv }), /takes no iv, aad or tag/);
    await rejects400(
      () => hsm.decrypt(rsa, 'RSA-OAEP', Buffer.alloc(256), { iv }),
      /takes no iv, aad or tag/,
    );
    const oct = await hsm.generate({ kty: 'oct', size: 128 }, 'unit/gcm-iv');
    await rejects400(
      () => hsm.encrypt(oct, 'A128GCM', Buffer.from('x'), { iv }),
      /A128GCM encrypt takes no iv/,
    );
  });

  for (const [alg, hash, curve] of EC_SIGNATURES) {
    it(`${alg} on ${curve}: token signatures verify locally, local signatures verify in the token`, async () => {
      const ec = await hsm.generate({ kty: 'EC', curve }, `unit/${curve}`);
      const digest = digestOf(hash);
      const key = publicKeyOf(ec);
      const signature = await hsm.sign(ec, alg, digest);
      const message = Buffer.from('The quick brown fox jumps over the lazy dog');
      assert.ok(crypto.verify(hash, message, { key, dsaEncoding: 'ieee-p1363' }, signature));
      assert.equal(await hsm.verify(ec, alg, digest, signature), true);
      assert.equal(await hsm.verify(ec, alg, digestOf(hash, Buffer.from('other')), signature), false);
    });
  }

  for (const bits of AES_BITS) {
    it(`AES-${bits} GCM, CBC, CBCPAD and KW in the token match node:crypto`, async () => {
      const oct = await hsm.generate({ kty: 'oct', size: bits }, `unit/aes${bits}`);
      assert.equal(hsm.keySize(oct), bits);
      const plaintext = crypto.randomBytes(48);
      const aad = Buffer.from('header');
      const gcm = await hsm.encrypt(oct, `A${bits}GCM`, plaintext, { aad });
      assert.deepEqual(
        await hsm.decrypt(oct, `A${bits}GCM`, gcm.result, { iv: gcm.iv, aad, tag: gcm.tag }),
        plaintext,
      );
      await rejects400(
        () =>
          hsm.decrypt(oct, `A${bits}GCM`, gcm.result, {
            iv: gcm.iv,
            aad: Buffer.from('other'),
            tag: gcm.tag,
          }),
        /Decryption failed/,
      );
      for (const mode of ['CBC', 'CBCPAD']) {
        const input = mode === 'CBC' ? plaintext : plaintext.subarray(0, 37);
        const out = await hsm.encrypt(oct, `A${bits}${mode}`, input);
        assert.deepEqual(await hsm.decrypt(oct, `A${bits}${mode}`, out.result, { iv: out.iv }), input);
      }
      const clientKey = crypto.randomBytes(32);
      const wrapped = await hsm.wrapKey(oct, `A${bits}KW`, clientKey);
      assert.deepEqual(await hsm.unwrapKey(oct, `A${bits}KW`, wrapped), clientKey);
      await rejects400(
        () => hsm.unwrapKey(oct, `A${bits}KW`, Buffer.from(wrapped).fill(7, 0, 8)),
        /Unwrap failed/,
      );
    });
  }

  it('destroy removes the token objects; the key then fails as missing, not as a client mistake', async () => {
    const ec = await hsm.generate({ kty: 'EC', curve: 'P-256' }, 'unit/doomed');
    assert.match(listObjects(token), /coffer\/unit\/doomed/);
    await hsm.destroy(ec);
    assert.doesNotMatch(listObjects(token), /coffer\/unit\/doomed/);
    await assert.rejects(hsm.sign(ec, 'ES256', digestOf('sha256')), InternalError);
  });

  it('pkcs11-tool shows every private and secret key private, sensitive and never extractable', () => {
    const blocks = objectBlocks(listObjects(token)).filter((block) => !block.startsWith('Public'));
    assert.ok(blocks.length >= 8, `keys listed: ${blocks.length}`);
    for (const block of blocks) {
      assert.match(block, /Access:.*\bsensitive\b/, block);
      assert.match(block, /never extractable/, block);
      assert.doesNotMatch(block, /Access:.*(?<!never )\bextractable\b/, block);
      // Least privilege: an EC key signs and does nothing else, whatever the token's defaults.
      if (block.startsWith('Private Key Object; EC')) assert.match(block, /Usage:\s+sign\n/, block);
    }
  });
});
