import type { AccessPolicy } from '../policy/access-policies.js';
import type { NetworkAcls } from '../policy/network-rules.js';

export type VaultSku = 'standard' | 'premium';

/**
 * What Azure Resource Manager knows of a vault besides Key Vault's own settings (src/arm).
 * Vault names are global, as in Azure, so the resource group is an attribute, not a namespace.
 */
export interface VaultResource {
  /** As the group was named when it was made (resource group names keep their case in ids). */
  resourceGroup: string;
  location: string;
  tags: Record<string, string>;
  /** `networkAcls.bypass` as a client set it; Coffer has no Azure services for it to let through. */
  networkBypass?: 'AzureServices' | 'None';
}

export interface VaultRecord {
  /** Internal id: the prefix of the vault's data, so a re-created name never sees old data. */
  id: string;
  /** Lower case: vault names are DNS labels. */
  name: string;
  softDeleteRetentionInDays: number;
  enablePurgeProtection: boolean;
  enableRbacAuthorization: boolean;
  createdAt: string;
  /** Azure's SKU: premium vaults hold -HSM keys in the configured PKCS#11 token. Absent: standard. */
  sku?: VaultSku;
  /** Absent for vaults made outside Resource Manager: they belong to the default resource group. */
  resource?: VaultResource;
  /** The vault's firewall; absent means open to every address. */
  networkAcls?: NetworkAcls;
  /** Who may do what when `enableRbacAuthorization` is false (Azure's access policies); ignored otherwise. */
  accessPolicies?: AccessPolicy[];
  /** Azure's service limits on request (`throttle.ts`); absent means off. */
  throttle?: ThrottleSetting;
}

/** `off`, `azure` (Azure's documented limits per 10 seconds), or N transactions per 10 seconds. */
export type ThrottleSetting = 'off' | 'azure' | number;

/**
 * A soft-deleted vault: kept whole (objects, role assignments, access policies) until its
 * retention ends, and its name reserved until it is purged.
 */
export interface DeletedVaultRecord extends VaultRecord {
  deletionDate: string;
  scheduledPurgeDate: string;
  /**
   * Set when a purge started: a purge interrupted by a crash is finished by the next sweep, so
   * the name is never freed while role assignments or data of the old vault remain.
   */
  purging?: boolean;
}

/** Azure's recovery level for objects in a vault, from its soft-delete settings. */
export function recoveryLevel(vault: VaultRecord): string {
  const customized = vault.softDeleteRetentionInDays !== 90 ? 'CustomizedRecoverable' : 'Recoverable';
  return vault.enablePurgeProtection ? customized : `${customized}+Purgeable`;
}
