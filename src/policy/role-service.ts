import { BadParameter, Conflict, NotFound } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { createCacheEpoch } from '../lib/cache-epoch.js';
import { isUuid, newUuid } from '../lib/ids.js';
import { type Grant, scopeCovers } from './authorize.js';
import { BUILTIN_ROLES } from './builtin-roles.js';
import { validateCustomRole } from './custom-roles.js';
import type { RoleStore } from './role-store.js';
import type { RoleAssignment, RoleDefinition } from './role-types.js';
import { parseScope } from './scopes.js';

/**
 * How long a node may keep using cached role assignments and custom roles. A change takes
 * effect at once on the node that made it, and on other nodes sharing the store within this bound.
 */
export const ROLE_CACHE_MS = 30_000;

/** Azure's Key Vault Administrator: every data action. The first administrator holds it at `/`. */
export const KEY_VAULT_ADMINISTRATOR_ROLE_ID = '00482a5a-887f-4fb3-b363-3b7fe8e74483';

export interface AssignmentFilter {
  principalId?: string;
  roleDefinitionId?: string;
  /** Keep assignments whose scope passes this test. */
  scope?: (scope: string) => boolean;
}

/** Role definitions (built in and custom) and role assignments; the pipeline reads grants from here. */
export function createRoleService(deps: {
  store: RoleStore;
  clock: Clock;
  /** A principal's (or group's) object id from an object id or client id; NotFound when unknown. */
  resolvePrincipal: (id: string) => Promise<string>;
  vaultExists: (name: string) => Promise<boolean>;
  /** Told after an assignment is saved or removed (events). */
  assignmentChanged?: (action: 'Created' | 'Deleted', assignment: RoleAssignment) => void;
}) {
  const { store, clock } = deps;
  const byPrincipal = new Map<string, { assignments: RoleAssignment[]; loadedAt: number }>();
  /** Built-in and custom roles, and an index by id, rebuilt only when custom roles are reloaded. */
  let custom: { roles: RoleDefinition[]; byId: Map<string, RoleDefinition>; loadedAt: number } | undefined;
  const fresh = (loadedAt: number) => clock.nowMs() - loadedAt <= ROLE_CACHE_MS;
  const epoch = createCacheEpoch();

  async function catalog() {
    if (!custom || !fresh(custom.loadedAt)) {
      const keep = epoch.begin();
      const roles = [...BUILTIN_ROLES, ...(await store.listDefinitions())];
      const loaded = { roles, byId: new Map(roles.map((role) => [role.id, role])), loadedAt: clock.nowMs() };
      if (!keep()) return loaded;
      custom = loaded;
    }
    return custom;
  }

  async function definitions(): Promise<RoleDefinition[]> {
    return (await catalog()).roles;
  }

  /** By id (bare GUID or Azure's full `.../roleDefinitions/{id}`) or by name, case-insensitively. */
  async function findDefinition(reference: string): Promise<RoleDefinition> {
    const text = String(reference).trim().toLowerCase();
    const id = text.split('/').pop() ?? '';
    const role = (await definitions()).find(
      (candidate) => candidate.id === id || candidate.name.toLowerCase() === text,
    );
    if (!role) {
      throw new NotFound(
        'RoleDefinitionDoesNotExist',
        `No role definition has the name or id '${String(reference).slice(0, 128)}'. List them with: coffer role definition list`,
      );
    }
    return role;
  }

  async function assignmentsOf(principalId: string): Promise<RoleAssignment[]> {
    const key = principalId.toLowerCase();
    let entry = byPrincipal.get(key);
    if (!entry || !fresh(entry.loadedAt)) {
      const keep = epoch.begin();
      entry = { assignments: await store.assignmentsOf(key), loadedAt: clock.nowMs() };
      if (keep()) byPrincipal.set(key, entry);
    }
    return entry.assignments;
  }

  async function getAssignment(id: string): Promise<RoleAssignment> {
    const assignment = isUuid(id) ? await store.getAssignment(id.toLowerCase()) : undefined;
    if (!assignment)
      throw new NotFound(
        'RoleAssignmentNotFound',
        `No role assignment has the id '${String(id).slice(0, 64)}'.`,
      );
    return assignment;
  }

  return {
    definitions,
    findDefinition,
    getAssignment,

    /** Everything the principal and its groups were given, with the roles resolved. */
    async grantsFor(principal: { objectId: string; groups: string[] }): Promise<Grant[]> {
      const lists = await Promise.all([principal.objectId, ...principal.groups].map(assignmentsOf));
      const { byId } = await catalog();
      return lists.flat().flatMap((assignment) => {
        const role = byId.get(assignment.roleDefinitionId);
        return role ? [{ assignment, role }] : [];
      });
    },

    /** Creates or replaces a custom role (PUT semantics); built-in roles cannot be changed. */
    async saveCustomRole(input: unknown, id?: string): Promise<RoleDefinition> {
      const roleId = (id ?? newUuid()).toLowerCase();
      if (!isUuid(roleId)) throw new BadParameter('A role definition id must be a GUID.');
      if (BUILTIN_ROLES.some((role) => role.id === roleId))
        throw new BadParameter(`'${roleId}' is a built-in role: built-in roles cannot be changed.`);
      const role = validateCustomRole(input, roleId);
      const clash = (await definitions()).find(
        (other) => other.id !== roleId && other.name.toLowerCase() === role.name.toLowerCase(),
      );
      if (clash) throw new Conflict(`A role named '${clash.name}' already exists.`, 'RoleDefinitionExists');
      await store.saveDefinition(role);
      custom = undefined;
      return role;
    },

    async deleteCustomRole(reference: string): Promise<RoleDefinition> {
      const role = await findDefinition(reference);
      if (role.roleType === 'BuiltInRole')
        throw new BadParameter(`'${role.name}' is a built-in role: it cannot be deleted.`);
      if ((await store.listAssignments()).some((assignment) => assignment.roleDefinitionId === role.id))
        throw new Conflict(
          `Role '${role.name}' is still assigned: delete its role assignments first.`,
          'RoleDefinitionHasAssignments',
        );
      await store.deleteDefinition(role.id);
      custom = undefined;
      return role;
    },

    /** For filters: a client id becomes its object id; an unknown id (a deleted principal) stays as given. */
    async principalIdOf(id: string): Promise<string> {
      try {
        return await deps.resolvePrincipal(id);
      } catch (error) {
        if (error instanceof NotFound) return id.toLowerCase();
        throw error;
      }
    },

    /** Resolves names and client ids, validates the scope, and refuses duplicates as Azure does (409). */
    async prepareAssignment(input: { role: string; principal: string; scope: unknown }) {
      const role = await findDefinition(input.role);
      const principalId = await deps.resolvePrincipal(input.principal);
      const { scope, vault } = parseScope(input.scope);
      if (vault && !(await deps.vaultExists(vault)))
        throw new NotFound('VaultNotFound', `No vault named '${vault}' exists on this server.`);
      return { role, principalId, scope };
    },

    async createAssignment(input: { id?: string; role: RoleDefinition; principalId: string; scope: string }) {
      const id = (input.id ?? newUuid()).toLowerCase();
      if (!isUuid(id)) throw new BadParameter('A role assignment name must be a GUID.');
      const existing = await store.listAssignments();
      if (existing.some((other) => other.id === id))
        throw new Conflict(`A role assignment with the id '${id}' already exists.`, 'RoleAssignmentExists');
      const duplicate = existing.find(
        (other) =>
          other.principalId === input.principalId &&
          other.roleDefinitionId === input.role.id &&
          other.scope === input.scope,
      );
      if (duplicate)
        throw new Conflict(
          `The role assignment already exists (id ${duplicate.id}).`,
          'RoleAssignmentExists',
        );
      const assignment: RoleAssignment = {
        id,
        roleDefinitionId: input.role.id,
        principalId: input.principalId,
        scope: input.scope,
        createdAt: new Date(clock.nowMs()).toISOString(),
      };
      await store.saveAssignment(assignment);
      byPrincipal.delete(assignment.principalId);
      deps.assignmentChanged?.('Created', assignment);
      return assignment;
    },

    /** Makes sure the principal holds the role at the scope (bootstrap and dev mode; idempotent). */
    async ensureAssignment(roleDefinitionId: string, principalId: string, scope: string): Promise<void> {
      const held = await store.assignmentsOf(principalId);
      if (held.some((other) => other.roleDefinitionId === roleDefinitionId && other.scope === scope)) return;
      const role = await findDefinition(roleDefinitionId);
      await this.createAssignment({ role, principalId, scope });
    },

    async listAssignments(filter: AssignmentFilter = {}): Promise<RoleAssignment[]> {
      const all = filter.principalId
        ? await store.assignmentsOf(filter.principalId)
        : await store.listAssignments();
      return all
        .filter(
          (assignment) => !filter.roleDefinitionId || assignment.roleDefinitionId === filter.roleDefinitionId,
        )
        .filter((assignment) => !filter.scope || filter.scope(assignment.scope))
        .sort((a, b) => a.scope.localeCompare(b.scope) || a.createdAt.localeCompare(b.createdAt));
    },

    /**
     * Removes every assignment at `scope` or below it (a purged vault's), so nothing granted on
     * an old vault reaches a new one that takes its name. Returns how many were removed.
     */
    async deleteAssignmentsUnder(scope: string): Promise<number> {
      const doomed = (await store.listAssignments()).filter((assignment) =>
        scopeCovers(scope, assignment.scope),
      );
      for (const assignment of doomed) {
        await store.deleteAssignment(assignment);
        byPrincipal.delete(assignment.principalId);
      }
      return doomed.length;
    },

    async deleteAssignment(id: string): Promise<RoleAssignment> {
      const assignment = await getAssignment(id);
      await store.deleteAssignment(assignment);
      byPrincipal.delete(assignment.principalId);
      deps.assignmentChanged?.('Deleted', assignment);
      return assignment;
    },

    /** Everything cached is dropped, and loads in flight will not be kept (another node changed roles). */
    clearCache(): void {
      epoch.bump();
      byPrincipal.clear();
      custom = undefined;
    },
  };
}

export type RoleService = ReturnType<typeof createRoleService>;
