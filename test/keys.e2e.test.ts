import assert from 'node:assert/strict';
import {
  type JsonWebKey as NodeJwk,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
} from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CryptographyClient,
  type JsonWebKey,
  KeyClient,
  type KeyOperation,
  type KeyRotationPolicy,
  type KeyType,
} from '@azure/keyvault-keys';
import { cofferCli, cofferJson } from './helpers/coffer-cli.js';
import { fetchToken, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// The Keys API lifecycle through the official @azure/keyvault-keys KeyClient: create every key type
// and size, import, get (public part only), list, update, soft delete, recover, purge, backup and
// restore, exportable keys, rotation and rotation policies, random bytes.

const DAY_MS = 24 * 60 * 60 * 1000;
const PRIVATE_FIELDS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const RSA_OPS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'];
const EC_OPS = ['sign', 'verify'];
const OCT_OPS = ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];

interface SdkError {
  statusCode?: number;
  code?: string;
}

interface WireKey {
  key: Record<string, unknown> & { kid: string; kty: string; key_ops: string[] };
  attributes: Record<string, unknown>;
  release_policy?: { data?: string; contentType?: string };
}

async function rejectsWith(promise: Promise<unknown>, statusCode: number, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as SdkError).statusCode, statusCode, `status of ${String(error)}`);
    assert.equal((error as SdkError).code, code, `code of ${String(error)}`);
    return true;
  });
}

/** A node:crypto private JWK as the SDK's JsonWebKey (binary fields as bytes, Azure's curve names). */
function sdkJwk(jwk: NodeJwk, keyOps?: KeyOperation[]): JsonWebKey {
  const bytes = (name: string) => {
    const value = jwk[name];
    return typeof value === 'string' ? Buffer.from(value, 'base64url') : undefined;
  };
  const [n, e, d, p, q, dp, dq, qi, x, y, k] = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi', 'x', 'y', 'k'].map(
    bytes,
  );
  const crv = jwk.crv === 'secp256k1' ? 'P-256K' : jwk.crv;
  return { kty: jwk.kty as KeyType, crv, n, e, d, p, q, dp, dq, qi, x, y, k, keyOps };
}

const names = async <T>(items: AsyncIterable<T>, pick: (item: T) => string | undefined) => {
  const out: string[] = [];
  for await (const item of items) out.push(pick(item) ?? '');
  return out;
};

