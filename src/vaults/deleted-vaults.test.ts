import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeJson } from '../barrier/secure-store.js';
import { Barrier } from '../barrier/barrier.js';
import { randomKey } from '../crypto/aes-gcm.js';
import { CofferError } from '../errors/index.js';
import { DAY_MS, ManualClock } from '../lib/clock.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { createVaultService } from './service.js';
import type { DeletedVaultRecord } from './types.js';

// The soft-deleted vault lifecycle over real storage, with the cases HTTP cannot reach: a name
// taken meanwhile, a purge cut short by a crash, and the order in which a purge removes things.
describe('soft-deleted vaults (service)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-vaults-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const storage = new SqliteStorage(path.join(dir, 'coffer.db'));
  const barrier = new Barrier(storage, clock);
  const system = barrier.view('sys/');
  const steps: string[] = [];
  const audits: Array<Record<string, unknown>> = [];
  const vaults = createVaultService({
    system,
    clock,
    eraseData: async (vault) => void steps.push(`erase ${vault.name}`),
    removeRoleAssignments: async (name) => (steps.push(`assignments ${name}`), 0),
    audit: (event) => audits.push(event),
  });
  const statusOf = async (work: Promise<unknown>) =>
    work.then(
      () => 200,
      (error: unknown) => (error instanceof CofferError ? `${error.status} ${error.code}` : String(error)),
    );

  before(async () => {
    await barrier.initialize(randomKey());
  });
  after(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to recover under a name a vault holds, and changes nothing', async () => {
    const first = await vaults.create('taken', { softDeleteRetentionInDays: 7 });
    await vaults.remove('taken');
    // A live record under the same name (a data dir from before soft delete, or an edit by hand).
    await writeJson(system, 'vaults/taken', { ...first, id: 'another' });
    vaults.clearCache();
    assert.equal(await statusOf(vaults.recover('taken')), '409 VaultAlreadyExists');
    assert.equal((await vaults.getDeleted('taken')).id, first.id);
    assert.equal((await vaults.get('taken')).id, 'another');
    await vaults.purge('taken');
  });

  it('purges in order (assignments, data, record) and frees the name only at the end', async () => {
    await vaults.create('ordered', { softDeleteRetentionInDays: 7 });
    await vaults.remove('ordered');
    steps.length = 0;
    await vaults.purge('ordered');
    assert.deepEqual(steps, ['assignments ordered', 'erase ordered']);
    assert.equal(await statusOf(vaults.getDeleted('ordered')), '404 DeletedVaultNotFound');
    await vaults.create('ordered');
  });

  it('finishes a purge a crash cut short, purge protection or not, and audits it', async () => {
    const vault = await vaults.create('crashed', {
      softDeleteRetentionInDays: 90,
      enablePurgeProtection: true,
    });
    await vaults.remove('crashed');
    const deleted = await vaults.getDeleted('crashed');
    await writeJson(system, 'deletedvaults/crashed', {
      ...deleted,
      purging: true,
    } satisfies DeletedVaultRecord);
    assert.equal(await statusOf(vaults.create('crashed')), '409 ConflictError', 'the name is still reserved');
    assert.equal(
      await statusOf(vaults.recover('crashed')),
      '404 DeletedVaultNotFound',
      'a purge is not undone',
    );
    steps.length = 0;
    assert.equal(await vaults.purgeExpired(), 1);
    assert.deepEqual(steps, ['assignments crashed', 'erase crashed']);
    assert.deepEqual(audits.at(-1), {
      event: 'VaultPurged',
      vault: 'crashed',
      vaultId: vault.id,
      reason: 'retention period ended',
      scheduledPurgeDate: deleted.scheduledPurgeDate,
      by: { objectId: 'system' },
    });
  });

  it('purge protection holds until the purge date, to the millisecond, then the sweep purges', async () => {
    await vaults.create('guarded', { softDeleteRetentionInDays: 7, enablePurgeProtection: true });
    await vaults.remove('guarded');
    clock.advance(7 * DAY_MS - 1);
    assert.equal(await statusOf(vaults.purge('guarded')), '405 MethodNotAllowed');
    assert.equal(await vaults.purgeExpired(), 0);
    clock.advance(1);
    assert.equal(await vaults.purgeExpired(), 1);
    assert.equal(await statusOf(vaults.getDeleted('guarded')), '404 DeletedVaultNotFound');
  });
});
