import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import type { EventStore, EventTransaction } from './store.js';
import type { DeliveryRecord, SubscriptionRecord, VaultEvent } from './types.js';

export type ObjectType = 'Secret' | 'Key' | 'Certificate';
export const COLLECTION_OF: Record<ObjectType, string> = {
  Secret: 'secrets',
  Key: 'keys',
  Certificate: 'certificates',
};

/** What an object event says of its object: Azure's data fields, never its value. */
export interface ObjectFacts {
  name: string;
  version: string;
  nbf?: number;
  exp?: number;
}

/**
 * Azure's `data` for Key Vault events (PascalCase on the wire, `NBF`/`EXP` Unix seconds or null):
 * identifiers and dates only, so an event can never carry a value or key material.
 */
export function objectEventData(vaultUrl: string, vault: string, type: ObjectType, facts: ObjectFacts) {
  return {
    Id: `${vaultUrl}/${COLLECTION_OF[type]}/${facts.name}/${facts.version}`,
    VaultName: vault,
    ObjectType: type,
    ObjectName: facts.name,
    Version: facts.version,
    NBF: facts.nbf ?? null,
    EXP: facts.exp ?? null,
  };
}

/** Outbox ids sort by creation time, so the outbox and dead-letter list read oldest first. */
export function newDeliveryId(nowMs: number): string {
  return `${nowMs.toString(16).padStart(12, '0')}-${randomBytes(8).toString('hex')}`;
}

const wants = (subscription: SubscriptionRecord, type: string) =>
  subscription.state === 'Active' &&
  (subscription.eventTypes.length === 0 || subscription.eventTypes.includes(type));

/**
 * Raising an event: one outbox row per active subscription of the vault that wants its type,
 * written in one transaction (with `alongside`, such as the sweep's sent marker, so both or
 * neither are stored). Callers raise events after their own write committed.
 */
export function createPublisher(deps: {
  store: EventStore;
  /** Vault time (shifted in dev mode), for the event's time. */
  vaultClock: Clock;
  /** Real time, for scheduling deliveries. */
  clock: Clock;
  topicOf: (vault: string) => Promise<string>;
  delivered: (records: DeliveryRecord[]) => void;
}) {
  async function event(
    vault: string,
    type: string,
    subject: string,
    data: Record<string, unknown>,
  ): Promise<VaultEvent> {
    return {
      id: randomUUID(),
      type,
      subject,
      time: new Date(deps.vaultClock.nowMs()).toISOString(),
      topic: await deps.topicOf(vault),
      vault,
      data,
    };
  }

  /**
   * `event` is built only when some subscription wants its type (or `alongside` must be
   * written anyway), so a vault nobody subscribed to pays one listing per change.
   */
  async function publish(
    vault: string,
    type: string,
    event: () => Promise<VaultEvent>,
    alongside?: (tx: EventTransaction, item: VaultEvent) => Promise<void>,
  ): Promise<DeliveryRecord[]> {
    const subscriptions = (await deps.store.listSubscriptions(vault)).filter((item) => wants(item, type));
    if (subscriptions.length === 0 && !alongside) return [];
    const item = await event();
    const now = deps.clock.nowMs();
    const records: DeliveryRecord[] = subscriptions.map((subscription) => ({
      id: newDeliveryId(now),
      vault,
      subscription: subscription.name,
      subscriptionId: subscription.id,
      event: item,
      attempts: 0,
      nextAttemptAt: now,
    }));
    await deps.store.transaction(async (tx) => {
      for (const record of records) await tx.writeDelivery(record);
      await alongside?.(tx, item);
    });
    deps.delivered(records);
    return records;
  }

  return { event, publish };
}

export type Publisher = ReturnType<typeof createPublisher>;