describe('keys through @azure/keyvault-keys (lifecycle)', () => {
  let server: DevServer;
  let client: KeyClient;
  let token: string;
  const poll = { intervalInMs: 20 };

  const raw = async (method: string, path: string) => {
    const headers = { authorization: `Bearer ${token}` };
    const response = await rawRequest(`${server.facts.vaultUrl}${path}?api-version=2025-07-01`, {
      method,
      headers,
    });
    assert.equal(response.status, 200, response.text);
    return response.json() as WireKey;
  };
  const vaultUrlOf = (name: string) => `https://${name}.vault.localhost:${new URL(server.facts.url).port}`;
  const deleteKey = async (target: KeyClient, name: string) =>
    (await target.beginDeleteKey(name, poll)).pollUntilDone();

  before(async () => {
    server = await startDevServer();
    client = new KeyClient(server.facts.vaultUrl, server.credential);
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    token = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('creates RSA 2048/3072/4096 keys with the default key_ops and only the public part', async () => {
    const created = await Promise.all(
      [2048, 3072, 4096].map((keySize) => client.createKey(`rsa-${keySize}`, 'RSA', { keySize })),
    );
    for (const [index, keySize] of [2048, 3072, 4096].entries()) {
      const key = created[index]!;
      assert.equal(key.keyType, 'RSA');
      assert.equal(key.key?.n?.length, keySize / 8, `modulus of rsa-${keySize}`);
      assert.deepEqual([...(key.key?.e ?? [])], [1, 0, 1]);
      assert.deepEqual(key.keyOperations, RSA_OPS);
      assert.match(key.id ?? '', new RegExp(`^${server.facts.vaultUrl}/keys/rsa-${keySize}/[0-9a-f]{32}$`));
      const wire = await raw('GET', `/keys/rsa-${keySize}`);
      assert.equal(wire.key.kid, key.id);
      for (const field of PRIVATE_FIELDS) assert.equal(wire.key[field], undefined, `no ${field} on the wire`);
    }
    // The dev vault is standard: -HSM keys belong in premium vaults (test/hsm-keys.e2e.test.ts).
    await assert.rejects(client.createRsaKey('rsa-hsm', { hsm: true, keySize: 2048 }), (error: unknown) => {
      assert.equal((error as SdkError).statusCode, 400);
      assert.match(String((error as Error).message), /^Hardware key operation not allowed on standard vault/);
      return true;
    });
    await rejectsWith(client.createEcKey('ec-hsm', { hsm: true }), 400, 'BadParameter');
  });

  it('refuses a premium vault on a server without an HSM, saying what to configure', async () => {
    const result = await cofferCli(server.dataDir, ['vault', 'create', 'premium-nohsm', '--sku', 'premium']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no PKCS#11 token configured: configure pkcs11/);
    const standard = await cofferJson<{ sku: string }>(server.dataDir, ['vault', 'create', 'standard-sku']);
    assert.equal(standard.sku, 'standard');
  });

  it('creates EC keys on P-256, P-256K, P-384 and P-521 with sign/verify only', async () => {
    const coordinateBytes = { 'P-256': 32, 'P-256K': 32, 'P-384': 48, 'P-521': 66 };
    for (const [curve, bytes] of Object.entries(coordinateBytes)) {
      const name = `ec-${curve.toLowerCase()}`;
      const key = await client.createEcKey(name, { curve });
      assert.equal(key.keyType, 'EC');
      assert.equal(key.key?.crv, curve);
      assert.equal(key.key?.x?.length, bytes, `x on ${curve}`);
      assert.equal(key.key?.y?.length, bytes, `y on ${curve}`);
      assert.deepEqual(key.keyOperations, EC_OPS);
      const wire = await raw('GET', `/keys/${name}/${key.properties.version}`);
      assert.equal(wire.key.crv, curve);
      for (const field of PRIVATE_FIELDS) assert.equal(wire.key[field], undefined, `no ${field} on ${curve}`);
    }
  });

  it('creates oct keys of 128, 192 and 256 bits that never show k', async () => {
    const sizes = [128, 192, 256];
    for (const [type, keySize] of sizes.map((size) => ['oct', size] as const)) {
      const name = `aes-${type.toLowerCase()}-${keySize}`;
      const key = await client.createKey(name, type, { keySize });
      assert.equal(key.keyType, type);
      assert.equal(key.key?.k, undefined);
      assert.deepEqual(key.keyOperations, OCT_OPS);
      const wire = await raw('GET', `/keys/${name}`);
      assert.deepEqual(Object.keys(wire.key).sort(), ['key_ops', 'kid', 'kty']);
    }
    await rejectsWith(client.createKey('aes-bad', 'oct', { keySize: 512 }), 400, 'BadParameter');
  });

  it('imports RSA, EC and oct JWKs with their private part, and gives back only the public part', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ format: 'jwk' });
    const octKey = randomBytes(32);

    await rejectsWith(
      client.importKey('imported-rsa', sdkJwk(rsa), { hardwareProtected: true }),
      400,
      'BadParameter',
    );
    const importedRsa = await client.importKey('imported-rsa', sdkJwk(rsa));
    assert.equal(importedRsa.keyType, 'RSA');
    assert.equal(Buffer.from(importedRsa.key?.n ?? []).toString('base64url'), rsa.n);
    assert.deepEqual(importedRsa.keyOperations, RSA_OPS);
    const importedEc = await client.importKey('imported-ec', sdkJwk(ec, ['sign']), { tags: { from: 'hsm' } });
    assert.equal(importedEc.key?.crv, 'P-256K');
    assert.equal(Buffer.from(importedEc.key?.x ?? []).toString('base64url'), ec.x);
    assert.equal(Buffer.from(importedEc.key?.y ?? []).toString('base64url'), ec.y);
    assert.deepEqual(importedEc.keyOperations, ['sign'], 'the JWK key_ops are kept');
    assert.deepEqual(importedEc.properties.tags, { from: 'hsm' });
    const importedOct = await client.importKey('imported-oct', { kty: 'oct', k: octKey });
    assert.equal(importedOct.keyType, 'oct');

    for (const name of ['imported-rsa', 'imported-ec', 'imported-oct']) {
      const wire = await raw('GET', `/keys/${name}/`);
      for (const field of PRIVATE_FIELDS) assert.equal(wire.key[field], undefined, `${name} shows ${field}`);
      const text = JSON.stringify(wire);
      for (const secret of [rsa.d, rsa.p, rsa.q, ec.d, octKey.toString('base64url')]) {
        assert.ok(!text.includes(secret ?? '(none)'), `${name} leaks private material`);
      }
    }
    const read = await client.getKey('imported-rsa');
    assert.equal(read.key?.d, undefined);
    assert.equal(read.properties.version, importedRsa.properties.version);
    // A public-only JWK cannot be imported: Key Vault needs the private part to operate.
    await rejectsWith(client.importKey('public-only', { ...sdkJwk(ec), d: undefined }), 400, 'BadParameter');
  });

  it('lists keys and their versions', async () => {
    const first = await client.createEcKey('listed', { tags: { v: '1' } });
    const second = await client.createEcKey('listed', { tags: { v: '2' } });
    const listed = await names(client.listPropertiesOfKeys(), (item) => item.name);
    assert.equal(listed.filter((name) => name === 'listed').length, 1);
    const versions = await names(client.listPropertiesOfKeyVersions('listed'), (item) => item.version);
    assert.deepEqual(versions.sort(), [first.properties.version, second.properties.version].sort());
    for await (const item of client.listPropertiesOfKeyVersions('listed')) {
      assert.deepEqual(item.tags, { v: item.version === first.properties.version ? '1' : '2' });
    }
    assert.equal((await client.getKey('listed')).properties.version, second.properties.version);
    const older = await client.getKey('listed', { version: first.properties.version! });
    assert.equal(Buffer.compare(older.key!.x!, first.key!.x!), 0);
  });

  it('updates attributes, tags and key_ops of one version', async () => {
    const first = await client.createRsaKey('updated', { keySize: 2048 });
    const second = await client.createRsaKey('updated', { keySize: 2048 });
    const notBefore = new Date(Date.UTC(2025, 0, 1));
    const expiresOn = new Date(Date.UTC(2035, 0, 1));
    const updated = await client.updateKeyProperties('updated', first.properties.version!, {
      keyOps: ['sign', 'verify'],
      tags: { rotated: 'no' },
      notBefore,
      expiresOn,
    });
    assert.deepEqual(updated.keyOperations, ['sign', 'verify']);
    assert.deepEqual(updated.properties.tags, { rotated: 'no' });
    assert.equal(updated.properties.notBefore?.getTime(), notBefore.getTime());
    assert.equal(updated.properties.expiresOn?.getTime(), expiresOn.getTime());
    const wire = await raw('GET', `/keys/updated/${first.properties.version}`);
    assert.deepEqual(wire.key.key_ops, ['sign', 'verify']);
    assert.equal(wire.attributes.nbf, notBefore.getTime() / 1000);
    assert.equal(wire.attributes.exp, expiresOn.getTime() / 1000);

    const latest = await client.getKey('updated');
    assert.equal(latest.properties.version, second.properties.version);
    assert.deepEqual(latest.keyOperations, RSA_OPS, 'the other version keeps its key_ops');
    assert.equal(latest.properties.tags, undefined);

    const disabled = await client.updateKeyProperties('updated', { enabled: false });
    assert.equal(disabled.properties.enabled, false);
    assert.equal(disabled.properties.version, second.properties.version);
    await rejectsWith(client.getKey('updated'), 403, 'Forbidden');
    assert.equal(
      (await client.getKey('updated', { version: first.properties.version! })).properties.enabled,
      true,
    );
  });

  it('soft-deletes, lists and gets the deleted key, and recovers it with every version', async () => {
    const first = await client.createEcKey('deleted-ec', { curve: 'P-384' });
    const second = await client.createEcKey('deleted-ec', { curve: 'P-384' });
    const started = Date.now();
    const deleted = await deleteKey(client, 'deleted-ec');
    assert.equal(deleted.name, 'deleted-ec');
    assert.equal(deleted.properties.recoveryId, `${server.facts.vaultUrl}/deletedkeys/deleted-ec`);
    const deletedOn = deleted.properties.deletedOn?.getTime() ?? Number.NaN;
    assert.ok(Math.abs(deletedOn - started) < 5_000, `deletedOn ${deleted.properties.deletedOn} is now`);
    const days = deleted.properties.recoverableDays ?? 0;
    assert.ok(days >= 7 && days <= 90, `recoverableDays ${days}`);
    assert.equal((deleted.properties.scheduledPurgeDate?.getTime() ?? 0) - deletedOn, days * DAY_MS);
    assert.equal(deleted.properties.version, second.properties.version);
    assert.equal(deleted.key?.crv, 'P-384');

    await rejectsWith(client.getKey('deleted-ec'), 404, 'KeyNotFound');
    const fetched = await client.getDeletedKey('deleted-ec');
    assert.equal(fetched.properties.recoveryId, deleted.properties.recoveryId);
    assert.equal(fetched.properties.deletedOn?.getTime(), deletedOn);
    const wire = await raw('GET', '/deletedkeys/deleted-ec');
    for (const field of PRIVATE_FIELDS) assert.equal(wire.key[field], undefined);
    assert.ok((await names(client.listDeletedKeys(), (item) => item.name)).includes('deleted-ec'));
    assert.ok(!(await names(client.listPropertiesOfKeys(), (item) => item.name)).includes('deleted-ec'));

    const recovered = await (await client.beginRecoverDeletedKey('deleted-ec', poll)).pollUntilDone();
    assert.equal(recovered.properties.version, second.properties.version);
    assert.equal((await client.getKey('deleted-ec')).properties.version, second.properties.version);
    const older = await client.getKey('deleted-ec', { version: first.properties.version! });
    assert.equal(Buffer.compare(older.key!.x!, first.key!.x!), 0);
    await rejectsWith(client.getDeletedKey('deleted-ec'), 404, 'KeyNotFound');
  });

  it('purges a deleted key: it is gone and the name is free again', async () => {
    const old = await client.createKey('purged', 'oct', { keySize: 128 });
    await deleteKey(client, 'purged');
    await client.purgeDeletedKey('purged');
    await rejectsWith(client.getDeletedKey('purged'), 404, 'KeyNotFound');
    await rejectsWith(client.getKey('purged', { version: old.properties.version! }), 404, 'KeyNotFound');
    const fresh = await client.createKey('purged', 'oct', { keySize: 128 });
    assert.deepEqual(await names(client.listPropertiesOfKeyVersions('purged'), (item) => item.version), [
      fresh.properties.version,
    ]);
  });

  it('backs up and restores after purge, and into another vault, keeping the private key usable', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const first = await client.importKey('backed-up', sdkJwk(rsa), { tags: { copy: 'first' } });
    const second = await client.createRsaKey('backed-up', { keySize: 3072, keyOps: ['sign', 'verify'] });
    const blob = await client.backupKey('backed-up');
    assert.ok(blob && blob.length > 0);
    for (const secret of [rsa.d!, rsa.p!, Buffer.from(rsa.d!, 'base64url').toString('hex')]) {
      assert.ok(!Buffer.from(blob).includes(secret), 'the backup does not show the private key');
    }

    await deleteKey(client, 'backed-up');
    await client.purgeDeletedKey('backed-up');
    const restored = await client.restoreKeyBackup(blob);
    assert.equal(restored.properties.version, second.properties.version);
    assert.deepEqual(restored.keyOperations, ['sign', 'verify']);
    const older = await client.getKey('backed-up', { version: first.properties.version! });
    assert.equal(Buffer.from(older.key?.n ?? []).toString('base64url'), rsa.n);
    assert.deepEqual(older.properties.tags, { copy: 'first' });
    await rejectsWith(client.restoreKeyBackup(blob), 409, 'Conflict');

    const created = await rawRequest(`${server.facts.url}/coffer/vaults`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'keys-target' }),
    });
    assert.ok(created.status < 300, created.text);
    const target = new KeyClient(vaultUrlOf('keys-target'), server.credential);
    await rejectsWith(target.getKey('backed-up'), 404, 'KeyNotFound');
    const moved = await target.restoreKeyBackup(blob);
    assert.equal(moved.id, `${vaultUrlOf('keys-target')}/keys/backed-up/${second.properties.version}`);
    const movedOlder = await target.getKey('backed-up', { version: first.properties.version! });
    assert.equal(Buffer.from(movedOlder.key?.n ?? []).toString('base64url'), rsa.n);
    // The restored private key signs exactly as the original (RS256 is deterministic).
    const digest = createHash('sha256').update('restored').digest();
    const signed = await new CryptographyClient(movedOlder.id!, server.credential).sign('RS256', digest);
    const original = createPrivateKey({ key: rsa, format: 'jwk' });
    assert.deepEqual(Buffer.from(signed.result), sign('sha256', Buffer.from('restored'), original));
    await rejectsWith(target.restoreKeyBackup(Buffer.from('not a backup')), 400, 'BadParameter');
  });

  it('stores and returns exportable and the release policy', async () => {
    const policy = { version: '1.0.0', anyOf: [{ authority: 'https://attest.example', allOf: [] }] };
    const encodedPolicy = Buffer.from(JSON.stringify(policy));
    const key = await client.createRsaKey('exportable', {
      exportable: true,
      releasePolicy: { encodedPolicy, contentType: 'application/json; charset=utf-8' },
    });
    assert.equal(key.properties.exportable, true);
    assert.deepEqual(Buffer.from(key.properties.releasePolicy?.encodedPolicy ?? []), encodedPolicy);
    const read = await client.getKey('exportable');
    assert.equal(read.properties.exportable, true);
    assert.deepEqual(Buffer.from(read.properties.releasePolicy?.encodedPolicy ?? []), encodedPolicy);
    assert.equal(read.properties.releasePolicy?.contentType, 'application/json; charset=utf-8');
    const wire = await raw('GET', '/keys/exportable');
    assert.equal(wire.attributes.exportable, true);
    assert.deepEqual(
      JSON.parse(Buffer.from(wire.release_policy?.data ?? '', 'base64url').toString()),
      policy,
    );
    assert.equal((await client.createEcKey('not-exportable')).properties.exportable, false);
  });

  it('rotates on demand into a new version of the same type, size and key_ops', async () => {
    const rsa = await client.createRsaKey('rotated-rsa', { keySize: 3072, keyOps: ['encrypt', 'decrypt'] });
    const rotated = await client.rotateKey('rotated-rsa');
    assert.notEqual(rotated.properties.version, rsa.properties.version);
    assert.equal(rotated.keyType, 'RSA');
    assert.equal(rotated.key?.n?.length, 384);
    assert.notEqual(Buffer.compare(rotated.key!.n!, rsa.key!.n!), 0, 'new key material');
    assert.deepEqual(rotated.keyOperations, ['encrypt', 'decrypt']);
    assert.equal((await client.getKey('rotated-rsa')).properties.version, rotated.properties.version);
    const ec = await client.createEcKey('rotated-ec', { curve: 'P-521' });
    const rotatedEc = await client.rotateKey('rotated-ec');
    assert.equal(rotatedEc.keyType, 'EC');
    assert.equal(rotatedEc.key?.crv, 'P-521');
    assert.notEqual(rotatedEc.properties.version, ec.properties.version);
    const oct = await client.rotateKey((await client.createKey('rotated-oct', 'oct', { keySize: 192 })).name);
    assert.equal(oct.keyType, 'oct');
    const octVersions = await names(client.listPropertiesOfKeyVersions('rotated-oct'), (i) => i.version);
    assert.equal(octVersions.length, 2);
    await rejectsWith(client.rotateKey('never-created'), 404, 'KeyNotFound');
  });

  it('answers the default rotation policy until one is set, then applies expiryTime on rotation', async () => {
    await client.createEcKey('with-policy');
    const initial = await client.getKeyRotationPolicy('with-policy');
    const actions = (policy: KeyRotationPolicy) =>
      policy.lifetimeActions?.map((item) => [item.action, item.timeAfterCreate, item.timeBeforeExpiry]);
    assert.deepEqual(actions(initial), [['Notify', undefined, 'P30D']]);
    assert.equal(initial.expiresIn, undefined);

    const policy = await client.updateKeyRotationPolicy('with-policy', {
      expiresIn: 'P90D',
      lifetimeActions: [
        { action: 'Rotate', timeAfterCreate: 'P60D' },
        { action: 'Notify', timeBeforeExpiry: 'P7D' },
      ],
    });
    assert.equal(policy.id, `${server.facts.vaultUrl}/keys/with-policy/rotationpolicy`);
    assert.equal(policy.expiresIn, 'P90D');
    const read = await client.getKeyRotationPolicy('with-policy');
    assert.equal(read.expiresIn, 'P90D');
    assert.deepEqual(actions(read), [
      ['Rotate', 'P60D', undefined],
      ['Notify', undefined, 'P7D'],
    ]);
    assert.ok(read.createdOn && read.updatedOn);

    const rotated = await client.rotateKey('with-policy');
    const lifetime =
      (rotated.properties.expiresOn?.getTime() ?? 0) - (rotated.properties.createdOn?.getTime() ?? 0);
    assert.equal(lifetime, 90 * DAY_MS, 'the new version expires expiryTime after it is made');
    await rejectsWith(
      client.updateKeyRotationPolicy('with-policy', { expiresIn: 'P10D', lifetimeActions: [] }),
      400,
      'BadParameter',
    );
    await rejectsWith(client.getKeyRotationPolicy('no-such-key'), 404, 'KeyNotFound');
  });

  it('gives 1 to 128 random bytes, and refuses other counts', async () => {
    const one = await client.getRandomBytes(1);
    assert.equal(one.length, 1);
    const [a, b] = await Promise.all([client.getRandomBytes(128), client.getRandomBytes(128)]);
    assert.equal(a.length, 128);
    assert.notDeepEqual(a, b, 'two draws differ');
    assert.ok(new Set(a).size > 32, 'the bytes look random');
    await rejectsWith(client.getRandomBytes(0), 400, 'BadParameter');
    await rejectsWith(client.getRandomBytes(129), 400, 'BadParameter');
  });
});
