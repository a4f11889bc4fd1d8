import { type ManagementAction, ManagementActions } from './actions.js';
import { KEY_VAULT_ADMINISTRATOR_ROLE_ID } from './role-service.js';

/**
 * What it takes to change who may read a vault's data: its permission model or its access
 * policies. Either change can hand anyone every data action in the vault, so it needs exactly
 * what handing out Key Vault Administrator at the vault needs: `roleAssignments/write` at the
 * vault's scope, with any ABAC condition on that permission admitting Key Vault Administrator.
 * Owner, User Access Administrator, Key Vault Data Access Administrator and installation
 * administrators qualify; Key Vault Contributor (`Microsoft.KeyVault/*`) does not, so a
 * management role never reaches data by changing the rules (Azure's own gap, closed here).
 */
export function dataAccessChange(vaultScope: string): {
  action: ManagementAction;
  scope: string;
  roleDefinitionId: string;
} {
  return {
    action: ManagementActions.writeRoleAssignments,
    scope: vaultScope,
    roleDefinitionId: KEY_VAULT_ADMINISTRATOR_ROLE_ID,
  };
}
