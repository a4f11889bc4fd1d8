import type { AuthenticatedPrincipal } from '../identity/types.js';
import { type AccessPolicy, matchingAccessPolicy } from './access-policies.js';
import { type Action, isDataAction, ManagementActions } from './actions.js';
import type { RoleAssignment, RoleDefinition } from './role-types.js';

/** What allowed a request, for the audit record (Azure's AppliedAssignmentId and friends). */
export type GrantBasis =
  | { kind: 'role'; assignmentId: string; roleDefinitionId: string; roleName: string; scope: string }
  | { kind: 'accessPolicy'; objectId: string }
  | { kind: 'administrator' };

export interface Decision {
  allowed: boolean;
  reason: string;
  /** Which model decided: role assignments (and the administrator flag), or the vault's access policies. */
  model: 'rbac' | 'accessPolicy';
  /** When allowed: the assignment, policy or flag that granted. */
  grantedBy?: GrantBasis;
}

/** One role assignment with its definition, as the pipeline loaded them. */
export interface Grant {
  assignment: RoleAssignment;
  role: RoleDefinition;
}

/** Everything a decision depends on besides who, what and where; the pipeline loads it. */
export interface AuthorizationContext {
  /** Assignments of the principal and of its groups (others are ignored). */
  grants: readonly Grant[];
  /** The vault the scope lies in, for its permission model (data actions only). */
  vault?: { name: string; enableRbacAuthorization: boolean; accessPolicies?: AccessPolicy[] };
  /** For role assignment writes and deletes: the role being assigned, for ABAC conditions. */
  roleDefinitionId?: string;
  /** For access policies: whether a read lists objects (`list`) or reads one (`get`). */
  listing?: boolean;
}

const CONDITIONED_ACTIONS: ReadonlySet<string> = new Set([
  ManagementActions.writeRoleAssignments.toLowerCase(),
  ManagementActions.deleteRoleAssignments.toLowerCase(),
]);

/**
 * The one place where access is decided. Every route asks here; nothing else says yes. Pure:
 * the pipeline hands it the principal's grants and the vault. Deny by default.
 *
 * - Management actions: installation administrators (the `administrator` flag) may do all of
 *   them; anyone else needs a role whose `actions` match, at the scope or above.
 * - Data actions: in a vault with `enableRbacAuthorization` false, its access policies decide;
 *   otherwise a role whose `dataActions` match, at the scope or above. The administrator flag
 *   grants no data action: administrators read secrets through a role like anybody else.
 */
export function authorize(
  principal: AuthenticatedPrincipal,
  action: Action,
  scope: string,
  context: AuthorizationContext,
): Decision {
  if (isDataAction(action)) {
    if (context.vault && !context.vault.enableRbacAuthorization) {
      const policy = matchingAccessPolicy(context.vault.accessPolicies, principal, action, context.listing);
      if (policy) {
        return {
          allowed: true,
          reason: 'access policy',
          model: 'accessPolicy',
          grantedBy: { kind: 'accessPolicy', objectId: policy.objectId },
        };
      }
      return deny(
        'accessPolicy',
        `Vault '${context.vault.name}' uses access policies, and none of them grants the principal ${principal.objectId} the permission for '${action}'.`,
      );
    }
  } else if (principal.administrator) {
    return {
      allowed: true,
      reason: 'installation administrator',
      model: 'rbac',
      grantedBy: { kind: 'administrator' },
    };
  }
  const grant = context.grants.find((candidate) => grants(principal, candidate, action, scope, context));
  if (grant) {
    const { assignment, role } = grant;
    return {
      allowed: true,
      reason: `role '${role.name}' at '${assignment.scope}'`,
      model: 'rbac',
      grantedBy: {
        kind: 'role',
        assignmentId: assignment.id,
        roleDefinitionId: role.id,
        roleName: role.name,
        scope: assignment.scope,
      },
    };
  }
  return deny(
    'rbac',
    `The principal ${principal.objectId} has no role assignment that grants '${action}' at '${scope}' or above.`,
  );
}

function deny(model: Decision['model'], reason: string): Decision {
  return { allowed: false, reason, model };
}

function grants(
  principal: AuthenticatedPrincipal,
  grant: Grant,
  action: Action,
  scope: string,
  context: AuthorizationContext,
): boolean {
  const { assignment, role } = grant;
  const id = assignment.principalId.toLowerCase();
  if (
    id !== principal.objectId.toLowerCase() &&
    !principal.groups.some((group) => group.toLowerCase() === id)
  )
    return false;
  if (!scopeCovers(assignment.scope, scope)) return false;
  const [allowed, excluded] = isDataAction(action)
    ? [role.dataActions, role.notDataActions]
    : [role.actions, role.notActions];
  if (!matchesAny(allowed, action) || matchesAny(excluded, action)) return false;
  return conditionHolds(role, action, context);
}

/** Azure's ABAC condition on Data Access Administrator: it may only hand out (or remove) the listed roles. */
function conditionHolds(role: RoleDefinition, action: Action, context: AuthorizationContext): boolean {
  if (!role.assignableRoleIds || !CONDITIONED_ACTIONS.has(action.toLowerCase())) return true;
  const wanted = context.roleDefinitionId?.toLowerCase();
  return wanted !== undefined && role.assignableRoleIds.includes(wanted);
}

/** Whether an assignment at `assigned` reaches `requested`: the same scope or an ancestor of it. */
export function scopeCovers(assigned: string, requested: string): boolean {
  const parent = assigned.toLowerCase().replace(/\/+$/, '');
  const child = requested.toLowerCase().replace(/\/+$/, '');
  return parent === '' || child === parent || child.startsWith(`${parent}/`);
}

const patternCache = new Map<string, RegExp>();

/** Azure's action patterns: `*` stands for any run of characters (slashes included); case does not matter. */
export function actionMatches(pattern: string, action: string): boolean {
  let regex = patternCache.get(pattern);
  if (!regex) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    regex = new RegExp(`^${body}$`, 'i');
    // Custom roles bring their own patterns: keep the cache bounded.
    if (patternCache.size > 2000) patternCache.clear();
    patternCache.set(pattern, regex);
  }
  return regex.test(action);
}

function matchesAny(patterns: readonly string[], action: string): boolean {
  return patterns.some((pattern) => actionMatches(pattern, action));
}
