import { constants, ftruncateSync, write, writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { type ChainHead, EMPTY_CHAIN, recordHash } from './chain.js';
import type { SpooledEntry, SpooledRecord } from './record.js';

/**
 * The files of the spool: segments named by the sequence of their first record
 * (`spool-0000000000000001.jsonl`), each a run of canonical record lines.
 */

const SEGMENT_PATTERN = /^spool-(\d{16})\.jsonl$/;
/** The last record of a segment is found in its tail; records are far smaller than this. */
const TAIL_BYTES = 1024 * 1024;
/** Far above any record (they are a few KB); a longer run without a newline is not a record. */
const MAX_LINE_BYTES = 1024 * 1024;

export interface Segment {
  firstSequence: number;
  file: string;
}

export const segmentName = (firstSequence: number) =>
  `spool-${String(firstSequence).padStart(16, '0')}.jsonl`;

export async function listSegments(dir: string): Promise<Segment[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const names = await readdir(dir);
  return names
    .map((name) => SEGMENT_PATTERN.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ firstSequence: Number(match[1]), file: path.join(dir, match[0]) }))
    .sort((a, b) => a.firstSequence - b.firstSequence);
}

/** Parses one line of the log into a record whose hash holds, or undefined. */
export function parseEntry(line: string): SpooledEntry | undefined {
  try {
    const record = JSON.parse(line) as SpooledRecord;
    if (typeof record !== 'object' || record === null || !Number.isSafeInteger(record.sequence))
      return undefined;
    return recordHash(record) === record.hash ? { record, line } : undefined;
  } catch {
    return undefined;
  }
}

export interface SegmentTail {
  /** The last whole, valid record, if any. */
  last?: SpooledEntry;
  /** Bytes after the last newline: a write cut short by a crash, never acknowledged. */
  partialBytes: number;
  /** Whole lines after `last` that are not valid records (damage). */
  damagedLines: number;
  size: number;
}

/**
 * Reads the end of a segment. Only regular files are read: anything else (a device, a
 * directory) has no records to recover.
 */
export async function readSegmentTail(file: string): Promise<SegmentTail | undefined> {
  const info = await stat(file);
  if (!info.isFile()) return undefined;
  const handle = await open(file, constants.O_RDONLY);
  try {
    const length = Math.min(info.size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, info.size - length);
    const text = buffer.toString('utf8');
    const end = text.lastIndexOf('\n');
    const partialBytes = Buffer.byteLength(text.slice(end + 1), 'utf8');
    const lines = end < 0 ? [] : text.slice(0, end).split('\n');
    // The first line of a cut-off tail may itself be cut: it is skipped unless the tail is the whole file.
    if (length < info.size) lines.shift();
    let damagedLines = 0;
    for (let index = lines.length - 1; index >= 0; index--) {
      const entry = parseEntry(lines[index]!);
      if (entry) return { last: entry, partialBytes, damagedLines, size: info.size };
      damagedLines++;
    }
    return { partialBytes, damagedLines, size: info.size };
  } finally {
    await handle.close();
  }
}

/** Cuts a write that a crash left half done, so the next record starts on a line of its own. */
export async function dropPartialLine(file: string, tail: SegmentTail): Promise<number> {
  const size = tail.size - tail.partialBytes;
  if (tail.partialBytes > 0) await truncate(file, size);
  return size;
}

/**
 * Writes all of `bytes` (a write may take fewer than asked), through the callback API on the
 * handle's descriptor: one thread-pool request per write, without the promise API's extra work.
 */
export async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const written = await new Promise<number>((resolve, reject) =>
      write(handle.fd, bytes, offset, bytes.length - offset, null, (error, count) =>
        error ? reject(error) : resolve(count),
      ),
    );
    if (written <= 0) throw Object.assign(new Error('the write made no progress'), { code: 'EIO' });
    offset += written;
  }
}

/**
 * Writes all of `bytes` at the end of the file (`sizeBefore` long), on the calling thread: a
 * write into the page cache. On failure whatever part reached the file is cut off again.
 */
