import { randomBytes } from 'node:crypto';
import { closeSync, fdatasync, openSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { ClusteredStorage } from '../cluster.js';
import type { ListOptions, StorageSnapshot, StorageTransaction } from '../types.js';
import { GroupCommitter } from './group-commit.js';
import { type DataFileMode, lockDataFile } from './data-file-lock.js';
import { checkDataFile, type FileCheck, isDamageError, StoreDamaged } from './file-check.js';
import { migrate } from './migrations.js';
import type { FaultCounters } from '../fault-counters.js';
import { RowCache } from './row-cache.js';
import { SqliteCluster } from './sqlite-cluster.js';
import { openSqliteSnapshot } from './snapshot.js';
import { SpaceMonitor } from './space-monitor.js';

export interface SqliteOptions {
  /** Bound of the committed-row cache (ciphertext); 0 turns it off. */
  cacheBytes?: number;
  /** `member`: one of several processes of one installation on this file (data-file-lock.ts). */
  mode?: DataFileMode;
  /** Members: how often to poll the change table (ms). */
  pollMs?: number;
  /** Failures of background work (heartbeats, pruning), which has nobody else to tell. */
  onError?: (error: unknown) => void;
  /** Hears each write refused for lack of space. */
  faults?: FaultCounters;
  /**
   * Runs before each commit's sync, which waits for it: fault and ordering tests hold a batch
   * between its COMMIT and its sync with it. Never set in the server.
   */
  beforeSync?: () => Promise<void> | undefined;
}

const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;
/**
 * The probe's row (random filler, nothing secret) is committed, then removed in a second commit:
 * pages freed within one transaction might never reach the WAL, where space runs out.
 */
export const SPACE_PROBE_KEY = 'core/space-probe';
const SPACE_PROBE_BYTES = 64 * 1024;
const FILE_CHECK_WORKER = new URL('./file-check-worker.js', import.meta.url);

/**
 * The embedded backend. Two connections on one WAL database: writes and transactions on one,
 * run one at a time by the group committer, so an open transaction's uncommitted rows are
 * never visible to anybody else; plain reads on the other, which sees only committed data and
 * never waits for a writer. Every commit reaches the disk before it is acknowledged, so an
 * acknowledged write survives kill -9 and power loss. A lone process (the default) fdatasyncs the
 * WAL on libuv's pool after the COMMIT (synchronous=NORMAL doing the rest at checkpoints), so the
 * event loop serves requests while the disk works, and no read of its own sees a committed row
 * before it is durable (group-commit.ts). Members of one installation over one file
 * (sqlite-cluster.ts) read each other's commits straight from the file, where that rule could
 * not hold, so they keep synchronous=FULL: the COMMIT is durable when it returns. Group commit
 * lets many writers share one sync. One lone process per file (a lock beside it), or members
 * that tell each other what they wrote, which is what lets the row cache in front of the read
 * connection stay exact.
 */
export class SqliteStorage implements ClusteredStorage {
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly committer: GroupCommitter;
  private readonly statements: ReturnType<typeof prepare>;
  private readonly readStatements: ReturnType<typeof prepare>;
  private readonly lock: Database.Database;
  private readonly cache: RowCache;
  readonly cluster: SqliteCluster;
  private readonly space: SpaceMonitor;
  /** The WAL, opened at the first sync (SQLite creates it with the first write). */
  private walFd: number | undefined;
  /** A lone process syncs each commit itself, off the event loop; members let the COMMIT do it. */
  private readonly deferSync: boolean;

  constructor(
    readonly file: string,
    options: SqliteOptions = {},
  ) {
    this.lock = lockDataFile(file, options.mode);
    this.deferSync = (options.mode ?? 'exclusive') === 'exclusive';
    this.space = new SpaceMonitor(
      async () => {
        await this.committer.submit((tx) => tx.put(SPACE_PROBE_KEY, randomBytes(SPACE_PROBE_BYTES)));
        await this.committer.submit((tx) => tx.delete(SPACE_PROBE_KEY));
      },
      () => options.faults?.record({ kind: 'storageFull', path: file }),
    );
    this.cache = new RowCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES);
    try {
      this.writer = new Database(file);
    } catch (error) {
      this.lock.close();
      throw isDamageError(error) ? new StoreDamaged(file, [(error as Error).message]) : error;
    }
    try {
      this.writer.pragma('journal_mode = WAL');
      // A lone process moves the commit's fsync off the event loop (syncWal() runs it before
      // acknowledging); members keep it in the COMMIT, since other processes read the file.
      this.writer.pragma(this.deferSync ? 'synchronous = NORMAL' : 'synchronous = FULL');
      this.writer.pragma('busy_timeout = 5000');
      // Damage is found here, at start, rather than by users as missing objects.
      const check = checkDataFile(this.writer, 'quick', 10);
      if (!check.ok) throw new StoreDamaged(file, check.problems);
      migrate(this.writer);
      // From now on the committer waits for other members' writes itself, off the event loop.
      this.writer.pragma('busy_timeout = 0');
    } catch (error) {
      // A refused data file (e.g. a newer schema) must not stay open, and locked, in this process.
      this.writer.close();
      this.lock.close();
      throw isDamageError(error) ? new StoreDamaged(file, [(error as Error).message]) : error;
    }
    this.reader = new Database(file, { readonly: true });
    this.reader.pragma('busy_timeout = 5000');
    this.statements = prepare(this.writer);
    this.readStatements = prepare(this.reader);
    const statements = this.statements;
    const cache = this.cache;
    this.cluster = new SqliteCluster({
      file,
      mode: options.mode ?? 'exclusive',
      reader: this.reader,
      writer: this.writer,
      write: (step) => this.committer.submit(async () => step()),
      forget: (keys) => (keys === 'all' ? cache.clear() : keys.forEach((key) => cache.forget(key))),
      pollMs: options.pollMs,
      onError: options.onError,
    });
    this.committer = new GroupCommitter(
      this.writer,
      {
        // Inside a transaction: the writer's own view, uncommitted rows included; never cached.
        get: async (key) => readRow(statements, key),
        list: async (prefix, options = {}) => listKeys(statements, prefix, options),
        put: async (key, value) => {
          statements.put.run(key, value);
        },
        delete: async (key) => {
          statements.delete.run(key);
        },
      },
      (written) => written.forEach((key) => cache.forget(key)),
      (written) => this.cluster.recordCommit(written),
      this.deferSync
        ? async () => {
            await options.beforeSync?.();
            await this.syncWal();
          }
        : undefined,
    );
  }

  /** fdatasync of the WAL on libuv's pool: the batch's COMMIT frames reach the disk. */
  private syncWal(): Promise<void> {
    this.walFd ??= openSync(`${this.file}-wal`, 'r');
    const fd = this.walFd;
    return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
  }

  /** Bytes the store takes on disk: the database and its write-ahead log (for metrics). */
  diskBytes(): number {
    let bytes = 0;
    for (const file of [this.file, `${this.file}-wal`]) {
      try {
        bytes += statSync(file).size;
      } catch {
        // No write-ahead log between checkpoints, or the file is being replaced: counts nothing.
      }
    }
    return bytes;
  }

  /** How full the row cache is, for operators and tests. */
  cacheUsage(): { rows: number; bytes: number } {
    return this.cache.size;
  }

  /**
   * The durability settings in force, for operators and tests to confirm: WAL, synchronous
   * NORMAL (1), and `walSync` 'fdatasync-before-ack', the commit's sync that Coffer runs itself.
   */
  durability(): { journalMode: string; synchronous: number; walSync: 'fdatasync-before-ack' | 'in-commit' } {
    return {
      journalMode: this.writer.pragma('journal_mode', { simple: true }) as string,
      synchronous: this.writer.pragma('synchronous', { simple: true }) as number,
      walSync: this.deferSync ? 'fdatasync-before-ack' : 'in-commit',
    };
  }

  async get(key: string): Promise<Buffer | undefined> {
    this.cluster.beforeRead();
    const undurable = this.committer.whenDurable(key);
    if (undurable !== undefined) await undurable;
    const cached = this.cache.get(key);
    // A copy: a caller that wipes or reuses the buffer it got must not change the cached row.
    if (cached !== undefined) return cached === null ? undefined : Buffer.from(cached);
    const row = readRow(this.readStatements, key);
    this.cache.remember(key, row);
    return row === undefined ? undefined : Buffer.from(row);
  }

  /** The committed row as on disk, past the row cache: what a check must look at. */
  async readUncached(key: string): Promise<Buffer | undefined> {
    await this.committer.whenDurable(key);
    return readRow(this.readStatements, key);
  }

  /** SQLite's full integrity_check of the file, on a worker thread with its own read-only connection. */
  verifyFile(): Promise<FileCheck> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(FILE_CHECK_WORKER, { workerData: { file: this.file } });
      worker.once('message', (result: FileCheck) => resolve(result));
      worker.once('error', reject);
      worker.once('exit', (code) => {
        if (code !== 0) reject(new Error(`the file check stopped with exit code ${code}`));
      });
    });
  }

  async list(prefix: string, options: ListOptions = {}): Promise<string[]> {
    await this.committer.whenDurable(prefix, true);
    // From here to the return nothing awaits, so no commit (this process's, whose keys the
    // committer forgets as it commits, or another member's, which beforeRead forgets) can slip
    // between the memo's check, the scan and the memo.
    this.cluster.beforeRead();
    // A whole scan: from the start, and allowed to find something (LIMIT 0 finds nothing anywhere).
    const whole = !options.after && options.limit !== 0;
    if (whole && this.cache.knownEmpty(prefix)) return [];
    const keys = listKeys(this.readStatements, prefix, options);
    if (whole && keys.length === 0) this.cache.rememberEmpty(prefix);
    return keys;
  }

  async put(key: string, value: Buffer): Promise<void> {
    await this.transaction((tx) => tx.put(key, value));
  }

  async delete(key: string): Promise<void> {
    await this.transaction((tx) => tx.delete(key));
  }

  transaction<T>(work: (tx: StorageTransaction) => Promise<T>): Promise<T> {
    return this.space.guard(this.committer.submit(work));
  }

  /** False while writes fail for lack of disk space (a probe write tells when space is back). */
  writable(): Promise<boolean> {
    return this.space.writable();
  }

  async snapshot(): Promise<StorageSnapshot> {
    await this.committer.allDurable();
    return openSqliteSnapshot(this.file);
  }

  async close(): Promise<void> {
    await this.cluster.close();
    await this.committer.idle();
    this.reader.close();
    this.writer.close();
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
    this.lock.close();
  }
}

function prepare(db: Database.Database) {
  return {
    get: db.prepare<[string], { value: Buffer }>('SELECT value FROM entries WHERE key = ?'),
    put: db.prepare<[string, Buffer]>(
      'INSERT INTO entries (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ),
    delete: db.prepare<[string]>('DELETE FROM entries WHERE key = ?'),
    list: db.prepare<[string, string, string, number], { key: string }>(
      'SELECT key FROM entries WHERE key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?',
    ),
  };
}

function readRow(statements: ReturnType<typeof prepare>, key: string): Buffer | undefined {
  return statements.get.get(key)?.value;
}

function listKeys(statements: ReturnType<typeof prepare>, prefix: string, options: ListOptions): string[] {
  const upper = prefixUpperBound(prefix);
  const limit = options.limit ?? -1;
  return statements.list.all(prefix, upper, options.after ?? '', limit).map((row) => row.key);
}

/**
 * The smallest string greater than every string starting with `prefix`, so a prefix scan is
 * an index range scan. Keys are ASCII paths, so bumping the last character is enough.
 */
export function prefixUpperBound(prefix: string): string {
  if (prefix === '') return '\u{10ffff}';
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
