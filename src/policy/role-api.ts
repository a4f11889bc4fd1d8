import type { FastifyRequest } from 'fastify';
import { BadParameter, NotFound, unlessNotFound } from '../errors/index.js';
import type { DataRoute } from '../http/data-plane.js';
import { ManagementActions } from './actions.js';
import { scopeCovers } from './authorize.js';
import type { RoleService } from './role-service.js';
import { hsmAssignment, hsmDefinition } from './role-wire.js';
import { OBJECT_KINDS, vaultRelativeToScope } from './scopes.js';

const PROVIDER = 'providers/Microsoft.Authorization';

interface PutAssignmentBody {
  properties: { roleDefinitionId: string; principalId: string };
}

/**
 * The role API in Azure Managed HSM's shape, at a vault's URL:
 * `{vaultUrl}/{scope}/providers/Microsoft.Authorization/roleDefinitions|roleAssignments[/{name}]`
 * (administration.json). The URL scope (`/`, `/keys`, `/keys/{name}`, and the same for secrets
 * and certificates) is relative to the vault. Installation-wide assignments (Coffer scope `/`)
 * cannot be written relative to a vault: they are managed through the admin API only.
 */
export function roleApiRoutes(roles: RoleService): DataRoute[] {
  const prefixes: Array<{ path: string; relative: (request: FastifyRequest) => string }> = [
    { path: '', relative: () => '/' },
    ...OBJECT_KINDS.flatMap((kind) => [
      { path: `/${kind}`, relative: () => `/${kind}` },
      {
        path: `/${kind}/:objectName`,
        relative: (request: FastifyRequest) =>
          `/${kind}/${(request.params as { objectName: string }).objectName}`,
      },
    ]),
  ];
  return prefixes.flatMap(({ path, relative }) => {
    const scope = (request: FastifyRequest) => vaultRelativeToScope(request.vault.name, relative(request));
    return [
      ...assignmentRoutes(roles, `${path}/${PROVIDER}/roleAssignments`, scope),
      ...definitionRoutes(roles, `${path}/${PROVIDER}/roleDefinitions`, scope),
    ];
  });
}

const assignmentName = (request: FastifyRequest) => (request.params as { name: string }).name;

function assignmentRoutes(
  roles: RoleService,
  base: string,
  scope: (request: FastifyRequest) => string,
): DataRoute[] {
  /** The named assignment, if it lies in this vault at or below the URL's scope; else 404. */
  const withinScope = async (request: FastifyRequest) => {
    const assignment = await unlessNotFound(roles.getAssignment(assignmentName(request)));
    if (!assignment || !scopeCovers(scope(request), assignment.scope))
      throw new NotFound(
        'RoleAssignmentNotFound',
        `No role assignment named '${assignmentName(request).slice(0, 64)}' exists at this scope.`,
      );
    return assignment;
  };
  return [
    {
      method: 'GET',
      url: base,
      operation: 'RoleAssignmentList',
      action: ManagementActions.readRoleAssignments,
      scope,
      handler: async (request) => {
        const filter = parseAssignmentFilter((request.query as { $filter?: string }).$filter);
        const at = scope(request);
        const vaultScope = vaultRelativeToScope(request.vault.name, '/');
        const assignments = await roles.listAssignments({
          principalId:
            filter.principalId === undefined ? undefined : await roles.principalIdOf(filter.principalId),
          scope: (candidate) =>
            scopeCovers(vaultScope, candidate) &&
            (scopeCovers(candidate, at) || (!filter.atScope && scopeCovers(at, candidate))),
        });
        return {
          body: { value: assignments.map((assignment) => hsmAssignment(request.vault.name, assignment)) },
        };
      },
    },
    {
      method: 'GET',
      url: `${base}/:name`,
      operation: 'RoleAssignmentGet',
      action: ManagementActions.readRoleAssignments,
      scope,
      handler: async (request) => ({ body: hsmAssignment(request.vault.name, await withinScope(request)) }),
    },
    {
      method: 'PUT',
      url: `${base}/:name`,
      operation: 'RoleAssignmentCreate',
      action: ManagementActions.writeRoleAssignments,
      scope,
      roleDefinitionId: async (request) =>
        (await roles.findDefinition((request.body as PutAssignmentBody).properties.roleDefinitionId)).id,
      schema: {
        body: {
          type: 'object',
          required: ['properties'],
          properties: {
            properties: {
              type: 'object',
              required: ['roleDefinitionId', 'principalId'],
              properties: { roleDefinitionId: { type: 'string' }, principalId: { type: 'string' } },
            },
          },
        },
      },
      handler: async (request) => {
        const { roleDefinitionId, principalId } = (request.body as PutAssignmentBody).properties;
        const prepared = await roles.prepareAssignment({
          role: roleDefinitionId,
          principal: principalId,
          scope: scope(request),
        });
        const assignment = await roles.createAssignment({ id: assignmentName(request), ...prepared });
        return { status: 201, body: hsmAssignment(request.vault.name, assignment) };
      },
    },
    {
      method: 'DELETE',
      url: `${base}/:name`,
      operation: 'RoleAssignmentDelete',
      action: ManagementActions.deleteRoleAssignments,
      scope,
      roleDefinitionId: async (request) =>
        (await unlessNotFound(roles.getAssignment(assignmentName(request))))?.roleDefinitionId,
      handler: async (request) => {
        const assignment = await withinScope(request);
        await roles.deleteAssignment(assignment.id);
        return { body: hsmAssignment(request.vault.name, assignment) };
      },
    },
  ];
}

