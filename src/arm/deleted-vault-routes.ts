import type { FastifyRequest } from 'fastify';
import type { ArmRoute } from '../http/arm-plane.js';
import type { Clock } from '../lib/clock.js';
import { ManagementActions } from '../policy/actions.js';
import { scopeOfVault } from '../policy/scopes.js';
import { validateVaultName, type VaultService } from '../vaults/service.js';
import { type Operations, operationStatusUrl } from './operations.js';
import { checkLocation, DELETED_VAULT_TYPE } from './resource-ids.js';
import type { ArmContext } from './vault-routes.js';
import { deletedVaultView } from './vault-wire.js';

const PROVIDER_URL = '/subscriptions/:subscriptionId/providers/Microsoft.KeyVault';
const DELETED_VAULT_URL = `${PROVIDER_URL}/locations/:location/deletedVaults/:vaultName`;

export interface ArmDeletedVaultDeps {
  vaults: Pick<VaultService, 'listDeleted' | 'getDeleted' | 'purge'>;
  operations: Operations;
  clock: Clock;
  context: (apiVersion: string) => ArmContext;
}

interface DeletedVaultParams {
  location: string;
  vaultName: string;
}

const apiVersionOf = (request: FastifyRequest) => (request.query as { 'api-version': string })['api-version'];

/**
 * Soft-deleted vaults in Resource Manager's shape (swagger 2024-11-01, Vaults_ListDeleted,
 * Vaults_GetDeleted, Vaults_PurgeDeleted), over the vault service's lifecycle. As in the admin
 * API, one deleted vault is authorized at its own scope (`/vaults/{name}`), where its role
 * assignments stay while it is deleted; the list at `/`. Recovering is a PUT with
 * `createMode: recover` (vault-plan.ts). Terraform reads a deleted vault before every create
 * (features.key_vault.recover_soft_deleted_key_vaults), so a 404 here must mean "none".
 */
export function deletedVaultRoutes(deps: ArmDeletedVaultDeps): ArmRoute[] {
  const contextOf = (request: FastifyRequest) => deps.context(apiVersionOf(request));

  /** The vault's scope; a location other than the installation's holds no vault at all. */
  const deletedVaultScope = (request: FastifyRequest) => {
    const { location, vaultName } = request.params as DeletedVaultParams;
    checkLocation(location, contextOf(request).location, DELETED_VAULT_TYPE);
    return { scope: `/vaults/${validateVaultName(vaultName)}` };
  };
  const nameOf = (request: FastifyRequest) =>
    validateVaultName((request.params as DeletedVaultParams).vaultName);

  return [
    {
      method: 'GET',
      url: `${PROVIDER_URL}/deletedVaults`,
      operation: 'VaultListDeleted',
      action: ManagementActions.listDeletedVaults,
      target: () => ({ scope: '/' }),
      listing: true,
      handler: async (request) => {
        const context = contextOf(request);
        const deleted = await request.visible(await deps.vaults.listDeleted(), scopeOfVault);
        return { body: { value: deleted.map((record) => deletedVaultView(record, context)) } };
      },
    },
    {
      method: 'GET',
      url: DELETED_VAULT_URL,
      operation: 'VaultGetDeleted',
      action: ManagementActions.readDeletedVaults,
      target: deletedVaultScope,
      handler: async (request) => ({
        body: deletedVaultView(await deps.vaults.getDeleted(nameOf(request)), contextOf(request)),
      }),
    },
    {
      method: 'POST',
      url: `${DELETED_VAULT_URL}/purge`,
      operation: 'VaultPurge',
      // Key Vault Contributor's notActions exclude it: deleting a vault is not destroying it.
      action: ManagementActions.purgeDeletedVaults,
      target: deletedVaultScope,
      handler: async (request) => {
        const startMs = deps.clock.nowMs();
        await deps.vaults.purge(nameOf(request));
        const context = contextOf(request);
        const status = operationStatusUrl(request.baseUrl, context, await deps.operations.issue(startMs));
        // Azure's 202 and Location, as every ARM client polls a POST; the purge is done, so the
        // first poll finds it Succeeded.
        return { status: 202, headers: { location: status, 'retry-after': '0' } };
      },
    },
  ];
}
