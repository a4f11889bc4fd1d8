import type { AccessPolicy } from '../policy/access-policies.js';
import type { NetworkAcls } from '../policy/network-rules.js';

export interface VaultRecord {
  /** Internal id: the prefix of the vault's data, so a re-created name never sees old data. */
  id: string;
  /** Lower case: vault names are DNS labels. */
  name: string;
  softDeleteRetentionInDays: number;
  enablePurgeProtection: boolean;
  enableRbacAuthorization: boolean;
  createdAt: string;
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
