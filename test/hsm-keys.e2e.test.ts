import assert from 'node:assert/strict';
import {
  X509Certificate,
  constants,
  createCipheriv,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  verify,
} from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CertificateClient } from '@azure/keyvault-certificates';
import { CryptographyClient, KeyClient, type KeyVaultKey } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { rejectsWith } from './helpers/certificates.js';
import { cofferCli, cofferJson } from './helpers/coffer-cli.js';
import { decryptedRecords } from './helpers/data-dir.js';
import { filesUnder, leaksInFiles } from './helpers/scan.js';
import { type HsmDevServer, listObjects, objectBlocks, startHsmDevServer } from './helpers/softhsm.js';

// -HSM keys of a premium vault, end to end through the Azure SDK, with OpenSC's pkcs11-tool as an
// independent view of the token and the data dir read back (raw and decrypted) at the end.

const b64 = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('base64url');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/** The token's objects for one key (`coffer/{vault}/{name}`), as pkcs11-tool lists them. */
const objectsOf = (hsm: HsmDevServer, name: string) =>
  objectBlocks(listObjects(hsm.token)).filter((block) => block.includes(`label:      coffer/hsm/${name}\n`));

/** Azure's BYOK transfer blob for `kek`, made with node:crypto only: RSA-OAEP-SHA1 of an AES key, then KWP. */
function transferBlob(kek: KeyVaultKey, targetKey: Buffer): Buffer {
  const kekPublic = createPublicKey({
    key: { kty: 'RSA', n: b64(kek.key?.n), e: b64(kek.key?.e) },
    format: 'jwk',
  });
  const aesKey = randomBytes(32);
  const oaep = { key: kekPublic, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' };
  const wrap = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('a65959a6', 'hex'));
  const ciphertext = Buffer.concat([publicEncrypt(oaep, aesKey), wrap.update(targetKey), wrap.final()]);
  const blob = {
    schema_version: '1.0.0',
    header: { kid: kek.id, alg: 'dir', enc: 'CKM_RSA_AES_KEY_WRAP' },
    ciphertext: ciphertext.toString('base64url'),
    generator: 'coffer test (node:crypto)',
  };
  return Buffer.from(JSON.stringify(blob));
}

