import { type SecureStore, type SecureTransaction, readJson, writeJson } from '../barrier/secure-store.js';
import type { DeadLetterRecord, DeliveryRecord, SubscriptionRecord } from './types.js';

/** What a sweep already sent for one object version, so a restart sends nothing twice. */
export interface SentMarker {
  nearExpiry?: string;
  expired?: string;
}

const paths = {
  subscription: (vault: string, name: string) => `subscriptions/${vault}/${name.toLowerCase()}`,
  delivery: (id: string) => `deliveries/${id}`,
  deadLetter: (vault: string, id: string) => `dead-letters/${vault}/${id}`,
  sent: (vaultId: string, collection: string, name: string, version: string) =>
    `sent/${vaultId}/${collection}/${name.toLowerCase()}/${version}`,
};

/**
 * The events' records in the barrier (`sys/events/`), through the storage interface only, so
 * any backend holds them: subscriptions per vault, the outbox (one row per event and
 * subscription), the dead-letter list and the sweep's sent markers.
 */
export function createEventStore(store: SecureStore) {
  async function listAll<T>(prefix: string): Promise<T[]> {
    const found: T[] = [];
    let after: string | undefined;
    for (;;) {
      const keys = await store.list(prefix, { after, limit: 500 });
      for (const key of keys) {
        const record = await readJson<T>(store, prefix + key);
        if (record) found.push(record);
      }
      if (keys.length < 500) return found;
      after = keys[keys.length - 1];
    }
  }

  return {
    paths,
    transaction: <T>(work: (tx: EventTransaction) => Promise<T>) =>
      store.transaction((tx) => work(eventTransaction(tx))),

    getSubscription: (vault: string, name: string) =>
      readJson<SubscriptionRecord>(store, paths.subscription(vault, name)),
    listSubscriptions: (vault?: string) =>
      listAll<SubscriptionRecord>(vault ? `subscriptions/${vault}/` : 'subscriptions/'),
    listDeliveries: () => listAll<DeliveryRecord>('deliveries/'),
    getDelivery: (id: string) => readJson<DeliveryRecord>(store, paths.delivery(id)),
    listDeadLetters: (vault?: string) =>
      listAll<DeadLetterRecord>(vault ? `dead-letters/${vault}/` : 'dead-letters/'),
  };
}

export type EventTransaction = ReturnType<typeof eventTransaction>;

function eventTransaction(tx: SecureTransaction) {
  return {
    readSubscription: (vault: string, name: string) =>
      readJson<SubscriptionRecord>(tx, paths.subscription(vault, name)),
    writeSubscription: (record: SubscriptionRecord) =>
      writeJson(tx, paths.subscription(record.vault, record.name), record),
    removeSubscription: (vault: string, name: string) => tx.delete(paths.subscription(vault, name)),
    readDelivery: (id: string) => readJson<DeliveryRecord>(tx, paths.delivery(id)),
    writeDelivery: (record: DeliveryRecord) => writeJson(tx, paths.delivery(record.id), record),
    removeDelivery: (id: string) => tx.delete(paths.delivery(id)),
    writeDeadLetter: (record: DeadLetterRecord) =>
      writeJson(tx, paths.deadLetter(record.vault, record.id), record),
    readSent: (vaultId: string, collection: string, name: string, version: string) =>
      readJson<SentMarker>(tx, paths.sent(vaultId, collection, name, version)),
    writeSent: (vaultId: string, collection: string, name: string, version: string, marker: SentMarker) =>
      writeJson(tx, paths.sent(vaultId, collection, name, version), marker),
    /** Keys under a prefix (for removing a purged vault's records). */
    list: (prefix: string, after?: string) => tx.list(prefix, { after, limit: 500 }),
    remove: (path: string) => tx.delete(path),
  };
}

export type EventStore = ReturnType<typeof createEventStore>;
