import type { FastifyRequest } from 'fastify';
import type { AdminRoute } from '../http/admin-plane.js';
import { ManagementActions } from '../policy/actions.js';
import { scopeOfVault } from '../policy/scopes.js';
import { vaultTarget } from './access-control-routes.js';
import type { VaultService } from './service.js';
import type { DeletedVaultRecord, VaultRecord } from './types.js';

/**
 * Soft-deleted vaults (docs/admin-api.md, Deleted vaults), as `az keyvault list-deleted`,
 * `show-deleted`, `recover` and `purge` use them. Everything is authorized at the vault's own
 * scope, where its role assignments still are while it is deleted; the listing shows the vaults
 * whose scope allows it.
 */
export function deletedVaultRoutes(
  vaults: VaultService,
  view: (record: VaultRecord) => object,
): AdminRoute[] {
  const deletedView = (record: DeletedVaultRecord) => ({
    ...view(record),
    deletionDate: record.deletionDate,
    scheduledPurgeDate: record.scheduledPurgeDate,
    purgeProtectionEnabled: record.enablePurgeProtection,
  });
  const name = (request: FastifyRequest) => (request.params as { name: string }).name;
  return [
    {
      method: 'GET',
      url: '/coffer/deletedvaults',
      operation: 'VaultListDeleted',
      action: ManagementActions.listDeletedVaults,
      listing: true,
      handler: async (request) => ({
        body: { value: (await request.visible(await vaults.listDeleted(), scopeOfVault)).map(deletedView) },
      }),
    },
    {
      method: 'GET',
      url: '/coffer/deletedvaults/:name',
      operation: 'VaultGetDeleted',
      action: ManagementActions.readDeletedVaults,
      target: vaultTarget,
      handler: async (request) => ({ body: deletedView(await vaults.getDeleted(name(request))) }),
    },
    {
      method: 'POST',
      url: '/coffer/deletedvaults/:name/recover',
      operation: 'VaultRecover',
      // Azure recovers a vault by writing it again (createMode recover): vaults/write.
      action: ManagementActions.writeVaults,
      target: vaultTarget,
      handler: async (request) => ({ body: view(await vaults.recover(name(request))) }),
    },
    {
      method: 'POST',
      url: '/coffer/deletedvaults/:name/purge',
      operation: 'VaultPurge',
      action: ManagementActions.purgeDeletedVaults,
      target: vaultTarget,
      handler: async (request) => {
        await vaults.purge(name(request));
        return { status: 204 };
      },
    },
  ];
}
