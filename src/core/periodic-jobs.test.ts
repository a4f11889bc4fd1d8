import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackupCodec } from '../backup/backup-codec.js';
import { Barrier } from '../barrier/barrier.js';
import { randomKey } from '../crypto/aes-gcm.js';
import { DAY_MS, ManualClock } from '../lib/clock.js';
import { PurgeFailed } from '../objects/purge-expired.js';
import { createSecretService } from '../secrets/service.js';
import { FaultCounters } from '../storage/fault-counters.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { createVaultService } from '../vaults/service.js';
import { createPeriodicJobs } from './periodic-jobs.js';

/**
 * Real storage behind a barrier, the vault and secret services, and the purge job over them.
 * Registers its own before/after hooks in the calling describe.
 */
function purgeFixture(onError: (error: unknown) => void) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-purge-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const storage = new SqliteStorage(path.join(dir, 'coffer.db'));
  const faults = new FaultCounters();
  const barrier = new Barrier(storage, clock, { faults });
  const backupKey = randomKey();
  const vaults = createVaultService({ system: barrier.view('sys/'), clock, eraseData: async () => {} });
  const secrets = createSecretService({
    vaultStore: (vault) => barrier.view(`data/${vault.id}/`),
    backupCodec: createBackupCodec(() => backupKey),
    clock,
  });
  const scheduler = createPeriodicJobs({
    vaults,
    sweeps: [(vault) => secrets.purgeExpired(vault), async () => 0],
    intervalMs: 60_000,
    onError,
  });
  before(async () => {
    await barrier.initialize(randomKey());
  });
  after(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { clock, storage, faults, vaults, secrets, scheduler };
}

// Retention is days long: the job is tested by moving an injected clock, over real storage.
describe('purge of deleted secrets when their retention ends', () => {
  const { clock, vaults, secrets, scheduler } = purgeFixture((error) => assert.fail(String(error)));

  it('keeps a deleted secret until its vault retention ends, then purges it', async () => {
    const vault = await vaults.create('short-retention', { softDeleteRetentionInDays: 7 });
    await secrets.set(vault, 'old-password', 'v1', {});
    await secrets.set(vault, 'old-password', 'v2', {});
    const deleted = await secrets.delete(vault, 'old-password');
    assert.equal(deleted.head.scheduledPurgeDate - deleted.head.deletedDate, 7 * 86400);

    clock.advance(7 * DAY_MS - 1000);
    assert.equal(await scheduler.runOnce(), 0);
    assert.equal((await secrets.getDeleted(vault, 'old-password')).record.value, 'v2');

    clock.advance(1000);
    assert.equal(await scheduler.runOnce(), 1);
    await assert.rejects(secrets.getDeleted(vault, 'old-password'), { code: 'SecretNotFound' });
    // Purged means every version is gone, so the name is free again.
    const again = await secrets.set(vault, 'old-password', 'fresh', {});
    assert.equal((await secrets.listVersions(vault, 'old-password', undefined, 25)).items.length, 1);
    assert.equal(again.record.value, 'fresh');
  });

  it('purges on schedule even where purge protection forbids purging by hand', async () => {
    const vault = await vaults.create('protected', {
      softDeleteRetentionInDays: 7,
      enablePurgeProtection: true,
    });
    await secrets.set(vault, 'api-key', 'k', {});
    await secrets.delete(vault, 'api-key');
    await assert.rejects(secrets.purge(vault, 'api-key'), { status: 403, code: 'Forbidden' });
    clock.advance(8 * DAY_MS);
    assert.equal(await scheduler.runOnce(), 1);
    await assert.rejects(secrets.getDeleted(vault, 'api-key'), { code: 'SecretNotFound' });
  });

  it('leaves live secrets and other vaults alone', async () => {
    const vault = await vaults.create('busy', { softDeleteRetentionInDays: 90 });
    await secrets.set(vault, 'live', 'still here', {});
    await secrets.set(vault, 'recent', 'x', {});
    await secrets.delete(vault, 'recent');
    clock.advance(30 * DAY_MS);
    assert.equal(await scheduler.runOnce(), 0);
    assert.equal((await secrets.get(vault, 'live')).record.value, 'still here');
    assert.equal((await secrets.listDeleted(vault, undefined, 25)).items.length, 1);
  });
});

describe('purge of deleted secrets with a damaged record', () => {
  const reported: unknown[] = [];
  const { clock, storage, faults, vaults, secrets, scheduler } = purgeFixture((error) =>
    reported.push(error),
  );

  it('purges the others, reports the damaged one by name, and counts it', async () => {
    const vault = await vaults.create('damaged', { softDeleteRetentionInDays: 7 });
    for (const name of ['a', 'b', 'c']) {
      await secrets.set(vault, name, `value of ${name}`, {});
      await secrets.delete(vault, name);
    }
    const damagedPath = `data/${vault.id}/deletedsecrets/b`;
    const raw = (await storage.get(damagedPath))!;
    raw[raw.length - 1]! ^= 0x01;
    await storage.put(damagedPath, raw);

    clock.advance(8 * DAY_MS);
    await scheduler.runOnce();
    assert.equal(reported.length, 1, 'the failure is reported, not swallowed');
    const failure = reported[0] as PurgeFailed;
    assert.ok(failure instanceof PurgeFailed);
    assert.deepEqual(
      failure.failures.map((each) => each.name),
      ['b'],
    );
    assert.match(failure.message, new RegExp(`${damagedPath} failed its integrity check`));
    assert.doesNotMatch(failure.message, /value of/);
    assert.equal(faults.snapshot().integrityFailure, 1);
    // The damaged one did not stop the others.
    await assert.rejects(secrets.getDeleted(vault, 'a'), { code: 'SecretNotFound' });
    await assert.rejects(secrets.getDeleted(vault, 'c'), { code: 'SecretNotFound' });
    assert.ok(await storage.get(damagedPath), 'the damaged record is kept for an operator to look at');
  });
});
