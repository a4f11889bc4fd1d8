import path from 'node:path';
import Database from 'better-sqlite3';
import { Barrier } from '../../src/barrier/barrier.js';
import { SealManager } from '../../src/core/seal-manager.js';
import { systemClock } from '../../src/lib/clock.js';
import { readDevUnsealKey } from '../../src/seal/dev-key.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

/**
 * Direct access to a stopped server's store, for what only a fault, an attacker or a careless
 * operator does to it: lose a row, change a byte, put an old copy back.
 */
export function openStore(dataDir: string): Database.Database {
  return new Database(path.join(dataDir, 'coffer.db'));
}

export function readRow(dataDir: string, key: string): Buffer | undefined {
  const db = openStore(dataDir);
  try {
    return db.prepare<[string], { value: Buffer }>('SELECT value FROM entries WHERE key = ?').get(key)?.value;
  } finally {
    db.close();
  }
}

export function writeRow(dataDir: string, key: string, value: Buffer): void {
  const db = openStore(dataDir);
  try {
    db.prepare(
      'INSERT INTO entries (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
  } finally {
    db.close();
  }
}

export function deleteRow(dataDir: string, key: string): void {
  const db = openStore(dataDir);
  try {
    db.prepare('DELETE FROM entries WHERE key = ?').run(key);
  } finally {
    db.close();
  }
}

/** Every row, key to value, for comparing a store before and after something that must change nothing. */
export function allRows(dataDir: string): Map<string, Buffer> {
  const db = openStore(dataDir);
  try {
    const rows = db
      .prepare<[], { key: string; value: Buffer }>('SELECT key, value FROM entries ORDER BY key')
      .all();
    return new Map(rows.map((row) => [row.key, row.value]));
  } finally {
    db.close();
  }
}

/** Storage paths (keys) under a prefix, e.g. a vault's secrets. */
export function keysUnder(dataDir: string, prefix: string): string[] {
  return [...allRows(dataDir).keys()].filter((key) => key.startsWith(prefix));
}

/**
 * Every record under `prefix` (the vaults' data by default; `sys/identity/` for the tenant's
 * keys) of a stopped dev server's data dir, decrypted with its own unseal key: what the store
 * holds behind the barrier, for tests that must see past the encryption at rest.
 */
export async function decryptedRecords(dataDir: string, prefix = 'data/'): Promise<Map<string, Buffer>> {
  const storage = new SqliteStorage(path.join(dataDir, 'coffer.db'));
  try {
    const barrier = new Barrier(storage, systemClock);
    const seal = new SealManager(
      storage,
      barrier,
      { afterUnseal: async () => {}, beforeSeal: () => {} },
      systemClock,
    );
    const unsealKey = readDevUnsealKey(path.join(dataDir, 'unseal.key'));
    if (!unsealKey)
      throw new Error(`${dataDir} has no unseal.key: only a dev server's data dir can be read back`);
    await seal.unsealWithKey(unsealKey);
    const records = new Map<string, Buffer>();
    for (const key of await barrier.list(prefix)) {
      const value = await barrier.get(`${prefix}${key}`);
      if (value) records.set(key, value);
    }
    seal.seal();
    return records;
  } finally {
    await storage.close();
  }
}
