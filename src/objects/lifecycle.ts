import type { SecureStore } from '../barrier/secure-store.js';
import { Conflict, Forbidden, NotFound, unlessNotFound } from '../errors/index.js';
import { type Clock, DAY_MS, unixSeconds } from '../lib/clock.js';
import { newVersionId } from '../lib/ids.js';
import type { VaultRecord } from '../vaults/types.js';
import {
  type BackupCodec,
  type BackupObject,
  decodeBackup,
  encodeBackup,
  exportContents,
  importContents,
  readWholeObject,
  writeWholeObject,
} from './backup.js';
import { purgeExpiredSweep } from './purge-expired.js';
import { type ObjectReader, type ObjectWriter, objectStore, objectWriter } from './store.js';
import type {
  DeletedHead,
  DeletedView,
  ObjectChange,
  ObjectChangeListener,
  ObjectHead,
  ObjectKind,
  ObjectView,
  OutsideState,
  Page,
  VersionRecord,
} from './types.js';
import { validateCommonProperties, validateObjectName } from './validation.js';

const VERSION_PATTERN = /^[0-9a-f]{32}$/;

/**
 * Key Vault's lifecycle rules shared by secrets, keys and certificates: a new version per write,
 * latest-or-version lookup, soft delete, recover, purge (refused under purge protection except
 * when retention ends), backup and restore, paged listings. Each domain service adds its own
 * rules on top. Storage comes only through the vault's barrier view.
 */
