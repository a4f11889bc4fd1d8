import { Worker } from 'node:worker_threads';
import type { SpooledEntry } from '../record.js';
import type { Sink } from '../types.js';
import type { IndexQuery } from './index-db.js';
import type { AllWorkersPage, WorkerIndexes } from './worker-indexes.js';
import { type IndexRequest, type IndexResponse, OPEN_FAILED_ID } from './index-protocol.js';

const WORKER_URL = new URL('./index-worker.js', import.meta.url);

type Body<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * The query index as a sink: fed from the spool like any other, with its cursor committed in
 * its own database, and asked queries; the SQLite work runs on a worker thread.
 */
export class IndexSink implements Sink {
  readonly name = 'index';
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private failure: Error | undefined;

  /** `workers`: with `coffer server --workers N`, every worker's index, so queries answer for all. */
  constructor(
    file: string,
    readonly workers?: WorkerIndexes,
  ) {
    this.worker = new Worker(WORKER_URL, { workerData: { file, workers } });
    this.worker.unref();
    this.worker.on('message', (response: IndexResponse) => {
      if (response.id === OPEN_FAILED_ID && !response.ok) {
        this.fail(new Error(`the audit index could not open: ${response.error}`));
        return;
      }
      const waiter = this.pending.get(response.id);
      if (!waiter) return;
      this.pending.delete(response.id);
      if (response.ok) waiter.resolve(response.result);
      else waiter.reject(new Error(`audit index: ${response.error}`));
    });
    // After an open failure (above) this adds nothing: the first failure is the one reported.
    this.worker.on('error', (error) =>
      this.fail(new Error(`audit index thread failed: ${describeThreadError(error)}`)),
    );
    this.worker.on('exit', () => this.fail(new Error('audit index thread stopped')));
  }

  async start(): Promise<number> {
    return (await this.call({ type: 'cursor' })) as number;
  }

  async deliver(entries: SpooledEntry[]): Promise<void> {
    const lines = entries
      .filter((entry) => entry.record.category === 'AuditEvent')
      .map((entry) => entry.line);
    await this.call({ type: 'insert', lines, through: entries[entries.length - 1]!.record.sequence });
  }

  async query(query: IndexQuery): Promise<string[]> {
    return (await this.call({ type: 'query', query })) as string[];
  }

  /** Every worker's records, merged (`start`: one position per worker, undefined for the start). */
  async queryAll(query: IndexQuery, start: ReadonlyArray<number | undefined>): Promise<AllWorkersPage> {
    return (await this.call({
      type: 'query-all',
      query,
      start: start.map((position) => position ?? null),
    })) as AllWorkersPage;
  }

  async close(): Promise<void> {
    if (!this.failure) await this.call({ type: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }

  private call(request: Body<IndexRequest>): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // An outstanding call holds the process open, as any pending I/O does.
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ ...request, id });
    }).finally(() => {
      if (this.pending.size === 0) this.worker.unref();
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

/** A thread's error arrives deserialized, sometimes as a bare object: name what it carries. */
function describeThreadError(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof message === 'string' && message !== '') return message;
  if (typeof code === 'string') return code;
  return 'no reason given';
}
