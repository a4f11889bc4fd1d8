import { readJson, type SecureStore, writeJson } from '../barrier/secure-store.js';
import { BadParameter, Conflict, NotFound } from '../errors/index.js';
import { newUuid } from '../lib/ids.js';
import type { VaultRecord } from '../vaults/types.js';
import type { ArchiveRecord } from './archive-format.js';

const STAGING_PREFIX = 'sys/restore-staging/';

/**
 * Restores a vault backup into an existing, empty vault (Managed HSM's full restore), and one
 * key out of it into a vault (selective key restore). A full restore writes into a fresh data
 * prefix first and then points the vault at it in one transaction, so the vault shows either
 * nothing or everything, even if the process dies halfway; what a dead restore wrote is erased
 * by the sweep (`eraseAbandoned`).
 */
export function createVaultRestore(deps: {
  /** The barrier at its root: vault records and data prefixes in one transaction. */
  root: SecureStore & { view(prefix: string): SecureStore };
  /** Forget cached vault records once one points at new data. */
  forgetVaults: () => void;
}) {
  const inProgress = new Set<string>();
  const vaultPath = (name: string) => `sys/vaults/${name}`;
  const hasData = async (reader: Pick<SecureStore, 'list'>, id: string) =>
    (await reader.list(`data/${id}/`, { limit: 1 })).length > 0;

  async function erase(id: string): Promise<void> {
    const view = deps.root.view(`data/${id}/`);
    for (;;) {
      const keys = await view.list('', { limit: 500 });
      if (keys.length === 0) break;
      await view.transaction(async (tx) => {
        for (const key of keys) await tx.delete(key);
      });
    }
    await deps.root.delete(`${STAGING_PREFIX}${id}`);
  }

  return {
    async restoreVault(vault: VaultRecord, batches: AsyncIterable<ArchiveRecord[]>): Promise<number> {
      if (await hasData(deps.root, vault.id)) {
        throw new Conflict(
          `Vault '${vault.name}' is not empty: restore a backup into a new vault (coffer vault create), or delete and purge what it holds first. Nothing was changed.`,
        );
      }
      const stagingId = newUuid();
      inProgress.add(stagingId);
      await deps.root.put(`${STAGING_PREFIX}${stagingId}`, Buffer.from(vault.name));
      const staging = deps.root.view(`data/${stagingId}/`);
      let restored = 0;
      try {
        for await (const batch of batches) {
          await staging.transaction(async (tx) => {
            for (const [path, value] of batch) await tx.put(path, value);
          });
          restored += batch.length;
        }
        await deps.root.transaction(async (tx) => {
          const current = await readJson<VaultRecord>(tx, vaultPath(vault.name));
          if (!current || current.id !== vault.id || (await hasData(tx, vault.id))) {
            throw new Conflict(
              `Vault '${vault.name}' changed while it was being restored; nothing was changed.`,
            );
          }
          await writeJson(tx, vaultPath(vault.name), { ...current, id: stagingId });
          await tx.delete(`${STAGING_PREFIX}${stagingId}`);
        });
        deps.forgetVaults();
        return restored;
      } catch (error) {
        await erase(stagingId).catch(() => undefined);
        throw error;
      } finally {
        inProgress.delete(stagingId);
      }
    },

    /** Every version of one key (and its rotation policy) from a backup; refused when the name is taken. */
    async restoreKey(
      vault: VaultRecord,
      name: string,
      batches: AsyncIterable<ArchiveRecord[]>,
    ): Promise<number> {
      const key = name.toLowerCase();
      const wanted = (path: string) =>
        path === `keys/${key}` ||
        path.startsWith(`keys-versions/${key}/`) ||
        path === `keys-rotationpolicies/${key}`;
      const records: ArchiveRecord[] = [];
      for await (const batch of batches) records.push(...batch.filter(([path]) => wanted(path)));
      if (!records.some(([path]) => path === `keys/${key}`)) {
        throw new NotFound('KeyNotFound', `The backup holds no key named '${name}'.`);
      }
      if (
        records.some(
          ([path, value]) => path.startsWith('keys-versions/') && JSON.parse(value.toString('utf8')).managed,
        )
      ) {
        throw new BadParameter(`Key '${name}' belongs to a certificate: restore the certificate instead.`);
      }
      await deps.root.view(`data/${vault.id}/`).transaction(async (tx) => {
        if ((await tx.get(`keys/${key}`)) || (await tx.get(`deletedkeys/${key}`))) {
          throw new Conflict(
            `Key ${name} already exists in this vault (or is deleted and not purged); delete and purge it before restoring it.`,
          );
        }
        for (const [path, value] of records) await tx.put(path, value);
      });
      return records.length;
    },

    /** Erases what restores that died halfway left (their staging data); returns how many. */
    async eraseAbandoned(): Promise<number> {
      const abandoned = (await deps.root.list(STAGING_PREFIX)).filter((id) => !inProgress.has(id));
      for (const id of abandoned) await erase(id);
      return abandoned.length;
    },
  };
}

export type VaultRestore = ReturnType<typeof createVaultRestore>;
