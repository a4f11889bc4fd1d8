import { readJson, type SecureStore, writeJson } from '../barrier/secure-store.js';
import { BadParameter, Conflict, NotFound } from '../errors/index.js';
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
import type { VaultRecord, VaultResource, VaultSku } from './types.js';

/** Azure's vault name rule: 3-24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, no '--'. */
const VAULT_NAME_PATTERN = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;

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
}

/** A structured line for the audit trail (a plain log line until the audit broker exists). */
export type AuditEvent = { event: string } & Record<string, unknown>;

/** Who asked for a change, as an audit record names them. */
export type Actor = Pick<AuthenticatedPrincipal, 'objectId' | 'kind' | 'clientId'>;

const actorOf = (by: Actor | undefined) =>
  by ? { objectId: by.objectId, kind: by.kind, clientId: by.clientId } : { objectId: 'system' };

export function validateVaultName(name: string): string {
  if (typeof name !== 'string' || !VAULT_NAME_PATTERN.test(name)) {
    throw new BadParameter(
      `The vault name '${String(name).slice(0, 40)}' is not valid: use 3-24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, with no consecutive hyphens.`,
    );
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
  /** Whether a PKCS#11 token is configured: premium vaults need one. */
  hsmAvailable?: () => boolean;
}) {
  const cache = new Map<string, VaultRecord>();
  const path = (name: string) => `vaults/${name}`;

  async function find(name: string): Promise<VaultRecord | undefined> {
    const key = name.toLowerCase();
    const cached = cache.get(key);
    if (cached) return cached;
    const record = await readJson<VaultRecord>(deps.system, path(key));
    if (record) cache.set(key, record);
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
          sku,
          ...(settings.resource && { resource: settings.resource }),
          ...(settings.networkAcls && { networkAcls: patchNetworkAcls(undefined, settings.networkAcls) }),
          ...(settings.accessPolicies && { accessPolicies: accessPolicyList(settings.accessPolicies) }),
        };
        await writeJson(tx, path(key), record);
        cache.set(key, record);
        return record;
      });
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
      const updated = await modify(name, (current) => {
        if (current.enablePurgeProtection && settings.enablePurgeProtection === false) {
          throw new BadParameter('Purge protection cannot be turned off once it is enabled on a vault.');
        }
        previousModel = current.enableRbacAuthorization;
        previousPolicies = current.accessPolicies ?? [];
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

    async remove(name: string): Promise<void> {
      const record = await get(name);
      await deps.system.delete(path(record.name));
      cache.delete(record.name);
      await deps.eraseData(record);
    },

    clearCache: () => cache.clear(),
  };
}

export type VaultService = ReturnType<typeof createVaultService>;

const permissionModel = (rbac: boolean | undefined) => (rbac ? 'RBAC' : 'AccessPolicies');
