import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { copyInstallation, verifyInstallation } from './copy.js';
import { SqliteStorage } from './sqlite/sqlite-storage.js';

describe('copying an installation between stores', () => {
  let dir: string;
  let from: SqliteStorage;
  let to: SqliteStorage;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-copy-'));
    from = new SqliteStorage(path.join(dir, 'from.db'));
    to = new SqliteStorage(path.join(dir, 'to.db'));
  });

  afterEach(async () => {
    await from.close();
    await to.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function fill(count: number): Promise<Map<string, Buffer>> {
    const written = new Map<string, Buffer>();
    await from.transaction(async (tx) => {
      for (let i = 0; i < count; i++) {
        const key = `data/v/${String(i).padStart(5, '0')}`;
        const value = randomBytes(1 + (i % 300));
        written.set(key, value);
        await tx.put(key, value);
      }
    });
    return written;
  }

  it('copies every entry and live claim across several pages, and the copy verifies', async () => {
    const written = await fill(1234);
    const now = Date.now();
    await from.cluster.claim('assertion:live', now + 60_000, now);
    await from.cluster.claim('assertion:expired', now - 1, now - 10_000);
    const phases = new Set<string>();
    const copied = await copyInstallation(from, to, (phase) => phases.add(phase));
    assert.deepEqual(copied, { entries: 1234, claims: 1 });
    for (const [key, value] of written) assert.ok((await to.get(key))?.equals(value), key);
    // The live claim came along: a replay after the move is still refused.
    assert.equal(await to.cluster.claim('assertion:live', now + 60_000, now), false);

    const check = await verifyInstallation(from, to, (phase) => phases.add(phase));
    assert.deepEqual(check, { entries: 1234, mismatched: 0, mismatches: [] });
    assert.deepEqual([...phases], ['copy', 'verify']);
  });

  it('refuses a target that already holds data: one installation per store', async () => {
    await fill(3);
    await to.put('core/seal-config', Buffer.from('{}'));
    await assert.rejects(copyInstallation(from, to), /already holds an installation/);
  });

  it('names what differs: a changed value, a missing key and an extra one', async () => {
    await fill(600);
    await copyInstallation(from, to);
    await to.put('data/v/00007', Buffer.from('tampered'));
    await to.delete('data/v/00512');
    await to.put('data/v/00512x', Buffer.from('extra'));
    const check = await verifyInstallation(from, to);
    assert.equal(check.mismatched, 3);
    assert.deepEqual(check.mismatches, ['data/v/00007', 'data/v/00512', 'data/v/00512x']);
  });
});
