import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  createTestToken,
  listObjects,
  objectBlocks,
  type TestToken,
} from '../../../../test/helpers/softhsm.js';
import { digestOf, nodeCurve, rejects400 } from '../provider-fixtures.js';
import type { Curve, HsmKeyMaterial } from '../types.js';
import { createHsmBackupKey } from './backup-key.js';
import { Pkcs11KeyProvider } from './provider.js';
import { Pkcs11Token } from './token.js';

// BYOK blobs made independently with node:crypto (RSA-OAEP-SHA1 of an AES key, then AES key wrap
// with padding of the PKCS#8), unwrapped in the token; and HSM backups under a CKA_TRUSTED key.

const BACKUP_LABEL = 'coffer-backup';
let token: TestToken;
let other: TestToken;
let hsm: Pkcs11KeyProvider;
let stranger: Pkcs11KeyProvider;

const open = async (on: TestToken, backupKeyLabel?: string) =>
  new Pkcs11KeyProvider(
    await Pkcs11Token.open({ library: on.library, tokenLabel: on.label, pin: on.pin, sessions: 2 }),
    backupKeyLabel,
  );

before(async () => {
  token = createTestToken({ label: 'transfer-test' });
  // One SoftHSM configuration per process: the second token shares the first one's directory.
  other = createTestToken({ label: 'other-test', tokenDir: token.tokenDir });
  other.conf = token.conf;
  process.env.SOFTHSM2_CONF = token.conf;
  for (const on of [token, other]) {
    await createHsmBackupKey({
      library: on.library,
      tokenLabel: on.label,
      soPin: on.soPin,
      label: BACKUP_LABEL,
    });
  }
  hsm = await open(token, BACKUP_LABEL);
  stranger = await open(other, BACKUP_LABEL);
  assert.equal(await hsm.checkBackupKey(), undefined);
});

after(async () => {
  await hsm.close();
  await stranger.close();
});

/** Azure's CKM_RSA_AES_KEY_WRAP ciphertext for `kek`, made with node:crypto only. */
function transferCiphertext(kek: HsmKeyMaterial, targetKey: Buffer): Buffer {
  const kekPublic = crypto.createPublicKey({ key: hsm.publicJwk(kek) as crypto.JsonWebKey, format: 'jwk' });
  const aesKey = crypto.randomBytes(32);
  const wrappedAes = crypto.publicEncrypt(
    { key: kekPublic, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    aesKey,
  );
  const cipher = crypto.createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([wrappedAes, cipher.update(targetKey), cipher.final()]);
}

const pkcs8 = (key: crypto.KeyObject) => key.export({ type: 'pkcs8', format: 'der' });

describe('BYOK: a key wrapped for a key-exchange key is unwrapped inside the token', () => {
  let kek: HsmKeyMaterial;

  before(async () => {
    kek = await hsm.generate({ kty: 'RSA', size: 3072 }, 'byok/kek');
  });

  it('an RSA key generated locally signs in the token; the signature verifies with the original public key', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const imported = await hsm.importWrapped(
      kek,
      transferCiphertext(kek, pkcs8(privateKey)),
      { kty: 'RSA' },
      'byok/rsa',
    );
    assert.equal(hsm.publicJwk(imported).kty, 'RSA');
    assert.deepEqual(hsm.publicJwk(imported), {
      kty: 'RSA',
      ...pick(publicKey.export({ format: 'jwk' }), 'n', 'e'),
    });
    const digest = digestOf('sha256');
    const signature = await hsm.sign(imported, 'RS256', digest);
    assert.ok(
      crypto.verify(
        'sha256',
        Buffer.from('The quick brown fox jumps over the lazy dog'),
        publicKey,
        signature,
      ),
    );
  });

  for (const curve of ['P-256', 'P-384', 'P-521', 'P-256K'] as Curve[]) {
    it(`an EC ${curve} key arrives with its public point recovered in the token`, async () => {
      const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: nodeCurve(curve) });
      const imported = await hsm.importWrapped(kek, transferCiphertext(kek, pkcs8(privateKey)), {
        kty: 'EC',
        crv: curve,
      });
      const expected = publicKey.export({ format: 'jwk' });
      assert.deepEqual(hsm.publicJwk(imported), { kty: 'EC', crv: curve, x: expected.x, y: expected.y });
      const hash = curve === 'P-384' ? 'sha384' : curve === 'P-521' ? 'sha512' : 'sha256';
      const alg = { 'P-256': 'ES256', 'P-256K': 'ES256K', 'P-384': 'ES384', 'P-521': 'ES512' }[curve];
      const signature = await hsm.sign(imported, alg, digestOf(hash));
      const message = Buffer.from('The quick brown fox jumps over the lazy dog');
      assert.ok(crypto.verify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature));
    });
  }

  it('an AES key arrives as raw bytes and encrypts what node:crypto decrypts', async () => {
    const aes = crypto.randomBytes(32);
    const imported = await hsm.importWrapped(kek, transferCiphertext(kek, aes), { kty: 'oct' });
    const out = await hsm.encrypt(imported, 'A256CBCPAD', Buffer.from('byok'));
    const decipher = crypto.createDecipheriv('aes-256-cbc', aes, out.iv!);
    assert.equal(Buffer.concat([decipher.update(out.result), decipher.final()]).toString(), 'byok');
  });

  it('refuses a blob for another key, a damaged blob and a curve that differs from the request, leaving nothing behind', async () => {
    const before = objectBlocks(listObjects(token)).length;
    const otherKek = await hsm.generate({ kty: 'RSA', size: 2048 }, 'byok/other');
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const blob = transferCiphertext(kek, pkcs8(privateKey));
    await rejects400(
      () => hsm.importWrapped(otherKek, blob, { kty: 'EC', crv: 'P-256' }),
      /could not be unwrapped/,
    );
    const damaged = Buffer.from(blob);
    damaged[damaged.length - 3]! ^= 1;
    await rejects400(
      () => hsm.importWrapped(kek, damaged, { kty: 'EC', crv: 'P-256' }),
      /could not be unwrapped/,
    );
    await rejects400(
      () => hsm.importWrapped(kek, blob, { kty: 'EC', crv: 'P-384' }),
      /on P-256, not on P-384/,
    );
    await rejects400(() => hsm.importWrapped(kek, blob.subarray(0, 100), { kty: 'EC' }), /too short/);
    await hsm.destroy(otherKek);
    assert.equal(objectBlocks(listObjects(token)).length, before, 'no object left from the refused imports');
  });
});

