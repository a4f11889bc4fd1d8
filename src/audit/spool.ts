import { closeSync, constants, fdatasync, fstatSync, ftruncateSync, openSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import type { ChainHead } from './chain.js';
import type { SpooledEntry } from './record.js';
import {
  type ReadPosition,
  readSegments,
  recoverSegments,
  type Segment,
  segmentName,
  syncDirectory,
  writeAllSync,
} from './spool-files.js';

export type { ReadPosition } from './spool-files.js';

/**
 * When the spool syncs its file (docs/audit.md, "Durability"):
 *   always   every record is on the disk before it is acknowledged (survives power loss)
 *   changes  records appended with `durable` are; the others are acknowledged once in the page
 *            cache (they survive kill -9) and reach the disk within `syncIntervalMs`
 *   never    acknowledged once in the page cache; the OS writes them back when it will
 */
export type SpoolSync = 'always' | 'changes' | 'never';

export interface SpoolOptions {
  dir: string;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  sync: SpoolSync;
  /** With `changes`: the longest a record waits in the page cache before it is synced. */
  syncIntervalMs?: number;
  /** Recent records kept in memory, so sinks that keep up never read the disk. */
  recentLimit?: number;
  /** Damage found while opening: lines that are not records, left where they are. */
  onDamage?: (message: string) => void;
}

/** Makes the next record from the chain head at the moment its batch is written. */
export type RecordMaker = (head: ChainHead) => SpooledEntry;

interface Pending {
  make: RecordMaker;
  /** Acknowledged only once synced (with `changes`; `always` syncs every record). */
  durable: boolean;
  resolve: (entry: SpooledEntry) => void;
  reject: (error: unknown) => void;
}

/** A batch whose write or sync failed: its records are not in the spool. */
export class SpoolWriteError extends Error {
  constructor(override readonly cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).name;
    super(`the audit spool cannot be written (${code})`);
    this.name = 'SpoolWriteError';
  }
  get code(): string {
    return (this.cause as NodeJS.ErrnoException).code ?? 'EIO';
  }
}

/** Enough to amortise one sync over every request in flight, small enough to keep a write short. */
const MAX_BATCH = 512;
const DEFAULT_RECENT = 8192;
const DEFAULT_SYNC_INTERVAL_MS = 50;

/** Written to the current segment, not yet synced: who waits for the sync, and what it makes durable. */
interface Unsynced {
  entries: SpooledEntry[];
  waiting: Array<{ pending: Pending; entry: SpooledEntry }>;
}

/**
 * The durable local spool every record goes to first: an append-only run of segment files.
 *
 * Records appended during one turn of the event loop are written together, with one
 * synchronous write() into the page cache once the turn's I/O is handled (a kill -9 after it
 * loses nothing; a thread-pool round trip per batch cost more than the write). The sync that
 * makes them survive a power loss runs on libuv's thread pool, one at a time, for everything
 * written before it started (group commit); the event loop never waits for the disk.
 *
 * Readers (sinks, subscribers) see a record only once it is synced, so no copy of the log ever
 * holds a record that a power loss could take from the spool and hand to a different record.
 * A failed write is cut back off the file; a failed sync cuts back everything not yet synced.
 * Either way the chain resumes from the last record still in the file.
 */
export class Spool {
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private fd: number | undefined;
  private current: { segment: Segment; size: number } | undefined;
  private readonly recent: SpooledEntry[] = [];
  private readonly listeners = new Set<(entries: SpooledEntry[]) => void>();
  /** The newest record in the file (written) and the newest one synced, with the file's size then. */
  private syncedHead: ChainHead;
  private syncedSize = 0;
  private unsynced: Unsynced = { entries: [], waiting: [] };
  private syncing: Promise<void> | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly durableOnWrite: boolean;
  /** Told when a failed sync dropped records that were acknowledged without waiting for it. */
  onSyncFailure: ((error: SpoolWriteError, acknowledgedLost: number) => void) | undefined;

  private constructor(
    private readonly options: SpoolOptions,
    private chainHead: ChainHead,
    private segments: Segment[],
    current: { segment: Segment; size: number } | undefined,
  ) {
    this.current = current;
    this.syncedHead = chainHead;
    this.syncedSize = current?.size ?? 0;
    this.durableOnWrite = options.sync === 'never';
  }

  /** Opens the spool, recovering the chain head from the last record on disk. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const { head, segments, current } = await recoverSegments(options.dir, options.onDamage);
    return new Spool(options, head, segments, current);
  }

  /** The newest record written (its sync may still be on its way). */
  get head(): ChainHead {
    return this.chainHead;
  }

