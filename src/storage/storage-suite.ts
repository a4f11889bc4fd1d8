import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { exerciseRowCache } from './row-cache-suite.js';
import { bytes, type CachedStorage, type OpenStorage, pad, type StorageFixture } from './suite-fixture.js';
import type { Storage } from './types.js';

export type { CachedStorage, OpenStorage, StorageFixture } from './suite-fixture.js';

/**
 * The behaviour every backend must show, written only against the Storage interface so that
 * SQLite and PostgreSQL are held to the same contract (OpenBao's ExerciseBackend). Each test
 * gets a fresh, empty store from `open`. Plain reads must not wait for an open transaction:
 * the isolation test reads from outside while one is in flight.
 */
export function exerciseStorage(backendName: string, open: OpenStorage): void {
  describe(`storage contract: ${backendName}`, () => {
    let fixture: StorageFixture;
    let storage: CachedStorage;

    beforeEach(async () => {
      fixture = await open();
      storage = fixture.storage;
    });

    afterEach(async () => {
      await storage.close();
      await fixture.cleanup();
    });

    it('returns undefined for a missing key, including a key that is only a prefix of another', async () => {
      await storage.put('present/child', bytes('x'));
      assert.equal(await storage.get('absent'), undefined);
      assert.equal(await storage.get('present'), undefined);
      assert.equal(await storage.get('present/'), undefined);
    });

    it('round-trips binary values exactly: every byte value, empty, and 1 MiB', async () => {
      const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const empty = Buffer.alloc(0);
      const large = randomBytes(1024 * 1024);
      await storage.put('bin/every-byte', everyByte);
      await storage.put('bin/empty', empty);
      await storage.put('bin/large', large);

      assertBytes(await storage.get('bin/every-byte'), everyByte);
      // An empty value is a value: it must not come back as undefined (or be refused as NULL).
      assertBytes(await storage.get('bin/empty'), empty);
      assertBytes(await storage.get('bin/large'), large);
    });

    it('stores a copy: mutating the caller buffer after put does not change the stored value', async () => {
      const value = bytes('original');
      await storage.put('copy/key', value);
      value.fill(0);
      assertBytes(await storage.get('copy/key'), bytes('original'));
    });

    it('overwrites an existing key in place', async () => {
      await storage.put('over/key', bytes('first'));
      await storage.put('over/key', bytes('second, longer than the first'));
      assertBytes(await storage.get('over/key'), bytes('second, longer than the first'));
      assert.deepEqual(await storage.list('over/'), ['over/key']);
    });

    it('deletes a key, and deleting a missing key succeeds', async () => {
      await storage.put('del/a', bytes('a'));
      await storage.put('del/b', bytes('b'));
      await storage.delete('del/a');
      assert.equal(await storage.get('del/a'), undefined);
      assert.deepEqual(await storage.list('del/'), ['del/b']);
      await storage.delete('del/a');
      await storage.delete('never/existed');
      assertBytes(await storage.get('del/b'), bytes('b'));
    });

    it('lists every key under the prefix recursively, in byte order, and nothing from siblings', async () => {
      const inside = ['a/1', 'a/b', 'a/b/c', 'a/Z', 'a/~', 'a/é', 'a/\u{fffd}', 'a/\u{1f600}'];
      // Siblings that sort next to 'a/': '-' and '.' sort just below '/', '0' just above it.
      const outside = ['a', 'a-z/q', 'a.b', 'a0/x', 'a0', 'b/x', 'A/x', '/a/x'];
      for (const key of [...outside, ...inside]) await storage.put(key, bytes(key));

      assert.deepEqual(await storage.list('a/'), byteOrder(inside));
      assert.deepEqual(await storage.list('a/b/'), ['a/b/c']);
      assert.deepEqual(await storage.list('a0/'), ['a0/x']);
      assert.deepEqual(await storage.list('nothing/'), []);
    });

    it('treats the prefix literally, with no pattern characters (% and _ in SQL LIKE)', async () => {
      for (const key of ['p%/1', 'pX/2', 'p_/3', 'pY/4']) await storage.put(key, bytes(key));
      assert.deepEqual(await storage.list('p_/'), ['p_/3']);
      assert.deepEqual(await storage.list('p%/'), ['p%/1']);
    });

    it('pages with after + limit, visiting each key once while keys are inserted and deleted', async () => {
      await pageUnderConcurrentChange(storage);
    });

    it('commits all writes of a transaction together and returns its result', async () => {
      await storage.put('txc/deleted', bytes('gone soon'));
      const result = await storage.transaction(async (tx) => {
        for (let i = 0; i < 20; i++) await tx.put(`txc/${pad(i)}`, bytes(`v${i}`));
        await tx.delete('txc/deleted');
        return 'done';
      });
      assert.equal(result, 'done');
      assert.equal((await storage.list('txc/')).length, 20);
      assert.equal(await storage.get('txc/deleted'), undefined);
      assertBytes(await storage.get('txc/019'), bytes('v19'));
    });

    it('rolls back everything when the transaction throws, rethrows that same error, stays usable', async () => {
      await storage.put('txr/kept', bytes('kept'));
      await storage.put('txr/overwritten', bytes('old'));
      const failure = new Error('work failed half way');
      await assert.rejects(
        storage.transaction(async (tx) => {
          await tx.put('txr/new', bytes('new'));
          await tx.put('txr/overwritten', bytes('new'));
          await tx.delete('txr/kept');
          throw failure;
        }),
        (error) => error === failure,
      );
      assert.equal(await storage.get('txr/new'), undefined);
      assertBytes(await storage.get('txr/overwritten'), bytes('old'));
      assertBytes(await storage.get('txr/kept'), bytes('kept'));
      assert.deepEqual(await storage.list('txr/'), ['txr/kept', 'txr/overwritten']);

      // A backend that forgot to roll back, or to release its lock, fails here.
      await storage.transaction(async (tx) => tx.put('txr/after', bytes('after')));
      await storage.put('txr/plain', bytes('plain'));
      assertBytes(await storage.get('txr/after'), bytes('after'));
    });

    it('shows a transaction its own writes, and others only the committed state until commit', async () => {
      await storage.put('iso/existing', bytes('old'));
      await storage.put('iso/doomed', bytes('doomed'));
      await storage.transaction(async (tx) => {
        await tx.put('iso/new', bytes('new'));
        await tx.put('iso/existing', bytes('changed'));
        await tx.delete('iso/doomed');
        assertBytes(await tx.get('iso/new'), bytes('new'));
        assertBytes(await tx.get('iso/existing'), bytes('changed'));
        assert.equal(await tx.get('iso/doomed'), undefined);
        assert.deepEqual(await tx.list('iso/'), ['iso/existing', 'iso/new']);

        const outside = await within(
          5000,
          Promise.all([storage.get('iso/new'), storage.get('iso/existing'), storage.list('iso/')]),
          'a plain read waited for an open transaction',
        );
        assert.equal(outside[0], undefined);
        assertBytes(outside[1], bytes('old'));
        assert.deepEqual(outside[2], ['iso/doomed', 'iso/existing']);
      });
      assertBytes(await storage.get('iso/new'), bytes('new'));
      assertBytes(await storage.get('iso/existing'), bytes('changed'));
      assert.deepEqual(await storage.list('iso/'), ['iso/existing', 'iso/new']);
    });

    it('loses no update when 50 transactions increment one counter concurrently', async () => {
      await storage.put('counter', encodeCount(0));
      const seen = await Promise.all(
        Array.from({ length: 50 }, () =>
          storage.transaction(async (tx) => {
            const current = decodeCount(await tx.get('counter'));
            // Yield between read and write so that unserialised transactions would interleave.
            await new Promise((resolve) => setImmediate(resolve));
            await tx.put('counter', encodeCount(current + 1));
            return current + 1;
          }),
        ),
      );
      assert.equal(decodeCount(await storage.get('counter')), 50);
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    });

    it('snapshots every entry as of one instant, in key order, while writes go on', async () => {
      for (let i = 0; i < 25; i++) await storage.put(`snap/${String(i).padStart(2, '0')}`, bytes(`v${i}`));
      const snapshot = await storage.snapshot();
      try {
        // Written, changed and deleted after the snapshot: none of it shows.
        await storage.put('snap/late', bytes('late'));
        await storage.put('snap/00', bytes('changed'));
        await storage.delete('snap/01');
        assert.equal(await snapshot.count(), 25);
        assertBytes(await snapshot.get('snap/00'), bytes('v0'));
        const seen: Array<[string, Buffer]> = [];
        for await (const batch of snapshot.entries(7)) {
          assert.ok(batch.length <= 7);
          seen.push(...batch);
        }
        assert.deepEqual(
          seen.map(([key]) => key),
          Array.from({ length: 25 }, (_, i) => `snap/${String(i).padStart(2, '0')}`),
        );
        assertBytes(seen[1]![1], bytes('v1'));
        await storage.put('snapshot/other', bytes('outside the prefix'));
        const under: string[] = [];
        for await (const batch of snapshot.entries(4, 'snap/1')) under.push(...batch.map(([key]) => key));
        assert.deepEqual(
          under,
          Array.from({ length: 10 }, (_, i) => `snap/1${i}`),
        );
        assert.equal(await snapshot.count('snap/1'), 10);
      } finally {
        await snapshot.close();
      }
      assertBytes(await storage.get('snap/00'), bytes('changed'));
    });

    it('keeps committed data across close and reopen', async (t) => {
      if (!fixture.reopen) {
        t.skip(`${backendName} offers no reopen`);
        return;
      }
      const large = randomBytes(256 * 1024);
      await storage.put('keep/large', large);
      await storage.put('keep/deleted', bytes('x'));
      await storage.delete('keep/deleted');
      await storage.transaction(async (tx) => {
        await tx.put('keep/tx/1', bytes('one'));
        await tx.put('keep/tx/2', bytes('two'));
      });
      await storage.close();
      storage = await fixture.reopen();

      assertBytes(await storage.get('keep/large'), large);
      assert.equal(await storage.get('keep/deleted'), undefined);
      assert.deepEqual(await storage.list('keep/'), ['keep/large', 'keep/tx/1', 'keep/tx/2']);
      assertBytes(await storage.get('keep/tx/2'), bytes('two'));
    });

    exerciseRowCache(open, () => storage);
  });
}