export function createObjectLifecycle<R extends VersionRecord>(deps: {
  kind: ObjectKind;
  vaultStore: (vault: VaultRecord) => SecureStore;
  backupCodec: BackupCodec;
  clock: Clock;
  /**
   * Paths (in the vault's view) a domain keeps beside an object (a key's rotation policy, a
   * certificate's policy): carried in its backups and removed with it on purge.
   */
  companionPaths?: (key: string) => string[];
  /**
   * Collections whose object of the same name belongs to this one (a certificate's key and
   * secret): deleted, recovered, purged, backed up and restored with it, in the same transaction.
   */
  linkedCollections?: readonly string[];
  /** What versions own outside the barrier (HSM key objects): purged, backed up and restored with them. */
  outside?: OutsideState;
  /**
   * Hears every committed change of an object (a new version, an update, delete, recover, purge,
   * restore) by its lower-cased name, its linked objects' included: caches built from it drop it.
   */
  onChange?: (vault: VaultRecord, key: string) => void;
  /** Hears each change once it is committed (events). */
  changed?: ObjectChangeListener;
}) {
  const { kind } = deps;
  const linkedCollections = deps.linkedCollections ?? [];
  const storeFor = (vault: VaultRecord) => objectStore<R>(deps.vaultStore(vault), kind.collection);
  /** A transaction over this kind and its linked kinds together. */
  const transaction = <T>(
    vault: VaultRecord,
    work: (tx: ObjectWriter<R>, linked: ObjectWriter<VersionRecord>[]) => Promise<T>,
  ) =>
    deps.vaultStore(vault).transaction((tx) =>
      work(
        objectWriter<R>(tx, kind.collection),
        linkedCollections.map((collection) => objectWriter<VersionRecord>(tx, collection)),
      ),
    );
  const now = () => unixSeconds(deps.clock.nowMs());
  /** `work`'s result once it has committed, after telling onChange; a failed write changed nothing. */
  const committed = async <T>(vault: VaultRecord, key: string, work: Promise<T>): Promise<T> => {
    const result = await work;
    deps.onChange?.(vault, key);
    return result;
  };
  const keyOf = (name: string) => validateObjectName(name, kind.noun).toLowerCase();
  const lower = kind.noun.toLowerCase();
  /** After the commit: a listener's failure never undoes or fails a write that happened. */
  const announce = async (vault: VaultRecord, change: Omit<ObjectChange, 'noun'>) => {
    await deps.changed?.(vault, { ...change, noun: kind.noun }).catch(() => undefined);
  };
  const datesOf = (record: VersionRecord) => ({ version: record.version, nbf: record.nbf, exp: record.exp });

  const notFound = (name: string, version?: string) =>
    new NotFound(
      kind.notFoundCode,
      `A ${lower} with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault. If you recently deleted this ${lower} you may be able to recover it using the correct recovery command.`,
    );
  const deletedNotFound = (name: string) =>
    new NotFound(kind.notFoundCode, `Deleted ${kind.noun} not found: ${name}`);
  const deletedConflict = (name: string) =>
    new Conflict(
      `${kind.noun} ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the ${lower} can only be recovered or purged.`,
    );

  /** Objects a certificate manages change only through the certificate, as in Key Vault. */
  function refuseManaged(record: VersionRecord | undefined, name: string, operation: string) {
    if (record?.managed) {
      throw new Forbidden(
        `${kind.noun} ${name} is managed by the certificate of the same name and cannot be changed on its own: ${operation} the certificate instead.`,
      );
    }
  }

  async function resolve(reader: ObjectReader<R>, name: string, version: string | undefined) {
    const key = keyOf(name);
    const head = await reader.head(key);
    if (!head) throw notFound(name, version);
    const wanted = version ? version.toLowerCase() : head.latestVersion;
    const record = VERSION_PATTERN.test(wanted) ? await reader.version(key, wanted) : undefined;
    if (!record) throw notFound(name, version);
    return { head, record };
  }

  async function readDeleted(
    reader: ObjectReader<R> & Pick<ReturnType<typeof storeFor>, 'deletedHead'>,
    key: string,
  ) {
    const head = await reader.deletedHead(key);
    const record = head && (await reader.version(key, head.latestVersion));
    return head && record ? { head, record } : undefined;
  }

  async function purge(
    vault: VaultRecord,
    name: string,
    options: { scheduled?: boolean } = {},
  ): Promise<void> {
    if (vault.enablePurgeProtection && !options.scheduled) {
      throw new Forbidden(
        `Operation "purge" is not allowed because purge protection is enabled for vault ${vault.name}. The ${lower} will be purged automatically when its retention period ends.`,
      );
    }
    const key = keyOf(name);
    const purged = transaction(vault, async (tx, linked) => {
      const found = await readDeleted(tx, key);
      if (!found) throw deletedNotFound(name);
      refuseManaged(found.record, name, 'purge');
      const removed: unknown[] = [];
      for (const store of [tx, ...linked]) {
        for (const version of await store.listVersions(key, undefined)) {
          if (deps.outside) removed.push(await store.version(key, version));
          await store.removeVersion(key, version);
        }
        await store.removeDeletedHead(key);
      }
      for (const path of deps.companionPaths?.(key) ?? []) {
        if (deps.outside) removed.push(await tx.readPath(path));
        await tx.removePath(path);
      }
      await deps.outside?.purging(tx, removed);
    });
    await committed(vault, key, purged);
    await deps.outside?.purged(vault);
    await announce(vault, { action: 'Purged', name });
  }

  return {
    keyOf,
    now,
    refuseManaged,
    /** For writes a domain makes itself (a certificate's issued version): tells the listener. */
    committed: announce,

    /**
     * Writes a new version and makes it the latest. `build` gets the current latest (if any)
     * inside the transaction, for rules such as "same key type as before" on rotation.
     */
    async addVersion(
      vault: VaultRecord,
      name: string,
      build: (fields: { version: string; time: number }, latest: ObjectView<R> | undefined) => R,
    ): Promise<ObjectView<R>> {
      const key = keyOf(name);
      const added = storeFor(vault).transaction(async (tx) => {
        if (await tx.deletedHead(key)) throw deletedConflict(name);
        const current = await tx.head(key);
        const latest = current && (await tx.version(key, current.latestVersion));
        refuseManaged(latest, name, 'write');
        const record = build(
          { version: newVersionId(), time: now() },
          current && latest ? { head: current, record: latest } : undefined,
        );
        const head: ObjectHead = { name: current?.name ?? name, latestVersion: record.version };
        await tx.putVersion(key, record);
        await tx.putHead(key, head);
        return { head, record };
      });
      const written = await committed(vault, key, added);
      await announce(vault, { action: 'NewVersion', name: written.head.name, ...datesOf(written.record) });
      return written;
    },

    resolve: (vault: VaultRecord, name: string, version?: string): Promise<ObjectView<R>> =>
      resolve(storeFor(vault), name, version),

    /** Changes one version in place (attributes, tags); `change` returns the new record. */
    async update(vault: VaultRecord, name: string, version: string | undefined, change: (record: R) => R) {
      // The name is checked before the transaction starts: thrown while a transaction's promise
      // was pending, its rejection went unhandled and ended the process.
      const key = keyOf(name);
      const updated = storeFor(vault).transaction(async (tx) => {
        const { head, record } = await resolve(tx, name, version);
        refuseManaged(record, name, 'update');
        const updated = { ...change(record), updated: now() };
        // The window is checked on the result: an update may send only one of nbf and exp.
        validateCommonProperties({ nbf: updated.nbf, exp: updated.exp });
        await tx.putVersion(key, updated);
        return { head, record: updated };
      });
      return committed(vault, key, updated);
    },

    async list(vault: VaultRecord, after: string | undefined, limit: number): Promise<Page<ObjectView<R>>> {
      const store = storeFor(vault);
      const keys = await store.listHeads(after, limit + 1);
      // An object deleted since the listing is skipped; a record that fails its check fails the page.
      return loadPage(keys, limit, (key) => unlessNotFound(resolve(store, key, undefined)));
    },

    async listVersions(vault: VaultRecord, name: string, after: string | undefined, limit: number) {
      const store = storeFor(vault);
      const key = keyOf(name);
      const head = await store.head(key);
      if (!head) return { items: [] } as Page<ObjectView<R>>;
      const versions = await store.listVersions(key, after, limit + 1);
      return loadPage(versions, limit, async (version) => {
        const record = await store.version(key, version);
        return record && { head, record };
      });
    },

    async delete(vault: VaultRecord, name: string): Promise<DeletedView<R>> {
      const key = keyOf(name);
      const deleting = transaction(vault, async (tx, linked) => {
        const head = await tx.head(key);
        const record = head && (await tx.version(key, head.latestVersion));
        if (!head || !record) throw notFound(name);
        refuseManaged(record, name, 'delete');
        const deletedDate = now();
        const retentionMs = vault.softDeleteRetentionInDays * DAY_MS;
        const deleted: DeletedHead = {
          ...head,
          deletedDate,
          scheduledPurgeDate: unixSeconds(deletedDate * 1000 + retentionMs),
        };
        for (const store of [tx, ...linked]) {
          const current = await store.head(key);
          if (!current) continue;
          await store.removeHead(key);
          await store.putDeletedHead(key, { ...deleted, ...current });
        }
        return { head: deleted, record };
      });
      const deleted = await committed(vault, key, deleting);
      await announce(vault, { action: 'Deleted', name: deleted.head.name, ...datesOf(deleted.record) });
      return deleted;
    },

    async getDeleted(vault: VaultRecord, name: string): Promise<DeletedView<R>> {
      const found = await readDeleted(storeFor(vault), keyOf(name));
      if (!found) throw deletedNotFound(name);
      return found;
    },

    async listDeleted(vault: VaultRecord, after: string | undefined, limit: number) {
      const store = storeFor(vault);
      const keys = await store.listDeletedHeads(after, limit + 1);
      return loadPage(keys, limit, (key) => readDeleted(store, key));
    },

    async recover(vault: VaultRecord, name: string): Promise<ObjectView<R>> {
      const key = keyOf(name);
      const recovering = transaction(vault, async (tx, linked) => {
        const found = await readDeleted(tx, key);
        if (!found) throw deletedNotFound(name);
        refuseManaged(found.record, name, 'recover');
        for (const store of [tx, ...linked]) {
          const deleted = await store.deletedHead(key);
          if (!deleted) continue;
          await store.removeDeletedHead(key);
          await store.putHead(key, { name: deleted.name, latestVersion: deleted.latestVersion });
        }
        const head: ObjectHead = { name: found.head.name, latestVersion: found.head.latestVersion };
        return { head, record: found.record };
      });
      const recovered = await committed(vault, key, recovering);
      await announce(vault, { action: 'Recovered', name: recovered.head.name, ...datesOf(recovered.record) });
      return recovered;
    },

    purge,

    async backup(vault: VaultRecord, name: string): Promise<string> {
      const key = keyOf(name);
      // One transaction gives a consistent snapshot of the object, its companions and linked objects.
      const contents = await transaction(vault, async (tx, linked) => {
        const head = await tx.head(key);
        const latest = head && (await tx.version(key, head.latestVersion));
        if (!head) throw notFound(name);
        refuseManaged(latest, name, 'back up');
        const companions: Record<string, unknown> = {};
        for (const path of deps.companionPaths?.(key) ?? []) {
          const value = await tx.readPath(path);
          if (value !== undefined) companions[path] = value;
        }
        const linkedContents: Record<string, BackupObject<VersionRecord>> = {};
        for (const [index, store] of linked.entries()) {
          const linkedHead = await store.head(key);
          if (linkedHead)
            linkedContents[linkedCollections[index]!] = await readWholeObject(store, key, linkedHead);
        }
        return { ...(await readWholeObject(tx, key, head)), companions, linked: linkedContents };
      });
      return encodeBackup(deps.backupCodec, kind.collection, await exportContents(contents, deps.outside));
    },

    async restore(vault: VaultRecord, blob: string): Promise<ObjectView<R>> {
      const decoded = decodeBackup<R>(deps.backupCodec, kind.collection, kind.noun, blob);
      const key = keyOf(decoded.head.name);
      const { contents, undo } = await importContents(
        decoded,
        deps.outside,
        `${vault.name}/${decoded.head.name}`,
      );
      const { head, versions } = contents;
      const restoring = transaction(vault, async (tx, linked) => {
        for (const store of [tx, ...linked]) {
          if (await store.deletedHead(key)) throw deletedConflict(head.name);
          if (await store.head(key)) {
            throw new Conflict(
              `${kind.noun} ${head.name} already exists in this vault (or an object it owns does); delete and purge it before restoring a backup of it.`,
            );
          }
        }
        await writeWholeObject(tx, key, contents);
        for (const [index, store] of linked.entries()) {
          const saved = contents.linked?.[linkedCollections[index]!];
          if (saved) await writeWholeObject(store, key, saved);
        }
        for (const path of deps.companionPaths?.(key) ?? []) {
          const value = contents.companions?.[path];
          if (value !== undefined) await tx.writePath(path, value);
        }
        const latest = versions.find((record) => record.version === head.latestVersion)!;
        return { head, record: latest };
      }).catch(async (error: unknown) => {
        await undo();
        throw error;
      });
      return committed(vault, key, restoring);
    },

    /** Purges every deleted object in the vault whose retention has ended; returns how many. */
    purgeExpired: purgeExpiredSweep({
      listDeletedHeads: (vault, after) => storeFor(vault).listDeletedHeads(after, 100),
      readDeleted: (vault, key) => readDeleted(storeFor(vault), key),
      purge: (vault, name) => purge(vault, name, { scheduled: true }),
      now,
      collection: kind.collection,
    }),
  };
}

/**
 * One page of a listing from `limit + 1` keys: the first `limit` loaded (keys that vanished
 * meanwhile are skipped), and the position of the next page when there was one more key.
 */
export async function loadPage<T>(
  keys: string[],
  limit: number,
  load: (key: string) => Promise<T | undefined>,
): Promise<Page<Awaited<T>>> {
  const loaded = await Promise.all(keys.slice(0, limit).map(load));
  const items = loaded.filter((item): item is Awaited<T> => item !== undefined);
  return { items, next: keys.length > limit ? keys[limit - 1] : undefined };
}

export type ObjectLifecycle<R extends VersionRecord> = ReturnType<typeof createObjectLifecycle<R>>;
