import {
  type SecureReader,
  type SecureStore,
  type SecureTransaction,
  readJson,
  writeJson,
} from '../barrier/secure-store.js';
import type { DeletedHead, ObjectHead, VersionRecord } from './types.js';

/**
 * Persistence of one vault's objects of one kind through its barrier view:
 *   {collection}/{name}                   head of a live object
 *   deleted{collection}/{name}            head of a soft-deleted object
 *   {collection}-versions/{name}/{ver}    every version, live or deleted
 * `name` is lower-cased, which is how Key Vault names ignore case. Versions stay where they are
 * on delete and recover; only the head moves, so both are one small write.
 */
function objectPaths(collection: string) {
  return {
    head: (key: string) => `${collection}/${key}`,
    deletedHead: (key: string) => `deleted${collection}/${key}`,
    versions: (key: string) => `${collection}-versions/${key}/`,
    version: (key: string, version: string) => `${collection}-versions/${key}/${version}`,
  };
}

const HEAD_PATH = /^(secrets|keys|certificates)\/[^/]+$/;

/**
 * Whether a path in a vault's view is the head of a live object: its name and latest version
 * id, nothing secret (the barrier may keep such plaintext, see barrier/plaintext-memo.ts).
 */
export function isObjectHeadPath(path: string): boolean {
  return HEAD_PATH.test(path);
}

export function objectReader<R extends VersionRecord>(source: SecureReader, collection: string) {
  const paths = objectPaths(collection);
  return {
    head: (key: string) => readJson<ObjectHead>(source, paths.head(key)),
    deletedHead: (key: string) => readJson<DeletedHead>(source, paths.deletedHead(key)),
    version: (key: string, version: string) => readJson<R>(source, paths.version(key, version)),
    listHeads: (after: string | undefined, limit: number) => source.list(`${collection}/`, { after, limit }),
    listDeletedHeads: (after: string | undefined, limit: number) =>
      source.list(`deleted${collection}/`, { after, limit }),
    listVersions: (key: string, after: string | undefined, limit?: number) =>
      source.list(paths.versions(key), { after, limit }),
  };
}

/** Writes inside a transaction the caller opened, so several kinds can change together. */
export function objectWriter<R extends VersionRecord>(tx: SecureTransaction, collection: string) {
  const paths = objectPaths(collection);
  return {
    ...objectReader<R>(tx, collection),
    putHead: (key: string, head: ObjectHead) => writeJson(tx, paths.head(key), head),
    putDeletedHead: (key: string, head: DeletedHead) => writeJson(tx, paths.deletedHead(key), head),
    putVersion: (key: string, record: R) => writeJson(tx, paths.version(key, record.version), record),
    removeHead: (key: string) => tx.delete(paths.head(key)),
    removeDeletedHead: (key: string) => tx.delete(paths.deletedHead(key)),
    removeVersion: (key: string, version: string) => tx.delete(paths.version(key, version)),
    /** For records a domain keeps beside its objects (a key's rotation policy). */
    removePath: (path: string) => tx.delete(path),
    readPath: (path: string) => readJson<unknown>(tx, path),
    writePath: (path: string, value: unknown) => writeJson(tx, path, value),
  };
}

export function objectStore<R extends VersionRecord>(store: SecureStore, collection: string) {
  return {
    ...objectReader<R>(store, collection),
    transaction: <T>(work: (tx: ObjectWriter<R>) => Promise<T>) =>
      store.transaction((tx) => work(objectWriter<R>(tx, collection))),
  };
}

export type ObjectWriter<R extends VersionRecord> = ReturnType<typeof objectWriter<R>>;
export type ObjectStore<R extends VersionRecord> = ReturnType<typeof objectStore<R>>;
export type ObjectReader<R extends VersionRecord> = Pick<ObjectStore<R>, 'head' | 'version'>;
