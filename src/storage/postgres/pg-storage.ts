import type pg from 'pg';
import type { ClusteredStorage } from '../cluster.js';
import { RowCache } from '../sqlite/row-cache.js';
import { prefixUpperBound } from '../sqlite/sqlite-storage.js';
import type { ListOptions, StorageSnapshot, StorageTransaction } from '../types.js';
import { type ConnectionSettings, type Endpoint, PgConnections, type PgLog } from './pg-connections.js';
import { PgCluster } from './pg-cluster.js';
import { isConnectionFailure, isSerializationFailure, storageError } from './pg-errors.js';
import { CHANGES_CHANNEL } from './pg-feed.js';
import { openPgSnapshot } from './pg-snapshot.js';

export interface PostgresOptions {
  url: string;
  /** A hot standby of `url`: reads (read-only mode) while the primary is unreachable. */
  readReplicaUrl?: string | undefined;
  /** Per server; default 10. */
  maxConnections?: number;
  /** Default 5000 ms. */
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Control-connection heartbeat; the stale bound is three of them. Default 500 ms. */
  heartbeatMs?: number;
  /** Bound of the committed-row cache (ciphertext); 0 turns it off. Default 32 MiB. */
  cacheBytes?: number;
  log?: PgLog;
}

/** A transaction that keeps losing to others gives up after this many attempts (a 503). */
const MAX_ATTEMPTS = 30;
/**
 * Transactions one node runs at once. SERIALIZABLE locks index pages, so concurrent transactions
 * writing neighbouring keys (secrets of one vault) conflict although they share no key; past a
 * few at once the retries cost more than the parallelism brings (measured: 32 at once 1,170
 * tx/s with 0.4 retries each; 4 at once 1,550 tx/s with 0.1).
 */
const CONCURRENT_TRANSACTIONS = 4;

const SQL = {
  get: 'SELECT value FROM coffer_entries WHERE key = $1',
  list: 'SELECT key FROM coffer_entries WHERE key >= $1 AND key < $2 AND key > $3 ORDER BY key LIMIT $4',
  put: 'INSERT INTO coffer_entries (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
  delete: 'DELETE FROM coffer_entries WHERE key = $1',
};

/**
 * The PostgreSQL backend: many stateless nodes over one database. Plain reads go through a
 * bounded cache of committed rows (as SQLite's), which a node fills only while it hears every
 * other node's commits (pg-cluster.ts) and only from a read that no invalidation overtook;
 * transactions run SERIALIZABLE and are retried when another transaction wins, so `work` may
 * run more than once and must not act outside `tx`. A plain put or delete is one statement that
 * also sends the notice, so it is one round trip.
 */
export class PostgresStorage implements ClusteredStorage {
  readonly cluster: PgCluster;
  private readonly connections: PgConnections;
  private readonly cache: RowCache;
  /** Bumped by every invalidation: a read that started before one must not fill the cache. */
  private invalidations = 0;
  /** Transactions run again after losing a serialization conflict, since start. */
  retries = 0;
  private readonly transactionSlots = new Slots(CONCURRENT_TRANSACTIONS);

  constructor(options: PostgresOptions) {
    const settings: ConnectionSettings = {
      url: options.url,
      readReplicaUrl: options.readReplicaUrl,
      maxConnections: options.maxConnections ?? 10,
      statementTimeoutMs: options.statementTimeoutMs ?? 5000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      probeMs: 1000,
      log: options.log ?? (() => {}),
    };
    this.connections = new PgConnections(settings);
    this.cache = new RowCache(options.cacheBytes ?? 32 * 1024 * 1024);
    this.cluster = new PgCluster({
      connections: this.connections,
      heartbeatMs: options.heartbeatMs ?? 500,
      connectTimeoutMs: settings.connectTimeoutMs,
      forget: (keys) => this.forget(keys),
      onError: (error) => settings.log('error', `a cluster event listener failed: ${(error as Error).name}`),
    });
    // A new writer (or none) may have committed what this node never heard of.
    this.connections.onWriterChange(() => this.forget('all'));
  }

  /**
   * Connects (the first look at the servers), migrates, and starts listening. A database that is
   * down is not an error here: the node serves 503s and keeps trying. One this build can never
   * use (a newer schema, a wrong encoding) is.
   */
  async start(): Promise<void> {
    this.cluster.start();
    await this.connections.start();
    if (this.connections.fatal) throw this.connections.fatal;
  }

