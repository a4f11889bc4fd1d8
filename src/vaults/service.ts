import { readJson, type SecureReader, type SecureStore, writeJson } from '../barrier/secure-store.js';
import { BadParameter, Conflict, NotFound } from '../errors/index.js';
import { createCacheEpoch } from '../lib/cache-epoch.js';
import type { AuthenticatedPrincipal } from '../identity/types.js';
import type { Clock } from '../lib/clock.js';
import { newUuid } from '../lib/ids.js';
import {
  type AccessPolicyInput,
  accessPolicyList,
  applyPolicyUpdate,
  editIpRule,
  type NetworkAclsInput,
  patchNetworkAcls,
  policyChanges,
  type PolicyUpdateKind,
} from './access-control.js';
import type { AccessPolicy } from '../policy/access-policies.js';
import { type AuditEvent, createDeletedVaults, deletedPath, livePath } from './deleted-vaults.js';
import type { ThrottleSetting, VaultRecord, VaultResource, VaultSku } from './types.js';
import { validateThrottle } from './throttle-setting.js';
import { VAULT_NAME_PATTERN, VAULT_NAME_RULE } from '../lib/vault-name.js';

/** Azure's vault name rule: 3-24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, no '--'. */

export interface VaultSettings {
  softDeleteRetentionInDays?: number;
  enablePurgeProtection?: boolean;
  enableRbacAuthorization?: boolean;
  networkAcls?: NetworkAclsInput;
  /** The whole access policy list, replacing the vault's (Resource Manager's PUT and PATCH). */
  accessPolicies?: AccessPolicyInput[];
  /** Resource Manager's attributes of the vault, replaced whole when given. */
  resource?: VaultResource;
  /** Set at creation only. */
  sku?: VaultSku;
  throttle?: ThrottleSetting;
}

export type { AuditEvent };

/** Who asked for a change, as an audit record names them. */
export type Actor = Pick<AuthenticatedPrincipal, 'objectId' | 'kind' | 'clientId'>;

const actorOf = (by: Actor | undefined) =>
  by ? { objectId: by.objectId, kind: by.kind, clientId: by.clientId } : { objectId: 'system' };

export function validateVaultName(name: string): string {
  if (typeof name !== 'string' || !VAULT_NAME_PATTERN.test(name)) {
    throw new BadParameter(`The vault name '${String(name).slice(0, 40)}' is not valid: ${VAULT_NAME_RULE}.`);
  }
  return name.toLowerCase();
}

/** Azure's SKUs; premium needs the HSM the server is configured with. */
function validateSku(sku: unknown, hsmAvailable: boolean): VaultSku {
  if (sku === undefined || sku === 'standard') return 'standard';
  if (sku !== 'premium')
    throw new BadParameter(`sku must be standard or premium, not '${String(sku).slice(0, 20)}'.`);
  if (!hsmAvailable) {
    throw new BadParameter(
      'A premium vault keeps -HSM keys in an HSM, and this server has no PKCS#11 token configured: configure pkcs11 (docs/hsm.md) or create a standard vault.',
    );
  }
  return 'premium';
}

function validateSettings(settings: VaultSettings): void {
  const days = settings.softDeleteRetentionInDays;
  if (days !== undefined && (!Number.isInteger(days) || days < 7 || days > 90)) {
    throw new BadParameter('softDeleteRetentionInDays must be a whole number of days from 7 to 90.');
  }
  if (settings.throttle !== undefined) validateThrottle(settings.throttle);
}

/** Purge protection promises the retention period: it can be turned on, never off, nor shortened. */
function checkProtection(current: VaultRecord, settings: VaultSettings): void {
  if (!current.enablePurgeProtection) return;
  if (settings.enablePurgeProtection === false) {
    throw new BadParameter('Purge protection cannot be turned off once it is enabled on a vault.');
  }
  const days = settings.softDeleteRetentionInDays;
  if (days !== undefined && days < current.softDeleteRetentionInDays) {
    throw new BadParameter(
      `The retention period of vault '${current.name}' cannot be shortened (${current.softDeleteRetentionInDays} days) while purge protection is enabled.`,
    );
  }
}

/**
 * Vaults: records under `vaults/{name}` in the system view (soft-deleted ones under
 * `deletedvaults/{name}`, deleted-vaults.ts), data under `data/{id}/`. Lookups are cached because
 * every data-plane request makes one.
 */
