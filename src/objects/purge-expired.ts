import { CofferError, InternalError, NotFound } from '../errors/index.js';
import type { VaultRecord } from '../vaults/types.js';
import type { DeletedHead, VersionRecord } from './types.js';

/** One deleted object the background purge could not remove, and why (our own messages only). */
export interface PurgeFailure {
  name: string;
  reason: string;
}

/** Some deleted objects could not be purged; the others were. Nothing here is secret. */
export class PurgeFailed extends InternalError {
  constructor(
    readonly collection: string,
    readonly vault: string,
    readonly failures: PurgeFailure[],
  ) {
    super(
      `could not purge ${failures.length} deleted object(s) of ${collection} in vault ${vault}: ` +
        failures.map((failure) => `${failure.name} (${failure.reason})`).join(', '),
    );
    this.name = 'PurgeFailed';
  }
}

/**
 * The background purge of deleted objects whose retention ended. One object that cannot be
 * purged (a record that fails its integrity check, a full disk) does not stop the others, and
 * is never swallowed: the failures are thrown together once the sweep is done. Objects managed
 * by a certificate are skipped here: they are purged with their certificate.
 */
export function purgeExpiredSweep(deps: {
  listDeletedHeads: (vault: VaultRecord, after: string | undefined) => Promise<string[]>;
  readDeleted: (
    vault: VaultRecord,
    key: string,
  ) => Promise<{ head: DeletedHead; record: VersionRecord } | undefined>;
  purge: (vault: VaultRecord, name: string) => Promise<void>;
  now: () => number;
  collection: string;
}) {
  /** Whether the object at `key` was purged now. */
  async function purgeIfDue(vault: VaultRecord, key: string): Promise<boolean> {
    const found = await deps.readDeleted(vault, key);
    if (!found || found.head.scheduledPurgeDate > deps.now() || found.record.managed) return false;
    try {
      await deps.purge(vault, found.head.name);
      return true;
    } catch (error) {
      // Recovered or purged by somebody else since it was listed.
      if (error instanceof NotFound) return false;
      throw error;
    }
  }

  return async (vault: VaultRecord): Promise<number> => {
    let purged = 0;
    const failures: PurgeFailure[] = [];
    let after: string | undefined;
    for (;;) {
      const keys = await deps.listDeletedHeads(vault, after);
      if (keys.length === 0) break;
      for (const key of keys) {
        try {
          if (await purgeIfDue(vault, key)) purged++;
        } catch (error) {
          failures.push({ name: key, reason: describe(error) });
        }
      }
      after = keys[keys.length - 1];
    }
    if (failures.length > 0) throw new PurgeFailed(deps.collection, vault.name, failures);
    return purged;
  };
}

/** Our own errors' messages are known to hold no secret; any other error gives its type and code. */
function describe(error: unknown): string {
  if (error instanceof CofferError || error instanceof InternalError)
    return `${error.name}: ${error.message}`;
  const code = (error as { code?: unknown }).code;
  return `${(error as Error).name ?? 'Error'}${typeof code === 'string' ? ` ${code}` : ''}`;
}
