import { BadParameter } from '../errors/index.js';
import type { AccessPolicy } from '../policy/access-policies.js';
import type { AccessPolicyInput, NetworkAclsInput } from '../vaults/access-control.js';
import type { DeletedVaultRecord, VaultRecord, VaultResource } from '../vaults/types.js';
import { DELETED_VAULT_TYPE, deletedVaultResourceId, VAULT_TYPE, vaultResourceId } from './resource-ids.js';

/**
 * The only code that knows Resource Manager's vault JSON (`Microsoft.KeyVault/vaults`, swagger
 * 2024-11-01): the shapes clients send, and the resource Coffer answers with.
 */

export interface WirePermissions {
  keys?: string[];
  secrets?: string[];
  certificates?: string[];
  storage?: string[];
}

export interface WireAccessPolicy {
  tenantId: string;
  objectId: string;
  applicationId?: string;
  permissions: WirePermissions;
}

export interface WireNetworkAcls {
  bypass?: 'AzureServices' | 'None';
  defaultAction?: string;
  ipRules?: { value: string }[];
  virtualNetworkRules?: { id: string }[];
}

export interface WireVaultProperties {
  tenantId?: string;
  sku?: { family?: string; name: 'standard' | 'premium' };
  accessPolicies?: WireAccessPolicy[];
  enabledForDeployment?: boolean;
  enabledForDiskEncryption?: boolean;
  enabledForTemplateDeployment?: boolean;
  enableSoftDelete?: boolean;
  softDeleteRetentionInDays?: number;
  enableRbacAuthorization?: boolean;
  createMode?: 'default' | 'recover';
  enablePurgeProtection?: boolean;
  networkAcls?: WireNetworkAcls;
  publicNetworkAccess?: string;
}

export interface WireVaultBody {
  location?: string;
  tags?: Record<string, string>;
  properties?: WireVaultProperties;
}

/** What a vault's resource view needs besides the record. */
export interface VaultViewContext {
  subscriptionId: string;
  tenantId: string;
  defaultGroup: string;
  location: string;
  vaultUrl: (name: string) => string;
}

/** Vaults made outside Resource Manager sit in the default group, in the installation's location. */
export function resourceOf(
  record: VaultRecord,
  context: Pick<VaultViewContext, 'defaultGroup' | 'location'>,
) {
  return record.resource ?? { resourceGroup: context.defaultGroup, location: context.location, tags: {} };
}

export function vaultIdOf(record: VaultRecord, context: VaultViewContext): string {
  return vaultResourceId(context.subscriptionId, resourceOf(record, context).resourceGroup, record.name);
}

export function accessPolicyView(policy: AccessPolicy, tenantId: string) {
  return { tenantId, objectId: policy.objectId, permissions: { ...policy.permissions, storage: [] } };
}

/** The `Vault` resource: settings Coffer has no use for are shown at the value that means "off". */
export function vaultView(record: VaultRecord, context: VaultViewContext) {
  const resource = resourceOf(record, context);
  const acls = record.networkAcls;
  return {
    id: vaultIdOf(record, context),
    name: record.name,
    type: VAULT_TYPE,
    location: resource.location,
    tags: resource.tags,
    systemData: { createdAt: record.createdAt },
    properties: {
      tenantId: context.tenantId,
      sku: { family: 'A', name: record.sku ?? 'standard' },
      accessPolicies: (record.accessPolicies ?? []).map((policy) =>
        accessPolicyView(policy, context.tenantId),
      ),
      vaultUri: `${context.vaultUrl(record.name)}/`,
      enabledForDeployment: false,
      enabledForDiskEncryption: false,
      enabledForTemplateDeployment: false,
      enableSoftDelete: true,
      softDeleteRetentionInDays: record.softDeleteRetentionInDays,
      enableRbacAuthorization: record.enableRbacAuthorization,
      enablePurgeProtection: record.enablePurgeProtection,
      ...((acls || resource.networkBypass) && {
        networkAcls: {
          bypass: resource.networkBypass ?? 'AzureServices',
          defaultAction: acls?.defaultAction ?? 'Allow',
          ipRules: (acls?.ipRules ?? []).map((value) => ({ value })),
          virtualNetworkRules: [],
        },
      }),
      provisioningState: 'Succeeded',
      publicNetworkAccess: 'Enabled',
    },
  };
}