describe('HSM backups: wrapped under the CKA_TRUSTED backup key, restorable only where it exists', () => {
  it('keys leave the token only wrapped under the trusted key', () => {
    const keys = objectBlocks(listObjects(token)).filter((block) => !block.startsWith('Public'));
    for (const block of keys.filter((candidate) => candidate.includes('coffer/'))) {
      assert.match(block, /Access:.*\bsensitive\b/, block);
      assert.doesNotMatch(
        block,
        /never extractable/,
        'backups need them wrappable, under the trusted key only',
      );
    }
  });

  it('a backed-up key restores as a new token object with the same public key, and only in the same token', async () => {
    const original = await hsm.generate({ kty: 'EC', curve: 'P-256' }, 'backup/ec');
    const exported = await hsm.exportForBackup(original);
    assert.ok(exported.hsm.wrapped && exported.hsm.wrapped.length > 40);
    await hsm.destroy(original);
    const restored = await hsm.importFromBackup(exported, 'backup/ec');
    assert.notEqual(restored.hsm.id, original.hsm.id);
    assert.deepEqual(hsm.publicJwk(restored), hsm.publicJwk(original));
    const signature = await hsm.sign(restored, 'ES256', digestOf('sha256'));
    const key = crypto.createPublicKey({ key: hsm.publicJwk(original) as crypto.JsonWebKey, format: 'jwk' });
    assert.ok(
      crypto.verify(
        'sha256',
        Buffer.from('The quick brown fox jumps over the lazy dog'),
        { key, dsaEncoding: 'ieee-p1363' },
        signature,
      ),
    );
    // Another token has a backup key of the same label, but not this one: the backup does not open.
    await rejects400(() => stranger.importFromBackup(exported, 'backup/ec'), /same security domain/);
  });

  it('RSA and AES keys round-trip too', async () => {
    for (const spec of [
      { kty: 'RSA' as const, size: 2048 },
      { kty: 'oct' as const, size: 128 },
    ]) {
      const original = await hsm.generate(spec, 'backup/roundtrip');
      const restored = await hsm.importFromBackup(await hsm.exportForBackup(original));
      assert.equal(hsm.keySize(restored), spec.size);
      if (spec.kty === 'RSA') {
        const { result } = await hsm.encrypt(original, 'RSA-OAEP', Buffer.from('moved'));
        assert.equal((await hsm.decrypt(restored, 'RSA-OAEP', result)).toString(), 'moved');
      } else {
        const out = await hsm.encrypt(original, 'A128GCM', Buffer.from('moved'));
        assert.equal(
          (await hsm.decrypt(restored, 'A128GCM', out.result, { iv: out.iv, tag: out.tag })).toString(),
          'moved',
        );
      }
    }
  });
});

function pick(jwk: crypto.JsonWebKey, ...names: string[]) {
  return Object.fromEntries(names.map((name) => [name, jwk[name]]));
}
