import assert from 'node:assert/strict';
import {
  type KeyObject,
  constants,
  createDecipheriv,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  sign,
} from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CryptographyClient,
  type EncryptParameters,
  type JsonWebKey,
  KeyClient,
  type KeyVaultKey,
} from '@azure/keyvault-keys';
import { fetchToken, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Key Vault's rules for keys, as the server enforces them: the key_ops and enabled gate (403), the
// nbf/exp window that stops new ciphertext and signatures but never decrypt/unwrapKey/verify, and
// the 400s for requests that cannot be right. A 4xx, never a 500, whatever the client sends.

interface SdkError {
  statusCode?: number;
  code?: string;
}

async function rejectsWith(promise: Promise<unknown>, statusCode: number, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as SdkError).statusCode, statusCode, `status of ${String(error)}`);
    assert.equal((error as SdkError).code, code, `code of ${String(error)}`);
    return true;
  });
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();
const HOUR_MS = 3600_000;

function publicKeyOf(key: KeyVaultKey): KeyObject {
  const b64 = (bytes?: Uint8Array) => Buffer.from(bytes ?? []).toString('base64url');
  return createPublicKey({ key: { kty: 'RSA', n: b64(key.key?.n), e: b64(key.key?.e) }, format: 'jwk' });
}

describe('key rules: 403 gate, validity window and 400s', () => {
  let server: DevServer;
  let client: KeyClient;
  let token: string;

  /** A CryptographyClient without key material: every operation goes to the server, unchecked by the SDK. */
  const remote = (key: KeyVaultKey) =>
    new CryptographyClient(
      { name: key.name, id: key.id, properties: { name: key.name, vaultUrl: key.properties.vaultUrl } },
      server.credential,
    );
  const raw = (method: string, path: string, body?: unknown) =>
    rawRequest(`${server.facts.vaultUrl}${path}?api-version=2025-07-01`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  /** Asserts a raw answer is Azure's error JSON with this status and code, and a message saying why. */
  const rawError = async (
    response: Promise<{ status: number; text: string }>,
    status: number,
    code: string,
  ) => {
    const { status: actual, text } = await response;
    assert.equal(actual, status, text);
    const body = JSON.parse(text) as {
      error: { code: string; message: string; innererror?: { code: string } };
    };
    assert.equal(body.error.code, code, text);
    assert.ok(body.error.message.length > 10, text);
    return body.error;
  };

  before(async () => {
    server = await startDevServer();
    client = new KeyClient(server.facts.vaultUrl, server.credential);
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    token = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('refuses an operation that is not in key_ops with 403', async () => {
    const ec = await client.createEcKey('verify-only', { keyOps: ['verify'] });
    await rejectsWith(remote(ec).sign('ES256', sha256(Buffer.from('m'))), 403, 'Forbidden');
    assert.equal((await remote(ec).verify('ES256', sha256(Buffer.from('m')), randomBytes(64))).result, false);
    const error = await rawError(
      raw('POST', `/keys/verify-only/sign`, {
        alg: 'ES256',
        value: sha256(Buffer.from('m')).toString('base64url'),
      }),
      403,
      'Forbidden',
    );
    assert.match(error.message, /sign/);

    const rsa = await client.createRsaKey('narrowed');
    const sealed = await remote(rsa).encrypt({ algorithm: 'RSA-OAEP', plaintext: Buffer.from('x') });
    await client.updateKeyProperties('narrowed', rsa.properties.version!, { keyOps: ['decrypt'] });
    await rejectsWith(
      remote(rsa).encrypt({ algorithm: 'RSA-OAEP', plaintext: Buffer.from('x') }),
      403,
      'Forbidden',
    );
    await rejectsWith(remote(rsa).wrapKey('RSA-OAEP', randomBytes(32)), 403, 'Forbidden');
    const opened = await remote(rsa).decrypt({ algorithm: 'RSA-OAEP', ciphertext: sealed.result });
    assert.equal(Buffer.from(opened.result).toString(), 'x');
    const oct = await client.createKey('no-ops', 'oct', { keySize: 256, keyOps: [] });
    await rejectsWith(
      remote(oct).encrypt({ algorithm: 'A256GCM', plaintext: Buffer.from('x') }),
      403,
      'Forbidden',
    );
  });

  it('refuses every operation, and get, on a disabled key with 403 until it is enabled again', async () => {
    const key = await client.createRsaKey('disabled');
    const signature = (await remote(key).sign('RS256', sha256(Buffer.from('m')))).result;
    await client.updateKeyProperties('disabled', { enabled: false });
    await rejectsWith(client.getKey('disabled'), 403, 'Forbidden');
    await rejectsWith(client.getKey('disabled', { version: key.properties.version! }), 403, 'Forbidden');
    // Given a key id, the SDK first reads the key; on 403 it falls back to the server for the operation.
    const byId = new CryptographyClient(key.id!, server.credential);
    await rejectsWith(byId.sign('RS256', sha256(Buffer.from('m'))), 403, 'Forbidden');
    await rejectsWith(byId.verify('RS256', sha256(Buffer.from('m')), signature), 403, 'Forbidden');
    await rejectsWith(byId.encrypt({ algorithm: 'RSA-OAEP', plaintext: Buffer.from('x') }), 403, 'Forbidden');
    await rejectsWith(
      byId.decrypt({ algorithm: 'RSA-OAEP', ciphertext: randomBytes(256) }),
      403,
      'Forbidden',
    );
    await rejectsWith(byId.wrapKey('RSA-OAEP', randomBytes(32)), 403, 'Forbidden');
    await rejectsWith(byId.unwrapKey('RSA-OAEP', randomBytes(256)), 403, 'Forbidden');
    const error = await rawError(raw('GET', '/keys/disabled'), 403, 'Forbidden');
    assert.equal(error.innererror?.code, 'KeyDisabled');

    await client.updateKeyProperties('disabled', { enabled: true });
    assert.equal((await remote(key).verify('RS256', sha256(Buffer.from('m')), signature)).result, true);
  });

  it('after exp: no encrypt, sign or wrapKey (403), but decrypt, unwrapKey and verify still work', async () => {
    const key = await client.createRsaKey('expires');
    const digest = sha256(Buffer.from('signed while valid'));
    const plaintext = Buffer.from('encrypted while valid');
    const cek = randomBytes(32);
    const sealed = await remote(key).encrypt({ algorithm: 'RSA-OAEP-256', plaintext });
    const signature = (await remote(key).sign('PS256', digest)).result;
    const wrapped = (await remote(key).wrapKey('RSA-OAEP', cek)).result;

    const expired = await client.updateKeyProperties('expires', {
      expiresOn: new Date(Date.now() - HOUR_MS),
    });
    assert.ok((expired.properties.expiresOn?.getTime() ?? Infinity) < Date.now());
    await rejectsWith(remote(key).encrypt({ algorithm: 'RSA-OAEP-256', plaintext }), 403, 'Forbidden');
    await rejectsWith(remote(key).sign('PS256', digest), 403, 'Forbidden');
    await rejectsWith(remote(key).wrapKey('RSA-OAEP', cek), 403, 'Forbidden');
    const opened = await remote(key).decrypt({ algorithm: 'RSA-OAEP-256', ciphertext: sealed.result });
    assert.deepEqual(Buffer.from(opened.result), plaintext);
    assert.equal((await remote(key).verify('PS256', digest, signature)).result, true);
    assert.deepEqual(Buffer.from((await remote(key).unwrapKey('RSA-OAEP', wrapped)).result), cek);
    assert.ok(await client.getKey('expires'), 'an expired key can still be read');

    const aes = await client.createKey('expires-aes', 'oct', { keySize: 128 });
    const gcm = await remote(aes).encrypt({ algorithm: 'A128GCM', plaintext });
    const kw = (await remote(aes).wrapKey('A128KW', cek)).result;
    await client.updateKeyProperties('expires-aes', { expiresOn: new Date(Date.now() - HOUR_MS) });
    await rejectsWith(remote(aes).encrypt({ algorithm: 'A128GCM', plaintext }), 403, 'Forbidden');
    await rejectsWith(remote(aes).wrapKey('A128KW', cek), 403, 'Forbidden');
    const params = { ciphertext: gcm.result, iv: gcm.iv!, authenticationTag: gcm.authenticationTag! };
    const opened128 = await remote(aes).decrypt({ algorithm: 'A128GCM', ...params });
    assert.deepEqual(Buffer.from(opened128.result), plaintext);
    assert.deepEqual(Buffer.from((await remote(aes).unwrapKey('A128KW', kw)).result), cek);
  });

  it('before nbf: no encrypt, sign or wrapKey (403), but decrypt, unwrapKey and verify work', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = privateKey.export({ format: 'jwk' });
    const fields = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;
    const sdkKey: JsonWebKey = { kty: 'RSA' };
    for (const field of fields) sdkKey[field] = Buffer.from(jwk[field] ?? '', 'base64url');
    const key = await client.importKey('not-yet', sdkKey, { notBefore: new Date(Date.now() + 24 * HOUR_MS) });
    const message = Buffer.from('signed elsewhere');
    await rejectsWith(remote(key).sign('RS256', sha256(message)), 403, 'Forbidden');
    await rejectsWith(remote(key).encrypt({ algorithm: 'RSA1_5', plaintext: message }), 403, 'Forbidden');
    await rejectsWith(remote(key).wrapKey('RSA-OAEP-256', randomBytes(16)), 403, 'Forbidden');

    assert.equal(
      (await remote(key).verify('RS256', sha256(message), sign('sha256', message, privateKey))).result,
      true,
    );
    const padding = constants.RSA_PKCS1_OAEP_PADDING;
    const local = publicEncrypt({ key: publicKeyOf(key), padding, oaepHash: 'sha256' }, message);
    assert.deepEqual(
      Buffer.from((await remote(key).decrypt({ algorithm: 'RSA-OAEP-256', ciphertext: local })).result),
      message,
    );
    assert.deepEqual(Buffer.from((await remote(key).unwrapKey('RSA-OAEP-256', local)).result), message);
  });

  it('answers 400 for an algorithm that does not fit the key', async () => {
    const rsa = await client.createRsaKey('alg-rsa');
    const ec = await client.createEcKey('alg-ec', { keyOps: ['sign', 'verify', 'encrypt', 'wrapKey'] });
    const aes = await client.createKey('alg-aes', 'oct', { keySize: 128 });
    const digest = sha256(Buffer.from('m'));
    const x = Buffer.from('x');
    await rejectsWith(remote(rsa).sign('ES256', digest), 400, 'BadParameter');
    await rejectsWith(remote(rsa).encrypt({ algorithm: 'A128GCM', plaintext: x }), 400, 'BadParameter');
    await rejectsWith(remote(rsa).wrapKey('A128KW', randomBytes(16)), 400, 'BadParameter');
    await rejectsWith(remote(ec).encrypt({ algorithm: 'RSA-OAEP', plaintext: x }), 400, 'BadParameter');
    await rejectsWith(remote(ec).wrapKey('RSA-OAEP-256', randomBytes(16)), 400, 'BadParameter');
    await rejectsWith(remote(ec).sign('PS256', digest), 400, 'BadParameter');
    await rejectsWith(remote(ec).sign('ES384', sha256(Buffer.from('m'))), 400, 'BadParameter');
    await rejectsWith(remote(aes).encrypt({ algorithm: 'RSA-OAEP', plaintext: x }), 400, 'BadParameter');
    await rejectsWith(remote(aes).encrypt({ algorithm: 'A256GCM', plaintext: x }), 400, 'BadParameter');
    await rejectsWith(remote(aes).wrapKey('A192KW', randomBytes(16)), 400, 'BadParameter');
  });

  it('chooses every AES-GCM iv itself: a caller iv is refused, so nobody can reuse a victim’s iv', async () => {
    // Issue 11 (high): with a caller-chosen iv, a principal allowed only to encrypt could
    // encrypt zeros under a victim's iv and XOR out the victim's plaintext (and forge tags).
    const k = randomBytes(32);
    const aes = await client.importKey('gcm-iv', { kty: 'oct', k });
    const victimPlaintext = Buffer.from('the payroll password is hunter2');
    const victim = await remote(aes).encrypt({ algorithm: 'A256GCM', plaintext: victimPlaintext });
    const reuse = {
      algorithm: 'A256GCM',
      plaintext: Buffer.alloc(victimPlaintext.length),
      iv: victim.iv,
    } as unknown as EncryptParameters;
    await assert.rejects(remote(aes).encrypt(reuse), (error: { statusCode?: number; message?: string }) => {
      assert.equal(error.statusCode, 400, String(error));
      assert.match(error.message ?? '', /service chooses/, 'the message says why');
      return true;
    });
    for (const alg of ['A128GCM', 'A192GCM', 'A256GCM']) {
      const bits = Number(alg.slice(1, 4));
      await client.createKey(`gcm-iv-${bits}`, 'oct', { keySize: bits });
      const iv = randomBytes(12).toString('base64url');
      const error = await rawError(
        raw('POST', `/keys/gcm-iv-${bits}/encrypt`, { alg, value: 'AAAA', iv }),
        400,
        'BadParameter',
      );
      assert.match(error.message, /service chooses/);
    }
    // Every encryption gets a fresh iv from the server; node:crypto opens each with the iv and tag returned.
    const ivs = new Set<string>();
    for (let i = 0; i < 32; i++) {
      const sealed = await remote(aes).encrypt({ algorithm: 'A256GCM', plaintext: victimPlaintext });
      assert.equal(sealed.iv?.length, 12);
      ivs.add(Buffer.from(sealed.iv!).toString('hex'));
      const decipher = createDecipheriv('aes-256-gcm', k, sealed.iv!);
      decipher.setAuthTag(sealed.authenticationTag!);
      assert.deepEqual(Buffer.concat([decipher.update(sealed.result), decipher.final()]), victimPlaintext);
    }
    assert.equal(ivs.size, 32, 'no iv repeats');
  });

  it('refuses an iv, aad or tag where the algorithm takes none (RSA, key wrap) instead of ignoring it', async () => {
    await client.createRsaKey('no-iv-rsa');
    await client.createKey('no-iv-aes', 'oct', { keySize: 256 });
    const value = randomBytes(32).toString('base64url');
    const iv = randomBytes(16).toString('base64url');
    for (const [path, alg] of [
      ['/keys/no-iv-aes/wrapkey', 'A256KW'],
      ['/keys/no-iv-aes/unwrapkey', 'A256KW'],
      ['/keys/no-iv-rsa/wrapkey', 'RSA-OAEP-256'],
      ['/keys/no-iv-rsa/encrypt', 'RSA-OAEP-256'],
    ] as const) {
      for (const extra of [{ iv }, { aad: iv }, { tag: iv }]) {
        const error = await rawError(raw('POST', path, { alg, value, ...extra }), 400, 'BadParameter');
        assert.match(error.message, new RegExp(`${alg} (encrypt )?takes no`), error.message);
      }
    }
  });

  it('answers 400 for a digest of the wrong length', async () => {
    const rsa = await client.createRsaKey('digest-rsa');
    const ec = await client.createEcKey('digest-ec', { curve: 'P-384' });
    await rejectsWith(remote(rsa).sign('RS256', randomBytes(20)), 400, 'BadParameter');
    await rejectsWith(remote(rsa).sign('PS512', randomBytes(32)), 400, 'BadParameter');
    await rejectsWith(remote(ec).sign('ES384', randomBytes(32)), 400, 'BadParameter');
    await rejectsWith(remote(rsa).verify('RS384', randomBytes(32), randomBytes(256)), 400, 'BadParameter');
    // A signature of the wrong length is simply invalid.
    assert.equal((await remote(ec).verify('ES384', randomBytes(48), randomBytes(10))).result, false);
  });

  it('answers 400, never 500, for tampered ciphertexts, tags and wrapped keys', async () => {
    const rsa = await client.createRsaKey('tamper-rsa');
    const aes = await client.createKey('tamper-aes', 'oct', { keySize: 256 });
    const plaintext = Buffer.from('do not touch');
    const sealed = Buffer.from((await remote(rsa).encrypt({ algorithm: 'RSA-OAEP', plaintext })).result);
    sealed[100]! ^= 0x40;
    await rejectsWith(
      remote(rsa).decrypt({ algorithm: 'RSA-OAEP', ciphertext: sealed }),
      400,
      'BadParameter',
    );
    await rejectsWith(
      remote(rsa).decrypt({ algorithm: 'RSA-OAEP', ciphertext: sealed.subarray(1) }),
      400,
      'BadParameter',
    );

    const aad = Buffer.from('context');
    const gcm = await remote(aes).encrypt({
      algorithm: 'A256GCM',
      plaintext,
      additionalAuthenticatedData: aad,
    });
    const good = {
      algorithm: 'A256GCM' as const,
      ciphertext: gcm.result,
      iv: gcm.iv!,
      authenticationTag: gcm.authenticationTag!,
    };
    const tag = Buffer.from(good.authenticationTag);
    tag[0]! ^= 1;
    await rejectsWith(
      remote(aes).decrypt({ ...good, authenticationTag: tag, additionalAuthenticatedData: aad }),
      400,
      'BadParameter',
    );
    await rejectsWith(
      remote(aes).decrypt({ ...good, additionalAuthenticatedData: Buffer.from('other') }),
      400,
      'BadParameter',
    );
    await rejectsWith(
      remote(aes).decrypt({ ...good, authenticationTag: tag.subarray(4) }),
      400,
      'BadParameter',
    );
    const opened = await remote(aes).decrypt({ ...good, additionalAuthenticatedData: aad });
    assert.deepEqual(Buffer.from(opened.result), plaintext, 'the untouched ciphertext still opens');

    const wrapped = Buffer.from((await remote(aes).wrapKey('A256KW', randomBytes(32))).result);
    wrapped[3]! ^= 1;
    await rejectsWith(remote(aes).unwrapKey('A256KW', wrapped), 400, 'BadParameter');
    await rejectsWith(remote(aes).unwrapKey('A256KW', randomBytes(13)), 400, 'BadParameter');
  });

  it('answers 400 for malformed base64url, unknown algorithms and missing fields', async () => {
    await client.createRsaKey('malformed');
    await client.createKey('malformed-aes', 'oct', { keySize: 256 });
    const digest = sha256(Buffer.from('m')).toString('base64url');
    await rawError(
      raw('POST', '/keys/malformed/encrypt', { alg: 'RSA-OAEP', value: 'not base64!' }),
      400,
      'BadParameter',
    );
    await rawError(raw('POST', '/keys/malformed/sign', { alg: 'RS256', value: '%%%' }), 400, 'BadParameter');
    await rawError(
      raw('POST', '/keys/malformed/verify', { alg: 'RS256', digest: '***', value: 'AAAA' }),
      400,
      'BadParameter',
    );
    await rawError(
      raw('POST', '/keys/malformed-aes/decrypt', { alg: 'A256GCM', value: 'AAAA', iv: '@@', tag: 'AAAA' }),
      400,
      'BadParameter',
    );
    await rawError(raw('POST', '/keys/malformed/sign', { alg: 'RS256' }), 400, 'BadParameter');
    await rawError(raw('POST', '/keys/malformed/sign', { value: digest }), 400, 'BadParameter');

    for (const [operation, alg] of [
      ['sign', 'XS256'],
      ['encrypt', 'RSA-OAEP-1024'],
      ['wrapkey', 'RS256'],
    ] as const) {
      const { status, text } = await raw('POST', `/keys/malformed/${operation}`, { alg, value: digest });
      assert.equal(status, 400, text);
      const { error } = JSON.parse(text) as { error: { code: string; message: string } };
      assert.ok(['BadParameter', 'NotSupported'].includes(error.code), text);
      assert.ok(error.message.includes(alg), `the message names ${alg}: ${text}`);
    }
    const rsa = await client.getKey('malformed');
    await assert.rejects(remote(rsa).sign('XS256', randomBytes(32)), { statusCode: 400 });
  });

  it('answers 404 KeyNotFound for an unknown key or version', async () => {
    const key = await client.createEcKey('known');
    const unknownVersion = randomBytes(16).toString('hex');
    await rejectsWith(client.getKey('unknown'), 404, 'KeyNotFound');
    await rejectsWith(client.getKey('known', { version: unknownVersion }), 404, 'KeyNotFound');
    await rejectsWith(client.getKey('known', { version: 'not-a-version' }), 404, 'KeyNotFound');
    const ghost = { ...key, name: 'unknown', id: `${server.facts.vaultUrl}/keys/unknown/${unknownVersion}` };
    await rejectsWith(remote(ghost).sign('ES256', randomBytes(32)), 404, 'KeyNotFound');
    const stale = { ...key, id: `${server.facts.vaultUrl}/keys/known/${unknownVersion}` };
    await rejectsWith(remote(stale).verify('ES256', randomBytes(32), randomBytes(64)), 404, 'KeyNotFound');
    await rejectsWith(client.updateKeyProperties('unknown', { enabled: false }), 404, 'KeyNotFound');
    await rejectsWith(client.backupKey('unknown'), 404, 'KeyNotFound');
    await rejectsWith(client.purgeDeletedKey('unknown'), 404, 'KeyNotFound');
  });

  it('answers 409 for a soft-deleted name: create, import and restore are refused until purge', async () => {
    await client.createEcKey('tombstone');
    const blob = await client.backupKey('tombstone');
    await (await client.beginDeleteKey('tombstone', { intervalInMs: 20 })).pollUntilDone();
    await rejectsWith(client.createEcKey('tombstone'), 409, 'Conflict');
    await rejectsWith(client.createRsaKey('TOMBSTONE'), 409, 'Conflict');
    await rejectsWith(client.importKey('tombstone', { kty: 'oct', k: randomBytes(16) }), 409, 'Conflict');
    await rejectsWith(client.restoreKeyBackup(blob!), 409, 'Conflict');
    await rejectsWith(client.rotateKey('tombstone'), 404, 'KeyNotFound');
    await client.purgeDeletedKey('tombstone');
    assert.equal((await client.createEcKey('tombstone')).name, 'tombstone');
  });

  it('answers 400 for key properties Key Vault refuses', async () => {
    await rejectsWith(client.createRsaKey('small', { keySize: 1024 }), 400, 'BadParameter');
    await rejectsWith(client.createKey('odd', 'EC', { curve: 'P-192' }), 400, 'BadParameter');
    await rejectsWith(client.createKey('dsa', 'DSA'), 400, 'BadParameter');
    await rejectsWith(client.createEcKey('ops', { keyOps: ['fly'] }), 400, 'BadParameter');
    await rejectsWith(client.createRsaKey('export', { exportable: true }), 400, 'BadParameter');
    const now = Date.now();
    const window = { notBefore: new Date(now + HOUR_MS), expiresOn: new Date(now) };
    await rejectsWith(client.createEcKey('window', window), 400, 'BadParameter');
    await rejectsWith(client.createEcKey('bad_name'), 400, 'BadParameter');
  });
});
