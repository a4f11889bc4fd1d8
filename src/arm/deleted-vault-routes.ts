import type { ArmRoute } from '../http/arm-plane.js';

/**
 * THE SEAM for soft-deleted vaults in Resource Manager's shape, which wait for the vault
 * lifecycle work (soft-deleted vaults in src/vaults/service.ts). Until then no route is
 * registered here, so these paths answer 404 as before, and `createMode: recover` is refused with
 * a 400 that says why (vault-wire.ts, checkSupported). When the vault service can list, get,
 * recover and purge deleted vaults, add here (swagger 2024-11-01, Vaults_*):
 *
 * - `GET /subscriptions/{sub}/providers/Microsoft.KeyVault/deletedVaults` (ListDeleted),
 *   action `Microsoft.KeyVault/deletedVaults/read` at `/`: `{value: [DeletedVault]}`.
 * - `GET .../providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}` (GetDeleted):
 *   `{id, name, type: 'Microsoft.KeyVault/deletedVaults', properties: {vaultId, location,
 *   deletionDate, scheduledPurgeDate, tags, purgeProtectionEnabled}}`; 404 when none. Terraform
 *   calls it before every create (features.key_vault.recover_soft_deleted_key_vaults).
 * - `POST .../locations/{location}/deletedVaults/{name}/purge` (PurgeDeleted, a long-running
 *   operation: 202 with `Location`, polled like operations.ts), action
 *   `Microsoft.KeyVault/locations/deletedVaults/purge/action`, which Key Vault Contributor's
 *   notActions exclude.
 * - `createMode: 'recover'` in vault-plan.ts: recover the deleted vault of that name instead of
 *   refusing; and deleted names count as taken in checkNameAvailability (subscription-routes.ts).
 *
 * app.ts (through arm.ts) already registers whatever this returns.
 */
export function deletedVaultRoutes(): ArmRoute[] {
  return [];
}
