import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Vault } from '@azure/arm-keyvault';
import { SecretClient } from '@azure/keyvault-secrets';
import { changeOf, OBJECT_ID_CLAIM, serviceEventRecord } from './helpers/audit.js';
import { adminApi, armCaller, armClient, armErrorOf, type TestPrincipal } from './helpers/arm.js';
import type { RawResponse } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 12, point 5, with issue 11's finding in mind: Key Vault Contributor manages vaults but
// must not reach their data. Resource Manager offers it the same two doors the admin API had
// (switch a vault to access policies, or grant itself a policy) and one more (create a vault that
// already holds its policy, or PUT a policy list back): each takes the right to grant access
// (Microsoft.Authorization/roleAssignments/write at the vault), as the admin API's rules say.

const GROUP = 'perm-rg';
const GRANT_ACCESS = 'Microsoft.Authorization/roleAssignments/write';
const API = 'api-version=2024-11-01';

describe('Resource Manager: who may change who reads a vault', () => {
  let server: DevServer;
  let owner: Awaited<ReturnType<typeof armCaller>>;
  let contributor: TestPrincipal & Awaited<ReturnType<typeof armCaller>>;
  let secretsOf: (principal: TestPrincipal, vault: string) => SecretClient;

  const vaultPath = (name: string) =>
    `/resourceGroups/${GROUP}/providers/Microsoft.KeyVault/vaults/${name}?${API}`;
  const policy = (objectId: string) => ({
    tenantId: server.facts.tenantId,
    objectId,
    permissions: { secrets: ['get', 'list'] },
  });
  const vaultBody = (properties: Record<string, unknown> = {}, tags: Record<string, string> = {}) => ({
    location: 'local',
    tags,
    properties: {
      tenantId: server.facts.tenantId,
      sku: { family: 'A', name: 'standard' },
      accessPolicies: [],
      ...properties,
    },
  });
  const refused = (response: RawResponse) => {
    assert.equal(response.status, 403, response.text);
    const error = armErrorOf(response);
    assert.equal(error.code, 'AuthorizationFailed');
    assert.ok(error.message.includes(GRANT_ACCESS), error.message);
  };
  const vaultNow = async (name: string) => (await owner.call('GET', vaultPath(name))).json() as Vault;

  before(async () => {
    server = await startDevServer();
    owner = await armCaller(server, server.facts.clientId, server.facts.clientSecret);
    assert.equal(
      (await owner.call('PUT', `/resourcegroups/${GROUP}?api-version=2022-09-01`, { location: 'local' }))
        .status,
      201,
    );
    const { principalWithRole, credentialOf } = await adminApi(server);
    const principal = await principalWithRole('arm-contributor', 'Key Vault Contributor', '/');
    contributor = { ...principal, ...(await armCaller(server, principal.clientId, principal.clientSecret)) };
    secretsOf = (who, vault) =>
      new SecretClient(
        `https://${vault}.vault.localhost:${new URL(server.facts.url).port}`,
        credentialOf(who),
        {
          retryOptions: { maxRetries: 0 },
        },
      );
    // Two vaults the owner made: one on RBAC holding a secret, one on access policies.
    assert.equal(
      (await owner.call('PUT', vaultPath('guarded'), vaultBody({ enableRbacAuthorization: true }))).status,
      201,
    );
    assert.equal(
      (await owner.call('PUT', vaultPath('legacy'), vaultBody({ enableRbacAuthorization: false }))).status,
      201,
    );
    await new SecretClient(
      `https://guarded.vault.localhost:${new URL(server.facts.url).port}`,
      server.credential,
    ).setSecret('payroll', 'hunter2');
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
  });

  it('Key Vault Contributor cannot switch the model or grant itself a policy, by PATCH, PUT or accessPolicies', async () => {
    const { call, objectId } = contributor;
    refused(await call('PATCH', vaultPath('guarded'), { properties: { enableRbacAuthorization: false } }));
    // Not even hidden among settings it may change.
    refused(
      await call('PATCH', vaultPath('guarded'), {
        tags: { innocent: 'yes' },
        properties: { softDeleteRetentionInDays: 30, enableRbacAuthorization: false },
      }),
    );
    refused(await call('PUT', vaultPath('guarded'), vaultBody({ enableRbacAuthorization: false })));
    for (const kind of ['add', 'replace']) {
      refused(
        await call('PUT', `${vaultPath('legacy').replace('?', `/accessPolicies/${kind}?`)}`, {
          properties: { accessPolicies: [policy(objectId)] },
        }),
      );
    }
    refused(await call('PATCH', vaultPath('legacy'), { properties: { accessPolicies: [policy(objectId)] } }));
    refused(
      await call(
        'PUT',
        vaultPath('legacy'),
        vaultBody({ enableRbacAuthorization: false, accessPolicies: [policy(objectId)] }),
      ),
    );
    // Nor by making a vault that holds its policy from the start.
    refused(
      await call(
        'PUT',
        vaultPath('own-door'),
        vaultBody({ enableRbacAuthorization: false, accessPolicies: [policy(objectId)] }),
      ),
    );

    // Nothing changed, and the data stays out of reach.
    const guarded = await vaultNow('guarded');
    assert.equal(guarded.properties.enableRbacAuthorization, true);
    assert.equal(guarded.properties.softDeleteRetentionInDays, 90, 'a refused request changes nothing');
    assert.deepEqual(guarded.tags, {});
    assert.deepEqual((await vaultNow('legacy')).properties.accessPolicies, []);
    assert.equal((await owner.call('GET', vaultPath('own-door'))).status, 404);
    await assert.rejects(secretsOf(contributor, 'guarded').getSecret('payroll'), { statusCode: 403 });
  });

  it('Key Vault Contributor still does what it is for: create, update, PUT back what it read, delete', async () => {
    const { call } = contributor;
    const made = await call(
      'PUT',
      vaultPath('contributed'),
      vaultBody({ enableRbacAuthorization: true }, { owner: 'team' }),
    );
    assert.equal(made.status, 201, made.text);
    const patched = await call('PATCH', vaultPath('guarded'), {
      tags: { cost: 'center-7' },
      properties: { softDeleteRetentionInDays: 30, networkAcls: { defaultAction: 'Allow', ipRules: [] } },
    });
    assert.equal(patched.status, 200, patched.text);
    // az keyvault update reads the vault and PUTs it back whole: unchanged policies and model are
    // no change of access, so they need no right to grant it.
    const current = await vaultNow('guarded');
    const putBack = await call('PUT', vaultPath('guarded'), {
      location: current.location,
      tags: { ...current.tags, reviewed: 'yes' },
      properties: { ...current.properties, softDeleteRetentionInDays: 60 },
    });
    assert.equal(putBack.status, 200, putBack.text);
    assert.equal((await vaultNow('guarded')).properties.softDeleteRetentionInDays, 60);
    assert.equal((await call('DELETE', vaultPath('contributed'))).status, 200);
  });

  it('Key Vault Data Access Administrator may grant through Resource Manager, at its vault only', async () => {
    const { principalWithRole } = await adminApi(server);
    const granter = await principalWithRole(
      'arm-granter',
      'Key Vault Data Access Administrator',
      '/vaults/legacy',
    );
    const { call } = await armCaller(server, granter.clientId, granter.clientSecret);
    const reader = await principalWithRole('arm-reader', 'Key Vault Reader', '/vaults/legacy');
    const granted = await call('PUT', vaultPath('legacy').replace('?', '/accessPolicies/add?'), {
      properties: { accessPolicies: [policy(reader.objectId)] },
    });
    assert.equal(granted.status, 200, granted.text);
    const policies = await serviceEventRecord(server.dataDir, 'VaultAccessPoliciesChanged', 'legacy');
    assert.equal(changeOf(policies)['operation'], 'add');
    assert.equal(policies.identity?.claim[OBJECT_ID_CLAIM], granter.objectId);
    // Granting is all it may do: the vault's settings stay with Contributor, other vaults out of reach.
    const settings = await call('PATCH', vaultPath('legacy'), {
      properties: { softDeleteRetentionInDays: 14 },
    });
    assert.equal(settings.status, 403);
    refused(await call('PATCH', vaultPath('guarded'), { properties: { enableRbacAuthorization: false } }));
  });

  it('a role at one vault lists that vault, by subscription, by group and among resources; no role, no list', async () => {
    const { principalWithRole, credentialOf } = await adminApi(server);
    const reader = await principalWithRole('arm-one-vault', 'Key Vault Contributor', '/vaults/legacy');
    const { client } = armClient(server, credentialOf(reader));
    const names = async (pages: AsyncIterable<{ name?: string }>) => {
      const found: string[] = [];
      for await (const item of pages) found.push(item.name!);
      return found;
    };
    assert.deepEqual(await names(client.vaults.listBySubscription()), ['legacy']);
    assert.deepEqual(await names(client.vaults.listByResourceGroup(GROUP)), ['legacy']);
    assert.deepEqual(await names(client.vaults.list()), ['legacy']);
    // The owner, allowed at the installation, sees every vault.
    const everything = await names(armClient(server).client.vaults.listBySubscription());
    for (const name of ['guarded', 'legacy'])
      assert.ok(everything.includes(name), `${name} in ${everything}`);

    const nobody = await principalWithRole(
      'arm-no-vault',
      'Key Vault Secrets User',
      '/vaults/guarded/secrets/payroll',
    );
    const { call } = await armCaller(server, nobody.clientId, nobody.clientSecret);
    for (const path of [
      `/providers/Microsoft.KeyVault/vaults?${API}`,
      `/resourceGroups/${GROUP}/providers/Microsoft.KeyVault/vaults?${API}`,
      `/resourceGroups/no-such-group/providers/Microsoft.KeyVault/vaults?${API}`,
    ]) {
      const response = await call('GET', path);
      assert.equal(response.status, 403, `${path}: ${response.text}`);
      assert.equal(armErrorOf(response).code, 'AuthorizationFailed');
    }
  });
});