  /** start(), then wait until a server takes writes: for tools and tests that need one now. */
  static async open(options: PostgresOptions, timeoutMs = 30_000): Promise<PostgresStorage> {
    const storage = new PostgresStorage(options);
    try {
      await storage.start();
      const deadline = Date.now() + timeoutMs;
      while (storage.mode !== 'read-write' || !storage.cluster.isListening) {
        if (storage.connections.fatal) throw storage.connections.fatal;
        if (Date.now() > deadline) storage.connections.writable();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return storage;
    } catch (error) {
      await storage.close();
      throw error;
    }
  }

  get mode() {
    return this.connections.mode;
  }

  cacheUsage(): { rows: number; bytes: number } {
    return this.cache.size;
  }

  async get(key: string): Promise<Buffer | undefined> {
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached === null ? undefined : Buffer.from(cached);
    const before = this.invalidations;
    const row = await this.connections.read((pool) => readRow(pool, key));
    // Only what the feed would have told us about, read after the last invalidation, and never
    // from the replica (it may lag): a row read across an invalidation may already be stale.
    const trusted = this.mode === 'read-write' && this.cluster.isListening && before === this.invalidations;
    if (trusted) this.cache.remember(key, row);
    return row === undefined ? undefined : Buffer.from(row);
  }

  list(prefix: string, options: ListOptions = {}): Promise<string[]> {
    return this.connections.read((pool) => listKeys(pool, prefix, options));
  }

  async put(key: string, value: Buffer): Promise<void> {
    await this.writeOne(`WITH w AS (${SQL.put}) SELECT pg_notify($3, $4)`, [key, Buffer.from(value)], key);
  }

  async delete(key: string): Promise<void> {
    await this.writeOne(`WITH w AS (${SQL.delete}) SELECT pg_notify($2, $3)`, [key], key);
  }

  transaction<T>(work: (tx: StorageTransaction) => Promise<T>): Promise<T> {
    return this.transactionSlots.run(() => this.attempts(work));
  }

  private async attempts<T>(work: (tx: StorageTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const writer = this.connections.writable();
      const client = await this.connect(writer);
      const written = new Set<string>();
      let broken = false;
      try {
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
        const result = await work(transactionOn(client, written));
        if (written.size > 0) await notify(client, this.cluster.noticeOf(written));
        await this.commit(client, writer);
        return result;
      } catch (error) {
        broken = isConnectionFailure(error);
        if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
        if (isSerializationFailure(error) && attempt < MAX_ATTEMPTS) {
          this.retries++;
          await backoff(attempt);
          continue;
        }
        if (broken) this.connections.reportFailure(writer);
        throw storageError(error, writer.where, 'write');
      } finally {
        client.off('error', ignoreError);
        client.release(broken);
        this.forget(written);
      }
    }
  }

  /** A consistent view of every row for a whole backup (pg-snapshot.ts); from the replica in read-only mode. */
  snapshot(): Promise<StorageSnapshot> {
    return this.connections.read(async (pool) => openPgSnapshot(await pool.connect()));
  }

  /** The committed row as the database holds it, past the row cache: what a check must look at. */
  readUncached(key: string): Promise<Buffer | undefined> {
    return this.connections.read((pool) => readRow(pool, key));
  }

  /**
   * Whether writes can be taken for lack of space: the database server refuses a write it has no
   * room for with its own error, answered 503 per request, so there is no probe to run here.
   */
  async writable(): Promise<boolean> {
    return true;
  }

  /**
   * SQLite's file check has no PostgreSQL counterpart a client can run: the server checks its own
   * pages (data checksums, when the cluster has them). `coffer operator check` still reads and
   * authenticates every record through the barrier.
   */
  async verifyFile(): Promise<{ ok: boolean; problems: string[] }> {
    return { ok: true, problems: [] };
  }

  async close(): Promise<void> {
    await this.cluster.close();
    await this.connections.close();
  }

  private async writeOne(sql: string, values: unknown[], key: string): Promise<void> {
    const writer = this.connections.writable();
    try {
      await writer.pool.query(sql, [...values, CHANGES_CHANNEL, this.cluster.noticeOf(new Set([key]))]);
    } catch (error) {
      if (isConnectionFailure(error)) this.connections.reportFailure(writer);
      throw storageError(error, writer.where, 'commit');
    } finally {
      this.forget([key]);
    }
  }

  private async commit(client: pg.PoolClient, writer: Endpoint): Promise<void> {
    try {
      await client.query('COMMIT');
    } catch (error) {
      if (isSerializationFailure(error)) throw error;
      throw storageError(error, writer.where, 'commit');
    }
  }

  private async connect(writer: Endpoint): Promise<pg.PoolClient> {
    try {
      const client = await writer.pool.connect();
      // A checked-out connection that breaks between statements emits 'error': the next
      // statement fails anyway, so the event itself must not crash the process.
      client.on('error', ignoreError);
      return client;
    } catch (error) {
      this.connections.reportFailure(writer);
      throw storageError(error, writer.where, 'write');
    }
  }

  private forget(keys: Iterable<string> | 'all'): void {
    this.invalidations++;
    if (keys === 'all') this.cache.clear();
    else for (const key of keys) this.cache.forget(key);
  }
}

function ignoreError(): void {}

function transactionOn(client: pg.PoolClient, written: Set<string>): StorageTransaction {
  return {
    get: (key) => readRow(client, key),
    list: (prefix, options) => listKeys(client, prefix, options),
    put: async (key, value) => {
      written.add(key);
      await client.query({ name: 'coffer-put', text: SQL.put, values: [key, Buffer.from(value)] });
    },
    delete: async (key) => {
      written.add(key);
      await client.query({ name: 'coffer-delete', text: SQL.delete, values: [key] });
    },
  };
}

type Queryable = Pick<pg.ClientBase, 'query'>;

async function readRow(db: Queryable, key: string): Promise<Buffer | undefined> {
  const result = await db.query<{ value: Buffer }>({ name: 'coffer-get', text: SQL.get, values: [key] });
  return result.rows[0]?.value;
}

async function listKeys(db: Queryable, prefix: string, options: ListOptions = {}): Promise<string[]> {
  const limit = options.limit ?? null;
  const result = await db.query<{ key: string }>({
    name: 'coffer-list',
    text: SQL.list,
    values: [prefix, prefixUpperBound(prefix), options.after ?? '', limit],
  });
  return result.rows.map((row) => row.key);
}

async function notify(client: pg.PoolClient, notice: string): Promise<void> {
  await client.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, notice]);
}

/** Full jitter, growing to 100 ms: contenders spread out instead of colliding again. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(100, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/** At most `size` tasks at once; the others wait their turn, in order. */
class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
