import { createHash } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { readJson, type SecureStore, writeJson } from './secure-store.js';

/**
 * Where console sessions, sign-ins in progress and authorization codes live. An installation
 * restore leaves them out, so it never brings back a session signed out after the backup.
 */
export const SIGN_IN_STATE_PREFIX = 'sys/sessions/';

/** Keys read per page while sweeping. */
const PAGE = 500;
/**
 * A full shard is swept (its records read) before a new record is refused or evicts one, but at
 * most this often per shard and process: a flood against a full store then costs a list and a
 * write per record, not a read of every record.
 */
const FULL_SWEEP_GAP_MS = 1000;

export interface ExpiringRecordsOptions<T> {
  clock: Clock;
  /**
   * Records held at most (ended ones count until swept): a flood of sign-ins cannot grow the
   * store without bound. Sharded, up to 63 more (each 64th holds limit/64, rounded up).
   */
  limit: number;
  /** When a record stops being usable (it is then as good as absent, and the sweep removes it). */
  endsAtMs: (record: T) => number;
  /**
   * What a new record does when the store (or its shard) is full: `evictAny` removes one record
   * (the first in key order, which is a hash: any one, at random), `refuse` stores nothing.
   */
  whenFull: 'evictAny' | 'refuse';
  /**
   * Counts (and evicts) per 64th of the records, by the first character of their hash, each
   * holding limit/64: a new record then lists at most that many keys inside its transaction
   * instead of them all (10,000 keys held SQLite's one writer about 4 ms per sign-in).
   */
  sharded?: boolean;
}

/** base64url has 64 characters: the first one of a SHA-256 picks one of 64 even shards. */
const SHARDS = 64;

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
  const pathOf = (bearer: string) => {
    const hash = createHash('sha256').update(bearer).digest('base64url');
    return options.sharded ? `${hash[0]}/${hash}` : hash;
  };
  const shardOf = (path: string) => (options.sharded ? path.slice(0, 2) : '');
  const shardLimit = options.sharded ? Math.ceil(options.limit / SHARDS) : options.limit;
  const isLive = (record: T | undefined, nowMs: number): record is T =>
    record !== undefined && options.endsAtMs(record) > nowMs;

  /** Stores `record` unless its shard is full; the count and the write are one transaction. */
  function addIfRoom(path: string, record: T, evict: boolean): Promise<boolean> {
    return store.transaction(async (tx) => {
      const shard = shardOf(path);
      const existing = await tx.list(shard, { limit: shardLimit });
      if (existing.length >= shardLimit) {
        if (!evict) return false;
        await tx.delete(shard + existing[0]!);
      }
      await writeJson(tx, path, record);
      return true;
    });
  }

  const fullSweeps = new Map<string, number>();

  /**
   * Removes the records that ended (under `shard`, or all); each is checked again inside its
   * delete, as it may have been renewed meanwhile.
   */
  async function sweep(shard = ''): Promise<number> {
    const nowMs = clock.nowMs();
    let removed = 0;
    let after: string | undefined;
    for (;;) {
      const paths = (await store.list(shard, { after, limit: PAGE })).map((path) => shard + path);
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
      after = paths[paths.length - 1]!.slice(shard.length);
    }
  }

  return {
    /**
     * Stores `record` under `bearer`; false when `limit` live records exist and `whenFull` is
     * `refuse`. A full shard is swept of ended records first (FULL_SWEEP_GAP_MS), so they hold
     * no place for long.
     */
    async add(bearer: string, record: T): Promise<boolean> {
      const path = pathOf(bearer);
      if (await addIfRoom(path, record, false)) return true;
      const shard = shardOf(path);
      const nowMs = clock.nowMs();
      if (nowMs - (fullSweeps.get(shard) ?? -Infinity) >= FULL_SWEEP_GAP_MS) {
        fullSweeps.set(shard, nowMs);
        await sweep(shard);
      }
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

    /** Removes every record that ended (the leader's periodic sweep). */
    sweep: () => sweep(),
  };
}

export type ExpiringRecords<T> = ReturnType<typeof createExpiringRecords<T>>;
