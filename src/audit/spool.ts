import { constants } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { type ChainHead, EMPTY_CHAIN } from './chain.js';
import type { SpooledEntry } from './record.js';
import {
  dropPartialLine,
  listSegments,
  readSegmentFrom,
  readSegmentTail,
  type Segment,
  segmentName,
  syncDirectory,
  writeAll,
} from './spool-files.js';

export interface SpoolOptions {
  dir: string;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  /**
   * Each batch reaches the disk before it is acknowledged (O_DSYNC: the write returns once the
   * data is durable, one system call per batch). False: acknowledged once in the page cache,
   * which survives a crash of the process but not of the machine.
   */
  sync: boolean;
  /** Recent records kept in memory, so sinks that keep up never read the disk. */
  recentLimit?: number;
  /** Damage found while opening: lines that are not records, left where they are. */
  onDamage?: (message: string) => void;
}

/** Makes the next record from the chain head at the moment its batch is written. */
export type RecordMaker = (head: ChainHead) => SpooledEntry;

interface Pending {
  make: RecordMaker;
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

/** Enough to amortise one fsync over every request in flight, small enough to keep a write short. */
const MAX_BATCH = 512;
const DEFAULT_RECENT = 8192;

/**
 * The durable local spool every record goes to first: an append-only run of segment files.
 * Records queued while a write is on its way to the disk go together in the next write
 * (group commit), which runs on libuv's thread pool, never on the event loop. A record is acknowledged only once it is on disk. A failed batch is cut back off
 * the file, so the chain never holds a record nobody was told about.
 */
export class Spool {
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private handle: FileHandle | undefined;
  private current: { segment: Segment; size: number } | undefined;
  private readonly recent: SpooledEntry[] = [];
  private readonly listeners = new Set<(entries: SpooledEntry[]) => void>();

  private constructor(
    private readonly options: SpoolOptions,
    private chainHead: ChainHead,
    private segments: Segment[],
    current: { segment: Segment; size: number } | undefined,
  ) {
    this.current = current;
  }

  /** Opens the spool, recovering the chain head from the last record on disk. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const segments = await listSegments(options.dir);
    for (let index = segments.length - 1; index >= 0; index--) {
      const segment = segments[index]!;
      const tail = await readSegmentTail(segment.file);
      if (!tail) {
        options.onDamage?.(`${segment.file} is not a regular file; records go to a new segment`);
        continue;
      }
      if (!tail.last) {
        if (tail.size - tail.partialBytes > 0)
          options.onDamage?.(`${segment.file} holds no valid record; records go to a new segment`);
        else await dropPartialLine(segment.file, tail);
        continue;
      }
      const head = { sequence: tail.last.record.sequence, hash: tail.last.record.hash };
      const size = await dropPartialLine(segment.file, tail);
      // Whole lines after the last record are damage: new records start a segment of their own.
      if (tail.damagedLines > 0) {
        options.onDamage?.(
          `${segment.file} ends with ${tail.damagedLines} line(s) that are not records, after record ${head.sequence}`,
        );
        return new Spool(options, head, segments, undefined);
      }
      return new Spool(options, head, segments, { segment, size });
    }
    return new Spool(options, EMPTY_CHAIN, segments, undefined);
  }

  get head(): ChainHead {
    return this.chainHead;
  }

  /** Queues a record; resolves once it (and its batch) is durable, rejects with SpoolWriteError. */
  append(make: RecordMaker): Promise<SpooledEntry> {
    return new Promise((resolve, reject) => {
      this.queue.push({ make, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  /** Hears every batch right after it is durable, in order. */
  onDurable(listener: (entries: SpooledEntry[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once everything queued so far is written (or failed). */
  async idle(): Promise<void> {
    while (this.writing) await this.writing;
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
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.writeBatch(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.writing = undefined;
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
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
      await this.write(bytes, made[0]!.entry.record.sequence);
    } catch (error) {
      const failure = new SpoolWriteError(error);
      for (const { pending } of made) pending.reject(failure);
      return;
    }
    this.chainHead = { sequence: head.sequence, hash: head.hash };
    const entries = made.map(({ entry }) => entry);
    this.remember(entries);
    for (const { pending, entry } of made) pending.resolve(entry);
    for (const listener of this.listeners) listener(entries);
  }

  private async write(bytes: Buffer, firstSequence: number): Promise<void> {
    const target = await this.segmentFor(bytes.length, firstSequence);
    const before = target.size;
    try {
      await writeAll(this.handle!, bytes);
      target.size += bytes.length;
    } catch (error) {
      // Whatever reached the file is cut off again, and the file reopened for the next try.
      await this.handle?.truncate(before).catch(() => undefined);
      await this.handle?.close().catch(() => undefined);
      this.handle = undefined;
      throw error;
    }
  }

  private async segmentFor(
    length: number,
    firstSequence: number,
  ): Promise<{ segment: Segment; size: number }> {
    const current = this.current;
    if (current && current.size > 0 && current.size + length > this.options.segmentBytes) {
      await this.handle?.close().catch(() => undefined);
      this.handle = undefined;
      this.current = undefined;
    }
    if (!this.current) {
      const file = path.join(this.options.dir, segmentName(firstSequence));
      const segment = this.segments.find((known) => known.file === file) ?? { firstSequence, file };
      this.current = { segment, size: 0 };
      if (!this.segments.includes(segment)) this.segments.push(segment);
    }
    if (!this.handle) {
      const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
      this.handle = await open(
        this.current.segment.file,
        this.options.sync ? flags | constants.O_DSYNC : flags,
        0o600,
      );
      const { size } = await this.handle.stat();
      if (this.current.size === 0 && size === 0) await syncDirectory(this.options.dir);
      this.current.size = size;
    }
    return this.current;
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
    const segments = this.segments;
    let index = segments.findIndex((segment, i) => {
      const next = segments[i + 1];
      return next === undefined || next.firstSequence > after + 1;
    });
    if (index < 0) return { entries: [] };
    let offset =
      position && position.file === segments[index]!.file && position.after === after ? position.offset : 0;
    const entries: SpooledEntry[] = [];
    let reached: ReadPosition | undefined;
    for (; index < segments.length && entries.length < limit; index++) {
      const file = segments[index]!.file;
      const read = await readSegmentFrom(file, offset, after, limit - entries.length).catch(() => undefined);
      if (read && read.entries.length > 0) {
        entries.push(...read.entries);
        after = read.entries[read.entries.length - 1]!.record.sequence;
        reached = { file, offset: read.offset, after };
      }
      offset = 0;
    }
    return { entries, position: reached };
  }
}

/** Where a reader stopped in a segment, so the next read of the same reader starts there. */
export interface ReadPosition {
  file: string;
  offset: number;
  after: number;
}
