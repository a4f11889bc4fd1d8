import type { FastifyRequest } from 'fastify';
import type { AdminRoute } from '../http/admin-plane.js';
import { ManagementActions } from '../policy/actions.js';
import { accessControlRoutes, accessControlView, networkAclsSchema } from './access-control-routes.js';
import type { VaultService, VaultSettings } from './service.js';
import type { VaultRecord } from './types.js';

const settingsSchema = {
  softDeleteRetentionInDays: { type: 'integer' },
  enablePurgeProtection: { type: 'boolean' },
  enableRbacAuthorization: { type: 'boolean' },
} as const;

/** Vault administration (docs/admin-api.md). */
export function vaultAdminRoutes(vaults: VaultService, vaultUrl: (name: string) => string): AdminRoute[] {
  const view = (record: VaultRecord) => ({
    id: record.id,
    name: record.name,
    vaultUrl: vaultUrl(record.name),
    softDeleteRetentionInDays: record.softDeleteRetentionInDays,
    enablePurgeProtection: record.enablePurgeProtection,
    enableRbacAuthorization: record.enableRbacAuthorization,
    createdAt: record.createdAt,
    ...accessControlView(record),
  });
  const name = (request: FastifyRequest) => (request.params as { name: string }).name;

  return [
    {
      method: 'GET',
      url: '/coffer/vaults',
      operation: 'VaultList',
      action: ManagementActions.readVaults,
      handler: async () => ({ body: { value: (await vaults.list()).map(view) } }),
    },
    {
      method: 'POST',
      url: '/coffer/vaults',
      operation: 'VaultPut',
      action: ManagementActions.writeVaults,
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string' }, ...settingsSchema },
        },
      },
      handler: async (request) => {
        const { name: vaultName, ...settings } = request.body as VaultSettings & { name: string };
        return { status: 201, body: view(await vaults.create(vaultName, settings)) };
      },
    },
    {
      method: 'GET',
      url: '/coffer/vaults/:name',
      operation: 'VaultGet',
      action: ManagementActions.readVaults,
      handler: async (request) => ({ body: view(await vaults.get(name(request))) }),
    },
    {
      method: 'PATCH',
      url: '/coffer/vaults/:name',
      operation: 'VaultPatch',
      action: ManagementActions.writeVaults,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { ...settingsSchema, networkAcls: networkAclsSchema },
        },
      },
      handler: async (request) => ({
        body: view(
          await vaults.update(name(request), request.body as VaultSettings, request.principal.objectId),
        ),
      }),
    },
    {
      method: 'DELETE',
      url: '/coffer/vaults/:name',
      operation: 'VaultDelete',
      action: ManagementActions.deleteVaults,
      handler: async (request) => {
        await vaults.remove(name(request));
        return { status: 204 };
      },
    },
    ...accessControlRoutes(vaults, view),
  ];
}
