import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReadPosition, Spool } from './spool.js';
import type { AuditLog, Sink, SinkStatus } from './types.js';

const BATCH = 500;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
/** A cursor write is a small file rename; once per this interval is plenty (delivery is at-least-once). */
const CURSOR_WRITE_MS = 250;
const LINGER_MS = 10;

/**
 * Feeds one sink from the spool: from its persisted cursor, in order, in batches, retrying with
 * back-off when the sink fails, and catching up when it returns. Never throws into the request
 * path: a sink's trouble is its runner's alone.
 */
export class SinkRunner {
  private delivered = 0;
  private persisted = 0;
  private position: ReadPosition | undefined;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  private lastCursorWrite = 0;
  private cursorTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastError: string | undefined;
  private lastDeliveredAt: string | undefined;
  private caughtUp: Array<() => void> = [];

  constructor(
    private readonly spool: Spool,
    readonly sink: Sink,
    private readonly cursorDir: string,
    private readonly log: AuditLog,
  ) {}

  /** Where the sink resumes: what it says it holds, else its cursor, else the oldest record kept. */
  async start(oldestKept: number): Promise<void> {
    const held = await this.sink.start?.();
    const cursor = await this.readCursor();
    this.delivered = held ?? cursor ?? oldestKept - 1;
    this.persisted = this.delivered;
    this.wake();
  }

  /**
   * New records are durable: deliver them, after a short linger that gathers the records of the
   * next few milliseconds into the same delivery (a sink is not on any request's path, and one
   * index transaction or file write per request would cost more than the request itself).
   */
  wake(): void {
    if (this.closed || this.running || this.retryTimer || this.lingerTimer) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.runNow();
    }, LINGER_MS);
    this.lingerTimer.unref();
  }

  private runNow(): void {
    if (this.closed || this.running || this.retryTimer) return;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.running = this.run().then((outcome) => {
      this.running = undefined;
      // Records made durable while this run was finishing found it busy: take them now.
      if (outcome === 'done' && this.delivered < this.spool.head.sequence) this.wake();
    });
  }

  status(): SinkStatus {
    return {
      name: this.sink.name,
      deliveredThrough: this.delivered,
      lag: Math.max(0, this.spool.head.sequence - this.delivered),
      lastError: this.lastError,
      lastDeliveredAt: this.lastDeliveredAt,
    };
  }

  /** The cursor on disk: what a restart would resume from (the spool keeps everything after it). */
  get persistedThrough(): number {
    return this.persisted;
  }

  /** Waits until the sink holds everything durable so far, or the deadline passes. */
  async drain(deadlineMs: number): Promise<boolean> {
    if (this.delivered >= this.spool.head.sequence) return true;
    const caught = new Promise<boolean>((resolve) => this.caughtUp.push(() => resolve(true)));
    const late = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), deadlineMs).unref());
    this.runNow();
    return Promise.race([caught, late]);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.cursorTimer);
    clearTimeout(this.lingerTimer);
    await this.running;
    await this.writeCursor().catch(() => undefined);
    await this.sink.close?.().catch(() => undefined);
  }

  private async run(): Promise<'done' | 'failed' | 'stalled'> {
    while (!this.closed && this.delivered < this.spool.head.sequence) {
      const { entries, position } = await this.spool.read(this.delivered, BATCH, this.position);
      // Nothing readable after the cursor (the spool lost it): wait for the next records.
      if (entries.length === 0) return 'stalled';
      try {
        await this.sink.deliver(entries);
      } catch (error) {
        this.failed(error);
        return 'failed';
      }
      this.position = position;
      this.delivered = entries[entries.length - 1]!.record.sequence;
      this.lastDeliveredAt = new Date().toISOString();
      if (this.lastError !== undefined) {
        this.log.info(
          { sink: this.sink.name, deliveredThrough: this.delivered },
          'audit sink caught up again',
        );
        this.lastError = undefined;
      }
      this.retryMs = FIRST_RETRY_MS;
      await this.maybeWriteCursor();
    }
    if (this.delivered >= this.spool.head.sequence) {
      for (const resolve of this.caughtUp.splice(0)) resolve();
    }
    return 'done';
  }

  private failed(error: unknown): void {
    const message = describe(error);
    if (this.lastError === undefined) {
      this.log.warn(
        { sink: this.sink.name, error: message, deliveredThrough: this.delivered },
        'audit sink failed; records stay in the spool and are retried',
      );
    }
    this.lastError = message;
    this.position = undefined;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.wake();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  private get cursorFile(): string {
    return path.join(this.cursorDir, `${this.sink.name.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
  }

  private async readCursor(): Promise<number | undefined> {
    try {
      const stored = JSON.parse(await readFile(this.cursorFile, 'utf8')) as { sequence?: unknown };
      return Number.isSafeInteger(stored.sequence) ? (stored.sequence as number) : undefined;
    } catch {
      return undefined;
    }
  }

  private async maybeWriteCursor(): Promise<void> {
    const wait = CURSOR_WRITE_MS - (Date.now() - this.lastCursorWrite);
    if (wait > 0) {
      // Too soon after the last write: save it a little later (so an idle sink's cursor is current).
      this.cursorTimer ??= setTimeout(() => {
        this.cursorTimer = undefined;
        void this.saveCursor();
      }, wait).unref();
      return;
    }
    await this.saveCursor();
  }

  private saveCursor(): Promise<void> {
    return this.writeCursor().catch((error: unknown) =>
      this.log.warn({ sink: this.sink.name, error: describe(error) }, 'audit sink cursor not saved'),
    );
  }

  private async writeCursor(): Promise<void> {
    if (this.persisted === this.delivered) return;
    const sequence = this.delivered;
    this.lastCursorWrite = Date.now();
    // The spool drops what every cursor has passed: a sink's copy is durable before its cursor moves.
    await this.sink.flush?.();
    await mkdir(this.cursorDir, { recursive: true, mode: 0o700 });
    const temporary = `${this.cursorFile}.tmp`;
    await writeFile(temporary, JSON.stringify({ sequence }), { mode: 0o600 });
    await rename(temporary, this.cursorFile);
    this.persisted = sequence;
  }
}

/** An error as one safe line: our sinks' errors carry no record content. */
export function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (code && !message.includes(code) ? `${code}: ${message}` : message).slice(0, 300);
}
