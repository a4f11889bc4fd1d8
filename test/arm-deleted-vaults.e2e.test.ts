import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RestError } from '@azure/core-rest-pipeline';
import type { DeletedVault, Vault } from '@azure/arm-keyvault';
import { SecretClient } from '@azure/keyvault-secrets';
import { spoolRecords } from './helpers/audit.js';
import { adminApi, armCaller, armClient, armErrorOf } from './helpers/arm.js';
import type { RawResponse } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 12, point 5, last part: soft-deleted vaults in Resource Manager's shape (swagger
// 2024-11-01 Vaults_ListDeleted, Vaults_GetDeleted, Vaults_PurgeDeleted, and createMode recover),
// proven with @azure/arm-keyvault's KeyVaultManagementClient, with the refusals beside them.

const GROUP = 'deleted-rg';
const API = 'api-version=2024-11-01';

describe('Resource Manager: deleted vaults', () => {
  let server: DevServer;
  let owner: Awaited<ReturnType<typeof armCaller>>;
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
      enableRbacAuthorization: true,
      ...properties,
    },
  });
  const vaultPath = (name: string, group = GROUP) =>
    `/resourceGroups/${group}/providers/Microsoft.KeyVault/vaults/${name}?${API}`;
  const deletedPath = (name: string, location = 'local') =>
    `/providers/Microsoft.KeyVault/locations/${location}/deletedVaults/${name}`;
  const secretsIn = (vault: string) =>
    new SecretClient(server.facts.vaultUrl.replace('dev.', `${vault}.`), server.credential);
  /** The error code from the body (a poller's initial failure keeps it in `code`). */
  const errorCode = (error: RestError) =>
    (error.details as { error?: { code: string } } | undefined)?.error?.code ?? error.code;
  const deletedNames = async () =>
    (
      (await owner.call('GET', `/providers/Microsoft.KeyVault/deletedVaults?${API}`)).json() as {
        value: DeletedVault[];
      }
    ).value.map((vault) => vault.name);
  /** A vault made through ARM, holding one secret, then deleted. */
  async function deletedVault(name: string, properties: Record<string, unknown> = {}) {
    const made = await owner.call('PUT', vaultPath(name), vaultParameters(properties));
    assert.equal(made.status, 201, made.text);
    await secretsIn(name).setSecret('kept', `in ${name}`);
    assert.equal((await owner.call('DELETE', vaultPath(name))).status, 200);
  }

  before(async () => {
    server = await startDevServer();
    owner = await armCaller(server, server.facts.clientId, server.facts.clientSecret);
    const made = await owner.call('PUT', `/resourcegroups/${GROUP}?api-version=2022-09-01`, {
      location: 'local',
    });
    assert.equal(made.status, 201, made.text);
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
  });

  it('lists, gets, recovers with createMode recover, and purges through the SDK, polling the purge', async () => {
    const { client, sent } = armClient(server);
    await client.vaults.createOrUpdate(GROUP, 'sdk-deleted', vaultParameters(), { updateIntervalInMs: 10 });
    await secretsIn('sdk-deleted').setSecret('kept', 'across delete and recover');
    await client.vaults.delete(GROUP, 'sdk-deleted');

    const listed = (await collect(client.vaults.listDeleted())).find((vault) => vault.name === 'sdk-deleted');
    assert.ok(listed, 'listDeleted shows the deleted vault');
    const deleted = await client.vaults.getDeleted('sdk-deleted', 'local');
    assert.deepEqual(JSON.parse(JSON.stringify(deleted)), JSON.parse(JSON.stringify(listed)));
    const { subscriptionId } = server.facts;
    assert.equal(
      deleted.id,
      `/subscriptions/${subscriptionId}/providers/Microsoft.KeyVault/locations/local/deletedVaults/sdk-deleted`,
    );
    assert.equal(deleted.type, 'Microsoft.KeyVault/deletedVaults');
    const properties = deleted.properties!;
    assert.equal(
      properties.vaultId,
      `/subscriptions/${subscriptionId}/resourceGroups/${GROUP}/providers/Microsoft.KeyVault/vaults/sdk-deleted`,
    );
    assert.equal(properties.location, 'local');
    assert.deepEqual(properties.tags, { team: 'payments' });
    assert.equal(properties.purgeProtectionEnabled, false);
    assert.ok(properties.deletionDate instanceof Date, 'the SDK parsed deletionDate as a date');
    const retentionMs = properties.scheduledPurgeDate!.getTime() - properties.deletionDate.getTime();
    assert.equal(
      retentionMs,
      90 * 24 * 3600 * 1000,
      'scheduled 90 days (the vault retention) after deletion',
    );

    // The name is held: unavailable, and a plain create is Azure's 409 ConflictError.
    const check = await client.vaults.checkNameAvailability({
      name: 'sdk-deleted',
      type: 'Microsoft.KeyVault/vaults',
    });
    assert.equal(check.nameAvailable, false);
    assert.equal(check.reason, 'AlreadyExists');
    assert.match(check.message ?? '', /deleted vault/);
    await assert.rejects(
      client.vaults.createOrUpdate(GROUP, 'sdk-deleted', vaultParameters({ createMode: 'default' })),
      (error: RestError) => {
        assert.equal(error.statusCode, 409);
        assert.equal(errorCode(error), 'ConflictError');
        assert.match(error.message, /deleted state.*createMode 'recover'/);
        return true;
      },
    );

    // Recover: the vault comes back as it was deleted, its data with it.
    const recovered: Vault = await client.vaults.createOrUpdate(
      GROUP,
      'sdk-deleted',
      vaultParameters({ createMode: 'recover' }),
      { updateIntervalInMs: 10 },
    );
    assert.equal(recovered.name, 'sdk-deleted');
    assert.deepEqual(recovered.tags, { team: 'payments' });
    assert.equal((await secretsIn('sdk-deleted').getSecret('kept')).value, 'across delete and recover');
    await assert.rejects(client.vaults.getDeleted('sdk-deleted', 'local'), { statusCode: 404 });

    // Purge: Azure's long-running POST, which the SDK polls at the Location it is given.
    await client.vaults.delete(GROUP, 'sdk-deleted');
    sent.length = 0;
    await client.vaults.beginPurgeDeletedAndWait('sdk-deleted', 'local', { updateIntervalInMs: 10 });
    assert.deepEqual(
      sent.map(
        (request) =>
          `${request.method} ${request.path.replace(/operationStatuses\/[^/]+$/, 'operationStatuses/{id}')}`,
      ),
      [
        `POST /subscriptions/${subscriptionId}${deletedPath('sdk-deleted')}/purge`,
        `GET /subscriptions/${subscriptionId}/providers/Microsoft.KeyVault/locations/local/operationStatuses/{id}`,
      ],
    );
    await assert.rejects(client.vaults.getDeleted('sdk-deleted', 'local'), { statusCode: 404 });
    assert.ok(!(await collect(client.vaults.listDeleted())).some((vault) => vault.name === 'sdk-deleted'));
    assert.equal(
      (await client.vaults.checkNameAvailability({ name: 'sdk-deleted', type: 'Microsoft.KeyVault/vaults' }))
        .nameAvailable,
      true,
    );
    // Nothing is left to recover: Azure's 400, and no vault was made.
    await assert.rejects(
      client.vaults.createOrUpdate(GROUP, 'sdk-deleted', vaultParameters({ createMode: 'recover' })),
      (error: RestError) => {
        assert.equal(error.statusCode, 400);
        assert.equal(errorCode(error), 'SoftDeletedVaultDoesNotExist');
        return true;
      },
    );
    // A new vault of the name starts empty: the purge took the old data.
    await client.vaults.createOrUpdate(GROUP, 'sdk-deleted', vaultParameters(), { updateIntervalInMs: 10 });
    await assert.rejects(secretsIn('sdk-deleted').getSecret('kept'), { statusCode: 404 });

    const records = spoolRecords(server.dataDir);
    for (const operation of ['VaultListDeleted', 'VaultGetDeleted', 'VaultPurge'])
      assert.ok(
        records.some((record) => record.operationName === operation),
        `the audit trail names ${operation}`,
      );
    const purged = records.filter((record) => record.operationName === 'VaultPurge').at(-1);
    assert.equal(purged?.resourceId, '/vaults/sdk-deleted', 'the purge record names the vault');
    assert.equal(purged?.properties?.httpStatusCode, 202);
  });

  it('recovers with createMode alone, as Azure takes it, only into the group it left', async () => {
    await deletedVault('az-recovered');
    const other = await owner.call('PUT', `/resourcegroups/other-rg?api-version=2022-09-01`, {
      location: 'local',
    });
    assert.equal(other.status, 201);
    const bare = { location: 'local', properties: { createMode: 'recover' } };
    const elsewhere = await owner.call('PUT', vaultPath('az-recovered', 'other-rg'), bare);
    assert.equal(elsewhere.status, 400, elsewhere.text);
    assert.match(armErrorOf(elsewhere).message, new RegExp(`resource group '${GROUP}'`));
    assert.ok((await deletedNames()).includes('az-recovered'), 'a refused recover leaves it deleted');

    const recovered = await owner.call('PUT', vaultPath('az-recovered'), bare);
    assert.equal(recovered.status, 200, recovered.text);
    assert.ok(recovered.headers['azure-asyncoperation'], 'polled like any PUT');
    assert.equal((recovered.json() as Vault).id?.includes(`/resourceGroups/${GROUP}/`), true);
    assert.equal((await secretsIn('az-recovered').getSecret('kept')).value, 'in az-recovered');
    // Without createMode recover, a bare body is still a create that lacks tenantId and sku.
    const incomplete = await owner.call('PUT', vaultPath('az-incomplete'), {
      location: 'local',
      properties: {},
    });
    assert.equal(incomplete.status, 400, incomplete.text);
  });

  it('honours purge protection, and refuses bad locations and names, changing nothing', async () => {
    await deletedVault('protected', { enablePurgeProtection: true });
    const purge = await owner.call('POST', `${deletedPath('protected')}/purge?${API}`);
    assert.equal(purge.status, 405, purge.text);
    assert.match(armErrorOf(purge).message, /purge protection/);
    assert.ok((await deletedNames()).includes('protected'));
    const shown = await owner.call('GET', `${deletedPath('protected')}?${API}`);
    assert.equal((shown.json() as DeletedVault).properties?.purgeProtectionEnabled, true);

    const elsewhere = await owner.call('GET', `${deletedPath('protected', 'westeurope')}?${API}`);
    assert.equal(elsewhere.status, 400);
    assert.equal(armErrorOf(elsewhere).code, 'LocationNotAvailableForResourceType');
    const badName = await owner.call('POST', `${deletedPath('no--such')}/purge?${API}`);
    assert.equal(badName.status, 400, badName.text);
    const none = await owner.call('GET', `${deletedPath('never-was')}?${API}`);
    assert.equal(none.status, 404, 'Terraform reads a 404 as "no deleted vault": create');
    // A live vault is not a deleted one.
    const made = await owner.call('PUT', vaultPath('alive'), vaultParameters());
    assert.equal(made.status, 201);
    assert.equal((await owner.call('GET', `${deletedPath('alive')}?${API}`)).status, 404);
    assert.equal((await owner.call('POST', `${deletedPath('alive')}/purge?${API}`)).status, 404);
    assert.equal((await owner.call('GET', vaultPath('alive'))).status, 200, 'a refused purge left it');
    const missingVersion = await owner.call('GET', '/providers/Microsoft.KeyVault/deletedVaults');
    assert.equal(armErrorOf(missingVersion).code, 'MissingApiVersionParameter');
  });

  it('Key Vault Contributor lists, reads and recovers, but never purges; others see nothing', async () => {
    await deletedVault('contested');
    const { principalWithRole } = await adminApi(server);
    const asArm = async (name: string, role: string, scope: string) => {
      const principal = await principalWithRole(name, role, scope);
      return armCaller(server, principal.clientId, principal.clientSecret);
    };
    const contributor = await asArm('deleted-contributor', 'Key Vault Contributor', '/');
    const refused = (response: RawResponse, action: string) => {
      assert.equal(response.status, 403, response.text);
      assert.equal(armErrorOf(response).code, 'AuthorizationFailed');
      assert.ok(armErrorOf(response).message.includes(action), armErrorOf(response).message);
    };

    assert.ok(
      (
        (await contributor.call('GET', `/providers/Microsoft.KeyVault/deletedVaults?${API}`)).json() as {
          value: DeletedVault[];
        }
      ).value.some((vault) => vault.name === 'contested'),
    );
    assert.equal((await contributor.call('GET', `${deletedPath('contested')}?${API}`)).status, 200);
    refused(
      await contributor.call('POST', `${deletedPath('contested')}/purge?${API}`),
      'Microsoft.KeyVault/locations/deletedVaults/purge/action',
    );
    assert.ok((await deletedNames()).includes('contested'), 'a refused purge purges nothing');

    // A principal whose role is at another vault: nothing about this one, no list, no recover.
    const made = await owner.call('PUT', vaultPath('unrelated'), vaultParameters());
    assert.equal(made.status, 201);
    const stranger = await asArm('deleted-stranger', 'Key Vault Contributor', '/vaults/unrelated');
    refused(
      await stranger.call('GET', `/providers/Microsoft.KeyVault/deletedVaults?${API}`),
      'Microsoft.KeyVault/deletedVaults/read',
    );
    refused(
      await stranger.call('GET', `${deletedPath('contested')}?${API}`),
      'Microsoft.KeyVault/locations/deletedVaults/read',
    );
    const bare = { location: 'local', properties: { createMode: 'recover' } };
    refused(await stranger.call('PUT', vaultPath('contested'), bare), 'Microsoft.KeyVault/vaults/write');
    refused(
      await stranger.call('POST', `${deletedPath('contested')}/purge?${API}`),
      'Microsoft.KeyVault/locations/deletedVaults/purge/action',
    );
    assert.ok((await deletedNames()).includes('contested'));

    // A reader at the installation may read, not recover.
    const reader = await asArm('deleted-reader', 'Key Vault Reader', '/');
    refused(await reader.call('PUT', vaultPath('contested'), bare), 'Microsoft.KeyVault/vaults/write');
    assert.ok((await deletedNames()).includes('contested'));

    const recovered = await contributor.call('PUT', vaultPath('contested'), bare);
    assert.equal(recovered.status, 200, recovered.text);
    assert.equal((await secretsIn('contested').getSecret('kept')).value, 'in contested');
  });
});
