import { type SecureStore, readJson } from '../barrier/secure-store.js';
import type { KeyProvider } from '../crypto/keys/provider.js';
import { type HsmKeyMaterial, type KeyMaterial, isHsmMaterial } from '../crypto/keys/types.js';
import type { OutsideState } from '../objects/types.js';
import type { VaultRecord } from '../vaults/types.js';

/** Token objects waiting to be destroyed, one record per key, in the vault's view. */
const CONDEMNED = 'hsm-destroy/';
/** Where records that may name an HSM key live: key versions (certificates' too), pending requests, the queue. */
const RECORDS_WITH_KEYS = ['keys-versions/', 'certificates-pending/', CONDEMNED];

/** The HSM key a record or companion value names (a key version, a pending request), if any. */
function hsmMaterialOf(value: unknown): HsmKeyMaterial | undefined {
  if (typeof value !== 'object' || value === null || !('material' in value)) return undefined;
  const material = (value as { material?: KeyMaterial }).material;
  return material && isHsmMaterial(material) ? material : undefined;
}

/**
 * Keeps the token objects of HSM keys in step with the records that name them. An object is
 * destroyed only once no record names it any more: the transaction that drops the last record
 * queues it (`hsm-destroy/{id}`), and the queue is worked off after the commit and by the
 * periodic sweep, so a crash or an absent token delays the destruction but never loses it, and
 * a failed write never leaves an object behind that no record names.
 */
export function createHsmKeyKeeper(deps: {
  provider: Pick<KeyProvider, 'destroy' | 'exportForBackup' | 'importFromBackup'>;
  vaultStore: (vault: VaultRecord) => SecureStore;
}) {
  /** Inside the transaction that drops the last records naming them: queues their keys for destruction. */
  async function condemn(
    tx: { writePath(path: string, value: unknown): Promise<void> },
    values: unknown[],
  ): Promise<void> {
    for (const material of values.map(hsmMaterialOf)) {
      if (material) await tx.writePath(`${CONDEMNED}${material.hsm.id}`, material);
    }
  }

  /** Destroys the queued objects; what fails (the token is away) stays queued for the next sweep. */
  async function reap(vault: VaultRecord): Promise<number> {
    const store = deps.vaultStore(vault);
    let destroyed = 0;
    for (const id of await store.list(CONDEMNED)) {
      const material = await readJson<HsmKeyMaterial>(store, `${CONDEMNED}${id}`);
      if (material) await deps.provider.destroy(material);
      await store.delete(`${CONDEMNED}${id}`);
      destroyed++;
    }
    return destroyed;
  }

  /**
   * A vault being erased: destroys the token objects of every HSM key its records name. What
   * the token cannot destroy now is counted (for the log): the records that name it are going.
   */
  async function release(vault: VaultRecord): Promise<{ destroyed: number; failed: number }> {
    const store = deps.vaultStore(vault);
    const counts = { destroyed: 0, failed: 0 };
    const seen = new Set<string>();
    for (const prefix of RECORDS_WITH_KEYS) {
      for (const path of await store.list(prefix)) {
        const material = hsmMaterialOf(await readJson<unknown>(store, `${prefix}${path}`));
        if (!material || seen.has(material.hsm.id)) continue;
        seen.add(material.hsm.id);
        await deps.provider.destroy(material).then(
          () => counts.destroyed++,
          () => counts.failed++,
        );
      }
    }
    return counts;
  }

  /** Runs `write` for a key just made in the token, and destroys the key if nothing came to name it. */
  async function adopt<T>(material: KeyMaterial, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      await deps.provider.destroy(material).catch(() => undefined);
      throw error;
    }
  }

  const outside: OutsideState = {
    purging: (tx, removed) => condemn(tx, removed),
    purged: async (vault) => {
      // Best effort now; the sweep retries what the token could not do.
      await reap(vault).catch(() => undefined);
    },
    async exported<T>(value: T): Promise<T> {
      const material = hsmMaterialOf(value);
      if (!material) return value;
      return { ...value, material: await deps.provider.exportForBackup(material) };
    },
    async imported<T>(values: T[], label: string) {
      const made = new Map<string, KeyMaterial>();
      const undo = async () => {
        for (const material of made.values()) await deps.provider.destroy(material).catch(() => undefined);
      };
      try {
        const result: T[] = [];
        for (const value of values) {
          const material = hsmMaterialOf(value);
          if (!material) {
            result.push(value);
            continue;
          }
          // Versions that share a key (a certificate's reuse_key) share the restored key too.
          let restored = made.get(material.hsm.id);
          if (!restored) {
            restored = await deps.provider.importFromBackup(material, { hsm: true, label });
            made.set(material.hsm.id, restored);
          }
          result.push({ ...value, material: restored });
        }
        return { values: result, undo };
      } catch (error) {
        await undo();
        throw error;
      }
    },
  };

  return { condemn, reap, release, adopt, outside };
}

export type HsmKeyKeeper = ReturnType<typeof createHsmKeyKeeper>;