/**
 * Pages through 60 keys seven at a time; between pages it inserts keys ahead of and behind the
 * cursor, deletes keys ahead of it and, every other page, the cursor key itself. Keys present for the
 * whole scan must be visited exactly once, in order; keys behind the cursor never.
 */
async function pageUnderConcurrentChange(storage: Storage): Promise<void> {
  const key = (n: number, suffix = '') => `page/k${pad(n)}${suffix}`;
  for (let n = 0; n < 60; n++) await storage.put(key(n), bytes('v'));
  for (const sibling of ['pagf/x', 'page0', 'pag/x', 'page']) await storage.put(sibling, bytes('s'));

  const mustVisit = new Set(Array.from({ length: 60 }, (_, n) => key(n)));
  const mustNotVisit = new Set<string>();
  const visited: string[] = [];
  let after: string | undefined;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 100, 'paging did not terminate');
    const page = await storage.list('page/', { after, limit: 7 });
    assert.ok(page.length <= 7, `a page of ${page.length} keys exceeds the limit`);
    if (page.length === 0) break;
    visited.push(...page);
    after = page[page.length - 1]!;

    const n = Number(after.slice('page/k'.length, 'page/k'.length + 3));
    // Every other page resumes from a key that no longer exists.
    if (pages % 2 === 1) await storage.delete(after);
    if (n + 4 < 60) {
      await storage.put(key(n + 4, '+'), bytes('ahead'));
      mustVisit.add(key(n + 4, '+'));
    }
    if (n + 2 < 60 && mustVisit.delete(key(n + 2))) {
      await storage.delete(key(n + 2));
      mustNotVisit.add(key(n + 2));
    }
    if (n > 0) {
      // 'page/k004#' sorts below the cursor 'page/k005' (or 'page/k005+').
      await storage.put(key(n - 1, '#'), bytes('behind'));
      mustNotVisit.add(key(n - 1, '#'));
    }
  }

  assert.equal(new Set(visited).size, visited.length, 'a key was visited twice');
  assert.deepEqual(visited, byteOrder(visited), 'pages were not in byte order');
  for (const expected of mustVisit) assert.ok(visited.includes(expected), `${expected} was never visited`);
  for (const unexpected of mustNotVisit)
    assert.ok(!visited.includes(unexpected), `${unexpected} was visited`);
  for (const seen of visited) assert.ok(seen.startsWith('page/'), `${seen} is outside the prefix`);
}

function assertBytes(actual: Buffer | undefined, expected: Buffer): void {
  assert.ok(actual !== undefined, 'expected a value, got undefined');
  assert.ok(Buffer.isBuffer(actual), 'values come back as Buffers');
  // Compare with equals(): deepEqual on a 1 MiB buffer would print a megabyte on failure.
  assert.ok(actual.equals(expected), `value differs: ${actual.length} bytes, expected ${expected.length}`);
}

/** Sorted by UTF-8 bytes, the order the interface promises (JS string order differs above U+FFFF). */
function byteOrder(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

function encodeCount(count: number): Buffer {
  return bytes(String(count));
}

function decodeCount(value: Buffer | undefined): number {
  assert.ok(value !== undefined, 'the counter is missing');
  return Number(value.toString('utf8'));
}

async function within<T>(ms: number, work: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
