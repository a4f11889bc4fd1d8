import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackupCodec } from '../backup/backup-codec.js';
import { Barrier } from '../barrier/barrier.js';
import { randomKey } from '../crypto/aes-gcm.js';
import { RoutingKeyProvider } from '../crypto/keys/routing-provider.js';
import { SoftwareKeyProvider } from '../crypto/keys/software-provider.js';
import { DAY_MS, ManualClock, unixSeconds } from '../lib/clock.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { createVaultService } from '../vaults/service.js';
import type { VaultRecord } from '../vaults/types.js';
import { type KeyExpiryNotice, keyRotationSweep } from './rotation-job.js';
import { createKeyService } from './service.js';
import type { KeyView } from './types.js';

// Rotation policies act over days and months: the sweep is driven by an injected clock, over real
// storage and the real software key provider, one vault per case so the cases cannot see each other.
describe('key rotation sweep', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-rotation-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const storage = new SqliteStorage(path.join(dir, 'coffer.db'));
  const barrier = new Barrier(storage, clock);
  const backupKey = randomKey();
  const vaults = createVaultService({ system: barrier.view('sys/'), clock, eraseData: async () => {} });
  const keys = createKeyService({
    vaultStore: (vault) => barrier.view(`data/${vault.id}/`),
    backupCodec: createBackupCodec(() => backupKey),
    clock,
    provider: new RoutingKeyProvider(new SoftwareKeyProvider()),
  });
  const notices: KeyExpiryNotice[] = [];
  const sweep = keyRotationSweep({
    keys,
    clock,
    notify: async (_vault, notice) => {
      notices.push(notice);
    },
  });
  const nowSeconds = () => unixSeconds(clock.nowMs());

  const versionsOf = async (vault: VaultRecord, name: string): Promise<KeyView[]> =>
    (await keys.listVersions(vault, name, undefined, 25)).items;
  /** The version list, newest first by creation time. */
  const newestFirst = async (vault: VaultRecord, name: string) =>
    (await versionsOf(vault, name)).sort((a, b) => b.record.created - a.record.created);

  before(async () => {
    await barrier.initialize(randomKey());
  });
  after(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rotates 30 days after creation (not at day 29), like the old key, then waits 30 days again', async () => {
    const vault = await vaults.create('rotate-after-create');
    const original = await keys.create(vault, 'signing', {
      kty: 'EC',
      curve: 'P-384',
      keyOps: ['sign'],
      tags: { team: 'payments' },
    });
    await keys.setRotationPolicy(vault, 'signing', {
      lifetimeActions: [{ trigger: { timeAfterCreate: 'P30D' }, action: { type: 'Rotate' } }],
      expiryTime: 'P90D',
    });

    clock.advance(29 * DAY_MS);
    assert.equal(await sweep(vault), 0, 'nothing is due at day 29');
    assert.equal((await versionsOf(vault, 'signing')).length, 1);
    assert.equal((await keys.get(vault, 'signing')).record.version, original.record.version);

    clock.advance(DAY_MS + 1000);
    assert.equal(await sweep(vault), 1, 'the key is rotated after day 30');
    const rotatedAt = nowSeconds();
    const latest = (await keys.get(vault, 'signing')).record;
    assert.notEqual(latest.version, original.record.version);
    assert.equal(latest.kty, 'EC');
    assert.equal(latest.curve, 'P-384');
    assert.equal(latest.keySize, original.record.keySize);
    assert.deepEqual(latest.keyOps, ['sign'], 'key_ops kept (not the EC default)');
    assert.deepEqual(latest.tags, { team: 'payments' });
    assert.equal(latest.created, rotatedAt);
    assert.equal(latest.exp, rotatedAt + 90 * 86400, 'exp = rotation time + expiryTime (P90D)');
    assert.notDeepEqual(latest.material, original.record.material, 'new key material');
    assert.equal((await versionsOf(vault, 'signing')).length, 2);
    // The old version is kept and still usable for verification.
    const old = await keys.resolve(vault, 'signing', original.record.version);
    assert.deepEqual(old.record.material, original.record.material);

    assert.equal(await sweep(vault), 0, 'a second sweep at once does nothing');
    clock.advance(29 * DAY_MS);
    assert.equal(await sweep(vault), 0, 'the clock restarts at the new version: not due 29 days later');
    assert.equal((await versionsOf(vault, 'signing')).length, 2);
    clock.advance(DAY_MS);
    assert.equal(await sweep(vault), 1, 'due again 30 days after the new version');
    assert.equal((await versionsOf(vault, 'signing')).length, 3);
    assert.equal(notices.filter((notice) => notice.vault === vault.name).length, 0, 'Rotate does not notify');
  });

  it('keeps the size of RSA and oct keys when it rotates them', async () => {
    const vault = await vaults.create('rotate-sizes');
    await keys.create(vault, 'rsa', { kty: 'RSA', keySize: 3072, keyOps: ['wrapKey', 'unwrapKey'] });
    await keys.create(vault, 'aes', { kty: 'oct', keySize: 192 });
    const policy = {
      lifetimeActions: [{ trigger: { timeAfterCreate: 'P30D' }, action: { type: 'rotate' } }],
    };
    await keys.setRotationPolicy(vault, 'rsa', policy);
    await keys.setRotationPolicy(vault, 'aes', policy);
    clock.advance(31 * DAY_MS);
    assert.equal(await sweep(vault), 2);

    const [rsa, rsaOld] = await newestFirst(vault, 'rsa');
    assert.ok(rsa && rsaOld);
    assert.equal(rsa.record.kty, 'RSA');
    assert.equal(rsa.record.keySize, 3072);
    assert.equal(
      Buffer.from(rsa.record.material.kty === 'RSA' ? rsa.record.material.n : '', 'base64url').length,
      384,
    );
    assert.deepEqual(rsa.record.keyOps, ['wrapKey', 'unwrapKey']);
    assert.equal(rsa.record.exp, undefined, 'no expiryTime in the policy: no exp');
    const [aes, aesOld] = await newestFirst(vault, 'aes');
    assert.ok(aes && aesOld);
    assert.equal(aes.record.kty, 'oct');
    assert.equal(aes.record.keySize, 192);
    assert.notDeepEqual(aes.record.material, aesOld.record.material);
  });

  it('rotates timeBeforeExpiry ahead of the expiry of the latest version', async () => {
    const vault = await vaults.create('rotate-before-expiry');
    const created = await keys.create(vault, 'expiring', {
      kty: 'RSA',
      exp: nowSeconds() + 60 * 86400,
      keyOps: ['encrypt', 'decrypt'],
    });
    await keys.setRotationPolicy(vault, 'expiring', {
      lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Rotate' } }],
      expiryTime: 'P60D',
    });

    clock.advance(29 * DAY_MS);
    assert.equal(await sweep(vault), 0, '31 days before expiry: not yet');
    clock.advance(DAY_MS);
    assert.equal(await sweep(vault), 1, '30 days before expiry: rotated');
    const [latest] = await newestFirst(vault, 'expiring');
    assert.ok(latest);
    assert.notEqual(latest.record.version, created.record.version);
    assert.equal(latest.record.kty, 'RSA');
    assert.equal(latest.record.keySize, 2048);
    assert.deepEqual(latest.record.keyOps, ['encrypt', 'decrypt']);
    assert.equal(latest.record.exp, nowSeconds() + 60 * 86400);

    assert.equal(await sweep(vault), 0, 'the new version expires in 60 days: nothing due');
    clock.advance(29 * DAY_MS);
    assert.equal(await sweep(vault), 0);
    clock.advance(DAY_MS);
    assert.equal(await sweep(vault), 1, '30 days before the new version expires');
    assert.equal((await versionsOf(vault, 'expiring')).length, 3);
  });

  it('notifies once per version for a Notify action, without rotating', async () => {
    const vault = await vaults.create('notify-only');
    const created = await keys.create(vault, 'watched', { kty: 'EC', exp: nowSeconds() + 45 * 86400 });
    await keys.setRotationPolicy(vault, 'watched', {
      lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } }],
      expiryTime: 'P60D',
    });
    const mine = () => notices.filter((notice) => notice.vault === vault.name);

    clock.advance(14 * DAY_MS);
    assert.equal(await sweep(vault), 0, '31 days before expiry: no notice');
    assert.equal(mine().length, 0);
    clock.advance(DAY_MS);
    assert.equal(await sweep(vault), 1);
    assert.deepEqual(mine(), [
      {
        vault: vault.name,
        key: 'watched',
        version: created.record.version,
        expiresOn: created.record.exp,
        notBefore: created.record.nbf,
      },
    ]);
    assert.equal(await sweep(vault), 0, 'the same version is not notified twice');
    clock.advance(10 * DAY_MS);
    assert.equal(await sweep(vault), 0);
    assert.equal(mine().length, 1);
    assert.equal((await versionsOf(vault, 'watched')).length, 1, 'Notify never rotates');

    // A new version (rotated by hand) gets its own notice when it nears its own expiry.
    const rotated = await keys.rotate(vault, 'watched');
    assert.equal(rotated.record.exp, nowSeconds() + 60 * 86400);
    assert.equal(await sweep(vault), 0, 'the new version expires in 60 days');
    clock.advance(30 * DAY_MS);
    assert.equal(await sweep(vault), 1);
    assert.equal(mine().length, 2);
    assert.equal(mine()[1]?.version, rotated.record.version);
    assert.equal(await sweep(vault), 0);
    assert.equal(mine().length, 2);
  });

  it('leaves keys without a policy alone, whatever their age or expiry', async () => {
    const vault = await vaults.create('no-policies');
    await keys.create(vault, 'plain', { kty: 'oct', keySize: 128 });
    await keys.create(vault, 'expires', { kty: 'EC', curve: 'P-256K', exp: nowSeconds() + 10 * 86400 });
    const withPolicy = await keys.create(vault, 'with-policy', { kty: 'EC' });
    await keys.setRotationPolicy(vault, 'with-policy', {
      lifetimeActions: [{ trigger: { timeAfterCreate: 'P400D' }, action: { type: 'Rotate' } }],
    });
    // What a caller reads for a key without a policy is the default; it is not stored.
    assert.deepEqual((await keys.getRotationPolicy(vault, 'plain')).lifetimeActions, [
      { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } },
    ]);
    assert.equal(await keys.readPolicy(vault, 'plain'), undefined);

    clock.advance(365 * DAY_MS);
    assert.equal(await sweep(vault), 0);
    for (const name of ['plain', 'expires', 'with-policy']) {
      assert.equal((await versionsOf(vault, name)).length, 1, `${name} keeps its only version`);
    }
    assert.equal((await keys.get(vault, 'with-policy')).record.version, withPolicy.record.version);
    assert.equal(notices.filter((notice) => notice.vault === vault.name).length, 0);
    clock.advance(36 * DAY_MS);
    assert.equal(await sweep(vault), 1, 'only the key whose policy is due is rotated');
    assert.equal((await versionsOf(vault, 'with-policy')).length, 2);
    assert.equal((await versionsOf(vault, 'plain')).length, 1);
  });
});
