import type { ListOptions } from '../storage/types.js';

/** Plaintext access above the barrier. Paths are relative to the view; list returns relative keys. */
export interface SecureReader {
  get(path: string): Promise<Buffer | undefined>;
  /** Child keys under `prefix`, relative to it, in key order; `after` is relative too. */
  list(prefix: string, options?: ListOptions): Promise<string[]>;
}

export interface SecureTransaction extends SecureReader {
  put(path: string, value: Uint8Array): Promise<void>;
  delete(path: string): Promise<void>;
}

export interface SecureStore extends SecureTransaction {
  transaction<T>(work: (tx: SecureTransaction) => Promise<T>): Promise<T>;
}

/** A view confined to one prefix, so a domain store cannot reach outside its own subtree. */
export function prefixedView(parent: SecureStore, root: string): SecureStore {
  const wrap = (inner: SecureTransaction): SecureTransaction => ({
    get: (path) => inner.get(root + path),
    list: (prefix, options) => inner.list(root + prefix, options),
    put: (path, value) => inner.put(root + path, value),
    delete: (path) => inner.delete(root + path),
  });
  return { ...wrap(parent), transaction: (work) => parent.transaction((tx) => work(wrap(tx))) };
}

export async function readJson<T>(store: SecureReader, path: string): Promise<T | undefined> {
  const bytes = await store.get(path);
  return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as T);
}

export async function writeJson(store: SecureTransaction, path: string, value: unknown): Promise<void> {
  await store.put(path, Buffer.from(JSON.stringify(value), 'utf8'));
}
