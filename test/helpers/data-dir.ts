import path from 'node:path';
import { Barrier } from '../../src/barrier/barrier.js';
import { SealManager } from '../../src/core/seal-manager.js';
import { systemClock } from '../../src/lib/clock.js';
import { readOrCreateDevUnsealKey } from '../../src/seal/dev-key.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

/**
 * Every record of a stopped dev server's data dir, decrypted with its own unseal key: what the
 * store holds behind the barrier, for tests that must see past the encryption at rest.
 */
export async function decryptedRecords(dataDir: string): Promise<Map<string, Buffer>> {
  const storage = new SqliteStorage(path.join(dataDir, 'coffer.db'));
  try {
    const barrier = new Barrier(storage, systemClock);
    const seal = new SealManager(
      storage,
      barrier,
      { afterUnseal: async () => {}, beforeSeal: () => {} },
      systemClock,
    );
    await seal.unsealWithKey(readOrCreateDevUnsealKey(path.join(dataDir, 'unseal.key')));
    const records = new Map<string, Buffer>();
    for (const key of await barrier.list('data/')) {
      const value = await barrier.get(`data/${key}`);
      if (value) records.set(key, value);
    }
    seal.seal();
    return records;
  } finally {
    await storage.close();
  }
}
