import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { changeOf, OBJECT_ID_CLAIM, serviceEventRecord } from './helpers/audit.js';
import { bearerRequest, fetchToken, type RawResponse } from './helpers/http.js';
import { credentialFor, type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 11 (high): Key Vault Contributor, a management-only role, could switch an RBAC vault to
// access policies and grant itself a policy, and so read every secret. Changing who may read a
// vault's data (its permission model, its access policies) now takes the permission to grant
// access; vault management is authorized at the vault's own scope.

const CONTRIBUTOR = 'Key Vault Contributor';
const DATA_ACCESS_ADMINISTRATOR = 'Key Vault Data Access Administrator';
const GRANT_ACCESS = 'Microsoft.Authorization/roleAssignments/write';

interface Principal {
  objectId: string;
  clientId: string;
  clientSecret: string;
}

describe('who may change who reads a vault', () => {
  let server: DevServer;
  let adminToken: string;

  const call = (token: string, method: string, path: string, body?: unknown): Promise<RawResponse> =>
    bearerRequest(`${server.facts.url}/coffer${path}`, token, method, body);
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await call(adminToken, method, path, body);
    assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${response.text}`);
    return response.status === 204 ? undefined : response.json();
  };
  /** A new service principal holding `role` at `scope`, and a token for it. */
  const principalWith = async (name: string, role: string, scope: string) => {
    const principal = (await admin('POST', '/principals', { name })) as Principal;
    await admin('POST', '/roles/assignments', { role, principalId: principal.objectId, scope });
    const { authorityHost, tenantId } = server.facts;
    const token = await fetchToken(authorityHost, tenantId, principal.clientId, principal.clientSecret);
    return { ...principal, token };
  };
  const secretsOf = (principal: Pick<Principal, 'clientId' | 'clientSecret'>, vault: string) =>
    new SecretClient(
      `https://${vault}.vault.localhost:${new URL(server.facts.url).port}`,
      credentialFor(server.facts, principal.clientId, principal.clientSecret),
      { retryOptions: { maxRetries: 0 } },
    );
  const selfPolicy = (objectId: string) => ({
    properties: { accessPolicies: [{ objectId, permissions: { secrets: ['get', 'list'] } }] },
  });
  const namesListed = async (token: string, path: string) => {
    const response = await call(token, 'GET', path);
    assert.equal(response.status, 200, `${path}: ${response.text}`);
    return (response.json() as { value: { name: string }[] }).value.map((vault) => vault.name);
  };
  const refusedFor = (response: RawResponse, action: string) => {
    assert.equal(response.status, 403, response.text);
    const { error } = response.json() as { error: { code: string; message: string } };
    assert.equal(error.code, 'Forbidden');
    assert.ok(error.message.includes(action), error.message);
  };

  before(async () => {
    server = await startDevServer();
    const { facts } = server;
    adminToken = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    for (const name of ['guarded', 'managed', 'elsewhere']) await admin('POST', '/vaults', { name });
    await secretsOf(facts, 'guarded').setSecret('payroll', 'hunter2');
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
  });

  it('Key Vault Contributor cannot switch the model, grant itself a policy, or so read a secret', async () => {
    const contributor = await principalWith('contributor-root', CONTRIBUTOR, '/');
    const { token, objectId } = contributor;
    refusedFor(
      await call(token, 'PATCH', '/vaults/guarded', { enableRbacAuthorization: false }),
      GRANT_ACCESS,
    );
    refusedFor(
      await call(token, 'PUT', '/vaults/guarded/accessPolicies/add', selfPolicy(objectId)),
      GRANT_ACCESS,
    );
    // Not even by sending the model along with a setting it may change.
    refusedFor(
      await call(token, 'PATCH', '/vaults/guarded', {
        softDeleteRetentionInDays: 30,
        enableRbacAuthorization: false,
      }),
      GRANT_ACCESS,
    );
    const vault = (await admin('GET', '/vaults/guarded')) as {
      enableRbacAuthorization: boolean;
      softDeleteRetentionInDays: number;
      accessPolicies: unknown[];
    };
    assert.equal(vault.enableRbacAuthorization, true, 'nothing changed');
    assert.equal(vault.softDeleteRetentionInDays, 90, 'a refused request changes nothing');
    assert.deepEqual(vault.accessPolicies, []);
    await assert.rejects(secretsOf(contributor, 'guarded').getSecret('payroll'), { statusCode: 403 });

    // In a vault that already uses access policies, a Contributor still cannot grant itself one.
    await admin('POST', '/vaults', { name: 'legacy', enableRbacAuthorization: false });
    refusedFor(
      await call(token, 'PUT', '/vaults/legacy/accessPolicies/add', selfPolicy(objectId)),
      GRANT_ACCESS,
    );
    refusedFor(
      await call(token, 'PUT', '/vaults/legacy/accessPolicies/replace', selfPolicy(objectId)),
      GRANT_ACCESS,
    );
    // What Contributor is for still works: managing the vault's settings and firewall.
    const updated = await call(token, 'PATCH', '/vaults/guarded', { softDeleteRetentionInDays: 30 });
    assert.equal(updated.status, 200, updated.text);
  });

  it('Key Vault Data Access Administrator may switch the model and grant a policy; both are audited', async () => {
    const granter = await principalWith('granter', DATA_ACCESS_ADMINISTRATOR, '/vaults/guarded');
    const reader = (await admin('POST', '/principals', { name: 'policy-reader' })) as Principal;
    await assert.rejects(secretsOf(reader, 'guarded').getSecret('payroll'), { statusCode: 403 });

    const switched = await call(granter.token, 'PATCH', '/vaults/guarded', {
      enableRbacAuthorization: false,
    });
    assert.equal(switched.status, 200, switched.text);
    assert.equal((switched.json() as { enableRbacAuthorization: boolean }).enableRbacAuthorization, false);
    const granted = await call(
      granter.token,
      'PUT',
      '/vaults/guarded/accessPolicies/add',
      selfPolicy(reader.objectId),
    );
    assert.equal(granted.status, 200, granted.text);
    assert.equal((await secretsOf(reader, 'guarded').getSecret('payroll')).value, 'hunter2');

    // The audit records say who, on which vault, and what changed from what.
    const model = await serviceEventRecord(server.dataDir, 'VaultPermissionModelChanged', 'guarded');
    assert.deepEqual(changeOf(model), { from: 'RBAC', to: 'AccessPolicies' });
    assert.equal(model.identity?.claim[OBJECT_ID_CLAIM], granter.objectId);
    const policies = await serviceEventRecord(server.dataDir, 'VaultAccessPoliciesChanged', 'guarded');
    assert.equal(changeOf(policies)['operation'], 'add');
    assert.equal(policies.identity?.claim[OBJECT_ID_CLAIM], granter.objectId);
    const [change] = JSON.parse(changeOf(policies)['changes'] ?? '[]') as Array<{
      objectId: string;
      before: unknown;
      after: { keys: string[]; secrets: string[] };
    }>;
    assert.equal(change?.objectId, reader.objectId);
    assert.equal(change?.before, null);
    assert.deepEqual([change?.after.keys, change?.after.secrets], [[], ['get', 'list']]);
    // Granting access is all this role may do: the vault's other settings stay with Contributor.
    refusedFor(
      await call(granter.token, 'PATCH', '/vaults/guarded', { softDeleteRetentionInDays: 60 }),
      'Microsoft.KeyVault/vaults/write',
    );
    // And only where it was given: not on another vault.
    refusedFor(
      await call(granter.token, 'PATCH', '/vaults/elsewhere', { enableRbacAuthorization: false }),
      GRANT_ACCESS,
    );
  });

  it('a Contributor assigned at /vaults/managed manages that vault, and no other', async () => {
    const local = await principalWith('contributor-local', CONTRIBUTOR, '/vaults/managed');
    const { token } = local;
    assert.equal((await call(token, 'GET', '/vaults/managed')).status, 200);
    const patched = await call(token, 'PATCH', '/vaults/managed', {
      softDeleteRetentionInDays: 14,
      networkAcls: { defaultAction: 'Allow' },
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal((patched.json() as { softDeleteRetentionInDays: number }).softDeleteRetentionInDays, 14);
    const rule = await call(token, 'POST', '/vaults/managed/networkAcls/ipRules/add', {
      value: '192.0.2.0/24',
    });
    assert.equal(rule.status, 200, rule.text);

    for (const [method, path, body] of [
      ['GET', '/vaults/elsewhere', undefined],
      ['PATCH', '/vaults/elsewhere', { softDeleteRetentionInDays: 14 }],
      ['POST', '/vaults/elsewhere/networkAcls/ipRules/add', { value: '192.0.2.0/24' }],
      ['DELETE', '/vaults/elsewhere', undefined],
    ] as const) {
      const response = await call(token, method, path, body);
      assert.equal(response.status, 403, `${method} ${path}: ${response.text}`);
    }
    // Creating a vault acts on the installation; the list shows the vaults it may read, only.
    refusedFor(await call(token, 'POST', '/vaults', { name: 'sprawl' }), 'Microsoft.KeyVault/vaults/write');
    assert.deepEqual(await namesListed(token, '/vaults'), ['managed']);
    const all = await namesListed(adminToken, '/vaults');
    for (const name of ['elsewhere', 'guarded', 'managed'])
      assert.ok(all.includes(name), `${name} in ${all}`);
    // Its own vault's data stays out of reach, and so does the permission model.
    refusedFor(
      await call(token, 'PATCH', '/vaults/managed', { enableRbacAuthorization: false }),
      GRANT_ACCESS,
    );
    assert.equal((await call(token, 'DELETE', '/vaults/managed')).status, 204);
    // Deleted, its role assignments stay with it: the deleted list shows it, and nothing else.
    await call(adminToken, 'DELETE', '/vaults/elsewhere').then((r) => assert.equal(r.status, 204));
    assert.deepEqual(await namesListed(token, '/deletedvaults'), ['managed']);
    assert.deepEqual((await namesListed(adminToken, '/deletedvaults')).sort(), ['elsewhere', 'managed']);
    await call(adminToken, 'POST', '/deletedvaults/elsewhere/recover').then((r) =>
      assert.ok(r.status < 300, r.text),
    );
    assert.equal(
      (await call(adminToken, 'GET', '/vaults/elsewhere')).status,
      200,
      'the other vault is intact',
    );
  });

  it('a caller who may read no vault is refused the lists, and learns no vault name', async () => {
    const stranger = await principalWith(
      'stranger',
      'Key Vault Secrets User',
      '/vaults/guarded/secrets/payroll',
    );
    for (const path of ['/vaults', '/deletedvaults']) {
      const response = await call(stranger.token, 'GET', path);
      assert.equal(response.status, 403, response.text);
      assert.ok(!response.text.includes('managed') && !response.text.includes('elsewhere'), response.text);
    }
  });
});
