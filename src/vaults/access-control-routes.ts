import type { FastifyRequest } from 'fastify';
import type { AdminRoute, AdminTarget } from '../http/admin-plane.js';
import { ManagementActions } from '../policy/actions.js';
import { dataAccessChange } from '../policy/data-access-change.js';
import {
  type AccessPolicyInput,
  MAX_ACCESS_POLICIES,
  MAX_IP_RULES,
  type PolicyUpdateKind,
} from './access-control.js';
import { validateVaultName, type VaultService } from './service.js';
import type { VaultRecord } from './types.js';

/** Admin API for a vault's access policies and firewall (docs/admin-api.md), in Azure's shapes. */

const permissionList = { type: 'array', maxItems: 32, items: { type: 'string', maxLength: 40 } } as const;

const accessPolicySchema = {
  type: 'object',
  required: ['objectId'],
  additionalProperties: false,
  properties: {
    // Azure clients send the tenant; Coffer serves one tenant, so it is accepted and not stored.
    tenantId: { type: 'string' },
    objectId: { type: 'string', minLength: 1, maxLength: 100 },
    permissions: {
      type: 'object',
      additionalProperties: false,
      properties: { keys: permissionList, secrets: permissionList, certificates: permissionList },
    },
  },
} as const;

const ipRuleSchema = {
  type: 'object',
  required: ['value'],
  additionalProperties: false,
  properties: { value: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

export const networkAclsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    defaultAction: { type: 'string', enum: ['Allow', 'Deny'] },
    ipRules: { type: 'array', maxItems: MAX_IP_RULES, items: ipRuleSchema },
  },
} as const;

/** A vault with no rules or policies shows Azure's defaults: open network, no policies. */
export function accessControlView(record: VaultRecord) {
  const acls = record.networkAcls ?? { defaultAction: 'Allow', ipRules: [] };
  return {
    networkAcls: {
      defaultAction: acls.defaultAction,
      ipRules: acls.ipRules.map((value) => ({ value })),
    },
    accessPolicies: record.accessPolicies ?? [],
  };
}

const params = (request: FastifyRequest) => request.params as { name: string; kind: string };

/**
 * A vault's own scope, where its management is authorized: a Contributor assigned at
 * `/vaults/x` manages x and nothing else. Creating and listing vaults act on the installation.
 */
export const vaultTarget = (request: FastifyRequest): AdminTarget => ({
  scope: `/vaults/${validateVaultName(params(request).name)}`,
});

export function accessControlRoutes(
  vaults: VaultService,
  view: (record: VaultRecord) => unknown,
): AdminRoute[] {
  return [
    {
      method: 'PUT',
      url: '/coffer/vaults/:name/accessPolicies/:kind',
      operation: 'VaultAccessPolicyUpdate',
      // An access policy grants data access: it takes the right to grant it, not vaults/write.
      action: ManagementActions.writeRoleAssignments,
      target: (request) => dataAccessChange(vaultTarget(request).scope),
      schema: {
        params: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            kind: { type: 'string', enum: ['add', 'replace', 'remove'] },
          },
        },
        body: {
          type: 'object',
          required: ['properties'],
          additionalProperties: false,
          properties: {
            properties: {
              type: 'object',
              required: ['accessPolicies'],
              additionalProperties: false,
              properties: {
                accessPolicies: { type: 'array', maxItems: MAX_ACCESS_POLICIES, items: accessPolicySchema },
              },
            },
          },
        },
      },
      handler: async (request) => {
        const body = request.body as { properties: { accessPolicies: AccessPolicyInput[] } };
        const { name, kind } = params(request);
        const record = await vaults.updateAccessPolicies(
          name,
          kind as PolicyUpdateKind,
          body.properties.accessPolicies,
          request.principal,
        );
        return { body: { properties: { accessPolicies: record.accessPolicies ?? [] } } };
      },
    },
    {
      method: 'POST',
      url: '/coffer/vaults/:name/networkAcls/ipRules/:kind',
      operation: 'VaultNetworkRuleUpdate',
      action: ManagementActions.writeVaults,
      target: vaultTarget,
      schema: {
        params: {
          type: 'object',
          properties: { name: { type: 'string' }, kind: { type: 'string', enum: ['add', 'remove'] } },
        },
        body: ipRuleSchema,
      },
      handler: async (request) => {
        const { name, kind } = params(request);
        const rule = (request.body as { value: string }).value;
        return { body: view(await vaults.editIpRule(name, kind as 'add' | 'remove', rule)) };
      },
    },
  ];
}
