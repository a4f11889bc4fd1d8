import type { FastifyRequest } from 'fastify';
import type { AdminRoute } from '../http/admin-plane.js';
import { ManagementActions } from '../policy/actions.js';
import type { GroupService } from './group-service.js';
import type { GroupRecord, UserRecord } from './types.js';
import type { NewUser, UserChanges, UserService } from './user-service.js';

/** A user as the API shows it: never the password hash. */
export function userView(record: UserRecord) {
  return {
    objectId: record.objectId,
    userPrincipalName: record.userPrincipalName,
    displayName: record.displayName,
    administrator: record.administrator,
    enabled: record.enabled,
    createdAt: record.createdAt,
    passwordChangedAt: record.password.changedAt,
  };
}

export function groupView(record: GroupRecord) {
  const { objectId, displayName, description, members, createdAt } = record;
  return { objectId, displayName, description, members, createdAt };
}

const id = (request: FastifyRequest) => (request.params as { id: string }).id;

const userProperties = {
  displayName: { type: 'string' },
  password: { type: 'string' },
  administrator: { type: 'boolean' },
  enabled: { type: 'boolean' },
};

/** Users (docs/admin-api.md, Users). */
export function userAdminRoutes(users: UserService, groups: GroupService): AdminRoute[] {
  const { readUsers, manageUsers } = ManagementActions;
  return [
    {
      method: 'GET',
      url: '/coffer/users',
      operation: 'UserList',
      action: readUsers,
      handler: async () => ({ body: { value: (await users.list()).map(userView) } }),
    },
    {
      method: 'POST',
      url: '/coffer/users',
      operation: 'UserCreate',
      action: manageUsers,
      schema: {
        body: {
          type: 'object',
          required: ['userPrincipalName', 'password'],
          additionalProperties: false,
          properties: { userPrincipalName: { type: 'string' }, ...userProperties },
        },
      },
      handler: async (request) => ({
        status: 201,
        body: userView(await users.create(request.body as NewUser)),
      }),
    },
    {
      method: 'GET',
      url: '/coffer/users/:id',
      operation: 'UserGet',
      action: readUsers,
      handler: async (request) => ({ body: userView(await users.find(id(request))) }),
    },
    {
      method: 'PATCH',
      url: '/coffer/users/:id',
      operation: 'UserUpdate',
      action: manageUsers,
      schema: { body: { type: 'object', additionalProperties: false, properties: userProperties } },
      handler: async (request) => ({
        body: userView(await users.update(id(request), request.body as UserChanges)),
      }),
    },
    {
      method: 'DELETE',
      url: '/coffer/users/:id',
      operation: 'UserDelete',
      action: manageUsers,
      handler: async (request) => {
        const removed = await users.remove(id(request));
        await groups.forget(removed.objectId);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      url: '/coffer/users/:id/member-of',
      operation: 'UserMemberOf',
      action: readUsers,
      handler: async (request) => {
        const user = await users.find(id(request));
        return { body: { value: await groups.memberOf(user.objectId) } };
      },
    },
  ];
}

/** Groups (docs/admin-api.md, Groups). */
export function groupAdminRoutes(groups: GroupService): AdminRoute[] {
  const { readGroups, manageGroups } = ManagementActions;
  const member = (request: FastifyRequest) => (request.params as { memberId: string }).memberId;
  return [
    {
      method: 'GET',
      url: '/coffer/groups',
      operation: 'GroupList',
      action: readGroups,
      handler: async () => ({ body: { value: (await groups.list()).map(groupView) } }),
    },
    {
      method: 'POST',
      url: '/coffer/groups',
      operation: 'GroupCreate',
      action: manageGroups,
      schema: {
        body: {
          type: 'object',
          required: ['displayName'],
          additionalProperties: false,
          properties: { displayName: { type: 'string' }, description: { type: 'string' } },
        },
      },
      handler: async (request) => ({
        status: 201,
        body: groupView(await groups.create(request.body as { displayName: string; description?: string })),
      }),
    },
    {
      method: 'GET',
      url: '/coffer/groups/:id',
      operation: 'GroupGet',
      action: readGroups,
      handler: async (request) => ({ body: groupView(await groups.find(id(request))) }),
    },
    {
      method: 'DELETE',
      url: '/coffer/groups/:id',
      operation: 'GroupDelete',
      action: manageGroups,
      handler: async (request) => {
        await groups.remove(id(request));
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      url: '/coffer/groups/:id/members',
      operation: 'GroupMemberAdd',
      action: manageGroups,
      schema: {
        body: { type: 'object', required: ['memberId'], properties: { memberId: { type: 'string' } } },
      },
      handler: async (request) => ({
        body: groupView(await groups.addMember(id(request), (request.body as { memberId: string }).memberId)),
      }),
    },
    {
      method: 'DELETE',
      url: '/coffer/groups/:id/members/:memberId',
      operation: 'GroupMemberRemove',
      action: manageGroups,
      handler: async (request) => {
        await groups.removeMember(id(request), member(request));
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      url: '/coffer/groups/:id/member-of',
      operation: 'GroupMemberOf',
      action: readGroups,
      handler: async (request) => {
        const group = await groups.find(id(request));
        return { body: { value: await groups.memberOf(group.objectId) } };
      },
    },
  ];
}
