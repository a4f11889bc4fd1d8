import { createHash } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { readJson, type SecureStore, writeJson } from './secure-store.js';

/** Keys read per page while sweeping or counting. */
const PAGE = 500;

export interface ExpiringRecordsOptions<T> {
  clock: Clock;
  /** Live records held at most: a flood of sign-ins cannot grow the store without bound. */
  limit: number;
  /** When a record stops being usable (it is then as good as absent, and the sweep removes it). */
  endsAtMs: (record: T) => number;
  /**
   * What a new record does when `limit` live ones exist: `evictAny` removes one of them (the
   * first in key order, which is a hash: any one, at random), `refuse` stores nothing.
   */
  whenFull: 'evictAny' | 'refuse';
}

/**
 * Short-lived records that every process and node must agree on (console sessions, sign-ins in
 * progress, authorization codes), stored behind the barrier like every value, so they are
 * encrypted on disk and unreadable while sealed. Each lives under the SHA-256 of the bearer value
 * that names it (a cookie id, a code), never the value itself: a dump of the store, even
 * decrypted, holds nothing a browser or client could present. Whatever must happen once (a code
 * redeemed, a sign-in finished) happens in one store transaction, so two processes racing for the
 * same record cannot both have it.
 */
export function createExpiringRecords<T>(store: SecureStore, options: ExpiringRecordsOptions<T>) {
  const { clock } = options;
  const pathOf = (bearer: string) => createHash('sha256').update(bearer).digest('base64url');
  const isLive = (record: T | undefined, nowMs: number): record is T =>
    record !== undefined && options.endsAtMs(record) > nowMs;

  /** Stores `record` unless `limit` records exist; the count and the write are one transaction. */
  function addIfRoom(path: string, record: T, evict: boolean): Promise<boolean> {
    return store.transaction(async (tx) => {
      const existing = await tx.list('', { limit: options.limit });
      if (existing.length >= options.limit) {
        if (!evict) return false;
        await tx.delete(existing[0]!);
      }
      await writeJson(tx, path, record);
      return true;
    });
  }

  /** Removes the records that ended; each is checked again inside its delete, as it may have been renewed. */
  async function sweep(): Promise<number> {
    const nowMs = clock.nowMs();
    let removed = 0;
    let after: string | undefined;
    for (;;) {
      const paths = await store.list('', { after, limit: PAGE });
      for (const path of paths) {
        if (isLive(await readJson<T>(store, path), nowMs)) continue;
        const gone = await store.transaction(async (tx) => {
          if (isLive(await readJson<T>(tx, path), nowMs)) return false;
          await tx.delete(path);
          return true;
        });
        if (gone) removed++;
      }
      if (paths.length < PAGE) return removed;
      after = paths[paths.length - 1];
    }
  }

  return {
    /**
     * Stores `record` under `bearer`; false when `limit` live records exist and `whenFull` is
     * `refuse`. Ended records are swept first when the store is full, so they never hold a place.
     */
    async add(bearer: string, record: T): Promise<boolean> {
      const path = pathOf(bearer);
      if (await addIfRoom(path, record, false)) return true;
      await sweep();
      return addIfRoom(path, record, options.whenFull === 'evictAny');
    },

    /** The live record for `bearer`, without changing it. */
    async read(bearer: string): Promise<T | undefined> {
      const record = await readJson<T>(store, pathOf(bearer));
      return isLive(record, clock.nowMs()) ? record : undefined;
    },

    /** The live record for `bearer`, removed in the same transaction: of two callers racing, one gets it. */
    async take(bearer: string): Promise<T | undefined> {
      const path = pathOf(bearer);
      const record = await store.transaction(async (tx) => {
        const stored = await readJson<T>(tx, path);
        if (stored !== undefined) await tx.delete(path);
        return stored;
      });
      return isLive(record, clock.nowMs()) ? record : undefined;
    },

    /** Rewrites the live record for `bearer` with `change` (read and written in one transaction). */
    async update(bearer: string, change: (record: T) => T): Promise<T | undefined> {
      const path = pathOf(bearer);
      return store.transaction(async (tx) => {
        const stored = await readJson<T>(tx, path);
        if (!isLive(stored, clock.nowMs())) return undefined;
        const changed = change(stored);
        await writeJson(tx, path, changed);
        return changed;
      });
    },

    async remove(bearer: string): Promise<void> {
      await store.delete(pathOf(bearer));
    },

    sweep,
  };
}

export type ExpiringRecords<T> = ReturnType<typeof createExpiringRecords<T>>;