describe('HSM keys in a premium vault (SoftHSM2, no backup key: never extractable)', () => {
  let hsm: HsmDevServer;
  let keys: KeyClient;
  /** Private values that reached the server, which must not be in its data dir in any form. */
  const privateValues: Buffer[] = [];
  const remote = (key: KeyVaultKey) => new CryptographyClient(key.id!, hsm.server.credential);

  before(async () => {
    hsm = await startHsmDevServer();
    keys = new KeyClient(hsm.vaultUrl, hsm.server.credential);
  });
  after(() => hsm.server.stop());

  it('reports -HSM keys as Azure does: kty, hsmPlatform, recoveryLevel; software keys name no HSM', async () => {
    const key = await keys.createRsaKey('attributes', { hsm: true });
    const read = await keys.getKey('attributes');
    assert.equal(read.keyType, 'RSA-HSM');
    assert.equal(read.properties.hsmPlatform, 'SoftHSM project SoftHSM v2');
    assert.equal(read.properties.recoveryLevel, 'Recoverable+Purgeable');
    assert.equal(read.properties.recoverableDays, 90);
    assert.equal(read.properties.exportable, false);
    assert.equal(b64(read.key?.n), b64(key.key?.n));
    const software = await keys.createRsaKey('software-in-premium');
    assert.equal(software.keyType, 'RSA');
    assert.equal(software.properties.hsmPlatform, undefined);
    assert.equal(objectsOf(hsm, 'software-in-premium').length, 0, 'a software key is not in the token');
  });

  it('pkcs11-tool shows each key private, sensitive and never extractable, in the token only', async () => {
    await keys.createEcKey('listed-ec', { hsm: true, curve: 'P-384' });
    await keys.createKey('listed-aes', 'oct-HSM', { keySize: 256 });
    for (const name of ['attributes', 'listed-ec', 'listed-aes']) {
      const blocks = objectsOf(hsm, name);
      const secretOrPrivate = blocks.filter((block) => !block.startsWith('Public Key Object'));
      assert.equal(secretOrPrivate.length, 1, `${name}: one private or secret key object`);
      assert.match(secretOrPrivate[0]!, /Access:\s+sensitive, always sensitive, never extractable, local/);
    }
    // Private: without the user's login the token shows none of them.
    const anonymous = listObjects(hsm.token, { login: false });
    assert.doesNotMatch(anonymous, /Private Key Object|Secret Key Object/);
  });

  it('versions, rotation, soft delete, recover and purge; purge destroys every version in the token', async () => {
    const first = await keys.createEcKey('lifecycle', { hsm: true, curve: 'P-256' });
    const second = await keys.rotateKey('lifecycle');
    assert.equal(second.keyType, 'EC-HSM');
    assert.notEqual(b64(second.key?.x), b64(first.key?.x), 'rotation made a new key in the token');
    assert.equal(objectsOf(hsm, 'lifecycle').filter((block) => block.startsWith('Private')).length, 2);
    const digest = sha256(Buffer.from('lifecycle'));
    const oldKey = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: b64(first.key?.x), y: b64(first.key?.y) },
      format: 'jwk',
    });
    const oldSignature = await remote(first).sign('ES256', digest);
    assert.ok(
      verify(
        'sha256',
        Buffer.from('lifecycle'),
        { key: oldKey, dsaEncoding: 'ieee-p1363' },
        oldSignature.result,
      ),
    );

    await (await keys.beginDeleteKey('lifecycle', { intervalInMs: 50 })).pollUntilDone();
    assert.equal(objectsOf(hsm, 'lifecycle').length, 4, 'a soft-deleted key keeps its token objects');
    await (await keys.beginRecoverDeletedKey('lifecycle', { intervalInMs: 50 })).pollUntilDone();
    assert.equal((await remote(second).sign('ES256', digest)).result.length, 64, 'recovered keys sign');
    await (await keys.beginDeleteKey('lifecycle', { intervalInMs: 50 })).pollUntilDone();
    await keys.purgeDeletedKey('lifecycle');
    assert.deepEqual(objectsOf(hsm, 'lifecycle'), [], 'purge destroyed both versions in the token');
  });

  it('refuses a backup of a never-extractable HSM key, saying why', async () => {
    await rejectsWith(keys.backupKey('attributes'), 400, 'NotSupported');
    await assert.rejects(
      keys.backupKey('attributes'),
      /never-extractable because no HSM backup key is configured/,
    );
    assert.ok(
      await keys.backupKey('software-in-premium'),
      'software keys of a premium vault back up as before',
    );
  });

  it('imports a JWK into the token; its signatures verify with the original public key', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = pair.privateKey.export({ format: 'jwk' });
    for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const)
      privateValues.push(Buffer.from(jwk[field]!, 'base64url'));
    const bytes = (name: string) => Buffer.from(String(jwk[name]), 'base64url');
    const key = await keys.importKey(
      'imported-jwk',
      {
        kty: 'RSA',
        n: bytes('n'),
        e: bytes('e'),
        d: bytes('d'),
        p: bytes('p'),
        q: bytes('q'),
        dp: bytes('dp'),
        dq: bytes('dq'),
        qi: bytes('qi'),
      },
      { hardwareProtected: true },
    );
    assert.equal(key.keyType, 'RSA-HSM');
    const signed = await remote(key).sign('PS256', sha256(Buffer.from('imported')));
    const options = { key: pair.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    assert.ok(verify('sha256', Buffer.from('imported'), options, signed.result));
  });

  describe('BYOK', () => {
    let kek: KeyVaultKey;

    before(async () => {
      kek = await keys.createRsaKey('byok-kek', { hsm: true, keySize: 3072, keyOps: ['import'] });
    });

    it('a key generated locally and wrapped for the KEK signs in the token; the original public key verifies it', async () => {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'der' });
      privateValues.push(pkcs8, Buffer.from(pair.privateKey.export({ format: 'jwk' }).d!, 'base64url'));
      const imported = await keys.importKey('byok-rsa', {
        kty: 'RSA-HSM',
        keyOps: ['sign', 'verify'],
        t: transferBlob(kek, pkcs8),
      });
      assert.equal(imported.keyType, 'RSA-HSM');
      assert.equal(b64(imported.key?.n), pair.publicKey.export({ format: 'jwk' }).n);
      assert.deepEqual(imported.keyOperations, ['sign', 'verify']);
      const message = Buffer.from('brought my own key');
      const signed = await remote(imported).sign('RS256', sha256(message));
      assert.ok(verify('sha256', message, pair.publicKey, signed.result));
    });

    it('an EC key arrives on the curve the request names, with its public key', async () => {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'der' });
      privateValues.push(Buffer.from(pair.privateKey.export({ format: 'jwk' }).d!, 'base64url'));
      const imported = await keys.importKey('byok-ec', {
        kty: 'EC-HSM',
        crv: 'P-384',
        t: transferBlob(kek, pkcs8),
      });
      assert.equal(b64(imported.key?.x), pair.publicKey.export({ format: 'jwk' }).x);
      const message = Buffer.from('ec byok');
      const signed = await remote(imported).sign('ES384', createHash('sha384').update(message).digest());
      assert.ok(verify('sha384', message, { key: pair.publicKey, dsaEncoding: 'ieee-p1363' }, signed.result));
    });

    it('the KEK only imports: it cannot decrypt, gain operations, or be made with others', async () => {
      // Given no key, the SDK sends the request instead of refusing it locally: the server refuses it.
      const serverSide = new CryptographyClient(
        { name: kek.name, id: kek.id, properties: { name: kek.name, vaultUrl: hsm.vaultUrl } },
        hsm.server.credential,
      );
      await rejectsWith(serverSide.decrypt({ algorithm: 'RSA-OAEP', ciphertext: randomBytes(384) }), 403);
      await rejectsWith(
        keys.updateKeyProperties('byok-kek', { keyOps: ['import', 'decrypt'] }),
        400,
        'BadParameter',
      );
      await rejectsWith(
        keys.createRsaKey('bad-kek', { hsm: true, keyOps: ['import', 'unwrapKey'] }),
        400,
        'BadParameter',
      );
      await rejectsWith(keys.createRsaKey('soft-kek', { keyOps: ['import'] }), 400, 'BadParameter');
    });

    it('refuses a blob for another KEK, a damaged blob and a missing curve, and keeps nothing of them', async () => {
      const other = await keys.createRsaKey('byok-other', { hsm: true, keyOps: ['import'] });
      const pkcs8 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
        type: 'pkcs8',
        format: 'der',
      });
      const forOther = JSON.parse(transferBlob(other, pkcs8).toString()) as { header: { kid: string } };
      forOther.header.kid = kek.id!;
      await rejectsWith(
        keys.importKey('byok-bad', { kty: 'EC-HSM', crv: 'P-256', t: Buffer.from(JSON.stringify(forOther)) }),
        400,
      );
      await rejectsWith(keys.importKey('byok-bad', { kty: 'EC-HSM', t: transferBlob(kek, pkcs8) }), 400);
      await rejectsWith(
        keys.importKey('byok-bad', { kty: 'EC-HSM', crv: 'P-256', t: Buffer.from('not json') }),
        400,
      );
      await rejectsWith(keys.getKey('byok-bad'), 404);
      assert.deepEqual(objectsOf(hsm, 'byok-bad'), [], 'no token object left behind');
    });
  });

  it('certificates with an RSA-HSM or EC-HSM policy key keep it in the token; it is never exportable', async () => {
    const certificates = new CertificateClient(hsm.vaultUrl, hsm.server.credential);
    for (const keyType of ['RSA-HSM', 'EC-HSM'] as const) {
      const name = `cert-${keyType.toLowerCase()}`;
      const poller = await certificates.beginCreateCertificate(
        name,
        { issuerName: 'Self', subject: `CN=${name}`, keyType, exportable: false },
        { intervalInMs: 50 },
      );
      const certificate = await poller.pollUntilDone();
      assert.equal(objectsOf(hsm, name).filter((block) => !block.startsWith('Public')).length, 1);
      const x509 = new X509Certificate(Buffer.from(certificate.cer!));
      assert.ok(x509.verify(x509.publicKey), 'self-signed in the token');
      const alg = keyType === 'RSA-HSM' ? 'RS256' : 'ES256';
      const message = Buffer.from(name);
      const signed = await new CryptographyClient(certificate.keyId!, hsm.server.credential).sign(
        alg,
        sha256(message),
      );
      const options =
        keyType === 'RSA-HSM' ? x509.publicKey : { key: x509.publicKey, dsaEncoding: 'ieee-p1363' as const };
      assert.ok(verify('sha256', message, options, signed.result));
      const secret = await new SecretClient(hsm.vaultUrl, hsm.server.credential).getSecret(name);
      assert.doesNotMatch(secret.value ?? '', /PRIVATE KEY/);
    }
    await rejectsWith(
      certificates.beginCreateCertificate('cert-exportable', {
        issuerName: 'Self',
        subject: 'CN=x',
        keyType: 'RSA-HSM',
        exportable: true,
      }),
      400,
      'BadParameter',
    );
  });

  it('a cancelled certificate request and a purged vault leave no key behind in the token', async () => {
    const certificates = new CertificateClient(hsm.vaultUrl, hsm.server.credential);
    const policy = {
      issuerName: 'Unknown',
      subject: 'CN=pending',
      keyType: 'RSA-HSM' as const,
      exportable: false,
    };
    const poller = await certificates.beginCreateCertificate('pending-hsm', policy);
    assert.equal(objectsOf(hsm, 'pending-hsm').filter((block) => block.startsWith('Private')).length, 1);
    await poller.cancelOperation();
    assert.deepEqual(objectsOf(hsm, 'pending-hsm'), [], 'the request key went with the cancelled request');

    const doomed = await cofferJson<{ vaultUrl: string }>(hsm.server.dataDir, [
      'vault',
      'create',
      'doomed',
      '--sku',
      'premium',
    ]);
    await new KeyClient(doomed.vaultUrl, hsm.server.credential).createEcKey('gone', { hsm: true });
    const inDoomed = () =>
      objectBlocks(listObjects(hsm.token)).filter((block) => block.includes('coffer/doomed/'));
    assert.equal(inDoomed().length, 2);
    assert.equal((await cofferCli(hsm.server.dataDir, ['vault', 'delete', 'doomed'])).code, 0);
    // A deleted vault stays recoverable, keys included, until it is purged.
    assert.equal(inDoomed().length, 2, 'a soft-deleted vault keeps its HSM keys');
    assert.equal((await cofferCli(hsm.server.dataDir, ['vault', 'purge', 'doomed'])).code, 0);
    assert.deepEqual(inDoomed(), [], "the vault's HSM keys were destroyed with it");
  });

  it('the data dir holds no private key material of an HSM key, on disk or behind the barrier', async () => {
    assert.ok(privateValues.length > 5);
    assert.equal(await hsm.server.stop(), 0);
    const files = filesUnder(hsm.server.dataDir);
    for (const value of privateValues) assert.deepEqual(leaksInFiles(files, value), [], 'raw files');
    const records = await decryptedRecords(hsm.server.dataDir);
    let hsmVersions = 0;
    for (const [path, bytes] of records) {
      for (const value of privateValues) {
        assert.equal(
          bytes.includes(value.toString('base64url')),
          false,
          `${path} holds private key material`,
        );
      }
      if (!path.includes('/keys-versions/')) continue;
      const material = (JSON.parse(bytes.toString()) as { material: Record<string, unknown> }).material;
      if (!('hsm' in material)) continue;
      hsmVersions++;
      for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
        assert.equal(material[field], undefined, `${path}: ${field}`);
    }
    assert.ok(hsmVersions >= 8, `HSM key versions read back: ${hsmVersions}`);
  });
});
