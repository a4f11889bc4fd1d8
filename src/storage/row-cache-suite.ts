import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytes, type CachedStorage, type OpenStorage, pad, withStorage } from './suite-fixture.js';

/**
 * The row cache part of the storage contract (storage-suite.ts): a backend's cache of committed
 * rows never shows an uncommitted or rolled-back row, hands out copies and keeps its bound.
 * `current()` is the test's own fresh store.
 */
export function exerciseRowCache(open: OpenStorage, current: () => CachedStorage): void {
  describe('row cache', () => {
    it('serves the newest committed row after puts, deletes and transactions', async () => {
      const storage = current();
      assert.equal(await storage.get('c/k'), undefined); // remembered as absent
      await storage.put('c/k', bytes('one'));
      assert.equal((await storage.get('c/k'))?.toString(), 'one');
      await storage.transaction(async (tx) => tx.put('c/k', bytes('two')));
      assert.equal((await storage.get('c/k'))?.toString(), 'two');
      await storage.delete('c/k');
      assert.equal(await storage.get('c/k'), undefined);
      await storage.put('c/k', bytes('three'));
      assert.equal((await storage.get('c/k'))?.toString(), 'three');
    });

    it('never shows a row that is not committed, nor one whose transaction rolled back', async () => {
      const storage = current();
      await storage.put('c/k', bytes('committed'));
      assert.equal((await storage.get('c/k'))?.toString(), 'committed');
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let written!: () => void;
      const wrote = new Promise<void>((resolve) => (written = resolve));
      const open = storage.transaction(async (tx) => {
        await tx.put('c/k', bytes('uncommitted'));
        written();
        await held;
      });
      await wrote;
      // Read (and cached) while the transaction is open: the committed row, not its write.
      assert.equal((await storage.get('c/k'))?.toString(), 'committed');
      release();
      await open;
      assert.equal((await storage.get('c/k'))?.toString(), 'uncommitted');

      await assert.rejects(
        storage.transaction(async (tx) => {
          await tx.put('c/k', bytes('rolled back'));
          await tx.put('c/other', bytes('rolled back'));
          throw new Error('refused');
        }),
        /refused/,
      );
      assert.equal((await storage.get('c/k'))?.toString(), 'uncommitted');
      assert.equal(await storage.get('c/other'), undefined);
    });

    it('lists what is committed under a prefix it once found empty, and nothing more', async () => {
      const storage = current();
      await storage.put('e/other', bytes('beside'));
      // A scan that may find nothing says nothing: the next one still finds what is there.
      assert.deepEqual(await storage.list('e/', { limit: 0 }), []);
      assert.deepEqual(await storage.list('e/'), ['e/other']);
      assert.deepEqual(await storage.list('e/x/'), []);
      assert.deepEqual(await storage.list('e/x/'), []); // remembered as empty
      await storage.put('e/x/one', bytes('1'));
      assert.deepEqual(await storage.list('e/x/'), ['e/x/one']);
      await storage.delete('e/x/one');
      assert.deepEqual(await storage.list('e/x/'), []);
      await assert.rejects(
        storage.transaction(async (tx) => {
          await tx.put('e/x/two', bytes('rolled back'));
          throw new Error('refused');
        }),
        /refused/,
      );
      assert.deepEqual(await storage.list('e/x/'), []);
      await storage.transaction(async (tx) => tx.put('e/x/two', bytes('2')));
      assert.deepEqual(await storage.list('e/x/'), ['e/x/two']);
      // A narrower and a wider prefix of the same key are both forgotten.
      assert.deepEqual(await storage.list('e/y/z/'), []);
      assert.deepEqual(await storage.list('e/y/'), []);
      await storage.put('e/y/z/k', bytes('deep'));
      assert.deepEqual(await storage.list('e/y/z/'), ['e/y/z/k']);
      assert.deepEqual(await storage.list('e/y/'), ['e/y/z/k']);
    });

    it('hands out copies, so a caller wiping its buffer cannot change what is read next', async () => {
      const storage = current();
      await storage.put('c/k', bytes('secret'));
      (await storage.get('c/k'))?.fill(0);
      (await storage.get('c/k'))?.fill(0);
      assert.equal((await storage.get('c/k'))?.toString(), 'secret');
    });

    it('stays within its bound and still answers every read right', async () => {
      await withStorage(open, { cacheBytes: 16 * 1024 }, async (small) => {
        const keys = Array.from({ length: 200 }, (_, i) => `c/${pad(i)}`);
        await small.transaction(async (tx) => {
          for (const key of keys) await tx.put(key, bytes(key.repeat(20)));
        });
        for (let round = 0; round < 2; round++) {
          for (const key of keys) assert.equal((await small.get(key))?.toString(), key.repeat(20));
        }
        const usage = small.cacheUsage();
        assert.ok(usage.bytes <= 16 * 1024, `cache holds ${usage.bytes} bytes`);
        assert.ok(usage.rows > 0 && usage.rows < keys.length, `cache holds ${usage.rows} rows`);
      });
    });

    it('can be turned off', async () => {
      await withStorage(open, { cacheBytes: 0 }, async (uncached) => {
        await uncached.put('c/k', bytes('v'));
        assert.equal((await uncached.get('c/k'))?.toString(), 'v');
        assert.deepEqual(uncached.cacheUsage(), { rows: 0, bytes: 0 });
      });
    });
  });
}