  /**
   * Queues a record; resolves once it is written (and synced, if `durable` or the spool syncs
   * every record), rejects with SpoolWriteError. `alone`: no other record is expected this turn.
   */
  append(make: RecordMaker, durable = true, alone = false): Promise<SpooledEntry> {
    return new Promise((resolve, reject) => {
      this.queue.push({ make, durable: durable || this.options.sync === 'always', resolve, reject });
      // With other requests in flight, the write waits for the end of this turn's I/O callbacks,
      // so that every record they append shares it; a lone request's record is written at once
      // (nobody would share the write, and the hop to the next phase is its answer's delay).
      this.writing ??= (
        alone ? Promise.resolve() : new Promise<void>((started) => setImmediate(started))
      ).then(() => this.drain());
    });
  }

  /** Hears every batch right after it is durable (synced, or written with `never`), in order. */
  onDurable(listener: (entries: SpooledEntry[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once everything queued so far is written and synced (or failed). */
  async idle(): Promise<void> {
    while (this.writing) await this.writing;
    await this.syncAll();
  }

  /** Records with a sequence above `after`, at most `limit`: from memory when recent, else from disk. */
  async read(
    after: number,
    limit: number,
    position?: ReadPosition,
  ): Promise<{ entries: SpooledEntry[]; position?: ReadPosition }> {
    const first = this.recent[0]?.record.sequence;
    if (first !== undefined && after + 1 >= first) {
      const start = after + 1 - first;
      return { entries: this.recent.slice(start, start + limit) };
    }
    return this.readFromDisk(after, limit, position);
  }

  /** Deletes segments whose records every reader has consumed; never the one being written. */
  async prune(consumedThrough: number): Promise<void> {
    while (this.segments.length > 1) {
      const next = this.segments[1]!;
      if (next.firstSequence - 1 > consumedThrough) return;
      const done = this.segments.shift()!;
      await unlink(done.file).catch(() => undefined);
    }
  }

  /** Segment files on disk: records some reader has not consumed yet, and the one being written. */
  get segmentCount(): number {
    return this.segments.length;
  }

  async close(): Promise<void> {
    await this.idle();
    clearTimeout(this.syncTimer);
    this.closeFile();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.writeBatch(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.writing = undefined;
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    // Opening (or rolling to) a segment may wait for the disk; the chain head is read after it.
    try {
      await this.segmentFor();
    } catch (error) {
      const failure = new SpoolWriteError(error);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    let head = this.chainHead;
    const made: Array<{ pending: Pending; entry: SpooledEntry }> = [];
    for (const pending of batch) {
      try {
        const entry = pending.make(head);
        made.push({ pending, entry });
        head = entry.record;
      } catch (error) {
        pending.reject(error);
      }
    }
    if (made.length === 0) return;
    const bytes = Buffer.from(made.map(({ entry }) => `${entry.line}\n`).join(''), 'utf8');
    try {
      this.write(bytes);
    } catch (error) {
      // What earlier batches wrote is synced through this descriptor before it is closed, and
      // the next batch opens the file again (or a new one, where this one is gone).
      await this.syncAll();
      this.closeFile();
      const failure = new SpoolWriteError(error);
      for (const { pending } of made) pending.reject(failure);
      return;
    }
    this.chainHead = { sequence: head.sequence, hash: head.hash };
    const entries = made.map(({ entry }) => entry);
    if (this.durableOnWrite) {
      this.syncedHead = this.chainHead;
      this.syncedSize = this.current!.size;
      for (const { pending, entry } of made) pending.resolve(entry);
      this.published(entries);
      return;
    }
    this.unsynced.entries.push(...entries);
    for (const item of made) {
      if (item.pending.durable) this.unsynced.waiting.push(item);
      else item.pending.resolve(item.entry);
    }
    if (this.unsynced.waiting.length > 0) void this.sync();
    else this.syncTimer ??= setTimeout(() => void this.sync(), this.syncInterval).unref();
  }

  /** One synchronous write of a whole batch into the page cache (writeAllSync). */
  private write(bytes: Buffer): void {
    writeAllSync(this.fd!, bytes, this.current!.size);
    this.current!.size += bytes.length;
  }

  private get syncInterval(): number {
    return this.options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
  }

  /**
   * Syncs what is written: one sync at a time, each for everything written before it started;
   * whoever asks while one runs is served by the next.
   */
  private sync(): Promise<void> {
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    if (this.syncing) return this.syncing.then(() => this.sync());
    if (this.unsynced.entries.length === 0) return Promise.resolve();
    const batch = this.unsynced;
    this.unsynced = { entries: [], waiting: [] };
    const fd = this.fd!;
    const size = this.current!.size;
    this.syncing = new Promise<void>((done) =>
      fdatasync(fd, (error) => {
        this.syncing = undefined;
        if (error) this.syncFailed(batch, error);
        else this.synced(batch, size);
        done();
        if (this.unsynced.waiting.length > 0) void this.sync();
      }),
    );
    return this.syncing;
  }

  private async syncAll(): Promise<void> {
    while (this.syncing || this.unsynced.entries.length > 0) await this.sync();
  }

  private synced(batch: Unsynced, size: number): void {
    const last = batch.entries[batch.entries.length - 1]!.record;
    this.syncedHead = { sequence: last.sequence, hash: last.hash };
    this.syncedSize = size;
    for (const { pending, entry } of batch.waiting) pending.resolve(entry);
    this.published(batch.entries);
  }

  /**
   * The disk refused the sync: what it covered may be lost whatever the page cache says, so the
   * file is cut back to the last sync and the chain resumes from there. Records written since
   * are dropped too (they follow the cut ones); records already acknowledged without a sync
   * are reported lost through the rejection of the ones that waited.
   */
  private syncFailed(batch: Unsynced, error: unknown): void {
    const later = this.unsynced;
    this.unsynced = { entries: [], waiting: [] };
    try {
      ftruncateSync(this.fd!, this.syncedSize);
    } catch {
      // The next write goes after whatever is left; a reader skips what does not chain.
    }
    this.current!.size = this.syncedSize;
    this.chainHead = this.syncedHead;
    // The next batch opens the file again (nothing is in flight on this descriptor now).
    this.closeFile();
    const failure = new SpoolWriteError(error);
    for (const { pending } of [...batch.waiting, ...later.waiting]) pending.reject(failure);
    const acknowledged = (part: Unsynced) => part.entries.length - part.waiting.length;
    this.onSyncFailure?.(failure, acknowledged(batch) + acknowledged(later));
  }

  private published(entries: SpooledEntry[]): void {
    this.remember(entries);
    for (const listener of this.listeners) listener(entries);
  }

  /**
   * The segment the next batch goes to: the current one, or a new one once the current one is
   * past its size (after syncing what it holds, so nothing unsynced is ever in a closed file).
   */
  private async segmentFor(): Promise<{ segment: Segment; size: number }> {
    const current = this.current;
    // A segment ends past its size by at most the batch that crossed it.
    if (current && current.size > 0 && current.size >= this.options.segmentBytes) {
      await this.syncAll();
      this.closeFile();
      this.current = undefined;
    }
    if (!this.current) {
      // Named by the first record it will hold: the chain head may have moved back during the sync.
      const firstSequence = this.chainHead.sequence + 1;
      const file = path.join(this.options.dir, segmentName(firstSequence));
      const segment = this.segments.find((known) => known.file === file) ?? { firstSequence, file };
      this.current = { segment, size: 0 };
      this.syncedSize = 0;
      if (!this.segments.includes(segment)) this.segments.push(segment);
    }
    if (this.fd === undefined) {
      const fd = openSync(
        this.current.segment.file,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
        0o600,
      );
      const { size } = fstatSync(fd);
      this.fd = fd;
      if (this.current.size === 0 && size === 0) await syncDirectory(this.options.dir);
      this.current.size = size;
      this.syncedSize = size;
    }
    return this.current;
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // Closing cannot lose anything synced.
    }
    this.fd = undefined;
  }

  private remember(entries: SpooledEntry[]): void {
    this.recent.push(...entries);
    const limit = this.options.recentLimit ?? DEFAULT_RECENT;
    // Trimmed by half the limit at a time: shifting the array once per record would cost O(limit) each.
    if (this.recent.length > limit + Math.ceil(limit / 2)) this.recent.splice(0, this.recent.length - limit);
  }

  private async readFromDisk(
    after: number,
    limit: number,
    position: ReadPosition | undefined,
  ): Promise<{ entries: SpooledEntry[]; position?: ReadPosition }> {
    const read = await readSegments(this.segments, after, limit, position);
    // A record not yet synced is not handed out (the file may hold it a moment before the sync).
    const durable = read.entries.filter((entry) => entry.record.sequence <= this.syncedHead.sequence);
    return durable.length < read.entries.length ? { entries: durable } : read;
  }
}
