import type { FastifyInstance } from 'fastify';
import type { Barrier } from '../barrier/barrier.js';
import type { CofferConfig } from '../config/types.js';
import type { FaultCounters } from '../storage/fault-counters.js';
import { PostgresStorage } from '../storage/postgres/pg-storage.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';

/**
 * SQLite in the data dir (one process), or PostgreSQL for many nodes. A PostgreSQL that is down
 * is not fatal: the node starts, answers 503 and /readyz 503, and connects when it can.
 */
export async function openStorage(
  config: CofferConfig,
  http: FastifyInstance,
  faults: FaultCounters,
): Promise<SqliteStorage | PostgresStorage> {
  const cacheBytes = config.storage.cacheMiB * 1024 * 1024;
  // Workers of one server open the file as members of one installation (docs/ha.md).
  const mode = config.workers > 1 ? 'member' : 'exclusive';
  if (config.storage.type === 'sqlite')
    return new SqliteStorage(config.storage.file, { cacheBytes, faults, mode });
  const storage = new PostgresStorage({
    ...config.storage,
    cacheBytes,
    log: (level, message) => http.log[level]({ storage: 'postgres' }, message),
  });
  try {
    await storage.start();
  } catch (error) {
    await storage.close();
    throw error;
  }
  return storage;
}

/** Removes a deleted vault's objects in bounded transactions, so a large vault does not hold the write lock for long. */
export async function eraseVaultData(store: ReturnType<Barrier['view']>): Promise<void> {
  for (;;) {
    const keys = await store.list('', { limit: 500 });
    if (keys.length === 0) return;
    await store.transaction(async (tx) => {
      for (const key of keys) await tx.delete(key);
    });
  }
}