/** The `DeletedVault` resource: where it was (`vaultId`), when it went and when it will be purged. */
export function deletedVaultView(record: DeletedVaultRecord, context: VaultViewContext) {
  const { location, tags } = resourceOf(record, context);
  return {
    id: deletedVaultResourceId(context.subscriptionId, location, record.name),
    name: record.name,
    type: DELETED_VAULT_TYPE,
    properties: {
      vaultId: vaultIdOf(record, context),
      location,
      deletionDate: record.deletionDate,
      scheduledPurgeDate: record.scheduledPurgeDate,
      tags,
      purgeProtectionEnabled: record.enablePurgeProtection,
    },
  };
}

/** A vault in the generic resource list (`GET /subscriptions/{id}/resources`). */
export function genericResourceView(record: VaultRecord, context: VaultViewContext) {
  const { location, tags } = resourceOf(record, context);
  return { id: vaultIdOf(record, context), name: record.name, type: VAULT_TYPE, location, tags };
}

/** Access policy entries as the vault service takes them; one tenant, no compound identities. */
export function accessPoliciesInput(
  entries: readonly WireAccessPolicy[],
  tenantId: string,
): AccessPolicyInput[] {
  return entries.map((entry) => {
    checkTenant(entry.tenantId, `Access policy for '${entry.objectId.slice(0, 40)}'`, tenantId);
    if (entry.applicationId) {
      throw new BadParameter(
        'Access policies for a principal acting through an application (applicationId, compound identity) are not supported: leave applicationId out.',
      );
    }
    if (entry.permissions.storage?.length) {
      throw new BadParameter(
        'Storage account permissions are not supported (Key Vault managed storage accounts are retired): send storage as [] or leave it out.',
      );
    }
    const { keys, secrets, certificates } = entry.permissions;
    return { objectId: entry.objectId, permissions: { keys, secrets, certificates } };
  });
}

/** The firewall as the vault service takes it, and the bypass Coffer only stores. */
export function networkInput(acls: WireNetworkAcls): {
  networkAcls: NetworkAclsInput;
  bypass: VaultResource['networkBypass'];
} {
  if (acls.virtualNetworkRules?.length) {
    throw new BadParameter(
      'Coffer has no virtual networks: send virtualNetworkRules as [] and allow addresses with ipRules.',
    );
  }
  const networkAcls: NetworkAclsInput = {};
  if (acls.defaultAction !== undefined) networkAcls.defaultAction = acls.defaultAction;
  if (acls.ipRules !== undefined) networkAcls.ipRules = acls.ipRules;
  return { networkAcls, bypass: acls.bypass };
}

export function checkTenant(given: string | undefined, what: string, tenantId: string): void {
  if (given !== undefined && given.toLowerCase() !== tenantId) {
    throw new BadParameter(
      `${what} names tenant '${given.slice(0, 40)}'; this installation serves tenant '${tenantId}' only.`,
    );
  }
}

/**
 * Settings that would need an Azure service Coffer does not have are refused, not ignored: a
 * template that relies on them must not seem to work. Their "off" values are accepted.
 */
export function checkSupported(properties: WireVaultProperties, tenantId: string): void {
  checkTenant(properties.tenantId, 'The vault', tenantId);
  for (const name of [
    'enabledForDeployment',
    'enabledForDiskEncryption',
    'enabledForTemplateDeployment',
  ] as const) {
    if (properties[name] === true) {
      throw new BadParameter(
        `${name} needs an Azure service Coffer does not run: set it to false or leave it out.`,
      );
    }
  }
  if (properties.enableSoftDelete === false) {
    throw new BadParameter(
      "The property 'enableSoftDelete' has been set to false. Enabling the 'soft delete' functionality is mandatory for all key vaults.",
    );
  }
  const access = properties.publicNetworkAccess?.toLowerCase();
  if (access !== undefined && access !== 'enabled') {
    throw new BadParameter(
      "publicNetworkAccess must be 'Enabled': Coffer has no private endpoints, so 'Disabled' would lock every client out. Restrict addresses with networkAcls instead.",
    );
  }
}
