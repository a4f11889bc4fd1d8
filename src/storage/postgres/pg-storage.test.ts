import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { CofferError } from '../../errors/index.js';
import type { ClusterEvent } from '../cluster.js';
import { exerciseCluster } from '../cluster-suite.js';
import { exerciseStorage } from '../storage-suite.js';
import { PgTestCluster } from './pg-test-cluster.js';
import { PostgresStorage } from './pg-storage.js';

const scratch = mkdtempSync(path.join(process.env.COFFER_TEST_TMP ?? os.tmpdir(), 'pg-storage-'));
let server: PgTestCluster | undefined;
let databases = 0;

/** One PostgreSQL server for this file, started on first use. */
async function cluster(): Promise<PgTestCluster> {
  server ??= await PgTestCluster.create(path.join(scratch, 'server'));
  return server;
}

/** A fresh, empty database: each test gets an installation of its own. */
async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const pgServer = await cluster();
  const name = `t${++databases}`;
  await admin(pgServer, `CREATE DATABASE ${name}`);
  return { url: pgServer.url(name), drop: () => admin(pgServer, `DROP DATABASE ${name} WITH (FORCE)`) };
}

async function admin(pgServer: PgTestCluster, sql: string, database = 'postgres'): Promise<void> {
  const client = new pg.Client({ connectionString: pgServer.url(database) });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

after(() => {
  server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

exerciseStorage('postgres', async (options) => {
  const database = await freshDatabase();
  const open = () => PostgresStorage.open({ url: database.url, ...options });
  return { storage: await open(), reopen: open, cleanup: database.drop };
});

// Three nodes over one database, each a PostgresStorage with its own pools and control connection.
exerciseCluster('postgres nodes over one database', async () => {
  const database = await freshDatabase();
  return {
    member: () => PostgresStorage.open({ url: database.url, heartbeatMs: 200 }),
    cleanup: database.drop,
  };
});

describe('PostgresStorage specifics', () => {
  let database: { url: string; drop: () => Promise<void> };
  before(async () => {
    database = await freshDatabase();
  });
  after(async () => database.drop());

  it('fails a transaction cleanly when its connection is killed, and serves the next request', async () => {
    const storage = await PostgresStorage.open({ url: database.url });
    try {
      await storage.put('conn/k', Buffer.from('before'));
      const failed = storage.transaction(async (tx) => {
        await tx.put('conn/k', Buffer.from('lost'));
        await admin(
          await cluster(),
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'coffer'",
          new URL(database.url).pathname.slice(1),
        );
        await tx.get('conn/k');
      });
      await assert.rejects(failed, (error) => {
        assert.ok(error instanceof CofferError, `a typed error, not ${String(error)}`);
        assert.equal(error.status, 503);
        assert.ok(Number(error.headers['retry-after']) > 0);
        return true;
      });
      // Every pooled connection was killed too: the next calls reconnect on their own.
      assert.equal((await storage.get('conn/k'))?.toString(), 'before');
      await storage.put('conn/k', Buffer.from('after'));
      assert.equal((await storage.get('conn/k'))?.toString(), 'after');
    } finally {
      await storage.close();
    }
  });

  it('tells other nodes to drop everything when one commit names too many keys for a notice', async () => {
    const [a, b] = [
      await PostgresStorage.open({ url: database.url }),
      await PostgresStorage.open({ url: database.url }),
    ];
    try {
      const keys = Array.from(
        { length: 300 },
        (_, i) => `many/${String(i).padStart(4, '0')}-${'x'.repeat(40)}`,
      );
      for (const key of keys.slice(0, 3)) await a.put(key, Buffer.from('old'));
      for (const key of keys.slice(0, 3)) assert.equal((await b.get(key))?.toString(), 'old');
      const heard: ClusterEvent[] = [];
      b.cluster.onEvent((event) => heard.push(event));
      await a.transaction(async (tx) => {
        for (const key of keys) await tx.put(key, Buffer.from('new'));
      });
      await until(5000, () => heard.some((event) => event.type === 'reset'));
      for (const key of keys.slice(0, 3)) assert.equal((await b.get(key))?.toString(), 'new');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('starts while the database is down, answers 503 without the password, and recovers without a restart', async () => {
    const down = await PgTestCluster.create(path.join(scratch, 'late'));
    down.stop();
    const url = down.url('coffer').replace('coffer@', 'coffer:hunter2-not-logged@');
    const logged: string[] = [];
    const storage = new PostgresStorage({ url, log: (_level, message) => logged.push(message) });
    try {
      await storage.start();
      assert.equal(storage.mode, 'unavailable');
      await assert.rejects(storage.get('k'), (error) => {
        assert.ok(error instanceof CofferError);
        assert.equal(error.status, 503);
        assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${down.port}/coffer\\): connection refused`));
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      });
      down.start();
      await until(10_000, () => storage.mode === 'read-write');
      await storage.put('k', Buffer.from('v'));
      assert.equal((await storage.get('k'))?.toString(), 'v');
      assert.ok(logged.length > 0 && logged.every((line) => !line.includes('hunter2')), logged.join('\n'));
    } finally {
      await storage.close();
      down.stop();
    }
  });

  it('refuses to write when both configured servers accept writes (a split brain)', async () => {
    const other = await PgTestCluster.create(path.join(scratch, 'split'));
    const logged: string[] = [];
    const storage = new PostgresStorage({
      url: database.url,
      readReplicaUrl: other.url(),
      log: (_level, message) => logged.push(message),
    });
    try {
      await storage.start();
      assert.equal(storage.mode, 'unavailable');
      await assert.rejects(storage.put('k', Buffer.from('v')), (error) => {
        assert.ok(error instanceof CofferError);
        assert.equal(error.status, 503);
        assert.match(error.message, /both accept writes \(a split brain\)/);
        return true;
      });
      assert.ok(
        logged.some((line) => /refusing to write/.test(line)),
        logged.join('\n'),
      );
    } finally {
      await storage.close();
      other.stop();
    }
  });

  it('refuses a database written by a newer Coffer, and one whose encoding breaks the key order', async () => {
    const first = await PostgresStorage.open({ url: database.url });
    await first.close();
    await admin(
      await cluster(),
      'UPDATE coffer_schema SET version = version + 1',
      new URL(database.url).pathname.slice(1),
    );
    await assert.rejects(PostgresStorage.open({ url: database.url }), /newer Coffer.*upgrade Coffer/);
    await admin(
      await cluster(),
      'UPDATE coffer_schema SET version = version - 1',
      new URL(database.url).pathname.slice(1),
    );

    await admin(
      await cluster(),
      "CREATE DATABASE latin ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    );
    await assert.rejects(
      PostgresStorage.open({ url: (await cluster()).url('latin') }),
      /encoding SQL_ASCII; Coffer needs UTF8/,
    );
  });
});

async function until(ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not true within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
