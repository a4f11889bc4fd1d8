import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomKey } from '../crypto/aes-gcm.js';
import { Sealed } from '../errors/index.js';
import { ManualClock } from '../lib/clock.js';
import { PgTestCluster } from '../storage/postgres/pg-test-cluster.js';
import { PostgresStorage } from '../storage/postgres/pg-storage.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import type { Storage } from '../storage/types.js';
import { Barrier } from './barrier.js';
import { createExpiringRecords, type ExpiringRecordsOptions } from './expiring-records.js';

interface Ticket {
  holder: string;
  endsAtMs: number;
}

/** Two members of one installation: each with its own connections, caches and barrier. */
type OpenMembers = () => Promise<{ storages: [Storage, Storage]; cleanup: () => Promise<void> }>;

function exerciseExpiringRecords(label: string, openMembers: OpenMembers): void {
  describe(`expiring records behind the barrier, shared by two ${label}`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const rootKey = randomKey();
    let storages: Storage[];
    let barriers: Barrier[];
    let cleanup: () => Promise<void>;
    let prefix = 0;
    /** The same records seen from each process, under a prefix of their own per test. */
    const onBoth = (options: Partial<ExpiringRecordsOptions<Ticket>> = {}) => {
      const view = `sys/test-${prefix++}/`;
      return barriers.map((barrier) =>
        createExpiringRecords<Ticket>(barrier.view(view), {
          clock,
          limit: 100,
          endsAtMs: (ticket) => ticket.endsAtMs,
          whenFull: 'refuse',
          ...options,
        }),
      ) as [
        ReturnType<typeof createExpiringRecords<Ticket>>,
        ReturnType<typeof createExpiringRecords<Ticket>>,
      ];
    };
    const ticket = (holder: string, lifetimeMs = 60_000) => ({
      holder,
      endsAtMs: clock.nowMs() + lifetimeMs,
    });

    before(async () => {
      const opened = await openMembers();
      storages = opened.storages;
      cleanup = opened.cleanup;
      barriers = storages.map((storage) => new Barrier(storage, clock));
      await barriers[0]!.initialize(rootKey);
      await barriers[1]!.unseal(rootKey);
    });
    after(async () => {
      for (const storage of storages) await storage.close();
      await cleanup();
    });

    it('is read by the other process, and stored under a hash: no bearer value or field in clear on disk', async () => {
      const [a, b] = onBoth();
      const bearer = 'bearer-value-that-must-not-reach-disk';
      assert.equal(await a.add(bearer, ticket('holder-name-in-clear')), true);
      assert.equal((await b.read(bearer))?.holder, 'holder-name-in-clear');
      assert.equal(await b.read(`${bearer}x`), undefined);
      const snapshot = await storages[0]!.snapshot();
      try {
        for await (const batch of snapshot.entries(100)) {
          for (const [key, value] of batch) {
            assert.doesNotMatch(key, /bearer-value/);
            assert.equal(value.includes('bearer-value'), false, key);
            assert.equal(value.includes('holder-name-in-clear'), false, key);
          }
        }
      } finally {
        await snapshot.close();
      }
    });

    it('is taken once: of many takes at once on both processes, exactly one gets the record', async () => {
      const [a, b] = onBoth();
      for (let round = 0; round < 5; round++) {
        await a.add(`code-${round}`, ticket(`round ${round}`));
        const taken = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).take(`code-${round}`)),
        );
        assert.equal(taken.filter(Boolean).length, 1, `round ${round}`);
        assert.equal(await a.read(`code-${round}`), undefined);
      }
    });

    it('ends at its time: an ended record is not read, taken or updated, and the sweep removes only ended ones', async () => {
      const [a, b] = onBoth();
      await a.add('short', ticket('short', 1_000));
      await a.add('long', ticket('long', 10_000));
      clock.advance(1_000);
      assert.equal(await b.read('short'), undefined);
      assert.equal(await b.update('short', (stored) => ({ ...stored, endsAtMs: Infinity })), undefined);
      assert.equal(await b.take('short'), undefined);
      await a.add('ended', ticket('ended', 500));
      clock.advance(500);
      assert.equal(await b.sweep(), 1, 'only the ended one goes');
      assert.equal((await a.read('long'))?.holder, 'long');
      const renewed = await a.update('long', (stored) => ({ ...stored, endsAtMs: stored.endsAtMs + 60_000 }));
      clock.advance(10_000);
      // Plain reads may serve a row cached before another member's write for the stale bound
      // (PostgreSQL: 1.5 s; SQLite members: none), never longer.
      const deadline = Date.now() + 3_000;
      while ((await b.read('long'))?.endsAtMs !== renewed?.endsAtMs && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal((await b.read('long'))?.endsAtMs, renewed?.endsAtMs, 'the renewal is shared');
    });

    it('holds at most `limit` live records: refuses, or evicts one, and ended records never hold a place', async () => {
      const [a, b] = onBoth({ limit: 3 });
      for (const bearer of ['1', '2', '3'])
        assert.equal(await (bearer === '2' ? b : a).add(bearer, ticket(bearer)), true);
      assert.equal(await b.add('4', ticket('4')), false, 'full of live records: refused');
      clock.advance(60_000);
      assert.equal(await b.add('5', ticket('5')), true, 'the ended ones are swept to make room');
      assert.equal((await a.read('5'))?.holder, '5');
      const [c, d] = onBoth({ limit: 3, whenFull: 'evictAny' });
      for (const bearer of ['1', '2', '3', '4', '5']) assert.equal(await c.add(bearer, ticket(bearer)), true);
      const live = await Promise.all(['1', '2', '3', '4', '5'].map((bearer) => d.read(bearer)));
      assert.equal(live.filter(Boolean).length, 3, 'never more than the limit');
      assert.ok(live[4], 'the newest is kept');
    });

    it('sharded, holds at most `limit` in all and counts only its own 64th on each add', async () => {
      const [a, b] = onBoth({ limit: 128, sharded: true });
      const added = await Promise.all(
        Array.from({ length: 400 }, (_, i) => (i % 2 ? a : b).add(`many-${i}`, ticket(`${i}`))),
      );
      const kept = added.filter(Boolean).length;
      assert.ok(kept <= 128 && kept > 64, `${kept} kept`);
      const [c, d] = onBoth({ limit: 128, sharded: true, whenFull: 'evictAny' });
      for (let i = 0; i < 400; i++) assert.equal(await c.add(`evict-${i}`, ticket(`${i}`)), true);
      const live = await Promise.all(Array.from({ length: 400 }, (_, i) => d.read(`evict-${i}`)));
      assert.ok(live.filter(Boolean).length <= 128);
      assert.ok(live[399], 'the newest is kept');
      assert.equal(await d.sweep(), 0, 'nothing ended');
    });

    it('cannot be read or written while sealed, and is there again after unseal', async () => {
      const [a] = onBoth();
      await a.add('across-seal', ticket('across-seal'));
      barriers[0]!.seal();
      await assert.rejects(a.read('across-seal'), Sealed);
      await assert.rejects(a.take('across-seal'), Sealed);
      await assert.rejects(a.add('while-sealed', ticket('x')), Sealed);
      await barriers[0]!.unseal(rootKey);
      assert.equal((await a.read('across-seal'))?.holder, 'across-seal');
    });
  });
}

exerciseExpiringRecords('SQLite processes (--workers 2)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-expiring-'));
  const file = path.join(dir, 'coffer.db');
  return {
    storages: [new SqliteStorage(file, { mode: 'member' }), new SqliteStorage(file, { mode: 'member' })],
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

exerciseExpiringRecords('PostgreSQL nodes', async () => {
  const dir = mkdtempSync(path.join(process.env.COFFER_TEST_TMP ?? os.tmpdir(), 'coffer-expiring-pg-'));
  const server = await PgTestCluster.create(path.join(dir, 'server'));
  const url = server.url('postgres');
  return {
    storages: [await PostgresStorage.open({ url }), await PostgresStorage.open({ url })],
    cleanup: async () => {
      server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
