import type { SpooledEntry } from './record.js';

/** Where the audit code writes its own operational lines (the server's pino logger). */
export interface AuditLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/**
 * A destination of the audit log. It reads the spool through a runner that keeps its own
 * cursor, so a slow or failed sink never holds up a request and loses nothing: it catches up.
 */
export interface Sink {
  /** Stable across restarts: names the sink's cursor file. */
  readonly name: string;
  /**
   * The last sequence this sink already holds, when it can tell better than its cursor (the
   * file sink reads its own files), so a crash between delivery and cursor write duplicates
   * nothing.
   */
  start?(): Promise<number | undefined>;
  /** Delivers records in order; resolves once accepted, rejects to be retried from the same record. */
  deliver(entries: SpooledEntry[]): Promise<void>;
  /** Makes what was delivered durable; the runner calls it before it saves the sink's cursor. */
  flush?(): Promise<void>;
  close?(): Promise<void>;
}

export interface SinkStatus {
  name: string;
  /** The last sequence delivered. */
  deliveredThrough: number;
  /** Records in the spool this sink has not received yet. */
  lag: number;
  lastError?: string;
  lastDeliveredAt?: string;
}

export interface AuditStats {
  /** Sequence of the last durable record. */
  headSequence: number;
  /** Records the slowest sink has not received yet. */
  spoolDepth: number;
  spoolSegments: number;
  sinks: SinkStatus[];
  /** Since when the spool cannot be written, and why (absent when it can). */
  outage?: { since: string; code: string };
  /** Requests refused (failClosed) and records lost (fail open) because the spool could not be written. */
  refusedRequests: number;
  lostRecords: number;
}
