import { readJson, type SecureStore, writeJson } from '../barrier/secure-store.js';
import type { PrincipalRecord } from './types.js';

/** Persistence of principals: `principals/{objectId}` plus an index `client-ids/{clientId}`. */
export function createPrincipalStore(store: SecureStore) {
  const principalPath = (objectId: string) => `principals/${objectId}`;
  const clientIndexPath = (clientId: string) => `client-ids/${clientId.toLowerCase()}`;

  return {
    get: (objectId: string) => readJson<PrincipalRecord>(store, principalPath(objectId)),

    async getByClientId(clientId: string): Promise<PrincipalRecord | undefined> {
      const objectId = await readJson<string>(store, clientIndexPath(clientId));
      return objectId === undefined ? undefined : readJson<PrincipalRecord>(store, principalPath(objectId));
    },

    async list(): Promise<PrincipalRecord[]> {
      const ids = await store.list('principals/');
      const records = await Promise.all(ids.map((id) => readJson<PrincipalRecord>(store, principalPath(id))));
      return records.filter((record): record is PrincipalRecord => record !== undefined);
    },

    save: (record: PrincipalRecord) =>
      store.transaction(async (tx) => {
        await writeJson(tx, principalPath(record.objectId), record);
        await writeJson(tx, clientIndexPath(record.clientId), record.objectId);
      }),

    remove: (record: PrincipalRecord) =>
      store.transaction(async (tx) => {
        await tx.delete(principalPath(record.objectId));
        await tx.delete(clientIndexPath(record.clientId));
      }),
  };
}

export type PrincipalStore = ReturnType<typeof createPrincipalStore>;
