import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { cofferBin, type DevServer, repoRoot, scratchDir, startDevServer } from './helpers/server-process.js';

const SCOPE = 'https://vault.localhost/.default';

interface User {
  objectId: string;
  userPrincipalName: string;
  enabled: boolean;
}
interface Group {
  objectId: string;
  displayName: string;
  members: string[];
}

/** `coffer ...` against the dev server, with stdin; resolves with exit code and output. */
function cli(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cofferBin, ...args],
      { cwd: repoRoot, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

describe('users (password sign-in) and groups (dev server)', () => {
  let server: DevServer;
  let adminToken: string;
  let dev: string[];

  before(async () => {
    server = await startDevServer();
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    adminToken = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
    dev = ['--dev-data-dir', server.dataDir, '--output', 'json'];
  });

  after(async () => {
    assert.equal(await server.stop('SIGTERM'), 0);
  });

  async function api(method: string, apiPath: string, body?: unknown): Promise<RawResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${adminToken}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return rawRequest(`${server.facts.url}${apiPath}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  const passwordGrant = (username: string, password: string) =>
    rawRequest(`${server.facts.authorityHost}/${server.facts.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username, password, scope: SCOPE }).toString(),
    });

  const dataPlane = (token: string) =>
    rawRequest(`${server.facts.vaultUrl}/secrets?api-version=7.6`, {
      headers: { authorization: `Bearer ${token}` },
    });

  it('a user signs in with the password grant; wrong, unknown and disabled sign-ins are invalid_grant', async () => {
    const created = await api('POST', '/coffer/users', {
      userPrincipalName: 'alice@coffer.test',
      password: 'correct horse battery staple',
    });
    assert.equal(created.status, 201, created.text);
    const alice = created.json() as User;
    assert.ok(!created.text.includes('hash') && !created.text.includes('salt'));

    const signedIn = await passwordGrant('Alice@coffer.test', 'correct horse battery staple');
    assert.equal(signedIn.status, 200, signedIn.text);
    const token = (signedIn.json() as { access_token: string }).access_token;
    const claims = decodeJwt(token);
    assert.equal(claims.oid, alice.objectId);
    assert.equal(claims.upn, 'alice@coffer.test');
    assert.equal(claims.idtyp, 'user');
    assert.equal((await dataPlane(token)).status, 403, 'authenticated, but holds no role');

    for (const [username, password] of [
      ['alice@coffer.test', 'correct horse battery stapler'],
      ['nobody@coffer.test', 'correct horse battery staple'],
    ] as const) {
      const refused = await passwordGrant(username, password);
      assert.equal(refused.status, 400, refused.text);
      assert.equal((refused.json() as { error: string }).error, 'invalid_grant');
    }

    // A password change revokes tokens issued with the old one; disabling refuses sign-in.
    const changed = await api('PATCH', `/coffer/users/${alice.objectId}`, {
      password: 'a brand new passphrase',
    });
    assert.equal(changed.status, 200, changed.text);
    assert.equal((await dataPlane(token)).status, 401);
    assert.equal((await passwordGrant('alice@coffer.test', 'a brand new passphrase')).status, 200);
    await api('PATCH', `/coffer/users/${alice.objectId}`, { enabled: false });
    assert.equal((await passwordGrant('alice@coffer.test', 'a brand new passphrase')).status, 400);
  });

  it('refuses a short password and a duplicate user principal name', async () => {
    const short = await api('POST', '/coffer/users', {
      userPrincipalName: 'bob@coffer.test',
      password: 'short',
    });
    assert.equal(short.status, 400, short.text);
    assert.equal(
      (
        await api('POST', '/coffer/users', {
          userPrincipalName: 'bob@coffer.test',
          password: 'long enough pass',
        })
      ).status,
      201,
    );
    const again = await api('POST', '/coffer/users', {
      userPrincipalName: 'BOB@coffer.test',
      password: 'long enough pass',
    });
    assert.equal(again.status, 409, again.text);
  });

  it('the CLI manages users, groups and nested membership; member-of is transitive', async () => {
    const user = await cli(
      ['user', 'create', '--name', 'carol@coffer.test', '--password-stdin', ...dev],
      'carol password 1\n',
    );
    assert.equal(user.code, 0, user.stderr);
    const carol = JSON.parse(user.stdout) as User;
    const sp = JSON.parse((await cli(['sp', 'create', '--name', 'grouped-app', ...dev])).stdout) as {
      objectId: string;
      clientId: string;
    };

    const inner = JSON.parse((await cli(['group', 'create', '--name', 'readers', ...dev])).stdout) as Group;
    const outer = JSON.parse((await cli(['group', 'create', '--name', 'everyone', ...dev])).stdout) as Group;
    for (const member of ['carol@coffer.test', sp.clientId]) {
      const added = await cli([
        'group',
        'member',
        'add',
        '--group',
        'readers',
        '--member-id',
        member,
        ...dev,
      ]);
      assert.equal(added.code, 0, added.stderr);
    }
    const nested = await cli([
      'group',
      'member',
      'add',
      '--group',
      outer.objectId,
      '--member-id',
      inner.objectId,
      ...dev,
    ]);
    assert.equal(nested.code, 0, nested.stderr);
    const shown = JSON.parse((await cli(['group', 'show', 'readers', ...dev])).stdout) as Group;
    assert.deepEqual(new Set(shown.members), new Set([carol.objectId, sp.objectId]));

    const memberOf = await api('GET', `/coffer/users/${carol.objectId}/member-of`);
    const groups = (memberOf.json() as { value: Group[] }).value.map((g) => g.displayName).sort();
    assert.deepEqual(groups, ['everyone', 'readers']);
    const spGroups = await api('GET', `/coffer/principals/${sp.clientId}/member-of`);
    assert.equal((spGroups.json() as { value: Group[] }).value.length, 2);

    const removed = await cli([
      'group',
      'member',
      'remove',
      '--group',
      'readers',
      '--member-id',
      carol.objectId,
      ...dev,
    ]);
    assert.equal(removed.code, 0, removed.stderr);
    const after = await api('GET', `/coffer/users/${carol.objectId}/member-of`);
    assert.deepEqual((after.json() as { value: Group[] }).value, []);

    const disabled = await cli(['user', 'update', carol.objectId, '--enabled', 'false', ...dev]);
    assert.equal((JSON.parse(disabled.stdout) as User).enabled, false);
    assert.equal((await cli(['group', 'delete', 'everyone', ...dev])).code, 0);
    assert.equal((await cli(['user', 'delete', 'carol@coffer.test', ...dev])).code, 0);
    const missing = await cli(['user', 'show', 'carol@coffer.test', ...dev]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^coffer: UserNotFound/);
  });

  it('the CLI registers certificate and federated credentials and disables a principal', async () => {
    const sp = JSON.parse((await cli(['sp', 'create', '--name', 'cred-app', ...dev])).stdout) as {
      clientId: string;
    };
    const certFile = path.join(scratchDir('cert'), 'client.pem');
    writeFileSync(certFile, readFileSync(path.join(server.dataDir, 'tls', 'server.pem'), 'utf8'));
    // The dev server's certificate is EC: refused with a reason, as only RSA keys sign RS256/PS256.
    const ec = await cli(['sp', 'credential', 'add', '--id', sp.clientId, '--cert-file', certFile, ...dev]);
    assert.equal(ec.code, 1);
    assert.match(ec.stderr, /RSA/);

    const federated = await cli([
      'sp',
      'federated-credential',
      'add',
      '--id',
      sp.clientId,
      '--issuer',
      'https://token.actions.githubusercontent.com',
      '--subject',
      'repo:example/app:ref:refs/heads/main',
      ...dev,
    ]);
    assert.equal(federated.code, 0, federated.stderr);
    const listed = JSON.parse(
      (await cli(['sp', 'federated-credential', 'list', '--id', sp.clientId, ...dev])).stdout,
    ) as { name: string; audiences: string[] }[];
    assert.deepEqual(listed[0]?.audiences, ['api://AzureADTokenExchange']);
    const removed = await cli([
      'sp',
      'federated-credential',
      'remove',
      '--id',
      sp.clientId,
      '--federated-credential-id',
      listed[0]!.name,
      ...dev,
    ]);
    assert.equal(removed.code, 0, removed.stderr);

    const updated = await cli(['sp', 'update', sp.clientId, '--enabled', 'false', ...dev]);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal((JSON.parse(updated.stdout) as { enabled: boolean }).enabled, false);
  });
});
