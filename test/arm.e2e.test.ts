import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RestError } from '@azure/core-rest-pipeline';
import type { Vault } from '@azure/arm-keyvault';
import { SecretClient } from '@azure/keyvault-secrets';
import { adminApi, armCaller, armClient, armErrorOf } from './helpers/arm.js';
import { fetchToken, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 12, point 5: the management plane as Azure Resource Manager answers it, proven with
// @azure/arm-keyvault's KeyVaultManagementClient pointed at Coffer (endpoint = the server's URL,
// so its token scope is `{url}/.default`), and with raw HTTPS for what az and Terraform call
// that the SDK does not (metadata, subscriptions, resource groups).

const GROUP = 'Team-RG';

describe('Resource Manager: KeyVaultManagementClient against Coffer', () => {
  let server: DevServer;
  let arm: Awaited<ReturnType<typeof armCaller>>;
  const collect = async <T>(items: AsyncIterable<T>) => {
    const all: T[] = [];
    for await (const item of items) all.push(item);
    return all;
  };
  const vaultParameters = (properties: Record<string, unknown> = {}) => ({
    location: 'local',
    tags: { team: 'payments' },
    properties: {
      tenantId: server.facts.tenantId,
      sku: { family: 'A' as const, name: 'standard' as const },
      accessPolicies: [],
      enableRbacAuthorization: true,
      ...properties,
    },
  });

  before(async () => {
    server = await startDevServer();
    arm = await armCaller(server, server.facts.clientId, server.facts.clientSecret);
    const made = await arm.call('PUT', `/resourcegroups/${GROUP}?api-version=2022-09-01`, {
      location: 'local',
    });
    assert.equal(made.status, 201, made.text);
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
  });

  it('creates a vault through the long-running operation, polling Azure-AsyncOperation as ARM clients do', async () => {
    const { client, sent } = armClient(server);
    const poller = client.vaults.createOrUpdate(GROUP, 'sdk-made', vaultParameters(), {
      updateIntervalInMs: 10,
    });
    const vault: Vault = await poller;
    assert.equal(vault.name, 'sdk-made');
    assert.equal(vault.type, 'Microsoft.KeyVault/vaults');
    assert.equal(
      vault.id,
      `/subscriptions/${server.facts.subscriptionId}/resourceGroups/${GROUP}/providers/Microsoft.KeyVault/vaults/sdk-made`,
    );
    assert.equal(vault.location, 'local');
    assert.deepEqual(vault.tags, { team: 'payments' });
    assert.equal(vault.properties.tenantId, server.facts.tenantId);
    assert.deepEqual(vault.properties.sku, { family: 'A', name: 'standard' });
    assert.equal(vault.properties.vaultUri, `${server.facts.vaultUrl.replace('dev.', 'sdk-made.')}/`);
    assert.equal(vault.properties.provisioningState, 'Succeeded');
    assert.equal(vault.properties.enableSoftDelete, true);
    assert.equal(vault.properties.softDeleteRetentionInDays, 90);
    // The SDK followed the protocol: PUT, the operation status, then the vault itself.
    assert.deepEqual(
      sent.map(
        (request) =>
          `${request.method} ${request.path.replace(/operationStatuses\/[^/]+$/, 'operationStatuses/{id}')}`,
      ),
      [
        `PUT ${new URL(vault.id!, server.facts.url).pathname}`,
        `GET /subscriptions/${server.facts.subscriptionId}/providers/Microsoft.KeyVault/locations/local/operationStatuses/{id}`,
        `GET ${new URL(vault.id!, server.facts.url).pathname}`,
      ],
    );
    // It is a real vault: the data plane serves it at its vaultUri.
    const secrets = new SecretClient(vault.properties.vaultUri!, server.credential);
    await secrets.setSecret('made-by-arm', 'yes');
    assert.equal((await secrets.getSecret('made-by-arm')).value, 'yes');
  });

  it('gets, updates (PATCH), lists by group, by subscription and as resources, and checks names', async () => {
    const { client } = armClient(server);
    await client.vaults.createOrUpdate(GROUP, 'sdk-listed', vaultParameters(), { updateIntervalInMs: 10 });
    const updated = await client.vaults.update(GROUP, 'sdk-listed', {
      tags: { team: 'billing' },
      properties: {
        softDeleteRetentionInDays: 30,
        enablePurgeProtection: true,
        networkAcls: { defaultAction: 'Deny', bypass: 'None', ipRules: [{ value: '203.0.113.0/24' }] },
      },
    });
    assert.deepEqual(updated.tags, { team: 'billing' });
    assert.equal(updated.properties.softDeleteRetentionInDays, 30);
    assert.equal(updated.properties.enablePurgeProtection, true);
    assert.deepEqual(updated.properties.networkAcls, {
      bypass: 'None',
      defaultAction: 'Deny',
      ipRules: [{ value: '203.0.113.0/24' }],
      virtualNetworkRules: [],
    });
    assert.deepEqual((await client.vaults.get(GROUP, 'sdk-listed')).tags, { team: 'billing' });

    const inGroup = (await collect(client.vaults.listByResourceGroup(GROUP))).map((vault) => vault.name);
    assert.ok(inGroup.includes('sdk-listed') && !inGroup.includes('dev'), inGroup.join());
    const everywhere = (await collect(client.vaults.listBySubscription())).map((vault) => vault.id);
    // The dev vault, made outside ARM, sits in the default resource group.
    assert.ok(
      everywhere.includes(
        `/subscriptions/${server.facts.subscriptionId}/resourceGroups/coffer/providers/Microsoft.KeyVault/vaults/dev`,
      ),
    );
    const resources = await collect(client.vaults.list());
    assert.ok(
      resources.some(
        (resource) => resource.name === 'sdk-listed' && resource.type === 'Microsoft.KeyVault/vaults',
      ),
    );

    assert.deepEqual(
      await client.vaults.checkNameAvailability({ name: 'sdk-listed', type: 'Microsoft.KeyVault/vaults' }),
      {
        nameAvailable: false,
        reason: 'AlreadyExists',
        message: "The vault name 'sdk-listed' is already in use.",
      },
    );
    assert.equal(
      (await client.vaults.checkNameAvailability({ name: 'still-free', type: 'Microsoft.KeyVault/vaults' }))
        .nameAvailable,
      true,
    );
    const invalid = await client.vaults.checkNameAvailability({
      name: '9-bad',
      type: 'Microsoft.KeyVault/vaults',
    });
    assert.equal(invalid.reason, 'AccountNameInvalid');
  });

  it('adds an access policy that then grants a principal the data, and deletes the vault', async () => {
    const { client } = armClient(server);
    await client.vaults.createOrUpdate(
      GROUP,
      'sdk-policies',
      vaultParameters({ enableRbacAuthorization: false }),
      {
        updateIntervalInMs: 10,
      },
    );
    const { admin, principalWithRole, credentialOf } = await adminApi(server);
    const administrator = (await admin('GET', `/principals/${server.facts.clientId}`)) as {
      objectId: string;
    };
    const reader = await principalWithRole('policy-reader', 'Key Vault Reader', '/vaults/sdk-policies');
    const vaultUri = `${server.facts.vaultUrl.replace('dev.', 'sdk-policies.')}`;
    const adminSecrets = new SecretClient(vaultUri, server.credential);
    // An access-policy vault: the administrator's role at `/` grants no data here either.
    await assert.rejects(adminSecrets.setSecret('s', 'v'), { statusCode: 403 });

    const answer = await client.vaults.updateAccessPolicy(GROUP, 'sdk-policies', 'add', {
      properties: {
        accessPolicies: [
          {
            tenantId: server.facts.tenantId,
            objectId: administrator.objectId,
            permissions: { secrets: ['Set'] },
          },
          {
            tenantId: server.facts.tenantId,
            objectId: reader.objectId,
            permissions: { secrets: ['get', 'list'] },
          },
        ],
      },
    });
    assert.equal(answer.type, 'Microsoft.KeyVault/vaults/accessPolicies');
    assert.equal(answer.properties.accessPolicies.length, 2);
    await adminSecrets.setSecret('s', 'granted by an ARM access policy');
    const readerSecrets = new SecretClient(vaultUri, credentialOf(reader), {
      retryOptions: { maxRetries: 0 },
    });
    assert.equal((await readerSecrets.getSecret('s')).value, 'granted by an ARM access policy');
    const policies = (await client.vaults.get(GROUP, 'sdk-policies')).properties.accessPolicies ?? [];
    assert.deepEqual(
      JSON.parse(JSON.stringify(policies.find((policy) => policy.objectId === reader.objectId))),
      {
        tenantId: server.facts.tenantId,
        objectId: reader.objectId,
        permissions: { keys: [], secrets: ['get', 'list'], certificates: [], storage: [] },
      },
    );

    await client.vaults.delete(GROUP, 'sdk-policies');
    await assert.rejects(client.vaults.get(GROUP, 'sdk-policies'), (error: RestError) => {
      assert.equal(error.statusCode, 404);
      assert.equal((error.details as { error: { code: string } }).error.code, 'ResourceNotFound');
      return true;
    });
    await assert.rejects(readerSecrets.getSecret('s'));
    // Deleting what is not there is Azure's 204, not an error.
    await client.vaults.delete(GROUP, 'sdk-policies');
  });

  it('follows the api-version for the default permission model, and refuses unknown versions', async () => {
    const body = vaultParameters({ enableRbacAuthorization: undefined });
    const older = await arm.call(
      'PUT',
      `/resourceGroups/${GROUP}/providers/Microsoft.KeyVault/vaults/model-old?api-version=2024-11-01`,
      body,
    );
    assert.equal(older.status, 201, older.text);
    assert.equal((older.json() as Vault).properties.enableRbacAuthorization, false);
    const newer = await arm.call(
      'PUT',
      `/resourceGroups/${GROUP}/providers/Microsoft.KeyVault/vaults/model-new?api-version=2026-02-01`,
      body,
    );
    assert.equal((newer.json() as Vault).properties.enableRbacAuthorization, true);

    const missing = await arm.call('GET', '/providers/Microsoft.KeyVault/vaults');
    assert.equal(missing.status, 400);
    assert.equal(armErrorOf(missing).code, 'MissingApiVersionParameter');
    const unknown = await arm.call('GET', '/providers/Microsoft.KeyVault/vaults?api-version=2030-01-01');
    assert.equal(armErrorOf(unknown).code, 'InvalidApiVersionParameter');
    // Resource groups are Microsoft.Resources, with their own versions; paths ignore case.
    assert.equal((await arm.call('GET', `/resourceGroups/${GROUP}?api-version=2022-09-01`)).status, 200);
    assert.equal(
      (await arm.call('GET', `/resourcegroups/${GROUP.toLowerCase()}?api-version=2021-04-01`)).status,
      200,
    );
  });

  it('refuses settings it cannot honour, changing nothing', async () => {
    const path = `/resourceGroups/${GROUP}/providers/Microsoft.KeyVault/vaults/refused?api-version=2024-11-01`;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ enabledForDeployment: true }, 'enabledForDeployment'],
      [{ publicNetworkAccess: 'Disabled' }, 'publicNetworkAccess'],
      [{ enableSoftDelete: false }, 'enableSoftDelete'],
      [{ networkAcls: { virtualNetworkRules: [{ id: '/subscriptions/x/vnet' }] } }, 'virtual networks'],
      [{ tenantId: '00000000-0000-0000-0000-000000000000' }, 'serves tenant'],
      [{ createMode: 'recover' }, 'nothing to recover'],
      [{ unknownSetting: 1 }, "unknown field 'unknownSetting'"],
    ];
    for (const [properties, says] of cases) {
      const response = await arm.call('PUT', path, vaultParameters(properties));
      assert.equal(response.status, 400, `${JSON.stringify(properties)}: ${response.text}`);
      assert.ok(armErrorOf(response).message.includes(says), armErrorOf(response).message);
    }
    const elsewhere = await arm.call('PUT', path, { ...vaultParameters(), location: 'westeurope' });
    assert.equal(armErrorOf(elsewhere).code, 'LocationNotAvailableForResourceType');
    assert.equal((await arm.call('GET', path)).status, 404, 'no refused request made the vault');

    const noGroup = await arm.call('PUT', path.replace(GROUP, 'no-such-group'), vaultParameters());
    assert.equal(noGroup.status, 404);
    assert.equal(armErrorOf(noGroup).code, 'ResourceGroupNotFound');
    // Vault names are global: the dev vault's name is taken, whatever the group.
    const taken = await arm.call('PUT', path.replace('refused', 'dev'), vaultParameters());
    assert.equal(taken.status, 409);
    assert.equal(armErrorOf(taken).code, 'VaultAlreadyExists');
    const occupied = await arm.call('DELETE', `/resourcegroups/${GROUP}?api-version=2022-09-01`);
    assert.equal(occupied.status, 409, 'a group that holds vaults is not deleted, nor are its vaults');
    assert.equal(armErrorOf(occupied).code, 'ResourceGroupNotEmpty');
  });

  // Found by the fuzz suite (test/fuzz): groups were looked up in a plain object, so a group
  // named `__proto__` or `constructor` found Object.prototype's members and listing it was a 500.
  it('treats groups named like members of Object.prototype as any other name', async () => {
    const version = '?api-version=2022-09-01';
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const vaults = `/resourceGroups/${name}/providers/Microsoft.KeyVault/vaults?api-version=2024-11-01`;
      const absent = await arm.call('GET', `/resourcegroups/${name}${version}`);
      assert.equal(absent.status, 404, `${name}: ${absent.text}`);
      assert.equal(armErrorOf(absent).code, 'ResourceGroupNotFound');
      assert.equal((await arm.call('GET', vaults)).status, 404, name);
      const made = await arm.call('PUT', `/resourcegroups/${name}${version}`, { location: 'local' });
      assert.equal(made.status, 201, `${name}: ${made.text}`);
      const listed = await arm.call('GET', vaults);
      assert.deepEqual(listed.json(), { value: [] }, name);
      const groups = (await arm.call('GET', `/resourcegroups${version}`)).json() as {
        value: { name: string }[];
      };
      assert.ok(
        groups.value.some((group) => group.name === name),
        `${name} is listed`,
      );
      assert.equal((await arm.call('DELETE', `/resourcegroups/${name}${version}`)).status, 200, name);
      assert.equal((await arm.call('GET', `/resourcegroups/${name}${version}`)).status, 404, name);
    }
  });

  it('serves what az and Terraform read first: metadata, subscriptions and tenants', async () => {
    const { url, tenantId, subscriptionId } = server.facts;
    // az cloud register --endpoint-resource-manager URL reads 2015-01-01: login endpoint and audiences.
    const legacy = (await rawRequest(`${url}/metadata/endpoints?api-version=2015-01-01`)).json() as {
      authentication: { loginEndpoint: string; audiences: string[] };
      graphEndpoint: string;
    };
    assert.deepEqual(legacy.authentication, {
      loginEndpoint: `${url}/`,
      audiences: [`${url}/`, 'https://management.azure.com/'],
    });
    assert.ok(legacy.graphEndpoint);
    // Terraform's metadata_host reads 2022-09-01 through go-azure-sdk's FromEndpoint.
    const cloud = (await rawRequest(`${url}/metadata/endpoints?api-version=2022-09-01`)).json() as Record<
      string,
      unknown
    >;
    assert.equal(cloud.name, 'Coffer');
    assert.equal(cloud.resourceManager, `${url}/`);
    assert.equal((cloud.suffixes as { keyVaultDns: string }).keyVaultDns, 'vault.localhost');
    assert.ok(cloud.microsoftGraphResourceId, 'go-azure-sdk refuses metadata without it');
    assert.ok(Array.isArray((await rawRequest(`${url}/metadata/endpoints?api-version=2019-05-01`)).json()));
    assert.equal((await rawRequest(`${url}/metadata/endpoints?api-version=2099-01-01`)).status, 400);

    // The token az and Terraform ask for (audiences[0], or Azure's own) manages; it opens no vault.
    for (const scope of [`${url}/.default`, 'https://management.azure.com/.default']) {
      const token = await fetchToken(url, tenantId, server.facts.clientId, server.facts.clientSecret, scope);
      const listed = await rawRequest(`${url}/subscriptions?api-version=2022-12-01`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(listed.status, 200, listed.text);
      const [subscription] = (listed.json() as { value: Array<Record<string, unknown>> }).value;
      assert.equal(subscription!.subscriptionId, subscriptionId);
      assert.equal(subscription!.tenantId, tenantId);
      assert.equal(subscription!.state, 'Enabled');
      const onVault = await rawRequest(`${server.facts.vaultUrl}/secrets?api-version=7.6`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(onVault.status, 401, 'a Resource Manager token is not a vault token');
    }
    const tenants = (await arm.call('GET', '//tenants?api-version=2022-12-01')).json() as {
      value: Array<{ tenantId: string }>;
    };
    assert.deepEqual(
      tenants.value.map((tenant) => tenant.tenantId),
      [tenantId],
    );
  });

  it('answers without a token, or with a vault token, as Resource Manager does', async () => {
    const { url, subscriptionId } = server.facts;
    const anonymous = await rawRequest(`${url}/subscriptions?api-version=2022-12-01`);
    assert.equal(anonymous.status, 401);
    assert.equal(armErrorOf(anonymous).code, 'AuthenticationFailed');
    assert.match(
      String(anonymous.headers['www-authenticate']),
      /^Bearer authorization_uri="https:\/\/localhost:\d+\/[0-9a-f-]{36}"/,
    );
    const vaultToken = await fetchToken(
      url,
      server.facts.tenantId,
      server.facts.clientId,
      server.facts.clientSecret,
    );
    const wrongPlane = await rawRequest(
      `${url}/subscriptions/${subscriptionId}/providers/Microsoft.KeyVault/vaults?api-version=2024-11-01`,
      {
        headers: { authorization: `Bearer ${vaultToken}` },
      },
    );
    assert.equal(wrongPlane.status, 401);
    assert.equal(armErrorOf(wrongPlane).code, 'InvalidAuthenticationToken');
    const otherSubscription = await arm.call(
      'GET',
      '//subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups?api-version=2022-09-01',
    );
    assert.equal(armErrorOf(otherSubscription).code, 'SubscriptionNotFound');
    const forged = await arm.call(
      'GET',
      '/providers/Microsoft.KeyVault/locations/local/operationStatuses/1.2.AAAA.AAAAAAAAAAAAAAAAAAAAAA?api-version=2024-11-01',
    );
    assert.equal(forged.status, 404, 'an operation id Coffer did not issue is unknown');
  });
});
