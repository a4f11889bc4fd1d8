import {
  readJson,
  type SecureReader,
  type SecureStore,
  type SecureTransaction,
  writeJson,
} from '../barrier/secure-store.js';
import type { DeletedSecretHead, SecretHead, SecretVersionRecord } from './types.js';

/**
 * Persistence of one vault's secrets through its barrier view:
 *   secrets/{name}                  head of a live secret
 *   deletedsecrets/{name}           head of a soft-deleted secret
 *   secret-versions/{name}/{ver}    every version, live or deleted
 * `name` is lower-cased, which is how Key Vault names ignore case. Versions stay where they are
 * on delete and recover; only the head moves, so both are one small write.
 */
export const secretPaths = {
  head: (key: string) => `secrets/${key}`,
  deletedHead: (key: string) => `deletedsecrets/${key}`,
  versions: (key: string) => `secret-versions/${key}/`,
  version: (key: string, version: string) => `secret-versions/${key}/${version}`,
};

export function secretStore(store: SecureStore) {
  return {
    transaction: <T>(work: (tx: SecretTransaction) => Promise<T>) =>
      store.transaction((tx) => work(secretTx(tx))),
    ...secretReader(store),
  };
}

export type SecretTransaction = ReturnType<typeof secretTx>;

function secretReader(reader: SecureReader) {
  return {
    head: (key: string) => readJson<SecretHead>(reader, secretPaths.head(key)),
    deletedHead: (key: string) => readJson<DeletedSecretHead>(reader, secretPaths.deletedHead(key)),
    version: (key: string, version: string) =>
      readJson<SecretVersionRecord>(reader, secretPaths.version(key, version)),
    listHeads: (after: string | undefined, limit: number) => reader.list('secrets/', { after, limit }),
    listDeletedHeads: (after: string | undefined, limit: number) =>
      reader.list('deletedsecrets/', { after, limit }),
    listVersions: (key: string, after: string | undefined, limit?: number) =>
      reader.list(secretPaths.versions(key), { after, limit }),
  };
}

function secretTx(tx: SecureTransaction) {
  return {
    ...secretReader(tx),
    putHead: (key: string, head: SecretHead) => writeJson(tx, secretPaths.head(key), head),
    putDeletedHead: (key: string, head: DeletedSecretHead) =>
      writeJson(tx, secretPaths.deletedHead(key), head),
    putVersion: (key: string, record: SecretVersionRecord) =>
      writeJson(tx, secretPaths.version(key, record.version), record),
    removeHead: (key: string) => tx.delete(secretPaths.head(key)),
    removeDeletedHead: (key: string) => tx.delete(secretPaths.deletedHead(key)),
    removeVersion: (key: string, version: string) => tx.delete(secretPaths.version(key, version)),
  };
}

export type SecretStore = ReturnType<typeof secretStore>;
