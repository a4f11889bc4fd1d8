import type { SecureStore } from '../barrier/secure-store.js';
import { Conflict, Forbidden, NotFound } from '../errors/index.js';
import { type Clock, DAY_MS, unixSeconds } from '../lib/clock.js';
import { newVersionId } from '../lib/ids.js';
import type { VaultRecord } from '../vaults/types.js';
import { type BackupCodec, secretBackup } from './backup.js';
import { type SecretStore, secretStore } from './store.js';
import type { DeletedSecretHead, Page, SecretHead, SecretProperties, SecretVersionRecord } from './types.js';
import { validateSecretName, validateSecretProperties, validateSecretValue } from './validation.js';

export interface SecretView {
  head: SecretHead;
  record: SecretVersionRecord;
}

export interface DeletedSecretView {
  head: DeletedSecretHead;
  record: SecretVersionRecord;
}

const VERSION_PATTERN = /^[0-9a-f]{32}$/;

/**
 * Key Vault's rules for secrets: versions, soft delete, recovery, purge, backup. Every method
 * takes the vault it works in; storage comes through that vault's barrier view only.
 */
export function createSecretService(deps: {
  vaultStore: (vault: VaultRecord) => SecureStore;
  backupCodec: BackupCodec;
  clock: Clock;
}) {
  const storeFor = (vault: VaultRecord): SecretStore => secretStore(deps.vaultStore(vault));
  const now = () => unixSeconds(deps.clock.nowMs());
  const keyOf = (name: string) => validateSecretName(name).toLowerCase();

  const notFound = (name: string, version?: string) =>
    new NotFound(
      'SecretNotFound',
      `A secret with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`,
    );
  const deletedNotFound = (name: string) =>
    new NotFound('SecretNotFound', `Deleted Secret not found: ${name}`);
  const deletedConflict = (name: string) =>
    new Conflict(
      `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
    );

  async function resolve(
    store: Pick<SecretStore, 'head' | 'version'>,
    name: string,
    version: string | undefined,
  ): Promise<SecretView> {
    const key = keyOf(name);
    const head = await store.head(key);
    if (!head) throw notFound(name, version);
    const wanted = version ? version.toLowerCase() : head.latestVersion;
    const record = VERSION_PATTERN.test(wanted) ? await store.version(key, wanted) : undefined;
    if (!record) throw notFound(name, version);
    return { head, record };
  }

  async function page<T>(
    keys: string[],
    limit: number,
    load: (key: string) => Promise<T | undefined>,
  ): Promise<Page<T>> {
    const items = (await Promise.all(keys.slice(0, limit).map(load))).filter(
      (item): item is Awaited<T> => item !== undefined,
    );
    return { items, next: keys.length > limit ? keys[limit - 1] : undefined };
  }

  async function purge(
    vault: VaultRecord,
    name: string,
    options: { scheduled?: boolean } = {},
  ): Promise<void> {
    if (vault.enablePurgeProtection && !options.scheduled) {
      throw new Forbidden(
        `Operation "purge" is not allowed because purge protection is enabled for vault ${vault.name}. The secret will be purged automatically when its retention period ends.`,
      );
    }
    const key = keyOf(name);
    await storeFor(vault).transaction(async (tx) => {
      if (!(await tx.deletedHead(key))) throw deletedNotFound(name);
      for (const version of await tx.listVersions(key, undefined)) await tx.removeVersion(key, version);
      await tx.removeDeletedHead(key);
    });
  }

  return {
    async set(
      vault: VaultRecord,
      name: string,
      value: string,
      properties: SecretProperties,
    ): Promise<SecretView> {
      const key = keyOf(name);
      validateSecretValue(value);
      validateSecretProperties(properties);
      return storeFor(vault).transaction(async (tx) => {
        if (await tx.deletedHead(key)) throw deletedConflict(name);
        const head: SecretHead = { name: (await tx.head(key))?.name ?? name, latestVersion: newVersionId() };
        const time = now();
        const record: SecretVersionRecord = {
          ...properties,
          enabled: properties.enabled ?? true,
          version: head.latestVersion,
          value,
          created: time,
          updated: time,
        };
        await tx.putVersion(key, record);
        await tx.putHead(key, head);
        return { head, record };
      });
    },

    async get(vault: VaultRecord, name: string, version?: string): Promise<SecretView> {
      const view = await resolve(storeFor(vault), name, version);
      if (!view.record.enabled) throw new Forbidden('Operation get is not allowed on a disabled secret.');
      return view;
    },

    async update(
      vault: VaultRecord,
      name: string,
      version: string | undefined,
      properties: SecretProperties,
    ): Promise<SecretView> {
      validateSecretProperties(properties);
      return storeFor(vault).transaction(async (tx) => {
        const { head, record } = await resolve(tx, name, version);
        const updated: SecretVersionRecord = { ...record, ...definedOnly(properties), updated: now() };
        await tx.putVersion(keyOf(name), updated);
        return { head, record: updated };
      });
    },

    async list(vault: VaultRecord, after: string | undefined, limit: number): Promise<Page<SecretView>> {
      const store = storeFor(vault);
      const keys = await store.listHeads(after, limit + 1);
      return page(keys, limit, (key) => resolve(store, key, undefined).catch(() => undefined));
    },

    async listVersions(
      vault: VaultRecord,
      name: string,
      after: string | undefined,
      limit: number,
    ): Promise<Page<SecretView>> {
      const store = storeFor(vault);
      const key = keyOf(name);
      const head = await store.head(key);
      if (!head) return { items: [] };
      const versions = await store.listVersions(key, after, limit + 1);
      return page(versions, limit, async (version) => {
        const record = await store.version(key, version);
        return record && { head, record };
      });
    },

    async delete(vault: VaultRecord, name: string): Promise<DeletedSecretView> {
      const key = keyOf(name);
      return storeFor(vault).transaction(async (tx) => {
        const head = await tx.head(key);
        const record = head && (await tx.version(key, head.latestVersion));
        if (!head || !record) throw notFound(name);
        const deletedDate = now();
        const deleted: DeletedSecretHead = {
          ...head,
          deletedDate,
          scheduledPurgeDate: unixSeconds(deletedDate * 1000 + vault.softDeleteRetentionInDays * DAY_MS),
        };
        await tx.removeHead(key);
        await tx.putDeletedHead(key, deleted);
        return { head: deleted, record };
      });
    },

    async getDeleted(vault: VaultRecord, name: string): Promise<DeletedSecretView> {
      const store = storeFor(vault);
      const key = keyOf(name);
      const head = await store.deletedHead(key);
      const record = head && (await store.version(key, head.latestVersion));
      if (!head || !record) throw deletedNotFound(name);
      return { head, record };
    },

    async listDeleted(
      vault: VaultRecord,
      after: string | undefined,
      limit: number,
    ): Promise<Page<DeletedSecretView>> {
      const store = storeFor(vault);
      const keys = await store.listDeletedHeads(after, limit + 1);
      return page(keys, limit, async (key) => {
        const head = await store.deletedHead(key);
        const record = head && (await store.version(key, head.latestVersion));
        return head && record ? { head, record } : undefined;
      });
    },

    async recover(vault: VaultRecord, name: string): Promise<SecretView> {
      const key = keyOf(name);
      return storeFor(vault).transaction(async (tx) => {
        const deleted = await tx.deletedHead(key);
        const record = deleted && (await tx.version(key, deleted.latestVersion));
        if (!deleted || !record) throw deletedNotFound(name);
        const head: SecretHead = { name: deleted.name, latestVersion: deleted.latestVersion };
        await tx.removeDeletedHead(key);
        await tx.putHead(key, head);
        return { head, record };
      });
    },

    purge,

    async backup(vault: VaultRecord, name: string): Promise<string> {
      const store = storeFor(vault);
      const key = keyOf(name);
      const head = await store.head(key);
      if (!head) throw notFound(name);
      const versions: SecretVersionRecord[] = [];
      for (const version of await store.listVersions(key, undefined)) {
        const record = await store.version(key, version);
        if (record) versions.push(record);
      }
      return secretBackup.encode(deps.backupCodec, { head, versions });
    },

    async restore(vault: VaultRecord, blob: string): Promise<SecretView> {
      const { head, versions } = secretBackup.decode(deps.backupCodec, blob);
      const key = keyOf(head.name);
      return storeFor(vault).transaction(async (tx) => {
        if (await tx.deletedHead(key)) throw deletedConflict(head.name);
        if (await tx.head(key))
          throw new Conflict(
            `Secret ${head.name} already exists in this vault; delete and purge it before restoring a backup of it.`,
          );
        for (const record of versions) await tx.putVersion(key, record);
        await tx.putHead(key, head);
        const latest = versions.find((record) => record.version === head.latestVersion)!;
        return { head, record: latest };
      });
    },

    /** Purges every deleted secret in the vault whose retention has ended; returns how many. */
    async purgeExpired(vault: VaultRecord): Promise<number> {
      const store = storeFor(vault);
      let purged = 0;
      let after: string | undefined;
      for (;;) {
        const keys = await store.listDeletedHeads(after, 100);
        if (keys.length === 0) return purged;
        for (const key of keys) {
          const head = await store.deletedHead(key);
          if (head && head.scheduledPurgeDate <= now()) {
            await purge(vault, head.name, { scheduled: true }).catch(() => undefined);
            purged++;
          }
        }
        after = keys[keys.length - 1];
      }
    },
  };
}

function definedOnly(properties: SecretProperties): SecretProperties {
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined));
}

export type SecretService = ReturnType<typeof createSecretService>;
