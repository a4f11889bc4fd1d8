import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomKey } from '../crypto/aes-gcm.js';
import type { Clock } from '../lib/clock.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { Barrier } from './barrier.js';

/**
 * For unit tests of what lives behind the barrier: a real, unsealed barrier over a SQLite file
 * in a scratch directory (no stand-in for our own storage), removed again by `close`.
 */
export async function scratchBarrier(clock: Clock): Promise<{ barrier: Barrier; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-barrier-'));
  const storage = new SqliteStorage(path.join(dir, 'coffer.db'));
  const barrier = new Barrier(storage, clock);
  await barrier.initialize(randomKey());
  return {
    barrier,
    async close() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
