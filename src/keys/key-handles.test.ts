import assert from 'node:assert/strict';
import { constants, createPublicKey, publicDecrypt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackupCodec } from '../backup/backup-codec.js';
import { Barrier } from '../barrier/barrier.js';
import { createCacheInvalidation, keyHandleInvalidation } from '../core/cache-invalidation.js';
import { randomKey } from '../crypto/aes-gcm.js';
import { generateKey } from '../crypto/keys/generate.js';
import { keyHandleId } from '../crypto/keys/key-handle-cache.js';
import { DIGEST_INFO_PREFIX } from '../crypto/keys/rsa.js';
import { RoutingKeyProvider } from '../crypto/keys/routing-provider.js';
import { SoftwareKeyProvider } from '../crypto/keys/software-provider.js';
import type { RsaPrivateJwk } from '../crypto/keys/types.js';
import { BadParameter, Forbidden, NotFound } from '../errors/index.js';
import { ManualClock } from '../lib/clock.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { createVaultService } from '../vaults/service.js';
import type { VaultRecord } from '../vaults/types.js';
import { createKeyService } from './service.js';
import type { KeyVersionRecord } from './types.js';

// The parsed-key cache behind RSA sign and decrypt, wired as app.ts wires it, over real storage
// and the real provider: every change of a key (key_ops update, disable, rotation, import of a
// new version, delete, purge, vault erase) drops its handles at once and takes effect on the very
// next operation, and a signature always comes from the key version's current material.
describe('key handles: every change takes effect on the next operation', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-key-handles-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const storage = new SqliteStorage(path.join(dir, 'coffer.db'));
  const barrier = new Barrier(storage, clock);
  const backupKey = randomKey();
  const software = new SoftwareKeyProvider({ rsaWorkers: 1 });
  const provider = new RoutingKeyProvider(software);
  const invalidation = createCacheInvalidation();
  const observed: string[] = [];
  invalidation.observe((kind, id) => observed.push(`${kind} ${id}`));
  const onChange = keyHandleInvalidation(invalidation, provider);
  const vaults = createVaultService({ system: barrier.view('sys/'), clock, eraseData: async () => {} });
  const keys = createKeyService({
    vaultStore: (vault) => barrier.view(`data/${vault.id}/`),
    backupCodec: createBackupCodec(() => backupKey),
    clock,
    provider,
    onChange,
  });
  const digest = Buffer.alloc(32, 7);
  const handles = software.keyHandles;

  before(async () => {
    await barrier.initialize(randomKey());
  });
  after(async () => {
    await provider.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Signs with the latest version; returns the version and whether node:crypto verifies it with that version's key. */
  async function signLatest(vault: VaultRecord, name: string) {
    const { view, value } = await keys.sign(vault, name, undefined, 'RS256', digest);
    const material = view.record.material as RsaPrivateJwk;
    const publicKey = createPublicKey({ key: { kty: 'RSA', n: material.n, e: material.e }, format: 'jwk' });
    const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, value);
    assert.deepEqual(recovered, Buffer.concat([DIGEST_INFO_PREFIX.sha256, digest]));
    return view.record as KeyVersionRecord;
  }

  async function cachedKey(vaultName: string, name: string) {
    const vault = await vaults.create(vaultName);
    const created = await keys.create(vault, name, { kty: 'RSA', keySize: 2048 });
    await signLatest(vault, name);
    const id = keyHandleId(vault.id, name, created.record.version);
    assert.ok(handles.has(id), 'a sign keeps the parsed key');
    return { vault, id, version: created.record.version };
  }

  it('reuses the handle across operations, decrypt included', async () => {
    const { vault, id } = await cachedKey('handles-reuse', 'reuse');
    const before = handles.size;
    await signLatest(vault, 'reuse');
    const encrypted = await keys.encrypt(vault, 'reuse', undefined, { alg: 'RSA-OAEP-256', value: digest });
    const decrypted = await keys.decrypt(vault, 'reuse', undefined, {
      alg: 'RSA-OAEP-256',
      value: encrypted.value,
    });
    assert.deepEqual(decrypted.value, digest);
    assert.equal(handles.size, before);
    assert.ok(handles.has(id));
  });

  it('an update of key_ops drops the handle, and the removed operation is refused next', async () => {
    const { vault, id } = await cachedKey('handles-ops', 'ops');
    await keys.updateProperties(vault, 'ops', undefined, { keyOps: ['verify'] });
    assert.ok(!handles.has(id));
    await assert.rejects(keys.sign(vault, 'ops', undefined, 'RS256', digest), Forbidden);
    assert.ok(observed.some((line) => line.startsWith('key ') && line.includes(`${vault.id}/ops/`)));
  });

  it('disabling drops the handle, and the next sign is refused; enabling serves again', async () => {
    const { vault, id } = await cachedKey('handles-disable', 'off');
    await keys.updateProperties(vault, 'off', undefined, { enabled: false });
    assert.ok(!handles.has(id));
    await assert.rejects(keys.sign(vault, 'off', undefined, 'RS256', digest), Forbidden);
    await keys.updateProperties(vault, 'off', undefined, { enabled: true });
    await signLatest(vault, 'off');
  });

  it('rotation drops the handles, and the next sign uses the new version', async () => {
    const { vault, id, version } = await cachedKey('handles-rotate', 'turn');
    const rotated = await keys.rotate(vault, 'turn');
    assert.ok(!handles.has(id));
    const used = await signLatest(vault, 'turn');
    assert.equal(used.version, rotated.record.version);
    assert.notEqual(used.version, version);
  });

  it('importing a new version drops the handles, and the next sign uses the imported key', async () => {
    const { vault, id } = await cachedKey('handles-import', 'brought');
    const jwk = (await generateKey({ kty: 'RSA', size: 2048 })) as RsaPrivateJwk;
    await keys.importKey(vault, 'brought', { ...jwk }, {}, false);
    assert.ok(!handles.has(id));
    const used = await signLatest(vault, 'brought');
    assert.equal((used.material as RsaPrivateJwk).n, jwk.n);
  });

  it('delete drops the handles and the next sign is NotFound; purge drops the recovered ones again', async () => {
    const { vault, id } = await cachedKey('handles-delete', 'gone');
    await keys.delete(vault, 'gone');
    assert.ok(!handles.has(id));
    await assert.rejects(keys.sign(vault, 'gone', undefined, 'RS256', digest), NotFound);
    await keys.recover(vault, 'gone');
    await signLatest(vault, 'gone');
    assert.ok(handles.has(id));
    await keys.delete(vault, 'gone');
    await signLatestRejected(vault);
    await keys.purge(vault, 'gone');
    assert.ok(!handles.has(id));
    await assert.rejects(keys.sign(vault, 'gone', undefined, 'RS256', digest), NotFound);
  });

  async function signLatestRejected(vault: VaultRecord) {
    await assert.rejects(keys.sign(vault, 'gone', undefined, 'RS256', digest), NotFound);
  }

  it("a vault's erase and a seal drop its handles through the same seam", async () => {
    const { id } = await cachedKey('handles-vault', 'v');
    const other = await cachedKey('handles-other', 'v');
    invalidation.changed('vault', `${id.split('/')[0]}/`);
    assert.ok(!handles.has(id));
    assert.ok(handles.has(other.id));
    invalidation.invalidate('all');
    assert.equal(handles.size, 0);
  });

  it('a failed change drops nothing and changes nothing', async () => {
    const { vault, id } = await cachedKey('handles-failed', 'kept');
    await assert.rejects(
      keys.updateProperties(vault, 'kept', undefined, { nbf: 2_000_000_000, exp: 1 }),
      BadParameter,
    );
    assert.ok(handles.has(id));
    await signLatest(vault, 'kept');
  });
});
