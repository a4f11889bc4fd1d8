import { readJson, type SecureStore, writeJson } from '../barrier/secure-store.js';
import type { GroupRecord, UserRecord } from './types.js';

/** Persistence of users: `users/{objectId}` plus an index `upns/{lower-case UPN}`. */
export function createUserStore(store: SecureStore) {
  const userPath = (objectId: string) => `users/${objectId}`;
  const upnPath = (upn: string) => `upns/${upn.toLowerCase()}`;

  return {
    get: (objectId: string) => readJson<UserRecord>(store, userPath(objectId)),

    async getByUpn(upn: string): Promise<UserRecord | undefined> {
      const objectId = await readJson<string>(store, upnPath(upn));
      return objectId === undefined ? undefined : readJson<UserRecord>(store, userPath(objectId));
    },

    list: () => listRecords<UserRecord>(store, 'users/'),

    /** Refuses (returns false) when another user already holds the UPN, checked in the same transaction. */
    create: (record: UserRecord) =>
      store.transaction(async (tx) => {
        if ((await tx.get(upnPath(record.userPrincipalName))) !== undefined) return false;
        await writeJson(tx, userPath(record.objectId), record);
        await writeJson(tx, upnPath(record.userPrincipalName), record.objectId);
        return true;
      }),

    save: (record: UserRecord) => writeJson(store, userPath(record.objectId), record),

    remove: (record: UserRecord) =>
      store.transaction(async (tx) => {
        await tx.delete(userPath(record.objectId));
        await tx.delete(upnPath(record.userPrincipalName));
      }),
  };
}

/** Persistence of groups: `groups/{objectId}`. */
export function createGroupStore(store: SecureStore) {
  const groupPath = (objectId: string) => `groups/${objectId}`;
  return {
    get: (objectId: string) => readJson<GroupRecord>(store, groupPath(objectId)),
    list: () => listRecords<GroupRecord>(store, 'groups/'),
    save: (record: GroupRecord) => writeJson(store, groupPath(record.objectId), record),
    remove: (objectId: string) => store.delete(groupPath(objectId)),
  };
}

async function listRecords<T>(store: SecureStore, prefix: string): Promise<T[]> {
  const ids = await store.list(prefix);
  const records = await Promise.all(ids.map((id) => readJson<T>(store, prefix + id)));
  return records.filter((record): record is Awaited<T> => record !== undefined) as T[];
}

export type UserStore = ReturnType<typeof createUserStore>;
export type GroupStore = ReturnType<typeof createGroupStore>;
