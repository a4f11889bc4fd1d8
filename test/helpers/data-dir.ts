import path from 'node:path';
import Database from 'better-sqlite3';

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
