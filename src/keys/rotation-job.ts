import { type Clock } from '../lib/clock.js';
import type { VaultRecord } from '../vaults/types.js';
import { isActionDue } from './rotation-policy.js';
import type { KeyService } from './service.js';

export interface KeyExpiryNotice {
  vault: string;
  key: string;
  version: string;
  expiresOn: number | undefined;
  notBefore: number | undefined;
}

/**
 * Applies rotation policies: a due `Rotate` action makes a new version; a due `Notify` action
 * hands a notice to `notify` once per key version (the KeyNearExpiry event). Returns
 * how many keys were rotated or notified.
 */
export function keyRotationSweep(deps: {
  keys: Pick<KeyService, 'list' | 'readPolicy' | 'rotate' | 'markNotified'>;
  clock: Clock;
  /** Raises the notice (the KeyNearExpiry event); resolves once it is stored. */
  notify: (vault: VaultRecord, notice: KeyExpiryNotice) => Promise<void>;
}) {
  return async (vault: VaultRecord): Promise<number> => {
    let acted = 0;
    let after: string | undefined;
    for (;;) {
      const page = await deps.keys.list(vault, after, 25);
      for (const { head, record } of page.items) {
        const policy = await deps.keys.readPolicy(vault, head.name);
        if (!policy) continue;
        const nowMs = deps.clock.nowMs();
        const expiresMs = record.exp === undefined ? undefined : record.exp * 1000;
        const due = policy.lifetimeActions.filter((action) =>
          isActionDue(action, record.created * 1000, expiresMs, nowMs),
        );
        if (due.some((action) => action.action.type === 'Rotate')) {
          await deps.keys.rotate(vault, head.name);
          acted++;
        } else if (due.length > 0 && policy.notifiedVersion !== record.version) {
          await deps.notify(vault, {
            vault: vault.name,
            key: head.name,
            version: record.version,
            expiresOn: record.exp,
            notBefore: record.nbf,
          });
          await deps.keys.markNotified(vault, head.name, record.version);
          acted++;
        }
      }
      if (!page.next) return acted;
      after = page.next;
    }
  };
}