export function writeAllSync(fd: number, bytes: Buffer, sizeBefore: number): void {
  let offset = 0;
  try {
    while (offset < bytes.length) {
      const written = writeSync(fd, bytes, offset, bytes.length - offset);
      if (written <= 0) throw Object.assign(new Error('the write made no progress'), { code: 'EIO' });
      offset += written;
    }
  } catch (error) {
    try {
      ftruncateSync(fd, sizeBefore);
    } catch {
      // Not a regular file (or gone): there is nothing of this batch to keep either way.
    }
    throw error;
  }
}

/** Makes a new directory entry durable: without it a crash can lose a whole new file. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Reads whole records from a segment from a byte offset, at most `limit` of them with a
 * sequence above `after`; returns them with the offset just past the last line read. Lines
 * that are not valid records are skipped and counted.
 */
export async function readSegmentFrom(
  file: string,
  offset: number,
  after: number,
  limit: number,
): Promise<{ entries: SpooledEntry[]; offset: number; damaged: number }> {
  const handle = await open(file, constants.O_RDONLY);
  const entries: SpooledEntry[] = [];
  let damaged = 0;
  // Bytes, not strings: a chunk may end inside a multi-byte character.
  let base = offset;
  let pending = Buffer.alloc(0);
  try {
    // A device or a directory holds no records (and /dev/zero-like files never end).
    if (!(await handle.stat()).isFile()) return { entries, offset, damaged: 1 };
    const chunk = Buffer.alloc(256 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, base + pending.length);
      if (bytesRead === 0) return { entries, offset: base, damaged };
      pending = Buffer.concat([pending, chunk.subarray(0, bytesRead)]);
      // No record is this long: a run without a newline is damage, skipped rather than buffered.
      if (pending.length > MAX_LINE_BYTES && pending.indexOf(10) < 0) {
        damaged++;
        base += pending.length;
        pending = Buffer.alloc(0);
        continue;
      }
      let start = 0;
      for (let newline = pending.indexOf(10); newline >= 0; newline = pending.indexOf(10, start)) {
        const entry = parseEntry(pending.toString('utf8', start, newline));
        start = newline + 1;
        if (!entry) damaged++;
        else if (entry.record.sequence > after) entries.push(entry);
        if (entries.length >= limit) return { entries, offset: base + start, damaged };
      }
      pending = pending.subarray(start);
      base += start;
    }
  } finally {
    await handle.close();
  }
}

/**
 * What the spool's files say at start: the chain head from the last valid record, the segments,
 * and the one to go on writing (none when the newest ends in damage or is not a regular file:
 * new records then start a segment of their own). A line a crash cut short is dropped.
 */
export async function recoverSegments(
  dir: string,
  onDamage: ((message: string) => void) | undefined,
): Promise<{ head: ChainHead; segments: Segment[]; current?: { segment: Segment; size: number } }> {
  const segments = await listSegments(dir);
  for (let index = segments.length - 1; index >= 0; index--) {
    const segment = segments[index]!;
    const tail = await readSegmentTail(segment.file);
    if (!tail) {
      onDamage?.(`${segment.file} is not a regular file; records go to a new segment`);
      continue;
    }
    if (!tail.last) {
      if (tail.size - tail.partialBytes > 0)
        onDamage?.(`${segment.file} holds no valid record; records go to a new segment`);
      else await dropPartialLine(segment.file, tail);
      continue;
    }
    const head = { sequence: tail.last.record.sequence, hash: tail.last.record.hash };
    const size = await dropPartialLine(segment.file, tail);
    // Whole lines after the last record are damage: new records start a segment of their own.
    if (tail.damagedLines > 0) {
      onDamage?.(
        `${segment.file} ends with ${tail.damagedLines} line(s) that are not records, after record ${head.sequence}`,
      );
      return { head, segments };
    }
    return { head, segments, current: { segment, size } };
  }
  return { head: EMPTY_CHAIN, segments };
}

/** Where a reader stopped in a segment, so the next read of the same reader starts there. */
export interface ReadPosition {
  file: string;
  offset: number;
  after: number;
}

/** Records with a sequence above `after`, at most `limit`, from the segments on disk. */
export async function readSegments(
  segments: Segment[],
  after: number,
  limit: number,
  position: ReadPosition | undefined,
): Promise<{ entries: SpooledEntry[]; position?: ReadPosition }> {
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
