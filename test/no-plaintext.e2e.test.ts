import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { authCodeClient, pkcePair } from './helpers/auth-code.js';
import { consoleRequest, consoleSignIn, cookieValue, setCookie } from './helpers/console-http.js';
import { bearerRequest, fetchToken, rawRequest } from './helpers/http.js';
import { filesUnder, leakedForms, leaksInFiles } from './helpers/scan.js';
import { credentialFor, type DevServer, startDevServer } from './helpers/server-process.js';

const distinctive = (label: string) => `np-${label}-${randomBytes(24).toString('base64url')}`;

describe('no plaintext at rest or in the output (dev server)', () => {
  let server: DevServer;
  let stopped = false;
  /** Secret values: never on disk, never in the output, in any encoding. */
  const values: string[] = [];
  /** Credentials and tokens: never in the output; client secrets never on disk beyond dev.json. */
  const tokens: string[] = [];
  /** Console cookies and authorization codes: never on disk, never in the output. */
  const bearers: string[] = [];
  let principalSecret: string;
  let backupBlob: Uint8Array;

  before(async () => {
    // debug: the most verbose log the server has, so the scan covers everything it can print.
    server = await startDevServer({ env: { COFFER_LOG_LEVEL: 'debug' } });
  });

  after(async () => {
    if (!stopped) await server.stop('SIGTERM');
  });

  it('stores secrets set, versioned, updated, deleted, backed up and restored, and one refused request', async () => {
    const client = server.secrets();
    const { facts } = server;

    const plain = distinctive('plain');
    const unicode = `np-ünïcødé-✓-${randomBytes(24).toString('base64url')}`;
    const multiline = `-----BEGIN NOT A KEY-----\n${randomBytes(600).toString('base64')}\n-----END NOT A KEY-----`;
    values.push(plain, unicode, multiline);
    await client.setSecret('np-plain', plain);
    await client.setSecret('np-unicode', unicode, { contentType: 'text/plain; charset=utf-8' });
    await client.setSecret('np-multiline', multiline);

    const versionOne = distinctive('version-one');
    const versionTwo = distinctive('version-two');
    values.push(versionOne, versionTwo);
    const one = await client.setSecret('np-versioned', versionOne);
    await client.setSecret('np-versioned', versionTwo);
    await client.updateSecretProperties('np-versioned', one.properties.version!, {
      contentType: 'application/x-old',
      tags: { rotated: 'yes' },
    });
    assert.equal(
      (await client.getSecret('np-versioned', { version: one.properties.version })).value,
      versionOne,
    );

    const deletedValue = distinctive('deleted');
    values.push(deletedValue);
    await client.setSecret('np-deleted', deletedValue);
    await (await client.beginDeleteSecret('np-deleted', { intervalInMs: 50 })).pollUntilDone();

    const restoredValue = distinctive('restored');
    values.push(restoredValue);
    await client.setSecret('np-restored', restoredValue);
    backupBlob = (await client.backupSecret('np-restored'))!;
    assert.ok(backupBlob && backupBlob.length > 0);
    await (await client.beginDeleteSecret('np-restored', { intervalInMs: 50 })).pollUntilDone();
    await client.purgeDeletedSecret('np-restored');
    await client.restoreSecretBackup(backupBlob);
    assert.equal((await client.getSecret('np-restored')).value, restoredValue);

    // A principal of its own, whose client secret and tokens are then used for real work.
    const adminToken = await fetchToken(
      facts.authorityHost,
      facts.tenantId,
      facts.clientId,
      facts.clientSecret,
    );
    tokens.push(adminToken);
    const created = await rawRequest(`${facts.url}/coffer/principals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'np-writer', administrator: true }),
    });
    assert.equal(created.status, 201, created.text);
    const writer = created.json() as { objectId: string; clientId: string; clientSecret: string };
    // The administrator flag manages Coffer; writing vault data takes a role, as in Azure.
    const assigned = await rawRequest(`${facts.url}/coffer/roles/assignments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        role: 'Key Vault Secrets Officer',
        principalId: writer.objectId,
        scope: '/vaults/dev',
      }),
    });
    assert.equal(assigned.status, 201, assigned.text);
    principalSecret = writer.clientSecret;
    const writerCredential = credentialFor(facts, writer.clientId, writer.clientSecret);
    const byWriter = distinctive('by-writer');
    values.push(byWriter);
    await new SecretClient(facts.vaultUrl, writerCredential).setSecret('np-by-writer', byWriter);
    tokens.push((await writerCredential.getToken('https://vault.localhost/.default')).token);
    tokens.push((await server.credential.getToken('https://vault.localhost/.default')).token);
    tokens.push((await server.credential.getToken('https://vault.azure.net/.default')).token);

    // A request the server refuses, carrying a value: neither the answer nor the log may repeat it.
    const refused = distinctive('refused');
    values.push(refused);
    const answer = await rawRequest(`${facts.vaultUrl}/secrets/np-refused?api-version=7.6`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tokens.at(-2)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: refused, attributes: 'not an object' }),
    });
    assert.equal(answer.status, 400, answer.text);
    assert.deepEqual(leakedForms(Buffer.from(answer.text), refused), [], 'the 400 does not echo the value');
  });

  it('keeps console sessions, sign-ins in progress and authorization codes in the store only as hashes and ciphertext', async () => {
    const { facts } = server;
    const admin = (await server.credential.getToken('https://vault.localhost/.default')).token;
    const password = distinctive('password');
    const created = await bearerRequest(`${facts.url}/coffer/users`, admin, 'POST', {
      userPrincipalName: 'np-user@coffer.test',
      password,
    });
    assert.equal(created.status, 201, created.text);
    // A signed-in session, a sign-in left half-way and a code never redeemed: each usable if found.
    const { session } = await consoleSignIn(facts.url, 'np-user@coffer.test', password);
    assert.equal((await consoleRequest(`${facts.url}/ui/vaults`, session)).status, 200);
    bearers.push(session);
    bearers.push(
      cookieValue(setCookie(await rawRequest(`${facts.url}/ui/sign-in`), '__Host-coffer-sign-in')),
    );
    bearers.push(await authCodeClient(facts).code('np-user@coffer.test', password, pkcePair().challenge));
  });

  it('the backup blob holds none of the values', () => {
    for (const value of values) {
      assert.deepEqual(
        leakedForms(Buffer.from(backupBlob), value),
        [],
        `backup blob holds ${value.slice(0, 20)}`,
      );
    }
  });

  it('after SIGTERM no file under the data dir holds a value, and no file but dev.json a client secret', async () => {
    assert.equal(await server.stop('SIGTERM'), 0);
    stopped = true;
    const files = filesUnder(server.dataDir);
    const names = files.map((file) => path.relative(server.dataDir, file));
    assert.ok(names.includes('coffer.db'), `the SQLite file is scanned (${names.join(', ')})`);
    for (const suffix of ['-wal', '-shm']) {
      const file = path.join(server.dataDir, `coffer.db${suffix}`);
      if (existsSync(file)) assert.ok(files.includes(file));
    }
    assert.ok(readFileSync(path.join(server.dataDir, 'coffer.db')).length > 0);

    for (const value of values) {
      assert.deepEqual(
        leaksInFiles(files, value),
        [],
        `a secret value (${value.slice(0, 20)}...) is on disk`,
      );
    }
    const credentialFiles = new Set(['dev.json', 'unseal.key']);
    // The scan does find what is there: dev.json holds the dev administrator's secret by design.
    assert.deepEqual(
      leaksInFiles(files, server.facts.clientSecret).map((leak) => path.basename(leak.file)),
      ['dev.json'],
    );
    const others = files.filter((file) => !credentialFiles.has(path.basename(file)));
    for (const secret of [principalSecret, server.facts.clientSecret, ...tokens, ...bearers]) {
      assert.deepEqual(leaksInFiles(others, secret), [], 'a client secret, token, cookie or code is on disk');
    }
    // No JWT at all (a console session's access token is never shown to the test, so look for any).
    assert.deepEqual(leaksInFiles(others, '{"alg":'), [], 'a JWT is on disk');
  });

  it("the server's output holds no value, no token and no client secret but the dev banner's own", () => {
    const output = Buffer.from(server.process.output);
    assert.match(
      server.process.output,
      /"path":"\/secrets\/np-refused","status":400/,
      'requests were logged',
    );
    for (const value of values) {
      assert.deepEqual(
        leakedForms(output, value),
        [],
        `the output holds a secret value (${value.slice(0, 20)}...)`,
      );
    }
    for (const bearer of bearers)
      assert.deepEqual(leakedForms(output, bearer), [], 'the output holds a console cookie or a code');
    for (const token of tokens) {
      assert.deepEqual(leakedForms(output, token), [], 'the output holds an access token');
      assert.ok(!output.includes(token.split('.')[2]!), 'the output holds a token signature');
    }
    assert.deepEqual(
      leakedForms(output, principalSecret),
      [],
      "the output holds a principal's client secret",
    );
    // CONTRACT section 2: the dev server prints dev.json, administrator's secret included, once.
    const banner = JSON.stringify(server.facts, null, 2);
    assert.ok(server.process.output.includes(banner), 'the dev banner is printed');
    const rest = Buffer.from(server.process.output.replace(banner, ''));
    assert.deepEqual(
      leakedForms(rest, server.facts.clientSecret),
      [],
      'the admin secret appears outside the banner',
    );
  });
});
