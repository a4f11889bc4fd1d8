import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { exerciseStorage } from '../storage-suite.js';
import { SCHEMA_VERSION } from './migrations.js';
import { SqliteStorage } from './sqlite-storage.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-'));
}

exerciseStorage('sqlite', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'coffer.db');
  return {
    storage: new SqliteStorage(file),
    reopen: async () => new SqliteStorage(file),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});

describe('SqliteStorage specifics', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = tempDir();
    file = path.join(dir, 'coffer.db');
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs in WAL mode and syncs the WAL itself before acknowledging, so a commit survives power loss', async () => {
    const storage = new SqliteStorage(file);
    try {
      // NORMAL (1) alone may lose the last commits on power loss: the fdatasync before each
      // acknowledgement is what makes them durable (test/durability.e2e.test.ts kills the server).
      assert.deepEqual(storage.durability(), {
        journalMode: 'wal',
        synchronous: 1,
        walSync: 'fdatasync-before-ack',
      });
    } finally {
      await storage.close();
    }
  });

  it('a failed sync acknowledges nobody, and stops the storage rather than serve what may not be on disk', async () => {
    let failing = false;
    const storage = new SqliteStorage(file, {
      beforeSync: () =>
        failing ? Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' })) : undefined,
    });
    try {
      await storage.put('a/k', Buffer.from('v1'));
      failing = true;
      await assert.rejects(
        storage.put('a/k', Buffer.from('v2')),
        /could not be synced to disk \(EIO\); restart/,
      );
      // SQLite holds v2 (committed), but nobody may see it: it may not have reached the disk.
      await assert.rejects(storage.get('a/k'), /restart the server/);
      await assert.rejects(storage.get('b/other'), /restart the server/);
      await assert.rejects(storage.put('b/other', Buffer.from('x')), /restart the server/);
    } finally {
      await storage.close();
    }
  });

  it('shows nobody a committed write before it is durable: reads of it wait for the sync', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding = false;
    const storage = new SqliteStorage(file, { beforeSync: () => (holding ? gate : undefined) });
    try {
      await storage.put('a/k', Buffer.from('v1'));
      await storage.put('b/other', Buffer.from('o'));
      assert.equal(String(await storage.get('a/k')), 'v1'); // now in the row cache
      holding = true;
      let acknowledged = false;
      const write = storage.put('a/k', Buffer.from('v2')).then(() => (acknowledged = true));
      // The COMMIT is in the file (a connection of its own sees it) while its sync is held.
      const raw = new Database(file, { readonly: true });
      const rawRead = () =>
        raw.prepare('SELECT value FROM entries WHERE key = ?').get('a/k') as { value: Buffer };
      while (String(rawRead().value) !== 'v2') await new Promise((resolve) => setImmediate(resolve));
      raw.close();
      const reads = [storage.get('a/k'), storage.readUncached('a/k'), storage.list('a/')];
      const pending = Symbol('pending');
      const settled = await Promise.race([
        Promise.race(reads).then((value) => value),
        new Promise((resolve) => setTimeout(() => resolve(pending), 100)),
      ]);
      assert.equal(settled, pending, 'a read of the written key answered before the write was durable');
      assert.equal(String(await storage.get('b/other')), 'o', 'other keys are read without waiting');
      assert.equal(acknowledged, false);
      release();
      await write;
      const [cached, uncached, listed] = await Promise.all(reads);
      assert.equal(String(cached), 'v2');
      assert.equal(String(uncached), 'v2');
      assert.deepEqual(listed, ['a/k']);
    } finally {
      release();
      await storage.close();
    }
  });

  it('commits concurrent transactions as a group, where one that fails rolls back alone', async () => {
    const storage = new SqliteStorage(file);
    try {
      // Submitted together, these share one SQLite transaction (one fsync): each keeps its own outcome.
      const failure = new Error('refused by its own rule');
      const results = await Promise.allSettled([
        storage.transaction(async (tx) => tx.put('group/a', Buffer.from('1'))),
        storage.transaction(async (tx) => {
          await tx.put('group/b', Buffer.from('2'));
          throw failure;
        }),
        storage.transaction(async (tx) => {
          await tx.put('group/c', Buffer.from((await tx.get('group/a'))?.toString() ?? 'missing'));
        }),
        storage.put('group/d', Buffer.from('4')),
      ]);
      assert.deepEqual(
        results.map((result) => result.status),
        ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
      );
      assert.equal((results[1] as PromiseRejectedResult).reason, failure);
      assert.equal(await storage.get('group/b'), undefined);
      // The third saw the first's write: transactions in a group still run one after another.
      assert.equal((await storage.get('group/c'))?.toString(), '1');
      assert.deepEqual(await storage.list('group/'), ['group/a', 'group/c', 'group/d']);
    } finally {
      await storage.close();
    }
    const reopened = new SqliteStorage(file);
    try {
      assert.deepEqual(await reopened.list('group/'), ['group/a', 'group/c', 'group/d']);
    } finally {
      await reopened.close();
    }
  });

  it('records the schema version, and reopening keeps the schema and data without re-migrating', async () => {
    const first = new SqliteStorage(file);
    await first.put('k', Buffer.from('v'));
    await first.close();
    assert.equal(userVersion(file), SCHEMA_VERSION);

    // Re-running the first migration would fail on CREATE TABLE, so opening twice proves it is skipped.
    const second = new SqliteStorage(file);
    try {
      assert.deepEqual(await second.get('k'), Buffer.from('v'));
      assert.equal(userVersion(file), SCHEMA_VERSION);
    } finally {
      await second.close();
    }
  });

  it('refuses a data file written by a newer schema, clearly, and lets go of the file', () => {
    const newer = new Database(file);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();

    assert.throws(() => new SqliteStorage(file), /newer Coffer.*upgrade Coffer/);
    assert.equal(userVersion(file), SCHEMA_VERSION + 1);

    // Leaving from WAL mode needs every other connection closed: a refused open must not keep one.
    const other = new Database(file);
    try {
      assert.equal(other.pragma('journal_mode = DELETE', { simple: true }), 'delete');
    } finally {
      other.close();
    }
  });

  it('refuses a second storage on the same file while the first is open, and names the way out', async () => {
    const first = new SqliteStorage(file);
    try {
      assert.throws(() => new SqliteStorage(file), /another Coffer process is using .*--data-dir/);
    } finally {
      await first.close();
    }
    const second = new SqliteStorage(file);
    await second.close();
  });

  describe('row cache', () => {
    const value = (text: string) => Buffer.from(text, 'utf8');

    it('serves the newest committed row after puts, deletes and transactions', async () => {
      const storage = new SqliteStorage(file);
      try {
        assert.equal(await storage.get('c/k'), undefined); // remembered as absent
        await storage.put('c/k', value('one'));
        assert.equal((await storage.get('c/k'))?.toString(), 'one');
        await storage.transaction(async (tx) => tx.put('c/k', value('two')));
        assert.equal((await storage.get('c/k'))?.toString(), 'two');
        await storage.delete('c/k');
        assert.equal(await storage.get('c/k'), undefined);
        await storage.put('c/k', value('three'));
        assert.equal((await storage.get('c/k'))?.toString(), 'three');
      } finally {
        await storage.close();
      }
    });

    it('never shows a row that is not committed, nor one whose transaction rolled back', async () => {
      const storage = new SqliteStorage(file);
      try {
        await storage.put('c/k', value('committed'));
        assert.equal((await storage.get('c/k'))?.toString(), 'committed');
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let written!: () => void;
        const wrote = new Promise<void>((resolve) => (written = resolve));
        const open = storage.transaction(async (tx) => {
          await tx.put('c/k', value('uncommitted'));
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
            await tx.put('c/k', value('rolled back'));
            await tx.put('c/other', value('rolled back'));
            throw new Error('refused');
          }),
          /refused/,
        );
        assert.equal((await storage.get('c/k'))?.toString(), 'uncommitted');
        assert.equal(await storage.get('c/other'), undefined);
      } finally {
        await storage.close();
      }
    });

    it('hands out copies, so a caller wiping its buffer cannot change what is read next', async () => {
      const storage = new SqliteStorage(file);
      try {
        await storage.put('c/k', value('secret'));
        (await storage.get('c/k'))?.fill(0);
        (await storage.get('c/k'))?.fill(0);
        assert.equal((await storage.get('c/k'))?.toString(), 'secret');
      } finally {
        await storage.close();
      }
    });

    it('stays within its bound and still answers every read right', async () => {
      const storage = new SqliteStorage(file, { cacheBytes: 16 * 1024 });
      try {
        const keys = Array.from({ length: 200 }, (_, i) => `c/${String(i).padStart(3, '0')}`);
        await storage.transaction(async (tx) => {
          for (const key of keys) await tx.put(key, value(key.repeat(20)));
        });
        for (let round = 0; round < 2; round++) {
          for (const key of keys) assert.equal((await storage.get(key))?.toString(), key.repeat(20));
        }
        const usage = storage.cacheUsage();
        assert.ok(usage.bytes <= 16 * 1024, `cache holds ${usage.bytes} bytes`);
        assert.ok(usage.rows > 0 && usage.rows < keys.length, `cache holds ${usage.rows} rows`);
      } finally {
        await storage.close();
      }
    });

    it('can be turned off', async () => {
      const storage = new SqliteStorage(file, { cacheBytes: 0 });
      try {
        await storage.put('c/k', value('v'));
        assert.equal((await storage.get('c/k'))?.toString(), 'v');
        assert.deepEqual(storage.cacheUsage(), { rows: 0, bytes: 0 });
      } finally {
        await storage.close();
      }
    });
  });

  it(
    'keeps every acknowledged write when the process is killed with SIGKILL',
    {
      timeout: 60_000,
    },
    async () => {
      const acknowledged = await writeUntilKilled(dir, file, 300);
      assert.ok(acknowledged.length >= 300, `only ${acknowledged.length} writes were acknowledged`);

      const storage = new SqliteStorage(file);
      try {
        for (const key of acknowledged) {
          const stored = await storage.get(key);
          assert.ok(stored?.equals(crashValue(key)), `acknowledged write ${key} was lost or altered`);
        }
      } finally {
        await storage.close();
      }
    },
  );
});

function userVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

/** Deterministic per key and of varying length, so a torn or mixed-up value is detected. */
function crashValue(key: string): Buffer {
  const digest = createHash('sha256').update(key).digest();
  return Buffer.concat(Array.from({ length: 1 + (digest[0]! % 64) }, () => digest));
}

/**
 * The child writes through the compiled SqliteStorage and prints a key only once its put (or
 * the transaction carrying it) resolved. Every odd step goes through transaction() so that both
 * commit paths are covered. SIGKILL gives it no chance to flush anything on the way out.
 */
const CHILD_SCRIPT = (modulePath: string) => `
import { createHash } from 'node:crypto';
import { SqliteStorage } from ${JSON.stringify(modulePath)};
${crashValue.toString()}
const storage = new SqliteStorage(process.argv[2]);
for (let i = 0; ; i++) {
  const key = 'crash/' + String(i).padStart(8, '0');
  if (i % 2 === 0) {
    await storage.put(key, crashValue(key));
    process.stdout.write(key + '\\n');
  } else {
    await storage.transaction(async (tx) => {
      await tx.put(key, crashValue(key));
      await tx.put(key + '/pair', crashValue(key + '/pair'));
    });
    process.stdout.write(key + '\\n' + key + '/pair\\n');
  }
}
`;

async function writeUntilKilled(dir: string, file: string, target: number): Promise<string[]> {
  const modulePath = fileURLToPath(new URL('./sqlite-storage.js', import.meta.url));
  const script = path.join(dir, 'writer.mjs');
  fs.writeFileSync(script, CHILD_SCRIPT(modulePath));

  const child = spawn(process.execPath, [script, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acknowledged: string[] = [];
  let partial = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    // A line without its newline may be half written; it was not fully acknowledged.
    partial = lines.pop() ?? '';
    acknowledged.push(...lines);
    if (acknowledged.length >= target) child.kill('SIGKILL');
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  });
  assert.equal(signal, 'SIGKILL', `the writer exited on its own (code ${code}): ${stderr}`);
  return acknowledged;
}
