import { readJson, type SecureStore, writeJson } from '../barrier/secure-store.js';
import { CofferError, Conflict, NotFound } from '../errors/index.js';
import { type Clock, DAY_MS } from '../lib/clock.js';
import type { DeletedVaultRecord, VaultRecord } from './types.js';

/** Where live and soft-deleted vault records live in the system view. */
export const livePath = (name: string) => `vaults/${name}`;
export const deletedPath = (name: string) => `deletedvaults/${name}`;

/** A structured line for the audit trail: the audit broker records it beside the request records. */
export type AuditEvent = { event: string } & Record<string, unknown>;

/** Azure's answer to a purge under purge protection: the operation is not allowed, to anybody. */
export class PurgeNotAllowed extends CofferError {
  constructor(vault: DeletedVaultRecord) {
    super(
      405,
      'MethodNotAllowed',
      `Operation 'DeletedVaultPurge' is not allowed: vault '${vault.name}' has purge protection enabled, so nobody can purge it before its retention period ends (${vault.scheduledPurgeDate}); it will be purged automatically then. It can be recovered until that time.`,
    );
  }
}

export const deletedVaultNotFound = (name: string) =>
  new NotFound(
    'DeletedVaultNotFound',
    `No deleted vault named '${String(name).slice(0, 40)}' exists on this server. List them with: coffer vault list-deleted`,
  );

/**
 * The soft-deleted side of the vault lifecycle, as Azure's: delete keeps the vault whole under
 * `deletedvaults/{name}` (its data stays at `data/{id}/`, its role assignments stay where they
 * are); recover puts it back as it was; purge, by a caller or by the sweep when retention ends,
 * removes its role assignments, then its data, then the record, so the name is free only once
 * nothing of the old vault is left.
 */
export function createDeletedVaults(deps: {
  system: SecureStore;
  clock: Clock;
  /** Runs `work` with the vault's own time (dev-mode time shift); plain call otherwise. */
  inVaultTime: <T>(vault: VaultRecord, work: () => Promise<T>) => Promise<T>;
  eraseData: (vault: VaultRecord) => Promise<void>;
  /** Removes every role assignment at or below `/vaults/{name}`. */
  removeRoleAssignments: (vaultName: string) => Promise<number>;
  /** Forget a cached live record. */
  forget: (name: string) => void;
  remember: (record: VaultRecord) => void;
  audit?: (event: AuditEvent) => void;
  /** Told after a soft delete or a recovery committed (events). */
  changed?: (event: { event: 'VaultDeleted' | 'VaultRecovered'; vault: string }) => void;
}) {
  const nowMs = () => deps.clock.nowMs();

  async function getDeleted(name: string): Promise<DeletedVaultRecord> {
    const record = await readJson<DeletedVaultRecord>(deps.system, deletedPath(String(name).toLowerCase()));
    if (!record) throw deletedVaultNotFound(name);
    return record;
  }

  async function listDeleted(): Promise<DeletedVaultRecord[]> {
    const names = await deps.system.list('deletedvaults/');
    const records = await Promise.all(
      names.map((name) => readJson<DeletedVaultRecord>(deps.system, deletedPath(name))),
    );
    return records.filter((record): record is DeletedVaultRecord => record !== undefined);
  }

  /** Moves the live record to the deleted ones in one transaction; data and assignments stay. */
  async function softDelete(name: string): Promise<DeletedVaultRecord> {
    const key = String(name).toLowerCase();
    const live = await readJson<VaultRecord>(deps.system, livePath(key));
    if (!live) throw new NotFound('VaultNotFound', `No vault named '${name}' exists on this server.`);
    const deleted = await deps.inVaultTime(live, () =>
      deps.system.transaction(async (tx) => {
        const current = await readJson<VaultRecord>(tx, livePath(key));
        if (!current) throw new NotFound('VaultNotFound', `No vault named '${name}' exists on this server.`);
        const deletedMs = nowMs();
        const record: DeletedVaultRecord = {
          ...current,
          deletionDate: new Date(deletedMs).toISOString(),
          scheduledPurgeDate: new Date(deletedMs + current.softDeleteRetentionInDays * DAY_MS).toISOString(),
        };
        await writeJson(tx, deletedPath(key), record);
        await tx.delete(livePath(key));
        return record;
      }),
    );
    deps.forget(key);
    deps.changed?.({ event: 'VaultDeleted', vault: deleted.name });
    return deleted;
  }

  async function recover(name: string): Promise<VaultRecord> {
    const key = String(name).toLowerCase();
    const recovered = await deps.system.transaction(async (tx) => {
      const deleted = await readJson<DeletedVaultRecord>(tx, deletedPath(key));
      if (!deleted || deleted.purging) throw deletedVaultNotFound(name);
      if (await readJson(tx, livePath(key))) {
        throw new Conflict(
          `A vault named '${key}' exists already, so the deleted one cannot be recovered under that name. Delete the existing vault first.`,
          'VaultAlreadyExists',
        );
      }
      const vault: VaultRecord & Partial<DeletedVaultRecord> = { ...deleted };
      delete vault.deletionDate;
      delete vault.scheduledPurgeDate;
      delete vault.purging;
      await writeJson(tx, livePath(key), vault);
      await tx.delete(deletedPath(key));
      return vault as VaultRecord;
    });
    deps.remember(recovered);
    deps.changed?.({ event: 'VaultRecovered', vault: recovered.name });
    return recovered;
  }

  const retentionEnded = (record: DeletedVaultRecord) => Date.parse(record.scheduledPurgeDate) <= nowMs();

  /**
   * Purges a deleted vault. Under purge protection nobody may purge before retention ends,
   * administrators included: only the sweep does, once it has ended. An interrupted purge is
   * finished whatever the settings, since it was allowed when it began.
   */
  async function purge(name: string): Promise<DeletedVaultRecord> {
    const key = String(name).toLowerCase();
    const record = await getDeleted(key);
    const allowed = await deps.inVaultTime(record, async () => record.purging || retentionEnded(record));
    if (record.enablePurgeProtection && !allowed) throw new PurgeNotAllowed(record);
    await deps.system.transaction(async (tx) => {
      const current = await readJson<DeletedVaultRecord>(tx, deletedPath(key));
      if (!current) throw deletedVaultNotFound(name);
      await writeJson(tx, deletedPath(key), { ...current, purging: true });
    });
    // Assignments first: a name freed with its old assignments still in place would hand them
    // to whoever creates a vault of that name next.
    await deps.removeRoleAssignments(key);
    await deps.eraseData(record);
    await deps.system.delete(deletedPath(key));
    return record;
  }

  return {
    getDeleted,
    listDeleted,
    softDelete,
    recover,
    purge,

    /** The sweep: purges deleted vaults whose retention ended, and finishes interrupted purges. */
    async purgeExpired(): Promise<number> {
      let purged = 0;
      for (const record of await listDeleted()) {
        const due = await deps.inVaultTime(record, async () => record.purging || retentionEnded(record));
        if (!due) continue;
        await purge(record.name);
        purged++;
        // Nobody asked for this one over HTTP: without this record the purge would leave no trace.
        deps.audit?.({
          event: 'VaultPurged',
          vault: record.name,
          vaultId: record.id,
          reason: 'retention period ended',
          scheduledPurgeDate: record.scheduledPurgeDate,
          by: { objectId: 'system' },
        });
      }
      return purged;
    },
  };
}

export type DeletedVaults = ReturnType<typeof createDeletedVaults>;
