import { type Clock, DAY_MS } from '../lib/clock.js';
import type { ObjectFacts, ObjectType } from './publisher.js';

export type ExpiryStage = 'nearExpiry' | 'expired';

/** What the sweep needs of one kind of object: its latest versions, a page at a time. */
export interface ExpiringKind<V> {
  type: ObjectType;
  list(
    vault: V,
    after: string | undefined,
    limit: number,
  ): Promise<{
    items: Array<{
      head: { name: string };
      record: { version: string; nbf?: number; exp?: number; managed?: boolean };
    }>;
    next?: string;
  }>;
  /** True when a policy of the object's own raises its NearExpiry instead (a key's Notify action). */
  ownsNearExpiry?(vault: V, name: string): Promise<boolean>;
}

/**
 * Finds the current versions that are near expiry (`nearExpiryDays` before `exp`) or expired,
 * and raises each event once per version: `raiseOnce` stores a marker with the outbox rows in
 * one transaction, so a restart or a second sweep sends nothing twice. A version already
 * expired when first seen gets only the Expired event. Objects a certificate manages are left
 * to the certificate's own events.
 */
export function expirySweep<V>(deps: {
  kinds: ExpiringKind<V>[];
  clock: Clock;
  nearExpiryDays: number;
  raiseOnce: (vault: V, type: ObjectType, facts: ObjectFacts, stage: ExpiryStage) => Promise<boolean>;
}) {
  return async (vault: V): Promise<number> => {
    let raised = 0;
    for (const kind of deps.kinds) {
      let after: string | undefined;
      for (;;) {
        const page = await kind.list(vault, after, 100);
        for (const { head, record } of page.items) {
          if (record.exp === undefined || record.managed) continue;
          const stage = stageOf(record.exp * 1000, deps.clock.nowMs(), deps.nearExpiryDays);
          if (!stage) continue;
          if (stage === 'nearExpiry' && (await kind.ownsNearExpiry?.(vault, head.name))) continue;
          const facts = { name: head.name, version: record.version, nbf: record.nbf, exp: record.exp };
          if (await deps.raiseOnce(vault, kind.type, facts, stage)) raised++;
        }
        if (!page.next) break;
        after = page.next;
      }
    }
    return raised;
  };
}

export function stageOf(expiresMs: number, nowMs: number, nearExpiryDays: number): ExpiryStage | undefined {
  if (nowMs >= expiresMs) return 'expired';
  if (nowMs >= expiresMs - nearExpiryDays * DAY_MS) return 'nearExpiry';
  return undefined;
}
