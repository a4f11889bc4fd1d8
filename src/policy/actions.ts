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

export const CertificateActions = {
  read: 'Microsoft.KeyVault/vaults/certificates/read',
  create: 'Microsoft.KeyVault/vaults/certificates/create/action',
  import: 'Microsoft.KeyVault/vaults/certificates/import/action',
  update: 'Microsoft.KeyVault/vaults/certificates/update/action',
  delete: 'Microsoft.KeyVault/vaults/certificates/delete',
  backup: 'Microsoft.KeyVault/vaults/certificates/backup/action',
  restore: 'Microsoft.KeyVault/vaults/certificates/restore/action',
  recover: 'Microsoft.KeyVault/vaults/certificates/recover/action',
  purge: 'Microsoft.KeyVault/vaults/certificates/purge/action',
  // Azure has one data action for contacts: reading them is managing them (`managecontacts`).
  manageContacts: 'Microsoft.KeyVault/vaults/certificatecontacts/write',
  readIssuers: 'Microsoft.KeyVault/vaults/certificatecas/read',
  writeIssuers: 'Microsoft.KeyVault/vaults/certificatecas/write',
  deleteIssuers: 'Microsoft.KeyVault/vaults/certificatecas/delete',
} as const;

/**
 * Whole-vault backup and restore and the account settings, in Azure Managed HSM's shape at a
 * vault's URL. Data actions, because a vault backup restores into any vault of the installation:
 * taking one reads every object. Named after Managed HSM's (`managedHsm/backup/start/action`...)
 * with `vaults` in place of `managedHsm`, so Key Vault Administrator (`vaults/*`) holds them.
 */
export const VaultBackupActions = {
  backupStart: 'Microsoft.KeyVault/vaults/backup/start/action',
  backupStatus: 'Microsoft.KeyVault/vaults/backup/status/action',
  restoreStart: 'Microsoft.KeyVault/vaults/restore/start/action',
  restoreStatus: 'Microsoft.KeyVault/vaults/restore/status/action',
  readSettings: 'Microsoft.KeyVault/vaults/settings/read',
  writeSettings: 'Microsoft.KeyVault/vaults/settings/write',
} as const;

export const ManagementActions = {
  readVaults: 'Microsoft.KeyVault/vaults/read',
  writeVaults: 'Microsoft.KeyVault/vaults/write',
  deleteVaults: 'Microsoft.KeyVault/vaults/delete',
  checkVaultNameAvailability: 'Microsoft.KeyVault/checkNameAvailability/read',
  readResourceGroups: 'Microsoft.Resources/subscriptions/resourceGroups/read',
  writeResourceGroups: 'Microsoft.Resources/subscriptions/resourceGroups/write',
  deleteResourceGroups: 'Microsoft.Resources/subscriptions/resourceGroups/delete',
  // Azure's two reads: the subscription's list, and one deleted vault at its location.
  listDeletedVaults: 'Microsoft.KeyVault/deletedVaults/read',
  readDeletedVaults: 'Microsoft.KeyVault/locations/deletedVaults/read',
  purgeDeletedVaults: 'Microsoft.KeyVault/locations/deletedVaults/purge/action',
  readRoleAssignments: 'Microsoft.Authorization/roleAssignments/read',
  writeRoleAssignments: 'Microsoft.Authorization/roleAssignments/write',
  deleteRoleAssignments: 'Microsoft.Authorization/roleAssignments/delete',
  readRoleDefinitions: 'Microsoft.Authorization/roleDefinitions/read',
  writeRoleDefinitions: 'Microsoft.Authorization/roleDefinitions/write',
  deleteRoleDefinitions: 'Microsoft.Authorization/roleDefinitions/delete',
  // Coffer's own resources have no Azure counterpart: principals live in Entra ID, the seal in no Azure API.
  managePrincipals: 'Coffer/principals/write',
  readPrincipals: 'Coffer/principals/read',
  manageUsers: 'Coffer/users/write',
  readUsers: 'Coffer/users/read',
  manageGroups: 'Coffer/groups/write',
  readGroups: 'Coffer/groups/read',
  operate: 'Coffer/operator/action',
  // Reading the audit log: at a vault's scope, that vault's records; at `/`, everything.
  readAuditLogs: 'Coffer/auditLogs/read',
  // Event Grid's own actions, as Azure's built-in Key Vault roles list them.
  readEventSubscriptions: 'Microsoft.EventGrid/eventSubscriptions/read',
  writeEventSubscriptions: 'Microsoft.EventGrid/eventSubscriptions/write',
  deleteEventSubscriptions: 'Microsoft.EventGrid/eventSubscriptions/delete',
  // Scraping GET /metrics: counts and states, never names or values; only at `/`.
  readMetrics: 'Coffer/metrics/read',
} as const;

export type DataAction =
  | (typeof SecretActions)[keyof typeof SecretActions]
  | (typeof KeyActions)[keyof typeof KeyActions]
  | (typeof CertificateActions)[keyof typeof CertificateActions]
  | (typeof VaultBackupActions)[keyof typeof VaultBackupActions];
export type ManagementAction = (typeof ManagementActions)[keyof typeof ManagementActions];
export type Action = DataAction | ManagementAction;

const DATA_ACTIONS: ReadonlySet<string> = new Set([
  ...Object.values(SecretActions),
  ...Object.values(KeyActions),
  ...Object.values(CertificateActions),
  ...Object.values(VaultBackupActions),
]);

/**
 * Data actions and management actions are decided apart: a role's `dataActions` never grant a
 * management action and its `actions` never a data action. Add new data action tables here.
 */
export function isDataAction(action: Action): action is DataAction {
  return DATA_ACTIONS.has(action);
}
