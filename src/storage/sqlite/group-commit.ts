import type Database from 'better-sqlite3';
import type { StorageTransaction } from '../types.js';

interface Pending {
  work: (tx: StorageTransaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Enough to amortise one fsync over many writers, small enough to keep each commit short. */
const MAX_BATCH = 256;

/**
 * Group commit: transactions queued while the previous commit was reaching the disk run
 * together in one SQLite transaction, each inside its own savepoint, and are all acknowledged
 * after the one COMMIT is durable. A transaction that throws rolls back to its savepoint and
 * rejects alone; if the COMMIT itself fails, every transaction of the batch rejects. Nobody is
 * acknowledged before the data is on disk, and transactions still run one at a time, in order.
 *
 * The COMMIT itself only writes the WAL (synchronous=NORMAL); `sync` then makes it durable off
 * the event loop (an fsync of the WAL on libuv's pool), so requests keep being parsed, and
 * queue up for the next batch, while the disk works. Between the COMMIT and the end of `sync`
 * the batch's keys are "undurable": `whenDurable` holds back any read of them (or of a list
 * that could include them) until they are on disk, so nobody sees a write before it is durable.
 * `onCommitted` hears the keys a batch wrote right after its COMMIT (or ROLLBACK), in the same
 * turn of the event loop, so a read cache can drop them before anybody reads again.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  /** The keys of the batch whose COMMIT is on its way to the disk, and when it gets there. */
  private undurable: { keys: Set<string>; synced: Promise<void> } | undefined;
  /** Set once a sync failed: what SQLite holds may not be on disk, so nothing more is acknowledged. */
  private syncFailure: Error | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly tx: StorageTransaction,
    private readonly onCommitted: (writtenKeys: Set<string>) => void = () => {},
    private readonly sync: () => Promise<void> = async () => {},
  ) {}

  /**
   * Resolves at once unless `key` (or, with `prefix`, any key under it) was written by a batch
   * that is committed but not yet durable; then once it is (rejecting if the sync failed).
   */
  whenDurable(key: string, prefix = false): Promise<void> | undefined {
    if (this.syncFailure) return Promise.reject(this.syncFailure);
    const pending = this.undurable;
    if (pending === undefined) return undefined;
    if (!prefix) return pending.keys.has(key) ? pending.synced : undefined;
    for (const written of pending.keys) if (written.startsWith(key)) return pending.synced;
    return undefined;
  }

  /** Resolves once every committed batch is durable (for a snapshot that must see only durable data). */
  allDurable(): Promise<void> {
    return this.undurable?.synced ?? Promise.resolve();
  }

  submit<T>(work: (tx: StorageTransaction) => Promise<T>): Promise<T> {
    if (this.syncFailure) return Promise.reject(this.syncFailure);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.draining ??= this.drain();
    });
  }

  /** Resolves once everything submitted so far is committed (or has failed). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.runBatch(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.draining = undefined;
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    const outcomes: Outcome[] = [];
    const written = new Set<string>();
    const tx = this.recording(written);
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const pending of batch) outcomes.push(await this.runOne(pending, tx));
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const pending of batch) pending.reject(error);
      return;
    } finally {
      // Whatever the outcome, and before any waiter resumes (settling only queues its callbacks).
      this.onCommitted(written);
    }
    try {
      await this.durable(written);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
  }

  /** Runs `sync` with the batch's keys held back from readers until it ends. */
  private async durable(written: Set<string>): Promise<void> {
    if (written.size === 0) return; // read-only batch: nothing new to make durable
    const synced = this.sync().catch((error: unknown) => {
      // fsync failed: the kernel may have dropped the pages, so what SQLite shows may not be on
      // disk. Nothing is acknowledged or read any more; a restart recovers from the file.
      this.syncFailure = new Error(
        `the data file could not be synced to disk (${(error as NodeJS.ErrnoException).code ?? 'error'}); restart the server`,
      );
      throw this.syncFailure;
    });
    this.undurable = { keys: written, synced };
    try {
      await synced;
    } finally {
      this.undurable = undefined;
    }
  }

  /** The transaction handle, noting every key written (rolled-back units too: harmless). */
  private recording(written: Set<string>): StorageTransaction {
    return {
      get: (key) => this.tx.get(key),
      list: (prefix, options) => this.tx.list(prefix, options),
      put: (key, value) => {
        written.add(key);
        return this.tx.put(key, value);
      },
      delete: (key) => {
        written.add(key);
        return this.tx.delete(key);
      },
    };
  }

  private async runOne(pending: Pending, tx: StorageTransaction): Promise<Outcome> {
    this.db.exec('SAVEPOINT unit');
    try {
      const value = await pending.work(tx);
      this.db.exec('RELEASE unit');
      return { ok: true, value };
    } catch (error) {
      // After some errors (SQLITE_FULL, I/O errors) SQLite rolls the whole transaction back
      // itself: no savepoint is left, and the batch fails as a whole, with that error.
      if (!this.db.inTransaction) throw error;
      this.db.exec('ROLLBACK TO unit');
      this.db.exec('RELEASE unit');
      return { ok: false, error };
    }
  }
}
