import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KEY_VAULT_ADMINISTRATOR_ROLE_ID } from '../policy/role-service.js';
import type { VaultRecord } from '../vaults/types.js';
import { listsVaults } from './group-routes.js';
import { planPatch, planPut, planTargets } from './vault-plan.js';

const TENANT = '11111111-1111-1111-1111-111111111111';
const context = { apiVersion: '2024-11-01', tenantId: TENANT, location: 'local', defaultGroup: 'coffer' };
const GRANT = {
  action: 'Microsoft.Authorization/roleAssignments/write',
  scope: '/vaults/v1',
  roleDefinitionId: KEY_VAULT_ADMINISTRATOR_ROLE_ID,
};

const vault: VaultRecord = {
  id: 'id',
  name: 'v1',
  softDeleteRetentionInDays: 90,
  enablePurgeProtection: false,
  enableRbacAuthorization: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  accessPolicies: [
    { objectId: 'a', permissions: { keys: [], secrets: ['get', 'list'], certificates: [] } },
    { objectId: 'b', permissions: { keys: ['sign'], secrets: [], certificates: [] } },
  ],
  resource: { resourceGroup: 'rg', location: 'local', tags: {} },
};
const entry = (objectId: string, secrets: string[], keys: string[] = []) => ({
  tenantId: TENANT,
  objectId,
  permissions: { secrets, keys },
});
const body = (properties: Record<string, unknown>) => ({
  location: 'local',
  properties: { tenantId: TENANT, sku: { name: 'standard' as const }, ...properties },
});

describe('Resource Manager vault writes: what changes who reads data', () => {
  it('a PUT of what was read (policies in another order, names in another case) changes no access', () => {
    const plan = planPut(
      body({
        enableRbacAuthorization: false,
        accessPolicies: [entry('B', [], ['Sign']), entry('a', ['list', 'get'])],
      }),
      'rg',
      vault,
      context,
    );
    assert.equal(plan.changesDataAccess, false);
    assert.equal(plan.settings.accessPolicies, undefined, 'unchanged policies are not written back');
    assert.equal(plan.settings.enableRbacAuthorization, undefined, 'nor an unchanged model');
    assert.deepEqual(planTargets(plan, 'v1'), [{ scope: '/vaults/v1' }]);
  });

  it('a new permission, a new principal or a switched model needs the right to grant access', () => {
    for (const properties of [
      { accessPolicies: [entry('a', ['get', 'list', 'set']), entry('b', [], ['sign'])] },
      { accessPolicies: [entry('a', ['get', 'list']), entry('b', [], ['sign']), entry('c', ['get'])] },
      { enableRbacAuthorization: true },
    ]) {
      const plan = planPatch(body(properties), vault, context);
      assert.equal(plan.changesDataAccess, true, JSON.stringify(properties));
      assert.deepEqual(planTargets(plan, 'v1'), [GRANT], 'only access changes: only the right to grant');
    }
    const mixed = planPatch(
      { tags: { a: 'b' }, properties: { enableRbacAuthorization: true } },
      vault,
      context,
    );
    assert.deepEqual(planTargets(mixed, 'v1'), [{ scope: '/vaults/v1' }, GRANT]);
  });

  it('creating acts on the installation; with access policies it grants data from the start', () => {
    const bare = planPut(body({}), 'rg', undefined, context);
    assert.deepEqual(planTargets(bare, 'v2'), [{ scope: '/' }]);
    assert.equal(
      bare.settings.enableRbacAuthorization,
      false,
      'api-version 2024-11-01: access policies by default',
    );
    assert.equal(
      planPut(body({}), 'rg', undefined, { ...context, apiVersion: '2026-02-01' }).settings
        .enableRbacAuthorization,
      true,
    );
    const granting = planPut(body({ accessPolicies: [entry('a', ['get'])] }), 'rg', undefined, context);
    assert.deepEqual(planTargets(granting, 'v2'), [{ scope: '/' }, { ...GRANT, scope: '/vaults/v2' }]);
  });

  it('refuses a SKU change and settings that need Azure services', () => {
    assert.throws(
      () => planPatch(body({ sku: { name: 'premium' } }), vault, context),
      /cannot change a vault's SKU/,
    );
    assert.throws(
      () => planPut(body({ enabledForDiskEncryption: true }), 'rg', vault, context),
      /enabledForDiskEncryption/,
    );
    assert.throws(
      () => planPut({ ...body({}), location: 'West Europe' }, 'rg', vault, context),
      /not available/,
    );
    assert.doesNotThrow(
      () => planPut({ ...body({}), location: 'Local' }, 'rg', vault, context),
      'ARM ignores case',
    );
  });
});

describe('createMode recover', () => {
  it('brings a deleted vault back with vaults/write at its own scope, applying nothing of the body', () => {
    const recover = planPut(
      body({ createMode: 'recover', enableRbacAuthorization: false, accessPolicies: [entry('c', ['get'])] }),
      'rg',
      undefined,
      context,
    );
    assert.deepEqual(recover, { create: false, recover: true, settings: {}, changesDataAccess: false });
    // Not `/` as a create would need, and no data access change: the vault returns as it was.
    assert.deepEqual(planTargets(recover, 'v1'), [{ scope: '/vaults/v1' }]);
  });

  it('on a live vault is an ordinary update, with the data access rule', () => {
    const plan = planPut(
      body({ createMode: 'recover', enableRbacAuthorization: true }),
      'rg',
      vault,
      context,
    );
    assert.equal(plan.recover, undefined);
    assert.deepEqual(planTargets(plan, 'v1'), [{ scope: '/vaults/v1' }, GRANT]);
  });
});

describe('the generic resource list filter', () => {
  it('takes resourceType eq filters, and refuses others', () => {
    assert.equal(listsVaults(undefined), true);
    assert.equal(listsVaults("resourceType eq 'Microsoft.KeyVault/vaults'"), true);
    assert.equal(listsVaults("resourcetype eq 'microsoft.keyvault/VAULTS'"), true);
    assert.equal(listsVaults("resourceType eq 'Microsoft.Storage/storageAccounts'"), false);
    assert.throws(() => listsVaults("tagName eq 'x'"), /not supported/);
  });
});
