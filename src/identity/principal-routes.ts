import type { FastifyRequest } from 'fastify';
import type { AdminRoute } from '../http/admin-plane.js';
import { ManagementActions } from '../policy/actions.js';
import { certificateView } from './certificate-credential.js';
import { federatedView } from './federated-credential.js';
import type { GroupService } from './group-service.js';
import type { PrincipalCredentials } from './principal-credentials.js';
import type { PrincipalService } from './principal-service.js';
import type { PrincipalRecord } from './types.js';

export function principalView(record: PrincipalRecord) {
  return {
    objectId: record.objectId,
    clientId: record.clientId,
    name: record.name,
    administrator: record.administrator,
    enabled: record.enabled,
    createdAt: record.createdAt,
    secrets: record.secrets.map((secret) => ({ id: secret.id, createdAt: secret.createdAt })),
    certificates: (record.certificates ?? []).map(certificateView),
    federatedCredentials: (record.federatedCredentials ?? []).map(federatedView),
  };
}

const params = (request: FastifyRequest) => request.params as { id: string; credentialId: string };
const read = ManagementActions.readPrincipals;
const write = ManagementActions.managePrincipals;

/** Service principal administration (docs/admin-api.md). Secret values appear only at creation and reset. */
export function principalAdminRoutes(
  principals: PrincipalService,
  credentials: PrincipalCredentials,
  groups: GroupService,
): AdminRoute[] {
  const id = (request: FastifyRequest) => params(request).id;
  return [
    {
      method: 'GET',
      url: '/coffer/principals',
      operation: 'PrincipalList',
      action: read,
      handler: async () => ({ body: { value: (await principals.list()).map(principalView) } }),
    },
    {
      method: 'POST',
      url: '/coffer/principals',
      operation: 'PrincipalCreate',
      action: write,
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string' }, administrator: { type: 'boolean' } },
        },
      },
      handler: async (request) => ({
        status: 201,
        body: await principals.create(request.body as { name: string; administrator?: boolean }),
      }),
    },
    {
      method: 'GET',
      url: '/coffer/principals/:id',
      operation: 'PrincipalGet',
      action: read,
      handler: async (request) => ({ body: principalView(await principals.find(id(request))) }),
    },
    {
      method: 'PATCH',
      url: '/coffer/principals/:id',
      operation: 'PrincipalUpdate',
      action: write,
      schema: {
        body: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' } } },
      },
      handler: async (request) => ({
        body: principalView(await principals.update(id(request), request.body as { enabled?: boolean })),
      }),
    },
    {
      method: 'DELETE',
      url: '/coffer/principals/:id',
      operation: 'PrincipalDelete',
      action: write,
      handler: async (request) => {
        const removed = await principals.remove(id(request));
        await groups.forget(removed.objectId);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      url: '/coffer/principals/:id/reset-secret',
      operation: 'PrincipalResetSecret',
      action: write,
      handler: async (request) => ({ body: await principals.resetSecret(id(request)) }),
    },
    {
      method: 'GET',
      url: '/coffer/principals/:id/member-of',
      operation: 'PrincipalMemberOf',
      action: read,
      handler: async (request) => {
        const record = await principals.find(id(request));
        return { body: { value: await groups.memberOf(record.objectId) } };
      },
    },
    ...certificateRoutes(credentials),
    ...federatedRoutes(credentials),
  ];
}

/** List, add and remove one kind of credential on a principal: the routes certificates and federated credentials share. */
function credentialCollectionRoutes<T>(spec: {
  base: string;
  /** The audit operationName prefix: `PrincipalCertificate`, `PrincipalFederatedCredential`. */
  operationPrefix: string;
  bodySchema: object;
  list: (principalId: string) => Promise<T[]>;
  add: (principalId: string, body: Record<string, unknown>) => Promise<T>;
  remove: (principalId: string, credentialId: string) => Promise<void>;
  view: (credential: T) => unknown;
}): AdminRoute[] {
  return [
    {
      method: 'GET',
      url: spec.base,
      operation: `${spec.operationPrefix}List`,
      action: read,
      handler: async (request) => ({ body: { value: (await spec.list(params(request).id)).map(spec.view) } }),
    },
    {
      method: 'POST',
      url: spec.base,
      operation: `${spec.operationPrefix}Add`,
      action: write,
      schema: { body: spec.bodySchema },
      handler: async (request) => ({
        status: 201,
        body: spec.view(await spec.add(params(request).id, request.body as Record<string, unknown>)),
      }),
    },
    {
      method: 'DELETE',
      url: `${spec.base}/:credentialId`,
      operation: `${spec.operationPrefix}Remove`,
      action: write,
      handler: async (request) => {
        await spec.remove(params(request).id, params(request).credentialId);
        return { status: 204 };
      },
    },
  ];
}

function certificateRoutes(credentials: PrincipalCredentials): AdminRoute[] {
  return credentialCollectionRoutes({
    base: '/coffer/principals/:id/certificates',
    operationPrefix: 'PrincipalCertificate',
    bodySchema: {
      type: 'object',
      required: ['certificate'],
      properties: { certificate: { type: 'string', maxLength: 65536 }, displayName: { type: 'string' } },
    },
    list: (id) => credentials.listCertificates(id),
    add: (id, body) => credentials.addCertificate(id, body),
    remove: (id, credentialId) => credentials.removeCertificate(id, credentialId),
    view: certificateView,
  });
}

function federatedRoutes(credentials: PrincipalCredentials): AdminRoute[] {
  return credentialCollectionRoutes({
    base: '/coffer/principals/:id/federated-credentials',
    operationPrefix: 'PrincipalFederatedCredential',
    bodySchema: {
      type: 'object',
      required: ['name', 'issuer', 'subject'],
      properties: {
        name: { type: 'string' },
        issuer: { type: 'string' },
        subject: { type: 'string' },
        audiences: { type: 'array', items: { type: 'string' } },
        description: { type: 'string' },
      },
    },
    list: (id) => credentials.listFederated(id),
    add: (id, body) => credentials.addFederated(id, body),
    remove: (id, credentialId) => credentials.removeFederated(id, credentialId),
    view: federatedView,
  });
}
