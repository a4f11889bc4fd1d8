import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { CommitRecord } from '../barrier/barrier.js';
import { CofferError } from '../errors/index.js';

/** The store is older than (or not) the one whose commits this data dir recorded. */
export class StoreRolledBack extends CofferError {
  constructor(message: string) {
    super(503, 'StoreRolledBack', message, { 'retry-after': '60' });
  }
}

/**
 * A copy of the store's commit record kept outside the database (`commitRecordFile`), to find a
 * store rolled back to an older copy: coffer.db put back from a backup or snapshot, or its WAL
 * lost, so writes that were acknowledged are gone. It is written after each write is durable
 * (never before, so it never runs ahead of the store) and without fsync (after a power loss it
 * may lag behind, which can only hide a rollback, never invent one). It is compared with the
 * store's own record (sealed in the barrier) at every unseal, before anything is served.
 *
 * At most one write per FLUSH_INTERVAL_MS: the write and rename are synchronous (so seal and
 * shutdown can end with one), and at thousands of commits per second one per event-loop turn
 * was a fifth of a secret set's time on the loop (bench/README.md). The record may lag the
 * store by that interval, which a crash could already make it do; it never runs ahead.
 */
export const FLUSH_INTERVAL_MS = 50;

export class CommitRecordFile {
  private latest: CommitRecord | undefined;
  private lastFlushMs = -Infinity;
  private flushScheduled = false;
  private enabled = false;
  private failing = false;

  constructor(
    readonly file: string,
    private readonly warn: (message: string) => void,
  ) {}

  exists(): boolean {
    return existsSync(this.file);
  }

  /**
   * At unseal, before anything is served: refuses a store older than the record, or another
   * store; then keeps the record up to date. Without a record file (a new data dir, or one that
   * predates it) there is nothing to compare, and one is started.
   */
  verify(store: CommitRecord | undefined): void {
    const recorded = this.read();
    if (recorded && store?.storeId !== recorded.storeId) {
      throw new StoreRolledBack(
        `This store is not the one whose commits ${this.file} records (another store id${store ? '' : ', or no commit record at all'}): coffer.db was replaced by another or an older copy. ` +
          `Coffer will not serve it. Restore the latest backup of this data dir; if you put this copy back on purpose, delete ${this.file} and start again.`,
      );
    }
    if (recorded && store && recorded.count > store.count) {
      throw new StoreRolledBack(
        `This store is older than its commit record: it holds commit ${store.count}, but ${this.file} shows commit ${recorded.count} was acknowledged, so ${recorded.count - store.count} acknowledged write(s) are missing. ` +
          'coffer.db or coffer.db-wal was rolled back or replaced by an older copy. Coffer will not serve it. ' +
          `Restore the latest backup of this data dir; if you put this older copy back on purpose (a restore), delete ${this.file} and start again.`,
      );
    }
    if (!recorded && this.exists()) this.warn(`${this.file} could not be read: it is written again now`);
    this.enabled = true;
    if (store) this.committed(store);
  }

  /**
   * After each durable write: remembered now, written in the next turn of the event loop, or
   * FLUSH_INTERVAL_MS after the last write if that is later.
   */
  committed(record: CommitRecord): void {
    if (!this.enabled) return;
    if (this.latest && this.latest.storeId === record.storeId && this.latest.count >= record.count) return;
    this.latest = record;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const wait = this.lastFlushMs + FLUSH_INTERVAL_MS - Date.now();
    if (wait <= 0) setImmediate(() => this.flush());
    else setTimeout(() => this.flush(), wait).unref();
  }

  /** Writes what is pending now (at seal and shutdown) and stops until the next verify. */
  stop(): void {
    this.flush();
    this.enabled = false;
    this.latest = undefined;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.latest) return;
    this.lastFlushMs = Date.now();
    // One temporary file per process: the workers of one server flush the same record.
    const temporary = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, `${JSON.stringify(this.latest)}\n`, { mode: 0o600 });
      renameSync(temporary, this.file);
      this.failing = false;
    } catch (error) {
      // A full disk must not fail writes that are already durable; the next flush tries again.
      if (!this.failing)
        this.warn(`${this.file} could not be written (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      this.failing = true;
    }
  }

  private read(): CommitRecord | undefined {
    if (!this.exists()) return undefined;
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<CommitRecord>;
      return typeof parsed.storeId === 'string' && Number.isSafeInteger(parsed.count)
        ? (parsed as CommitRecord)
        : undefined;
    } catch {
      return undefined;
    }
  }
}
