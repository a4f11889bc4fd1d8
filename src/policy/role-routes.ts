import type { FastifyRequest } from 'fastify';
import type { AdminRoute } from '../http/admin-plane.js';
import { ManagementActions } from './actions.js';
import type { RoleService } from './role-service.js';
import { assignmentView, definitionView } from './role-wire.js';
import { parseScope } from './scopes.js';

const DEFINITIONS = '/coffer/roles/definitions';
const ASSIGNMENTS = '/coffer/roles/assignments';

interface AssignmentBody {
  id?: string;
  role: string;
  principalId: string;
  scope: string;
}

/**
 * Role definitions and assignments in the administration API (docs/admin-api.md). Assignment
 * calls are authorized at the assignment's scope, so a Data Access Administrator of one vault
 * manages that vault's assignments and nothing else.
 */
export function roleAdminRoutes(roles: RoleService): AdminRoute[] {
  const param = (request: FastifyRequest) => (request.params as { id: string }).id;
  const query = (request: FastifyRequest) =>
    request.query as { principalId?: string; scope?: string; role?: string };
  const view = async (assignment: Parameters<typeof assignmentView>[0]) =>
    assignmentView(
      assignment,
      (await roles.definitions()).find((role) => role.id === assignment.roleDefinitionId),
    );

  return [
    ...definitionRoutes(roles, param),
    {
      method: 'GET',
      url: ASSIGNMENTS,
      operation: 'RoleAssignmentList',
      action: ManagementActions.readRoleAssignments,
      // Listing one scope's assignments needs read rights there; without a scope, everywhere.
      target: (request) => ({ scope: parseScope(query(request).scope ?? '/').scope }),
      handler: async (request) => {
        const { principalId, scope, role } = query(request);
        const within = parseScope(scope ?? '/').scope;
        const assignments = await roles.listAssignments({
          principalId: principalId === undefined ? undefined : await roles.principalIdOf(principalId),
          roleDefinitionId: role === undefined ? undefined : (await roles.findDefinition(role)).id,
          scope: (candidate) => within === '/' || candidate === within || candidate.startsWith(`${within}/`),
        });
        return { body: { value: await Promise.all(assignments.map(view)) } };
      },
    },
    {
      method: 'POST',
      url: ASSIGNMENTS,
      operation: 'RoleAssignmentCreate',
      action: ManagementActions.writeRoleAssignments,
      schema: {
        body: {
          type: 'object',
          required: ['role', 'principalId', 'scope'],
          additionalProperties: false,
          properties: {
            id: { type: 'string' },
            role: { type: 'string' },
            principalId: { type: 'string' },
            scope: { type: 'string' },
          },
        },
      },
      target: async (request) => {
        const body = request.body as AssignmentBody;
        const role = await roles.findDefinition(body.role);
        return { scope: parseScope(body.scope).scope, roleDefinitionId: role.id };
      },
      handler: async (request) => {
        const body = request.body as AssignmentBody;
        const prepared = await roles.prepareAssignment({
          role: body.role,
          principal: body.principalId,
          scope: body.scope,
        });
        return { status: 201, body: await view(await roles.createAssignment({ id: body.id, ...prepared })) };
      },
    },
    {
      method: 'GET',
      url: `${ASSIGNMENTS}/:id`,
      operation: 'RoleAssignmentGet',
      action: ManagementActions.readRoleAssignments,
      target: async (request) => ({ scope: (await roles.getAssignment(param(request))).scope }),
      handler: async (request) => ({ body: await view(await roles.getAssignment(param(request))) }),
    },
    {
      method: 'DELETE',
      url: `${ASSIGNMENTS}/:id`,
      operation: 'RoleAssignmentDelete',
      action: ManagementActions.deleteRoleAssignments,
      target: async (request) => {
        const assignment = await roles.getAssignment(param(request));
        return { scope: assignment.scope, roleDefinitionId: assignment.roleDefinitionId };
      },
      handler: async (request) => {
        await roles.deleteAssignment(param(request));
        return { status: 204 };
      },
    },
  ];
}

function definitionRoutes(roles: RoleService, param: (request: FastifyRequest) => string): AdminRoute[] {
  return [
    {
      method: 'GET',
      url: DEFINITIONS,
      operation: 'RoleDefinitionList',
      action: ManagementActions.readRoleDefinitions,
      handler: async () => ({ body: { value: (await roles.definitions()).map(definitionView) } }),
    },
    {
      method: 'GET',
      url: `${DEFINITIONS}/:id`,
      operation: 'RoleDefinitionGet',
      action: ManagementActions.readRoleDefinitions,
      handler: async (request) => ({ body: definitionView(await roles.findDefinition(param(request))) }),
    },
    {
      method: 'POST',
      url: DEFINITIONS,
      operation: 'RoleDefinitionSet',
      action: ManagementActions.writeRoleDefinitions,
      schema: { body: { type: 'object' } },
      handler: async (request) => {
        const body = request.body as { id?: unknown };
        const id = typeof body.id === 'string' ? body.id : undefined;
        return { status: 201, body: definitionView(await roles.saveCustomRole(request.body, id)) };
      },
    },
    {
      method: 'PUT',
      url: `${DEFINITIONS}/:id`,
      operation: 'RoleDefinitionSet',
      action: ManagementActions.writeRoleDefinitions,
      schema: { body: { type: 'object' } },
      handler: async (request) => ({
        body: definitionView(await roles.saveCustomRole(request.body, param(request))),
      }),
    },
    {
      method: 'DELETE',
      url: `${DEFINITIONS}/:id`,
      operation: 'RoleDefinitionDelete',
      action: ManagementActions.deleteRoleDefinitions,
      handler: async (request) => {
        await roles.deleteCustomRole(param(request));
        return { status: 204 };
      },
    },
  ];
}
