/**
 * The physical storage interface. Backends are untrusted: above the barrier they only ever
 * see ciphertext and keys (paths). Keys are '/'-separated paths; list order is byte order of
 * the key, which makes `after`-based paging stable under concurrent writes.
 */
export interface StorageReader {
  get(key: string): Promise<Buffer | undefined>;
  /** Keys under `prefix` (which should end in '/'), strictly after `after`, in key order. */
  list(prefix: string, options?: ListOptions): Promise<string[]>;
}

export interface StorageWriter {
  put(key: string, value: Buffer): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface ListOptions {
  /** Exclusive lower bound, a full key. */
  after?: string;
  limit?: number;
}

export type StorageTransaction = StorageReader & StorageWriter;

export interface Storage extends StorageReader, StorageWriter {
  /**
   * Runs `work` atomically: every write in it commits together, or none does, and reads inside
   * see the transaction's own writes. Transactions are serialised against each other, so a
   * read-modify-write inside one cannot lose an update. The promise resolves only once the
   * commit is durable.
   */
  transaction<T>(work: (tx: StorageTransaction) => Promise<T>): Promise<T>;
  /**
   * A consistent read-only view of every entry as of one instant, for whole backups: writes go
   * on meanwhile and are not seen. SQLite holds a read transaction on its own connection;
   * PostgreSQL would hold a REPEATABLE READ READ ONLY transaction with a cursor. Close it when done.
   */
  snapshot(): Promise<StorageSnapshot>;
  close(): Promise<void>;
}

export interface StorageSnapshot {
  /** How many entries it holds (under `prefix`, when given). */
  count(prefix?: string): Promise<number>;
  get(key: string): Promise<Buffer | undefined>;
  /** Every entry (under `prefix`, when given) in key order, in batches of at most `batchSize`. */
  entries(batchSize: number, prefix?: string): AsyncIterable<Array<[string, Buffer]>>;
  close(): Promise<void>;
}
