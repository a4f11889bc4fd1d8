import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminApi } from './helpers/arm.js';
import { runPython } from './helpers/python.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// The management clients the Azure CLI is built on (Debian 12's python3-azure: azure-mgmt-resource
// 22.0.0, azure-mgmt-keyvault 10.1.0), with their default api-versions (subscriptions 2021-01-01,
// resource groups 2022-09-01 under `resourcegroups`, vaults 2022-07-01, resources 2015-11-01) and
// their ARMPolling, pointed at Coffer as `az cloud register` + `az login` would: what `az login`,
// `az group create` and `az keyvault create/update/set-policy/list/delete/list-deleted/recover/purge`
// send, without az.

interface ArmFindings {
  subscriptions: string[];
  tenants: string[];
  groupExists: boolean;
  pollerStatus: string;
  created: { id: string; vaultUri: string; tags: Record<string, string> };
  updatedTags: Record<string, string>;
  policies: Array<{ objectId: string; secrets: string[] }>;
  inGroup: string[];
  resources: string[];
  nameAvailable: boolean;
  afterDelete: string[];
  deleted: Array<{ name: string; vaultId: string }>;
  shownDeleted: { name: string; purgeProtection: boolean };
  recoveredTags: Record<string, string>;
  recoveredPolicies: number;
  purgeStatus: string;
  afterPurge: string[];
  groupExistsAfterDelete: boolean;
}

describe("Resource Manager through the Azure CLI's Python management clients", () => {
  let server: DevServer;

  before(async () => {
    server = await startDevServer();
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('lists the subscription, makes a group, creates (polling), updates, grants, lists, deletes, recovers and purges a vault', async () => {
    const { admin } = await adminApi(server);
    const administrator = (await admin('GET', `/principals/${server.facts.clientId}`)) as {
      objectId: string;
    };
    // A failure carries Python's traceback; without python3-azure: apt-get install python3-azure.
    const found = await runPython<ArmFindings>(server, 'arm_scenario.py', administrator.objectId);
    const { subscriptionId, tenantId } = server.facts;
    assert.deepEqual(found.subscriptions, [subscriptionId]);
    assert.deepEqual(found.tenants, [tenantId]);
    assert.equal(found.groupExists, true);
    assert.equal(found.pollerStatus, 'Succeeded');
    assert.equal(
      found.created.id,
      `/subscriptions/${subscriptionId}/resourceGroups/py-rg/providers/Microsoft.KeyVault/vaults/py-vault`,
    );
    assert.equal(found.created.vaultUri, `${server.facts.vaultUrl.replace('dev.', 'py-vault.')}/`);
    assert.deepEqual(found.created.tags, { by: 'az' });
    assert.deepEqual(found.updatedTags, { by: 'az', env: 'test' });
    assert.deepEqual(found.policies, [{ objectId: administrator.objectId, secrets: ['get', 'set'] }]);
    assert.deepEqual(found.inGroup, ['py-vault']);
    assert.ok(found.resources.includes(found.created.id), found.resources.join());
    assert.equal(found.nameAvailable, false);
    assert.deepEqual(found.afterDelete, []);
    assert.deepEqual(found.deleted, [{ name: 'py-vault', vaultId: found.created.id }]);
    assert.deepEqual(found.shownDeleted, { name: 'py-vault', purgeProtection: false });
    assert.deepEqual(found.recoveredTags, { by: 'az', env: 'test' }, 'recovered as it was deleted');
    assert.equal(found.recoveredPolicies, 1);
    assert.equal(found.purgeStatus, 'Succeeded');
    assert.deepEqual(found.afterPurge, []);
    assert.equal(found.groupExistsAfterDelete, false);
  });
});
