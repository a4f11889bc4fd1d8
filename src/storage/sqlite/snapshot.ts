import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { StorageSnapshot } from '../types.js';
import { prefixUpperBound } from './sqlite-storage.js';

/**
 * A read transaction on a connection of its own: in WAL mode its first read fixes the snapshot,
 * every later read sees exactly that state, and writers on the main connection are never blocked
 * (a checkpoint just cannot pass it until it ends). Batches are read by key range and the event
 * loop is given back between them, so the server keeps serving during a long backup.
 */
export async function openSqliteSnapshot(file: string): Promise<StorageSnapshot> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN');
    // The first read fixes the snapshot: every later read sees the store as it was here.
    const total = (db.prepare('SELECT count(*) AS total FROM entries').get() as { total: number }).total;
    const countUnder = db.prepare<[string, string], { total: number }>(
      'SELECT count(*) AS total FROM entries WHERE key >= ? AND key < ?',
    );
    const getRow = db.prepare<[string], { value: Buffer }>('SELECT value FROM entries WHERE key = ?');
    // One lower bound each, so every page is an index seek: with both `>= prefix` and `> after`
    // SQLite seeks on one and scans from there, and a long backup goes quadratic.
    const firstPage = db.prepare<[string, string, number], { key: string; value: Buffer }>(
      'SELECT key, value FROM entries WHERE key >= ? AND key < ? ORDER BY key LIMIT ?',
    );
    const nextPage = db.prepare<[string, string, number], { key: string; value: Buffer }>(
      'SELECT key, value FROM entries WHERE key > ? AND key < ? ORDER BY key LIMIT ?',
    );
    let closed = false;
    return {
      count: async (prefix) => (prefix ? countUnder.get(prefix, prefixUpperBound(prefix))!.total : total),
      get: async (key) => getRow.get(key)?.value,
      async *entries(batchSize, prefix = '') {
        // An index range scan: keys from the prefix up to its upper bound, after the last one seen.
        let after: string | undefined;
        const upper = prefixUpperBound(prefix);
        for (;;) {
          if (closed) throw new Error('the storage snapshot is closed');
          const rows =
            after === undefined
              ? firstPage.all(prefix, upper, batchSize)
              : nextPage.all(after, upper, batchSize);
          if (rows.length === 0) return;
          after = rows[rows.length - 1]!.key;
          yield rows.map((row): [string, Buffer] => [row.key, row.value]);
          await yieldToEventLoop();
        }
      },
      async close() {
        if (closed) return;
        closed = true;
        db.exec('COMMIT');
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
