import { Conflict } from '../errors/index.js';
import { INIT_PENDING_PATH, SEAL_CONFIG_PATH } from '../seal/types.js';
import type { Storage } from '../storage/types.js';

/**
 * What a store holds before it is unsealed, as far as initialisation is concerned:
 * - `empty`: nothing at all; initialisation may run;
 * - `initialized`: a seal configuration; initialisation must never run again;
 * - `interrupted`: an initialisation started and never finished (its marker is still there and no
 *   vault data exists); it may be cleared and redone;
 * - `orphaned`: records (a keyring, a root key, data) but no seal configuration. Initialising over
 *   them would replace the keyring and make every record unreadable for good, so it is refused.
 */
export type StoreState = 'empty' | 'initialized' | 'interrupted' | 'orphaned';

export async function readStoreState(storage: Storage): Promise<StoreState> {
  if ((await storage.get(SEAL_CONFIG_PATH)) !== undefined) return 'initialized';
  const anyRecord = (await storage.list('', { limit: 1 })).length > 0;
  if (!anyRecord) return 'empty';
  const pending = (await storage.get(INIT_PENDING_PATH)) !== undefined;
  // Initialisation writes no vault data: data beside a marker means the marker is not to be trusted.
  const vaultData = (await storage.list('data/', { limit: 1 })).length > 0;
  return pending && !vaultData ? 'interrupted' : 'orphaned';
}

/** Removes what an unfinished initialisation wrote; the marker goes last, so a crash midway leaves it. */
export async function clearUnfinishedInitialisation(storage: Storage): Promise<void> {
  for (;;) {
    const keys = (await storage.list('', { limit: 500 })).filter((key) => key !== INIT_PENDING_PATH);
    if (keys.length === 0) break;
    await storage.transaction(async (tx) => {
      for (const key of keys) await tx.delete(key);
    });
  }
  await storage.delete(INIT_PENDING_PATH);
}

export class StoreWithoutSealConfig extends Conflict {
  constructor() {
    super(
      'The store holds records (a keyring, a root key or data) but no seal configuration (the core/seal-config row is missing), ' +
        'so it cannot be unsealed, and initialising over it would destroy the keyring and make every record unreadable. ' +
        'Nothing was changed. Restore the data directory from a backup, or put the core/seal-config row back ' +
        '(docs/fault-tolerance.md, "Recovering a store whose seal configuration was lost").',
      'StoreNotEmpty',
    );
  }
}
