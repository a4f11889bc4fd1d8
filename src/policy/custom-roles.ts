import { BadParameter } from '../errors/index.js';
import type { RoleDefinition } from './role-types.js';

const ACTION_PATTERN = /^[A-Za-z0-9.*/_-]{1,256}$/;
const MAX_ACTIONS = 200;
type ActionList = 'actions' | 'notActions' | 'dataActions' | 'notDataActions';

/**
 * A custom role from what a client sent: `{roleName|name, description?, actions?, notActions?,
 * dataActions?, notDataActions?}`, or Managed HSM's `{roleName, description, permissions: [{...}]}`.
 */
export function validateCustomRole(input: unknown, id: string): RoleDefinition {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new BadParameter('A role definition is a JSON object with a name and action lists.');
  const body = input as Record<string, unknown>;
  const permissions = Array.isArray(body['permissions']) ? (body['permissions'] as unknown[]) : [body];
  if (permissions.length !== 1)
    throw new BadParameter('A role definition has exactly one permissions entry.');
  const permission = (permissions[0] ?? {}) as Record<string, unknown>;
  const name = body['roleName'] ?? body['name'];
  if (typeof name !== 'string' || name.trim() === '' || name.length > 128)
    throw new BadParameter('A role definition needs a roleName of 1-128 characters.');
  const description = body['description'] ?? '';
  if (typeof description !== 'string' || description.length > 1024)
    throw new BadParameter('description must be a string of at most 1024 characters.');
  const role: RoleDefinition = {
    id,
    name: name.trim(),
    description,
    roleType: 'CustomRole',
    actions: actionList(permission, 'actions'),
    notActions: actionList(permission, 'notActions'),
    dataActions: actionList(permission, 'dataActions'),
    notDataActions: actionList(permission, 'notDataActions'),
  };
  if (role.actions.length === 0 && role.dataActions.length === 0)
    throw new BadParameter('A role definition must grant at least one action or data action.');
  return role;
}

function actionList(permission: Record<string, unknown>, field: ActionList): string[] {
  const value = permission[field] ?? [];
  if (!Array.isArray(value) || value.length > MAX_ACTIONS)
    throw new BadParameter(`${field} must be a list of at most ${MAX_ACTIONS} action names.`);
  return value.map((action) => {
    if (typeof action !== 'string' || !ACTION_PATTERN.test(action))
      throw new BadParameter(
        `${field} holds ${describe(action)}, which is not an action name such as Microsoft.KeyVault/vaults/secrets/getSecret/action.`,
      );
    return action;
  });
}

/**
 * What a caller sent, for a message, without converting it: String() of a JSON object or list
 * runs code the caller shaped (an own `toString`, or nesting deep enough to exhaust the stack).
 */
function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.slice(0, 80)}'`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