export function createVaultService(deps: {
  system: SecureStore;
  clock: Clock;
  /** Removes a purged vault's objects. */
  eraseData: (vault: VaultRecord) => Promise<void>;
  /** Removes every role assignment at or below `/vaults/{name}`; returns how many. */
  removeRoleAssignments?: (vaultName: string) => Promise<number>;
  /** Runs `work` in the vault's own time (the dev-mode time shift). */
  inVaultTime?: <T>(vault: VaultRecord, work: () => Promise<T>) => Promise<T>;
  audit?: (event: AuditEvent) => void;
  /** Told after a soft delete or a recovery committed (events). */
  changed?: (event: { event: 'VaultDeleted' | 'VaultRecovered'; vault: string }) => void;
  /** Whether a PKCS#11 token is configured: premium vaults need one. */
  hsmAvailable?: () => boolean;
}) {
  const cache = new Map<string, VaultRecord>();
  const epoch = createCacheEpoch();
  const path = livePath;
  const removeRoleAssignments = deps.removeRoleAssignments ?? (async () => 0);
  const deleted = createDeletedVaults({
    system: deps.system,
    clock: deps.clock,
    inVaultTime: deps.inVaultTime ?? ((_vault, work) => work()),
    eraseData: deps.eraseData,
    removeRoleAssignments,
    forget: (name) => cache.delete(name),
    remember: (record) => cache.set(record.name, record),
    audit: deps.audit,
    changed: deps.changed,
  });

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

  /**
   * A policy is data access: each change is on record with each principal's before and after.
   * An explicit accessPolicies call is recorded even when it changed nothing; a whole list that
   * came along with other settings (create, set) only when it changed something.
   */
  function auditPolicies(
    vault: VaultRecord,
    operation: PolicyUpdateKind | 'create' | 'set',
    before: AccessPolicy[],
    by?: Actor,
  ): void {
    const changes = policyChanges(before, vault.accessPolicies ?? []);
    if (changes.length === 0 && (operation === 'create' || operation === 'set')) return;
    deps.audit?.({
      event: 'VaultAccessPoliciesChanged',
      vault: vault.name,
      operation,
      by: actorOf(by),
      changes,
    });
  }

  return {
    find,
    get,

    /** `by`: the principal asking, for the audit trail when the vault starts with access policies. */
    async create(name: string, settings: VaultSettings = {}, by?: Actor): Promise<VaultRecord> {
      const key = validateVaultName(name);
      validateSettings(settings);
      const sku = validateSku(settings.sku, deps.hsmAvailable?.() ?? false);
      const taken = async (reader: SecureReader) => {
        if (await readJson(reader, path(key)))
          throw new Conflict(`A vault named '${key}' already exists.`, 'VaultAlreadyExists');
        if (await readJson(reader, deletedPath(key)))
          throw new Conflict(
            `A vault named '${key}' exists in the deleted state, and its name cannot be reused until it is purged. Recover it with \`coffer vault recover ${key}\` (through Resource Manager: a PUT with createMode 'recover'), or purge it with \`coffer vault purge ${key}\`.`,
            'ConflictError',
          );
      };
      await taken(deps.system);
      // A new vault starts with no role assignments: any left at its scope (by a deletion before
      // soft-deleted vaults existed) belong to another vault that had the name.
      await removeRoleAssignments(key);
      const created = await deps.system.transaction(async (tx) => {
        await taken(tx);
        const record: VaultRecord = {
          id: newUuid(),
          name: key,
          softDeleteRetentionInDays: settings.softDeleteRetentionInDays ?? 90,
          enablePurgeProtection: settings.enablePurgeProtection ?? false,
          enableRbacAuthorization: settings.enableRbacAuthorization ?? true,
          createdAt: new Date(deps.clock.nowMs()).toISOString(),
          sku,
          ...(settings.resource && { resource: settings.resource }),
          ...(settings.networkAcls && { networkAcls: patchNetworkAcls(undefined, settings.networkAcls) }),
          ...(settings.accessPolicies && { accessPolicies: accessPolicyList(settings.accessPolicies) }),
          ...(settings.throttle !== undefined &&
            settings.throttle !== 'off' && { throttle: settings.throttle }),
        };
        await writeJson(tx, path(key), record);
        return record;
      });
      // PostgreSQL may run the work again after a conflict: only a committed record is cached.
      cache.set(key, created);
      if (created.accessPolicies?.length) auditPolicies(created, 'create', [], by);
      return created;
    },

    async list(): Promise<VaultRecord[]> {
      const names = await deps.system.list('vaults/');
      const records = await Promise.all(names.map((name) => find(name)));
      return records.filter((record): record is VaultRecord => record !== undefined);
    },

    /** `by`: the principal asking, for the audit trail. */
    async update(name: string, settings: VaultSettings, by?: Actor): Promise<VaultRecord> {
      validateSettings(settings);
      let previousModel: boolean | undefined;
      let previousPolicies: AccessPolicy[] = [];
      let previousAcls: VaultRecord['networkAcls'];
      const updated = await modify(name, (current) => {
        checkProtection(current, settings);
        previousModel = current.enableRbacAuthorization;
        previousPolicies = current.accessPolicies ?? [];
        previousAcls = current.networkAcls;
        return {
          ...current,
          softDeleteRetentionInDays: settings.softDeleteRetentionInDays ?? current.softDeleteRetentionInDays,
          enablePurgeProtection: settings.enablePurgeProtection ?? current.enablePurgeProtection,
          enableRbacAuthorization: settings.enableRbacAuthorization ?? current.enableRbacAuthorization,
          ...(settings.networkAcls && {
            networkAcls: patchNetworkAcls(current.networkAcls, settings.networkAcls),
          }),
          ...(settings.accessPolicies && { accessPolicies: accessPolicyList(settings.accessPolicies) }),
          ...(settings.resource && { resource: settings.resource }),
          ...(settings.throttle !== undefined && { throttle: settings.throttle }),
        };
      });
      if (settings.accessPolicies) auditPolicies(updated, 'set', previousPolicies, by);
      if (previousModel !== updated.enableRbacAuthorization) {
        // Switching the model changes who may read every object in the vault: always on record.
        deps.audit?.({
          event: 'VaultPermissionModelChanged',
          vault: updated.name,
          from: permissionModel(previousModel),
          to: permissionModel(updated.enableRbacAuthorization),
          by: actorOf(by),
        });
      }
      // Who may reach the vault changed: on record beside the request (a PATCH or PUT may carry it
      // among other settings), so the alert rules see it whatever route changed it.
      if (JSON.stringify(previousAcls ?? null) !== JSON.stringify(updated.networkAcls ?? null)) {
        deps.audit?.({
          event: 'VaultNetworkRulesChanged',
          vault: updated.name,
          defaultAction: updated.networkAcls?.defaultAction ?? 'Allow',
          ipRules: updated.networkAcls?.ipRules.length ?? 0,
          by: actorOf(by),
        });
      }
      return updated;
    },

    /**
     * Azure's `accessPolicies/{add|replace|remove}`; answers the vault's policies afterwards.
     * Audited with each principal's permissions before and after: a policy is data access.
     */
    async updateAccessPolicies(
      name: string,
      kind: PolicyUpdateKind,
      policies: AccessPolicyInput[],
      by?: Actor,
    ): Promise<VaultRecord> {
      let before: AccessPolicy[] = [];
      const updated = await modify(name, (current) => {
        before = current.accessPolicies ?? [];
        return { ...current, accessPolicies: applyPolicyUpdate(before, kind, policies) };
      });
      auditPolicies(updated, kind, before, by);
      return updated;
    },

    async editIpRule(name: string, edit: 'add' | 'remove', rule: string): Promise<VaultRecord> {
      return modify(name, (current) => ({
        ...current,
        networkAcls: editIpRule(current.networkAcls, edit, rule),
      }));
    },

    /** Soft delete, as Azure's: the vault and everything in it stay recoverable for its retention period. */
    async remove(name: string): Promise<void> {
      await deleted.softDelete(name);
    },

    getDeleted: deleted.getDeleted,
    listDeleted: deleted.listDeleted,
    recover: deleted.recover,
    purge: deleted.purge,
    purgeExpired: deleted.purgeExpired,

    /** Also on another node's change to a vault: loads in flight are not kept. */
    clearCache: () => {
      epoch.bump();
      cache.clear();
    },
  };
}

export type VaultService = ReturnType<typeof createVaultService>;

const permissionModel = (rbac: boolean | undefined) => (rbac ? 'RBAC' : 'AccessPolicies');
