/**
 * Role-based access control records, shaped as Azure's: a definition lists the management
 * `actions` and the `dataActions` it grants (each minus its `not...` list); an assignment gives
 * one definition to one principal (or group) at one scope.
 */
export interface RoleDefinition {
  /** A GUID: Azure's own id for built-in roles, a fresh one for custom roles. */
  id: string;
  name: string;
  description: string;
  roleType: 'BuiltInRole' | 'CustomRole';
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
  /** Azure's ABAC condition, verbatim (Key Vault Data Access Administrator only). */
  condition?: string;
  conditionVersion?: string;
  /**
   * What the condition says, evaluated: role assignments this role writes or deletes must be of
   * one of these role definition ids.
   */
  assignableRoleIds?: string[];
}

export interface RoleAssignment {
  id: string;
  roleDefinitionId: string;
  /** Object id of a service principal, user or group. */
  principalId: string;
  /** `/`, `/vaults/{vault}`, `/vaults/{vault}/{kind}` or `/vaults/{vault}/{kind}/{name}`. */
  scope: string;
  createdAt: string;
}
