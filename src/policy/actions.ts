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

export const KeyActions = {
  read: 'Microsoft.KeyVault/vaults/keys/read',
  create: 'Microsoft.KeyVault/vaults/keys/create/action',
  import: 'Microsoft.KeyVault/vaults/keys/import/action',
  update: 'Microsoft.KeyVault/vaults/keys/update/action',
  delete: 'Microsoft.KeyVault/vaults/keys/delete',
  backup: 'Microsoft.KeyVault/vaults/keys/backup/action',
  restore: 'Microsoft.KeyVault/vaults/keys/restore/action',
  recover: 'Microsoft.KeyVault/vaults/keys/recover/action',
  purge: 'Microsoft.KeyVault/vaults/keys/purge/action',
  encrypt: 'Microsoft.KeyVault/vaults/keys/encrypt/action',
  decrypt: 'Microsoft.KeyVault/vaults/keys/decrypt/action',
  wrap: 'Microsoft.KeyVault/vaults/keys/wrap/action',
  unwrap: 'Microsoft.KeyVault/vaults/keys/unwrap/action',
  sign: 'Microsoft.KeyVault/vaults/keys/sign/action',
  verify: 'Microsoft.KeyVault/vaults/keys/verify/action',
  rotate: 'Microsoft.KeyVault/vaults/keys/rotate/action',
  readRotationPolicy: 'Microsoft.KeyVault/vaults/keyrotationpolicies/read',
  writeRotationPolicy: 'Microsoft.KeyVault/vaults/keyrotationpolicies/write',
  random: 'Microsoft.KeyVault/vaults/rng/action',
} as const;

export const ManagementActions = {
  readVaults: 'Microsoft.KeyVault/vaults/read',
  writeVaults: 'Microsoft.KeyVault/vaults/write',
  deleteVaults: 'Microsoft.KeyVault/vaults/delete',
  managePrincipals: 'Coffer/principals/write',
  readPrincipals: 'Coffer/principals/read',
  operate: 'Coffer/operator/action',
} as const;

export type DataAction =
  (typeof SecretActions)[keyof typeof SecretActions] | (typeof KeyActions)[keyof typeof KeyActions];
export type ManagementAction = (typeof ManagementActions)[keyof typeof ManagementActions];
export type Action = DataAction | ManagementAction;
