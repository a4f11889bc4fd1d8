import type { FastifyRequest } from 'fastify';
import { BadParameter } from '../errors/index.js';
import type { ArmRoute } from '../http/arm-plane.js';
import { ManagementActions } from '../policy/actions.js';
import { scopeOfVault } from '../policy/scopes.js';
import type { VaultService } from '../vaults/service.js';
import type { VaultRecord } from '../vaults/types.js';
import type { ResourceGroupRecord, ResourceGroups } from './resource-groups.js';
import { checkLocation, resourceGroupId, VAULT_TYPE, validateTags } from './resource-ids.js';
import { resourceGroupSchema } from './schemas.js';
import type { ArmContext } from './vault-routes.js';
import { genericResourceView, resourceOf, vaultView } from './vault-wire.js';

const GROUP_TYPE = 'Microsoft.Resources/resourceGroups';
const GROUPS_URL = '/subscriptions/:subscriptionId/resourceGroups';
const GROUP_URL = `${GROUPS_URL}/:resourceGroupName`;

export interface ArmGroupDeps {
  vaults: Pick<VaultService, 'list'>;
  groups: ResourceGroups;
  context: (apiVersion: string) => ArmContext;
}

/** Groups act on the installation; vault listings show the vaults the caller may read. */
const INSTALLATION = { scope: '/' };

const groupParam = (request: FastifyRequest) =>
  (request.params as { resourceGroupName: string }).resourceGroupName;
const apiVersionOf = (request: FastifyRequest) => (request.query as { 'api-version': string })['api-version'];

/**
 * Resource groups (Microsoft.Resources), the vaults listed by group, by subscription and in the
 * generic resource list that Terraform and `KeyVaultManagementClient.vaults.list()` read.
 */
export function groupRoutes(deps: ArmGroupDeps): ArmRoute[] {
  const contextOf = (request: FastifyRequest) => deps.context(apiVersionOf(request));
  const groupView = (group: ResourceGroupRecord, request: FastifyRequest) => ({
    id: resourceGroupId(contextOf(request).subscriptionId, group.name),
    name: group.name,
    type: GROUP_TYPE,
    location: group.location,
    tags: group.tags,
    properties: { provisioningState: 'Succeeded' },
  });
  const inGroup = (request: FastifyRequest, group: string, records: VaultRecord[]): VaultRecord[] => {
    const context = contextOf(request);
    return records.filter(
      (record) => resourceOf(record, context).resourceGroup.toLowerCase() === group.toLowerCase(),
    );
  };
  /**
   * The vaults the caller may read (AdminRoute.listing), asked before the group is looked up: a
   * caller who may read no vault learns nothing, not even whether the group exists.
   */
  const visibleVaults = async (request: FastifyRequest) =>
    request.visible(await deps.vaults.list(), scopeOfVault);
  const resourcesOf = (request: FastifyRequest, records: VaultRecord[]) => {
    const vaultsWanted = listsVaults((request.query as { $filter?: unknown }).$filter);
    return {
      value: vaultsWanted ? records.map((record) => genericResourceView(record, contextOf(request))) : [],
    };
  };

  return [
    {
      method: 'PUT',
      url: GROUP_URL,
      operation: 'ResourceGroupPut',
      action: ManagementActions.writeResourceGroups,
      target: () => INSTALLATION,
      schema: { body: resourceGroupSchema },
      handler: async (request) => {
        const body = request.body as { location: string; tags?: Record<string, string> };
        const location = checkLocation(body.location, contextOf(request).location, GROUP_TYPE);
        const { group, created } = await deps.groups.put(groupParam(request), {
          location,
          tags: validateTags(body.tags),
        });
        return { status: created ? 201 : 200, body: groupView(group, request) };
      },
    },
    {
      method: 'GET',
      url: GROUP_URL,
      operation: 'ResourceGroupGet',
      action: ManagementActions.readResourceGroups,
      target: () => INSTALLATION,
      handler: async (request) => {
        const group = await deps.groups.get(groupParam(request));
        // HEAD (the route Fastify derives from this GET) is ARM's existence check: 204, or the 404 above.
        if (request.method === 'HEAD') return { status: 204 };
        return { body: groupView(group, request) };
      },
    },
    {
      method: 'DELETE',
      url: GROUP_URL,
      operation: 'ResourceGroupDelete',
      action: ManagementActions.deleteResourceGroups,
      target: () => INSTALLATION,
      handler: async (request) => {
        const group = await deps.groups.get(groupParam(request));
        const names = async () =>
          inGroup(request, group.name, await deps.vaults.list()).map((record) => record.name);
        await deps.groups.remove(group.name, names);
        return { status: 200 };
      },
    },
    {
      method: 'GET',
      url: GROUPS_URL,
      operation: 'ResourceGroupList',
      action: ManagementActions.readResourceGroups,
      target: () => INSTALLATION,
      handler: async (request) => ({
        body: { value: (await deps.groups.list()).map((group) => groupView(group, request)) },
      }),
    },
    {
      method: 'GET',
      url: `${GROUP_URL}/providers/Microsoft.KeyVault/vaults`,
      operation: 'VaultList',
      action: ManagementActions.readVaults,
      target: () => INSTALLATION,
      listing: true,
      handler: async (request) => {
        const shown = await visibleVaults(request);
        const group = await deps.groups.get(groupParam(request));
        const records = inGroup(request, group.name, shown);
        return { body: { value: records.map((record) => vaultView(record, contextOf(request))) } };
      },
    },
    {
      method: 'GET',
      url: `${GROUP_URL}/resources`,
      operation: 'ResourceList',
      action: ManagementActions.readVaults,
      target: () => INSTALLATION,
      listing: true,
      handler: async (request) => {
        const shown = await visibleVaults(request);
        const group = await deps.groups.get(groupParam(request));
        return { body: resourcesOf(request, inGroup(request, group.name, shown)) };
      },
    },
    {
      method: 'GET',
      url: '/subscriptions/:subscriptionId/resources',
      operation: 'ResourceList',
      action: ManagementActions.readVaults,
      target: () => INSTALLATION,
      listing: true,
      handler: async (request) => ({ body: resourcesOf(request, await visibleVaults(request)) }),
    },
  ];
}

/**
 * The generic list's `$filter`: vaults are the only resources here, so a `resourceType eq` filter
 * either names them or matches nothing. Other filters are refused rather than ignored.
 */
export function listsVaults(filter: unknown): boolean {
  if (filter === undefined || filter === '') return true;
  const match = typeof filter === 'string' ? /^\s*resourceType\s+eq\s+'([^']*)'\s*$/i.exec(filter) : null;
  if (!match) {
    throw new BadParameter(
      `The $filter '${String(filter).slice(0, 100)}' is not supported here: use resourceType eq 'Microsoft.KeyVault/vaults', or no filter.`,
      'InvalidFilterInQueryString',
    );
  }
  return match[1]!.toLowerCase() === VAULT_TYPE.toLowerCase();
}
