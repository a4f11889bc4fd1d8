import { readJson, type SecureStore, writeJson } from '../barrier/secure-store.js';
import { BadParameter, Conflict, NotFound } from '../errors/index.js';
import { createCacheEpoch } from '../lib/cache-epoch.js';
import type { Clock } from '../lib/clock.js';
import { newUuid } from '../lib/ids.js';
import {
  type AccessPolicyInput,
  applyPolicyUpdate,
  editIpRule,
  type NetworkAclsInput,
  patchNetworkAcls,
  type PolicyUpdateKind,
} from './access-control.js';
import type { VaultRecord } from './types.js';

/** Azure's vault name rule: 3-24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, no '--'. */
const VAULT_NAME_PATTERN = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;

export interface VaultSettings {
  softDeleteRetentionInDays?: number;
  enablePurgeProtection?: boolean;
  enableRbacAuthorization?: boolean;
  networkAcls?: NetworkAclsInput;
}

/** A structured line for the audit trail (a plain log line until the audit broker exists). */
export type AuditEvent = { event: string } & Record<string, unknown>;

export function validateVaultName(name: string): string {
  if (typeof name !== 'string' || !VAULT_NAME_PATTERN.test(name)) {
    throw new BadParameter(
      `The vault name '${String(name).slice(0, 40)}' is not valid: use 3-24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, with no consecutive hyphens.`,
    );
  }
  return name.toLowerCase();
}

function validateSettings(settings: VaultSettings): void {
  const days = settings.softDeleteRetentionInDays;
  if (days !== undefined && (!Number.isInteger(days) || days < 7 || days > 90)) {
    throw new BadParameter('softDeleteRetentionInDays must be a whole number of days from 7 to 90.');
  }
}

/**
 * Vaults: records under `vaults/{name}` in the system view, data under `vaults/{id}/` in the
 * data view. Lookups are cached because every data-plane request makes one.
 */
export function createVaultService(deps: {
  system: SecureStore;
  clock: Clock;
  /** Removes a deleted vault's objects. */
  eraseData: (vault: VaultRecord) => Promise<void>;
  audit?: (event: AuditEvent) => void;
}) {
  const cache = new Map<string, VaultRecord>();
  const epoch = createCacheEpoch();
  const path = (name: string) => `vaults/${name}`;

  async function find(name: string): Promise<VaultRecord | undefined> {
    const key = name.toLowerCase();
    const cached = cache.get(key);
    if (cached) return cached;
    const keep = epoch.begin();
    const record = await readJson<VaultRecord>(deps.system, path(key));
    if (record && keep()) cache.set(key, record);
    return record;
  }

  async function get(name: string): Promise<VaultRecord> {
    const record = await find(name);
    if (!record) throw new NotFound('VaultNotFound', `No vault named '${name}' exists on this server.`);
    return record;
  }

  /** Read-modify-write in one transaction, so two concurrent edits of one vault never lose one. */
  async function modify(name: string, change: (current: VaultRecord) => VaultRecord): Promise<VaultRecord> {
    const key = name.toLowerCase();
    const updated = await deps.system.transaction(async (tx) => {
      const current = await readJson<VaultRecord>(tx, path(key));
      if (!current) throw new NotFound('VaultNotFound', `No vault named '${name}' exists on this server.`);
      const next = change(current);
      await writeJson(tx, path(key), next);
      return next;
    });
    cache.set(key, updated);
    return updated;
  }

  return {
    find,
    get,

    async create(name: string, settings: VaultSettings = {}): Promise<VaultRecord> {
      const key = validateVaultName(name);
      validateSettings(settings);
      // PostgreSQL may run the work again after a conflict: only a committed record is cached.
      const created = await deps.system.transaction(async (tx) => {
        if (await readJson(tx, path(key)))
          throw new Conflict(`A vault named '${key}' already exists.`, 'VaultAlreadyExists');
        const record: VaultRecord = {
          id: newUuid(),
          name: key,
          softDeleteRetentionInDays: settings.softDeleteRetentionInDays ?? 90,
          enablePurgeProtection: settings.enablePurgeProtection ?? false,
          enableRbacAuthorization: settings.enableRbacAuthorization ?? true,
          createdAt: new Date(deps.clock.nowMs()).toISOString(),
        };
        await writeJson(tx, path(key), record);
        return record;
      });
      cache.set(key, created);
      return created;
    },

    async list(): Promise<VaultRecord[]> {
      const names = await deps.system.list('vaults/');
      const records = await Promise.all(names.map((name) => find(name)));
      return records.filter((record): record is VaultRecord => record !== undefined);
    },

    /** `by`: the objectId of the principal asking, for the audit trail. */
    async update(name: string, settings: VaultSettings, by?: string): Promise<VaultRecord> {
      validateSettings(settings);
      let previousModel: boolean | undefined;
      const updated = await modify(name, (current) => {
        if (current.enablePurgeProtection && settings.enablePurgeProtection === false) {
          throw new BadParameter('Purge protection cannot be turned off once it is enabled on a vault.');
        }
        previousModel = current.enableRbacAuthorization;
        return {
          ...current,
          softDeleteRetentionInDays: settings.softDeleteRetentionInDays ?? current.softDeleteRetentionInDays,
          enablePurgeProtection: settings.enablePurgeProtection ?? current.enablePurgeProtection,
          enableRbacAuthorization: settings.enableRbacAuthorization ?? current.enableRbacAuthorization,
          ...(settings.networkAcls && {
            networkAcls: patchNetworkAcls(current.networkAcls, settings.networkAcls),
          }),
        };
      });
      if (previousModel !== updated.enableRbacAuthorization) {
        // Switching the model changes who may read every object in the vault: always on record.
        deps.audit?.({
          event: 'VaultPermissionModelChanged',
          vault: updated.name,
          from: permissionModel(previousModel),
          to: permissionModel(updated.enableRbacAuthorization),
          by,
        });
      }
      return updated;
    },

    /** Azure's `accessPolicies/{add|replace|remove}`; answers the vault's policies afterwards. */
    async updateAccessPolicies(
      name: string,
      kind: PolicyUpdateKind,
      policies: AccessPolicyInput[],
    ): Promise<VaultRecord> {
      return modify(name, (current) => ({
        ...current,
        accessPolicies: applyPolicyUpdate(current.accessPolicies ?? [], kind, policies),
      }));
    },

    async editIpRule(name: string, edit: 'add' | 'remove', rule: string): Promise<VaultRecord> {
      return modify(name, (current) => ({
        ...current,
        networkAcls: editIpRule(current.networkAcls, edit, rule),
      }));
    },

    async remove(name: string): Promise<void> {
      const record = await get(name);
      await deps.system.delete(path(record.name));
      cache.delete(record.name);
      await deps.eraseData(record);
    },

    /** Also on another node's change to a vault: loads in flight are not kept. */
    clearCache: () => {
      epoch.bump();
      cache.clear();
    },
  };
}

export type VaultService = ReturnType<typeof createVaultService>;

const permissionModel = (rbac: boolean | undefined) => (rbac ? 'RBAC' : 'AccessPolicies');
