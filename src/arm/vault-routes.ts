import type { FastifyRequest } from 'fastify';
import { BadParameter, Conflict, NotFound } from '../errors/index.js';
import type { ArmRoute } from '../http/arm-plane.js';
import type { Clock } from '../lib/clock.js';
import { ManagementActions } from '../policy/actions.js';
import { dataAccessChange } from '../policy/data-access-change.js';
import { accessPolicyList, type PolicyUpdateKind } from '../vaults/access-control.js';
import { validateVaultName, type VaultService } from '../vaults/service.js';
import type { VaultRecord } from '../vaults/types.js';
import { type Operations, operationStatusUrl } from './operations.js';
import type { ResourceGroups } from './resource-groups.js';
import { accessPolicyUpdateSchema, vaultPatchSchema, vaultPutSchema } from './schemas.js';
import { type PlanContext, planPatch, planPut, planTargets, type VaultWritePlan } from './vault-plan.js';
import {
  accessPoliciesInput,
  accessPolicyView,
  resourceOf,
  vaultIdOf,
  vaultView,
  type VaultViewContext,
  type WireAccessPolicy,
  type WireVaultBody,
} from './vault-wire.js';

export const VAULT_URL =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.KeyVault/vaults/:vaultName';

export type ArmContext = VaultViewContext & PlanContext;

export interface ArmVaultDeps {
  vaults: VaultService;
  groups: ResourceGroups;
  operations: Operations;
  clock: Clock;
  /** Known once unsealed: the tenant (and so the subscription) comes from the barrier. */
  context: (apiVersion: string) => ArmContext;
}

interface VaultParams {
  subscriptionId: string;
  resourceGroupName: string;
  vaultName: string;
  operationKind?: PolicyUpdateKind;
}

/** Azure's 400 for `createMode: recover` when there is nothing to recover. */
const softDeletedVaultDoesNotExist = (name: string) =>
  new BadParameter(
    `A soft deleted vault with the name '${name}' does not exist, so there is nothing to recover: create the vault with createMode 'default' (or leave createMode out). List deleted vaults with GET /subscriptions/{id}/providers/Microsoft.KeyVault/deletedVaults.`,
    'SoftDeletedVaultDoesNotExist',
  );

const paramsOf = (request: FastifyRequest) => request.params as VaultParams;
const apiVersionOf = (request: FastifyRequest) => (request.query as { 'api-version': string })['api-version'];
const vaultScope = (request: FastifyRequest) => `/vaults/${validateVaultName(paramsOf(request).vaultName)}`;

/** The write a PUT or PATCH will make, decided with its authorization and used by its handler. */
const plans = new WeakMap<FastifyRequest, VaultWritePlan>();

