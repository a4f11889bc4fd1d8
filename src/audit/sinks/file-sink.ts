import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { dropPartialLine, readSegmentTail, syncDirectory, writeAll } from '../spool-files.js';
import type { SpooledEntry } from '../record.js';
import type { Sink } from '../types.js';

export interface FileSinkOptions {
  dir: string;
  /** Start a new file past this size. */
  maxFileBytes: number;
  /** Start a new file when the current one is older than this. */
  rotateMs: number;
  /** Keep at most this many files (the oldest go first); 0 keeps them all. */
  maxFiles: number;
}

const FILE_PATTERN = /^audit-(\d{16})\.jsonl$/;
const fileName = (firstSequence: number) => `audit-${String(firstSequence).padStart(16, '0')}.jsonl`;

/**
 * The audit log as JSON lines in files of their own (mode 0600), rotated by size and age. Each
 * file is named by the sequence of its first record, so `audit-*.jsonl` lists them in order and
 * `coffer audit verify DIR/audit-*.jsonl` checks the chain across them. Files are synced
 * before the sink's cursor moves (so the spool keeps whatever a power loss could take from
 * them), and after a restart the sink resumes from the last record its files hold, so a file
 * never holds a record twice.
 */
export class FileSink implements Sink {
  readonly name: string;
  private handle: FileHandle | undefined;
  private current: { file: string; size: number; openedAt: number } | undefined;
  private lastWritten = 0;

  constructor(
    private readonly options: FileSinkOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.name = `file-${path.resolve(options.dir)}`;
  }

  async start(): Promise<number | undefined> {
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    const files = await this.files();
    const newest = files[files.length - 1];
    if (!newest) return undefined;
    const tail = await readSegmentTail(newest.file);
    if (!tail?.last) return undefined;
    const size = await dropPartialLine(newest.file, tail);
    this.lastWritten = tail.last.record.sequence;
    this.current = { file: newest.file, size, openedAt: await this.firstTime(newest.file) };
    return this.lastWritten;
  }

  async deliver(entries: SpooledEntry[]): Promise<void> {
    const fresh = entries.filter((entry) => entry.record.sequence > this.lastWritten);
    for (const run of this.runsPerFile(fresh)) {
      const bytes = Buffer.from(run.map((entry) => `${entry.line}\n`).join(''), 'utf8');
      const handle = await this.fileFor(run[0]!.record.sequence, bytes.length);
      try {
        await writeAll(handle, bytes);
      } catch (error) {
        await this.reset();
        throw error;
      }
      this.current!.size += bytes.length;
      this.lastWritten = run[run.length - 1]!.record.sequence;
    }
  }

  /** The entries cut where a file would outgrow its size limit (a file holds at least one record). */
  private runsPerFile(entries: SpooledEntry[]): SpooledEntry[][] {
    const runs: SpooledEntry[][] = [];
    let run: SpooledEntry[] = [];
    let size = this.current?.size ?? 0;
    for (const entry of entries) {
      const length = Buffer.byteLength(entry.line, 'utf8') + 1;
      if (run.length > 0 && size + length > this.options.maxFileBytes) {
        runs.push(run);
        run = [];
        size = 0;
      }
      run.push(entry);
      size += length;
    }
    if (run.length > 0) runs.push(run);
    return runs;
  }

  /** Syncs the current file: the runner does it before moving the cursor, a few times a second. */
  async flush(): Promise<void> {
    await this.handle?.datasync();
  }

  async close(): Promise<void> {
    await this.handle?.datasync();
    await this.handle?.close();
    this.handle = undefined;
  }

  private async fileFor(firstSequence: number, length: number): Promise<FileHandle> {
    const current = this.current;
    const full = current && current.size > 0 && current.size + length > this.options.maxFileBytes;
    const old = current && current.size > 0 && this.now() - current.openedAt >= this.options.rotateMs;
    if (!current || full || old) {
      // The finished file is synced before the next one starts: flush() only syncs the current one.
      await this.handle?.datasync();
      await this.reset();
      const file = path.join(this.options.dir, fileName(firstSequence));
      this.current = { file, size: 0, openedAt: this.now() };
      this.handle = await open(file, 'a', 0o600);
      await syncDirectory(this.options.dir);
      await this.removeOldFiles();
    }
    if (!this.handle) {
      this.handle = await open(this.current!.file, 'a', 0o600);
      // A failed write may have left part of a line: cut back to the last whole record.
      await this.handle.truncate(this.current!.size);
    }
    return this.handle;
  }

  private async reset(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }

  private async files(): Promise<Array<{ file: string; first: number }>> {
    const names = await readdir(this.options.dir);
    return names
      .map((name) => FILE_PATTERN.exec(name))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => ({ file: path.join(this.options.dir, match[0]), first: Number(match[1]) }))
      .sort((a, b) => a.first - b.first);
  }

  private async removeOldFiles(): Promise<void> {
    if (this.options.maxFiles <= 0) return;
    const files = await this.files();
    for (const { file } of files.slice(0, Math.max(0, files.length - this.options.maxFiles))) {
      await unlink(file).catch(() => undefined);
    }
  }

  /** When the file was started: the time of its first record. */
  private async firstTime(file: string): Promise<number> {
    const handle = await open(file, constants.O_RDONLY);
    try {
      const buffer = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const line = buffer.toString('utf8', 0, bytesRead).split('\n')[0] ?? '';
      const time = Date.parse((JSON.parse(line) as { time?: string }).time ?? '');
      return Number.isFinite(time) ? time : this.now();
    } catch {
      return this.now();
    } finally {
      await handle.close();
    }
  }
}