/** Custom roles are installation-wide, so writing one needs the right at `/` whatever the URL scope. */
function definitionRoutes(
  roles: RoleService,
  base: string,
  scope: (request: FastifyRequest) => string,
): DataRoute[] {
  const name = (request: FastifyRequest) => (request.params as { name: string }).name;
  return [
    {
      method: 'GET',
      url: base,
      operation: 'RoleDefinitionList',
      action: ManagementActions.readRoleDefinitions,
      scope,
      handler: async (request) => {
        const roleName = parseRoleNameFilter((request.query as { $filter?: string }).$filter);
        const all = await roles.definitions();
        const value = all.filter(
          (role) => roleName === undefined || role.name.toLowerCase() === roleName.toLowerCase(),
        );
        return { body: { value: value.map(hsmDefinition) } };
      },
    },
    {
      method: 'GET',
      url: `${base}/:name`,
      operation: 'RoleDefinitionGet',
      action: ManagementActions.readRoleDefinitions,
      scope,
      handler: async (request) => ({ body: hsmDefinition(await roles.findDefinition(name(request))) }),
    },
    {
      method: 'PUT',
      url: `${base}/:name`,
      operation: 'RoleDefinitionSet',
      action: ManagementActions.writeRoleDefinitions,
      scope: () => '/',
      schema: {
        body: { type: 'object', required: ['properties'], properties: { properties: { type: 'object' } } },
      },
      handler: async (request) => {
        const role = await roles.saveCustomRole(
          (request.body as { properties: unknown }).properties,
          name(request),
        );
        return { status: 201, body: hsmDefinition(role) };
      },
    },
    {
      method: 'DELETE',
      url: `${base}/:name`,
      operation: 'RoleDefinitionDelete',
      action: ManagementActions.deleteRoleDefinitions,
      scope: () => '/',
      handler: async (request) => ({ body: hsmDefinition(await roles.deleteCustomRole(name(request))) }),
    },
  ];
}

/** `atScope()` or `principalId eq '{id}'` (quotes optional), as administration.json describes. */
export function parseAssignmentFilter(filter: string | undefined): {
  atScope: boolean;
  principalId?: string;
} {
  const text = (filter ?? '').trim();
  if (text === '') return { atScope: false };
  if (/^atScope\(\)$/i.test(text)) return { atScope: true };
  const match = /^principalId\s+eq\s+'?([0-9a-fA-F-]{36})'?$/i.exec(text);
  if (match) return { atScope: false, principalId: match[1]! };
  throw new BadParameter(
    `Unsupported $filter '${text.slice(0, 100)}'. Use atScope() or principalId eq '{id}'.`,
  );
}

function parseRoleNameFilter(filter: string | undefined): string | undefined {
  const text = (filter ?? '').trim();
  if (text === '') return undefined;
  const match = /^roleName\s+eq\s+'([^']{1,128})'$/i.exec(text);
  if (!match)
    throw new BadParameter(`Unsupported $filter '${text.slice(0, 100)}'. Use roleName eq '{name}'.`);
  return match[1];
}
