import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { cofferBin, credentialFor, type DevServer, startDevServer } from './helpers/server-process.js';

// Role-based access control beyond the matrix: object-scope assignments, the Managed HSM-shaped
// role API at a vault's URL, the admin API's own authorization, and `coffer role` in the CLI.

const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const CONTRIBUTOR = 'f25e0fa2-a7c8-4377-a976-54943a77a395';
const PROVIDER = 'providers/Microsoft.Authorization';

interface Principal {
  objectId: string;
  clientId: string;
  clientSecret: string;
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  return new Promise((resolve) => {
    execFile(process.execPath, [cofferBin, ...args], { env }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('role-based access control', () => {
  let server: DevServer;
  let adminToken: string;

  const request = async (token: string, method: string, url: string, body?: unknown): Promise<RawResponse> =>
    rawRequest(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const admin = async (method: string, adminPath: string, body?: unknown) => {
    const response = await request(adminToken, method, `${server.facts.url}/coffer${adminPath}`, body);
    assert.ok(response.status < 300, `${method} ${adminPath}: ${response.status} ${response.text}`);
    return response.status === 204 ? undefined : (response.json() as Record<string, unknown>);
  };
  const newPrincipal = async (name: string) =>
    (await admin('POST', '/principals', { name })) as unknown as Principal;
  const tokenOf = (principal: Principal) =>
    fetchToken(server.facts.authorityHost, server.facts.tenantId, principal.clientId, principal.clientSecret);
  const vaultApi = (scope: string, rest: string) =>
    `${server.facts.vaultUrl}${scope === '/' ? '' : scope}/${PROVIDER}/${rest}${rest.includes('?') ? '&' : '?'}api-version=7.6`;

  before(async () => {
    server = await startDevServer();
    const { facts } = server;
    adminToken = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
  });

  after(async () => {
    assert.equal(await server?.stop(), 0);
  });

  it('gives the dev administrator Key Vault Administrator at /', async () => {
    const list = (await admin('GET', `/roles/assignments?principalId=${server.facts.clientId}`)) as {
      value: Array<{ scope: string; roleDefinitionName: string }>;
    };
    assert.ok(list.value.some((a) => a.scope === '/' && a.roleDefinitionName === 'Key Vault Administrator'));
  });

  it('an object-scope assignment opens one secret and no other', async () => {
    const adminSecrets = server.secrets();
    await adminSecrets.setSecret('a', 'alpha');
    await adminSecrets.setSecret('b', 'beta');
    const reader = await newPrincipal('object-scope');
    await admin('POST', '/roles/assignments', {
      role: 'Key Vault Secrets User',
      principalId: reader.clientId,
      scope: '/vaults/dev/secrets/a',
    });
    const client = new SecretClient(
      server.facts.vaultUrl,
      credentialFor(server.facts, reader.clientId, reader.clientSecret),
    );
    assert.equal((await client.getSecret('a')).value, 'alpha');
    await assert.rejects(client.getSecret('b'), { statusCode: 403, code: 'Forbidden' });
    await assert.rejects(
      async () => {
        for await (const page of client.listPropertiesOfSecrets().byPage()) return page;
      },
      { statusCode: 403 },
    );
    const raw = await request(
      await tokenOf(reader),
      'GET',
      `${server.facts.vaultUrl}/secrets/b?api-version=7.6`,
    );
    assert.equal(raw.status, 403);
    const error = (raw.json() as { error: { code: string; message: string; innererror: { code: string } } })
      .error;
    assert.equal(error.innererror.code, 'ForbiddenByRbac');
    assert.match(error.message, /Microsoft\.KeyVault\/vaults\/secrets\/getSecret\/action/);
  });

  it('keeps installation administration to administrators and matching roles', async () => {
    const nobody = await newPrincipal('nobody');
    const token = await tokenOf(nobody);
    const denied = await request(token, 'POST', `${server.facts.url}/coffer/vaults`, { name: 'nope-vault' });
    assert.equal(denied.status, 403, denied.text);
    assert.match(denied.text, /Microsoft\.KeyVault\/vaults\/write/);
    await admin('POST', '/roles/assignments', {
      role: 'Key Vault Contributor',
      principalId: nobody.objectId,
      scope: '/',
    });
    const created = await request(token, 'POST', `${server.facts.url}/coffer/vaults`, {
      name: 'contrib-vault',
    });
    assert.equal(created.status, 201, created.text);
    // ... but managing vaults does not read their secrets.
    const read = await request(token, 'GET', `${server.facts.url}/coffer/principals`);
    assert.equal(read.status, 403);
  });

  it('a Data Access Administrator of a vault may hand out data roles there, and nothing else', async () => {
    const delegate = await newPrincipal('delegate');
    const target = await newPrincipal('target');
    await admin('POST', '/roles/assignments', {
      role: 'Key Vault Data Access Administrator',
      principalId: delegate.objectId,
      scope: '/vaults/dev',
    });
    const token = await tokenOf(delegate);
    const assign = (role: string, scope: string) =>
      request(token, 'POST', `${server.facts.url}/coffer/roles/assignments`, {
        role,
        principalId: target.objectId,
        scope,
      });
    const ok = await assign(SECRETS_USER, '/vaults/dev');
    assert.equal(ok.status, 201, ok.text);
    assert.equal((await assign(CONTRIBUTOR, '/vaults/dev')).status, 403);
    assert.equal((await assign(SECRETS_USER, '/')).status, 403);
    const id = (ok.json() as { id: string }).id;
    assert.equal(
      (await request(token, 'DELETE', `${server.facts.url}/coffer/roles/assignments/${id}`)).status,
      204,
    );
  });

  it('serves the role API in Managed HSM shape at the vault URL', async () => {
    const user = await newPrincipal('hsm-shape');
    const definitions = await request(
      adminToken,
      'GET',
      vaultApi('/', "roleDefinitions?$filter=roleName eq 'Key Vault Secrets User'"),
    );
    assert.equal(definitions.status, 200, definitions.text);
    const [definition] = (
      definitions.json() as {
        value: Array<{ id: string; name: string; properties: { roleName: string; type: string } }>;
      }
    ).value;
    assert.equal(definition?.name, SECRETS_USER);
    assert.equal(definition?.properties.type, 'AKVBuiltInRole');

    const name = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
    const put = await request(adminToken, 'PUT', vaultApi('/secrets/a', `roleAssignments/${name}`), {
      properties: { roleDefinitionId: definition!.id, principalId: user.objectId },
    });
    assert.equal(put.status, 201, put.text);
    assert.deepEqual((put.json() as { properties: unknown }).properties, {
      scope: '/secrets/a',
      roleDefinitionId: definition!.id,
      principalId: user.objectId,
    });
    const get = await request(adminToken, 'GET', vaultApi('/secrets/a', `roleAssignments/${name}`));
    assert.equal(get.status, 200, get.text);

    const names = async (scope: string, filter: string) => {
      const response = await request(
        adminToken,
        'GET',
        vaultApi(scope, `roleAssignments?$filter=${encodeURIComponent(filter)}`),
      );
      assert.equal(response.status, 200, response.text);
      return (response.json() as { value: Array<{ name: string }> }).value.map((item) => item.name);
    };
    assert.ok((await names('/', `principalId eq '${user.objectId}'`)).includes(name));
    assert.ok(
      !(await names('/', 'atScope()')).includes(name),
      'atScope() at the vault leaves out assignments below it',
    );
    assert.ok((await names('/secrets/a', 'atScope()')).includes(name));

    // The principal can now read secret a through the SDK; deleting the assignment takes that away.
    const client = new SecretClient(
      server.facts.vaultUrl,
      credentialFor(server.facts, user.clientId, user.clientSecret),
    );
    await server.secrets().setSecret('a', 'alpha');
    assert.equal((await client.getSecret('a')).value, 'alpha');
    const removed = await request(adminToken, 'DELETE', vaultApi('/secrets/a', `roleAssignments/${name}`));
    assert.equal(removed.status, 200, removed.text);
    assert.equal((await request(adminToken, 'GET', vaultApi('/', `roleAssignments/${name}`))).status, 404);
    await assert.rejects(client.getSecret('a'), { statusCode: 403 });

    const custom = await request(
      adminToken,
      'PUT',
      vaultApi('/', 'roleDefinitions/6a1c1d0e-7d2f-4b36-8a7f-2b9c1e0d5f11'),
      {
        properties: {
          roleName: 'Secret Lister',
          permissions: [{ dataActions: ['Microsoft.KeyVault/vaults/secrets/readMetadata/action'] }],
        },
      },
    );
    assert.equal(custom.status, 201, custom.text);
    assert.equal((custom.json() as { properties: { type: string } }).properties.type, 'CustomRole');
  });

  it('manages assignments and custom roles through the CLI', async () => {
    const dev = ['--dev-data-dir', server.dataDir, '--output', 'json'];
    const user = await newPrincipal('cli-user');
    const created = await cli([
      'role',
      'assignment',
      'create',
      '--role',
      'Key Vault Secrets User',
      '--assignee',
      user.clientId,
      '--scope',
      '/vaults/dev',
      ...dev,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const assignment = JSON.parse(created.stdout) as {
      id: string;
      principalId: string;
      scope: string;
      roleDefinitionId: string;
    };
    assert.equal(assignment.principalId, user.objectId);
    assert.equal(assignment.roleDefinitionId, SECRETS_USER);

    const listed = await cli(['role', 'assignment', 'list', '--assignee', user.objectId, ...dev]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as Array<{ id: string }>).map((item) => item.id),
      [assignment.id],
    );

    const duplicate = await cli([
      'role',
      'assignment',
      'create',
      '--role',
      SECRETS_USER,
      '--assignee',
      user.objectId,
      '--scope',
      '/vaults/dev',
      ...dev,
    ]);
    assert.notEqual(duplicate.code, 0);
    assert.match(duplicate.stderr, /^coffer: RoleAssignmentExists/);
    assert.equal(duplicate.stderr.trim().split('\n').length, 1);

    const deleted = await cli([
      'role',
      'assignment',
      'delete',
      '--role',
      'Key Vault Secrets User',
      '--assignee',
      user.clientId,
      '--scope',
      '/vaults/dev',
      ...dev,
    ]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, '');
    const after = await cli(['role', 'assignment', 'list', '--assignee', user.objectId, ...dev]);
    assert.deepEqual(JSON.parse(after.stdout), []);

    const definitions = await cli(['role', 'definition', 'list', ...dev]);
    assert.equal(definitions.code, 0, definitions.stderr);
    assert.ok(
      (JSON.parse(definitions.stdout) as Array<{ name: string }>).some(
        (role) => role.name === 'Key Vault Reader',
      ),
    );
  });

  it('deletes several assignments with --ids (as az), also given as full ids, and keeps --id as an alias', async () => {
    const dev = ['--dev-data-dir', server.dataDir, '--output', 'json'];
    const user = await newPrincipal('cli-ids');
    const assign = async (scope: string) => {
      const created = await cli([
        'role',
        'assignment',
        'create',
        '--role',
        'Key Vault Reader',
        '--assignee',
        user.objectId,
        '--scope',
        scope,
        ...dev,
      ]);
      assert.equal(created.code, 0, created.stderr);
      return (JSON.parse(created.stdout) as { id: string }).id;
    };
    const listed = async () =>
      (
        JSON.parse(
          (await cli(['role', 'assignment', 'list', '--assignee', user.objectId, ...dev])).stdout,
        ) as Array<{ id: string }>
      )
        .map((item) => item.id)
        .sort();
    const [first, second, third] = [
      await assign('/vaults/dev'),
      await assign('/vaults/dev/secrets/a'),
      await assign('/'),
    ];
    assert.deepEqual(await listed(), [first, second, third].sort());

    const mixed = await cli(['role', 'assignment', 'delete', '--ids', first!, '--scope', '/', ...dev]);
    assert.notEqual(mixed.code, 0);
    assert.match(mixed.stderr, /either --ids, or --role, --assignee and --scope/);
    assert.equal((await listed()).length, 3, 'a refused command deletes nothing');

    const fullId = `/vaults/dev/providers/Microsoft.Authorization/roleAssignments/${second}`;
    const deleted = await cli(['role', 'assignment', 'delete', '--ids', first!, fullId, ...dev]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(await listed(), [third]);
    const alias = await cli(['role', 'assignment', 'delete', '--id', third!, ...dev]);
    assert.equal(alias.code, 0, alias.stderr);
    assert.deepEqual(await listed(), []);
  });
});
