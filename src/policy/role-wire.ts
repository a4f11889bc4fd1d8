import type { RoleAssignment, RoleDefinition } from './role-types.js';
import { scopeToVaultRelative } from './scopes.js';

/** The only code that knows how roles look on the wire: Coffer's admin API and Managed HSM's shape. */

export function definitionView(role: RoleDefinition) {
  return {
    id: role.id,
    name: role.name,
    description: role.description,
    roleType: role.roleType,
    actions: role.actions,
    notActions: role.notActions,
    dataActions: role.dataActions,
    notDataActions: role.notDataActions,
    ...(role.condition ? { condition: role.condition, conditionVersion: role.conditionVersion } : {}),
  };
}

export function assignmentView(assignment: RoleAssignment, role: RoleDefinition | undefined) {
  return {
    id: assignment.id,
    roleDefinitionId: assignment.roleDefinitionId,
    roleDefinitionName: role?.name ?? null,
    principalId: assignment.principalId,
    scope: assignment.scope,
    createdAt: assignment.createdAt,
  };
}

const DEFINITIONS = 'providers/Microsoft.Authorization/roleDefinitions';
const ASSIGNMENTS = 'providers/Microsoft.Authorization/roleAssignments';

/** Managed HSM's role definition id: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/{id}`. */
export function hsmDefinitionId(id: string): string {
  return `Microsoft.KeyVault/${DEFINITIONS}/${id}`;
}

export function hsmDefinition(role: RoleDefinition) {
  return {
    id: hsmDefinitionId(role.id),
    name: role.id,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName: role.name,
      description: role.description,
      type: role.roleType === 'BuiltInRole' ? 'AKVBuiltInRole' : 'CustomRole',
      permissions: [
        {
          actions: role.actions,
          notActions: role.notActions,
          dataActions: role.dataActions,
          notDataActions: role.notDataActions,
        },
      ],
      assignableScopes: ['/'],
    },
  };
}

/** An assignment inside `vault`, with its scope relative to the vault as Managed HSM writes it. */
export function hsmAssignment(vault: string, assignment: RoleAssignment) {
  const scope = scopeToVaultRelative(vault, assignment.scope) ?? '/';
  return {
    id: `${scope === '/' ? '' : scope}/${ASSIGNMENTS}/${assignment.id}`,
    name: assignment.id,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: {
      scope,
      roleDefinitionId: hsmDefinitionId(assignment.roleDefinitionId),
      principalId: assignment.principalId,
    },
  };
}
