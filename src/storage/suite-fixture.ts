import type { Storage } from './types.js';

/**
 * What a backend hands the suite for one test. The suite owns the lifecycle: it closes
 * `storage` (and whatever `reopen` returned) itself, then calls `cleanup`.
 */
export interface StorageFixture {
  storage: CachedStorage;
  /** A new Storage over the same durable data; the suite has closed the previous one first. */
  reopen?: () => Promise<CachedStorage>;
  /** Removes the test's data; every Storage of this fixture is closed by then. */
  cleanup: () => Promise<void>;
}

/** A backend with a bounded cache of committed rows in front of its reads. */
export interface CachedStorage extends Storage {
  cacheUsage(): { rows: number; bytes: number };
}

/** `cacheBytes` bounds the backend's row cache (0 turns it off); absent, the backend's default. */
export type OpenStorage = (options?: { cacheBytes?: number }) => Promise<StorageFixture>;

/** A second fixture beside the test's own, closed and cleaned up whatever happens. */
export async function withStorage(
  open: OpenStorage,
  options: { cacheBytes: number },
  work: (storage: CachedStorage) => Promise<void>,
): Promise<void> {
  const fixture = await open(options);
  try {
    await work(fixture.storage);
  } finally {
    await fixture.storage.close();
    await fixture.cleanup();
  }
}

export function bytes(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

export function pad(n: number): string {
  return String(n).padStart(3, '0');
}
