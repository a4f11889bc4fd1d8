import type { FastifyRequest } from 'fastify';
import type { AdminRoute, AdminTarget } from '../http/admin-plane.js';
import { ManagementActions } from '../policy/actions.js';
import { dataAccessChange } from '../policy/data-access-change.js';
import { scopeOfVault } from '../policy/scopes.js';
import {
  accessControlRoutes,
  accessControlView,
  networkAclsSchema,
  vaultTarget,
} from './access-control-routes.js';
import { deletedVaultRoutes } from './deleted-vault-routes.js';
import type { VaultService, VaultSettings } from './service.js';
import type { VaultRecord } from './types.js';

/**
 * A PATCH needs `vaults/write` for the settings it changes and, when it names the permission
 * model, the right to grant data access: the model decides who reads every object.
 */
function updateTargets(request: FastifyRequest): AdminTarget[] {
  const { scope } = vaultTarget(request);
  const { enableRbacAuthorization, ...settings } = (request.body ?? {}) as VaultSettings;
  const targets: AdminTarget[] = [];
  if (Object.keys(settings).length > 0 || enableRbacAuthorization === undefined) targets.push({ scope });
  if (enableRbacAuthorization !== undefined) targets.push(dataAccessChange(scope));
  return targets;
}

const settingsSchema = {
  softDeleteRetentionInDays: { type: 'integer' },
  enablePurgeProtection: { type: 'boolean' },
  enableRbacAuthorization: { type: 'boolean' },
  // 'off', 'azure' or transactions per 10 seconds; checked by the service, which names the choices.
  throttle: { anyOf: [{ type: 'string', maxLength: 10 }, { type: 'integer' }] },
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
    sku: record.sku ?? 'standard',
    throttle: record.throttle ?? 'off',
    ...accessControlView(record),
  });
  const name = (request: FastifyRequest) => (request.params as { name: string }).name;

  return [
    {
      method: 'GET',
      url: '/coffer/vaults',
      operation: 'VaultList',
      action: ManagementActions.readVaults,
      listing: true,
      handler: async (request) => ({
        body: { value: (await request.visible(await vaults.list(), scopeOfVault)).map(view) },
      }),
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
          properties: {
            name: { type: 'string' },
            ...settingsSchema,
            sku: { type: 'string', enum: ['standard', 'premium'] },
          },
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
      target: vaultTarget,
      handler: async (request) => ({ body: view(await vaults.get(name(request))) }),
    },
    {
      method: 'PATCH',
      url: '/coffer/vaults/:name',
      operation: 'VaultPatch',
      action: ManagementActions.writeVaults,
      target: updateTargets,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { ...settingsSchema, networkAcls: networkAclsSchema },
        },
      },
      handler: async (request) => ({
        body: view(await vaults.update(name(request), request.body as VaultSettings, request.principal)),
      }),
    },
    {
      method: 'DELETE',
      url: '/coffer/vaults/:name',
      operation: 'VaultDelete',
      action: ManagementActions.deleteVaults,
      target: vaultTarget,
      handler: async (request) => {
        await vaults.remove(name(request));
        return { status: 204 };
      },
    },
    ...accessControlRoutes(vaults, view),
    ...deletedVaultRoutes(vaults, view),
  ];
}
