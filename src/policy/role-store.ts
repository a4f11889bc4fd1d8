import { readJson, type SecureStore, writeJson } from '../barrier/secure-store.js';
import type { RoleAssignment, RoleDefinition } from './role-types.js';

/**
 * Persistence of custom role definitions and role assignments behind the barrier:
 * `rbac/definitions/{id}`, `rbac/assignments/{id}`, and the index
 * `rbac/by-principal/{principalId}/{assignmentId}` that makes "what may this caller do" one list.
 */
export function createRoleStore(store: SecureStore) {
  const definitionPath = (id: string) => `rbac/definitions/${id}`;
  const assignmentPath = (id: string) => `rbac/assignments/${id}`;
  const indexPrefix = (principalId: string) => `rbac/by-principal/${principalId.toLowerCase()}/`;

  async function readAll<T>(prefix: string, path: (id: string) => string): Promise<T[]> {
    const ids = await store.list(prefix);
    const records = await Promise.all(ids.map((id) => readJson<T>(store, path(id))));
    return records.filter((record): record is Awaited<T> => record !== undefined) as T[];
  }

  return {
    getDefinition: (id: string) => readJson<RoleDefinition>(store, definitionPath(id)),
    listDefinitions: () => readAll<RoleDefinition>('rbac/definitions/', definitionPath),
    saveDefinition: (role: RoleDefinition) => writeJson(store, definitionPath(role.id), role),
    deleteDefinition: (id: string) => store.delete(definitionPath(id)),

    getAssignment: (id: string) => readJson<RoleAssignment>(store, assignmentPath(id)),
    listAssignments: () => readAll<RoleAssignment>('rbac/assignments/', assignmentPath),

    async assignmentsOf(principalId: string): Promise<RoleAssignment[]> {
      const ids = await store.list(indexPrefix(principalId));
      const records = await Promise.all(ids.map((id) => readJson<RoleAssignment>(store, assignmentPath(id))));
      return records.filter((record): record is RoleAssignment => record !== undefined);
    },

    saveAssignment: (assignment: RoleAssignment) =>
      store.transaction(async (tx) => {
        await writeJson(tx, assignmentPath(assignment.id), assignment);
        await tx.put(`${indexPrefix(assignment.principalId)}${assignment.id}`, Buffer.from('1'));
      }),

    deleteAssignment: (assignment: RoleAssignment) =>
      store.transaction(async (tx) => {
        await tx.delete(assignmentPath(assignment.id));
        await tx.delete(`${indexPrefix(assignment.principalId)}${assignment.id}`);
      }),
  };
}

export type RoleStore = ReturnType<typeof createRoleStore>;
