/**
 * Data actions, named as Azure RBAC names them, so that role definitions (a later issue) can be
 * taken from Azure's built-in roles unchanged. Management actions stay separate from data actions.
 */
export const SecretActions = {
  get: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
  readMetadata: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
  set: 'Microsoft.KeyVault/vaults/secrets/setSecret/action',
  update: 'Microsoft.KeyVault/vaults/secrets/update/action',
  delete: 'Microsoft.KeyVault/vaults/secrets/delete',
  backup: 'Microsoft.KeyVault/vaults/secrets/backup/action',
  restore: 'Microsoft.KeyVault/vaults/secrets/restore/action',
  recover: 'Microsoft.KeyVault/vaults/secrets/recover/action',
  purge: 'Microsoft.KeyVault/vaults/secrets/purge/action',
} as const;

export const ManagementActions = {
  readVaults: 'Microsoft.KeyVault/vaults/read',
  writeVaults: 'Microsoft.KeyVault/vaults/write',
  deleteVaults: 'Microsoft.KeyVault/vaults/delete',
  managePrincipals: 'Coffer/principals/write',
  readPrincipals: 'Coffer/principals/read',
  operate: 'Coffer/operator/action',
} as const;

export type DataAction = (typeof SecretActions)[keyof typeof SecretActions];
export type ManagementAction = (typeof ManagementActions)[keyof typeof ManagementActions];
export type Action = DataAction | ManagementAction;
