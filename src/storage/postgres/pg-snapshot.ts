import type pg from 'pg';
import { prefixUpperBound } from '../sqlite/sqlite-storage.js';
import type { StorageSnapshot } from '../types.js';

const SQL = {
  count: 'SELECT count(*)::bigint AS total FROM coffer_entries WHERE key >= $1 AND key < $2',
  get: 'SELECT value FROM coffer_entries WHERE key = $1',
  // One lower bound each, so every page is an index seek from where the last one ended.
  firstPage: 'SELECT key, value FROM coffer_entries WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3',
  nextPage: 'SELECT key, value FROM coffer_entries WHERE key > $1 AND key < $2 ORDER BY key LIMIT $3',
};

/**
 * A consistent read of the whole installation for a backup: one REPEATABLE READ READ ONLY
 * transaction on a connection of its own, so every statement in it sees the database as of its
 * first one while other nodes go on writing (PostgreSQL's MVCC: nothing is locked). On a hot
 * standby (read-only mode) the same holds for what the standby has replayed.
 */
export async function openPgSnapshot(client: pg.PoolClient): Promise<StorageSnapshot> {
  let broken = false;
  const onError = () => (broken = true);
  client.on('error', onError);
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // The first statement fixes the snapshot.
    const total = await countUnder(client, '');
    let closed = false;
    const open = () => {
      if (closed) throw new Error('the storage snapshot is closed');
    };
    return {
      count: async (prefix) => (prefix ? (open(), countUnder(client, prefix)) : total),
      get: async (key) => {
        open();
        const result = await client.query<{ value: Buffer }>(SQL.get, [key]);
        return result.rows[0]?.value;
      },
      async *entries(batchSize, prefix = '') {
        let after: string | undefined;
        const upper = prefixUpperBound(prefix);
        for (;;) {
          open();
          const result = await client.query<{ key: string; value: Buffer }>(
            after === undefined ? SQL.firstPage : SQL.nextPage,
            [after ?? prefix, upper, batchSize],
          );
          if (result.rows.length === 0) return;
          after = result.rows[result.rows.length - 1]!.key;
          yield result.rows.map((row): [string, Buffer] => [row.key, row.value]);
        }
      },
      async close() {
        if (closed) return;
        closed = true;
        await client.query('COMMIT').catch(() => (broken = true));
        client.off('error', onError);
        client.release(broken);
      },
    };
  } catch (error) {
    client.off('error', onError);
    client.release(true);
    throw error;
  }
}

async function countUnder(client: pg.PoolClient, prefix: string): Promise<number> {
  const result = await client.query<{ total: string }>(SQL.count, [prefix, prefixUpperBound(prefix)]);
  return Number(result.rows[0]!.total);
}