/** `Microsoft.KeyVault/vaults` in a resource group: create-or-update, get, update, delete, access policies. */
export function vaultRoutes(deps: ArmVaultDeps): ArmRoute[] {
  const { vaults } = deps;
  const contextOf = (request: FastifyRequest) => deps.context(apiVersionOf(request));

  const inGroup = (record: VaultRecord, request: FastifyRequest) =>
    resourceOf(record, contextOf(request)).resourceGroup.toLowerCase() ===
    paramsOf(request).resourceGroupName.toLowerCase();

  /** The vault at this resource id: same name in another group is another resource, so a 404. */
  async function vaultAt(request: FastifyRequest): Promise<VaultRecord> {
    const { vaultName, resourceGroupName } = paramsOf(request);
    const record = await vaults.find(validateVaultName(vaultName));
    if (!record || !inGroup(record, request)) {
      throw new NotFound(
        'ResourceNotFound',
        `The Resource 'Microsoft.KeyVault/vaults/${vaultName}' under resource group '${resourceGroupName.slice(0, 90)}' was not found.`,
      );
    }
    return record;
  }

  /**
   * `createMode: recover`: the deleted vault of this name, back in the group it was deleted from
   * (checked only now, after authorization, so the answer names that group to no one else).
   */
  async function recoverAt(request: FastifyRequest): Promise<VaultRecord> {
    const { vaultName, resourceGroupName } = paramsOf(request);
    const name = validateVaultName(vaultName);
    const deleted = await vaults.getDeleted(name).catch((error: unknown) => {
      if (error instanceof NotFound) throw softDeletedVaultDoesNotExist(name);
      throw error;
    });
    if (!inGroup(deleted, request)) {
      throw new BadParameter(
        `The deleted vault '${name}' was in resource group '${resourceOf(deleted, contextOf(request)).resourceGroup}', and is recovered there: send the PUT to that group, not '${resourceGroupName.slice(0, 90)}'.`,
      );
    }
    return vaults.recover(name);
  }

  async function planPutFor(request: FastifyRequest) {
    const { vaultName, resourceGroupName } = paramsOf(request);
    const name = validateVaultName(vaultName);
    const group = await deps.groups.get(resourceGroupName);
    const current = await vaults.find(name);
    if (current && !inGroup(current, request)) {
      // Vault names are global, as in Azure: the name is taken by a vault in another group.
      throw new Conflict(`The vault name '${name}' is already in use.`, 'VaultAlreadyExists');
    }
    const plan = planPut(request.body as WireVaultBody, group.name, current, contextOf(request));
    plans.set(request, plan);
    return planTargets(plan, name);
  }

  return [
    {
      method: 'PUT',
      url: VAULT_URL,
      operation: 'VaultPut',
      action: ManagementActions.writeVaults,
      target: planPutFor,
      schema: { body: vaultPutSchema },
      handler: async (request) => {
        const plan = plans.get(request)!;
        const name = validateVaultName(paramsOf(request).vaultName);
        const startMs = deps.clock.nowMs();
        let record: VaultRecord;
        if (plan.recover) record = await recoverAt(request);
        else if (plan.create) record = await vaults.create(name, plan.settings, request.principal);
        else record = await vaults.update(name, plan.settings, request.principal);
        const context = contextOf(request);
        const status = operationStatusUrl(request.baseUrl, context, await deps.operations.issue(startMs));
        return {
          status: plan.create ? 201 : 200,
          body: vaultView(record, context),
          // The write is done; clients that poll (as every ARM SDK does) find it Succeeded at once.
          headers: { 'azure-asyncoperation': status, 'retry-after': '0' },
        };
      },
    },
    {
      method: 'GET',
      url: VAULT_URL,
      operation: 'VaultGet',
      action: ManagementActions.readVaults,
      target: (request) => ({ scope: vaultScope(request) }),
      handler: async (request) => ({ body: vaultView(await vaultAt(request), contextOf(request)) }),
    },
    {
      method: 'PATCH',
      url: VAULT_URL,
      operation: 'VaultPatch',
      action: ManagementActions.writeVaults,
      target: async (request) => {
        const plan = planPatch(request.body as WireVaultBody, await vaultAt(request), contextOf(request));
        plans.set(request, plan);
        return planTargets(plan, validateVaultName(paramsOf(request).vaultName));
      },
      schema: { body: vaultPatchSchema },
      handler: async (request) => {
        const name = validateVaultName(paramsOf(request).vaultName);
        const record = await vaults.update(name, plans.get(request)!.settings, request.principal);
        return { body: vaultView(record, contextOf(request)) };
      },
    },
    {
      method: 'DELETE',
      url: VAULT_URL,
      operation: 'VaultDelete',
      action: ManagementActions.deleteVaults,
      target: (request) => ({ scope: vaultScope(request) }),
      handler: async (request) => {
        // Azure answers 204 for a vault that is not there; only the vault at this id is deleted.
        const record = await vaultAt(request).catch((error: unknown) => {
          if (error instanceof NotFound) return undefined;
          throw error;
        });
        if (!record) return { status: 204 };
        await vaults.remove(record.name);
        return { status: 200 };
      },
    },
    {
      method: 'PUT',
      url: `${VAULT_URL}/accessPolicies/:operationKind`,
      operation: 'VaultAccessPolicyUpdate',
      // An access policy grants data access: it takes the right to grant it, as in the admin API.
      action: ManagementActions.writeRoleAssignments,
      target: (request) => dataAccessChange(vaultScope(request)),
      schema: {
        params: {
          type: 'object',
          properties: { operationKind: { type: 'string', enum: ['add', 'replace', 'remove'] } },
        },
        body: accessPolicyUpdateSchema,
      },
      handler: async (request) => {
        const record = await vaultAt(request);
        const context = contextOf(request);
        const body = request.body as { properties: { accessPolicies: WireAccessPolicy[] } };
        const inputs = accessPoliciesInput(body.properties.accessPolicies, context.tenantId);
        const given = accessPolicyList(inputs);
        const kind = paramsOf(request).operationKind!;
        await vaults.updateAccessPolicies(record.name, kind, inputs, request.principal);
        return {
          body: {
            id: `${vaultIdOf(record, context)}/accessPolicies/${kind}`,
            name: kind,
            type: 'Microsoft.KeyVault/vaults/accessPolicies',
            location: resourceOf(record, context).location,
            properties: { accessPolicies: given.map((policy) => accessPolicyView(policy, context.tenantId)) },
          },
        };
      },
    },
  ];
}
