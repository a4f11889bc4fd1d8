import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import {
  assertOneLineFailure,
  assertSucceeded,
  type CliResult,
  cli,
  parseJson,
} from './helpers/cli-process.js';
import { fetchToken } from './helpers/http.js';
import { type ProductionServer, startProductionServer } from './helpers/production-server.js';
import { credentialFor, type DevServer, scratchDir, startDevServer } from './helpers/server-process.js';

// The `coffer` administration CLI as users and scripts run it (CONTRACT section 7): a child process
// per command against one real dev server (helpers/cli-process.ts: no inherited connection).

interface Vault {
  id: string;
  name: string;
  vaultUrl: string;
  softDeleteRetentionInDays: number;
  enablePurgeProtection: boolean;
  enableRbacAuthorization: boolean;
  createdAt: string;
}

interface Credentials {
  objectId: string;
  clientId: string;
  clientSecret: string;
  tenantId: string;
  name: string;
}

interface Principal {
  objectId: string;
  clientId: string;
  name: string;
  administrator: boolean;
  enabled: boolean;
  secrets: { id: string; createdAt: string }[];
}

interface OperatorStatus {
  initialized: boolean;
  sealed: boolean;
  sealType: string;
}

interface UnsealStatus extends OperatorStatus {
  shares: number;
  threshold: number;
  progress: number;
}

interface InitAnswer {
  shares: string[];
  tenantId: string;
  objectId: string;
  clientId: string;
  clientSecret: string;
}

interface KeyStatus {
  term: number;
  rotatedAt: string;
}

function statusCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** A TCP port nobody listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

describe('coffer CLI', () => {
  let server: DevServer;
  let dev: string[];
  let port: string;

  before(async () => {
    server = await startDevServer();
    dev = ['--dev-data-dir', server.dataDir];
    port = new URL(server.facts.url).port;
  });
  after(async () => {
    await server?.stop('SIGTERM');
  });

  describe('vault', () => {
    const name = 'cli-e2e';

    it('vault create --output json prints the new vault and nothing else', async () => {
      const vault = parseJson<Vault>(
        await cli(['vault', 'create', name, '--retention-days', '30', ...dev, '--output', 'json']),
      );
      assert.equal(vault.name, name);
      assert.equal(vault.vaultUrl, `https://${name}.vault.localhost:${port}`);
      assert.equal(vault.softDeleteRetentionInDays, 30);
      assert.equal(vault.enablePurgeProtection, false);
    });

    it('the new vault works through @azure/keyvault-secrets at its vaultUrl', async () => {
      const client = new SecretClient(`https://${name}.vault.localhost:${port}`, server.credential);
      await client.setSecret('from-cli-vault', 'hello');
      assert.equal((await client.getSecret('from-cli-vault')).value, 'hello');
      // Vaults are separate: the dev vault does not see it.
      await assert.rejects(
        server.secrets().getSecret('from-cli-vault'),
        (error) => statusCodeOf(error) === 404,
      );
    });

    it('vault list --output json is an array holding the vault', async () => {
      const vaults = parseJson<Vault[]>(await cli(['vault', 'list', ...dev, '--output', 'json']));
      assert.ok(Array.isArray(vaults));
      const names = vaults.map((vault) => vault.name);
      assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
      assert.ok(names.includes('dev'), 'the dev vault is listed too');
    });

    it('table output (the default) is for people: a header and the vault', async () => {
      const list = await cli(['vault', 'list', ...dev]);
      assertSucceeded(list);
      const [header, rule, ...rows] = list.stdout.trimEnd().split('\n');
      assert.match(header ?? '', /^Name\s+VaultUrl\b/);
      assert.match(rule ?? '', /^-+ +-+/);
      assert.ok(
        rows.some(
          (row) => row.startsWith(`${name} `) && row.includes(`https://${name}.vault.localhost:${port}`),
        ),
        list.stdout,
      );

      const show = await cli(['vault', 'show', name, ...dev]);
      assertSucceeded(show);
      assert.match(show.stdout, new RegExp(`^Name +${name}$`, 'm'));
      assert.match(show.stdout, /^Soft-delete retention \(days\) +30$/m);
      assert.throws(() => JSON.parse(show.stdout), 'table output is not JSON');
    });

    it('vault update --enable-purge-protection turns it on and keeps the other settings', async () => {
      const updated = parseJson<Vault>(
        await cli(['vault', 'update', name, '--enable-purge-protection', ...dev, '--output', 'json']),
      );
      assert.equal(updated.enablePurgeProtection, true);
      assert.equal(updated.softDeleteRetentionInDays, 30);
      const shown = parseJson<Vault>(await cli(['vault', 'show', name, ...dev, '--output', 'json']));
      assert.equal(shown.enablePurgeProtection, true);
    });

    it('creating a vault whose name is taken fails with one line naming the problem', async () => {
      const result = await cli(['vault', 'create', name, ...dev, '--output', 'json']);
      assertOneLineFailure(result, new RegExp(`VaultAlreadyExists.*'${name}'`));
    });

    it('an invalid vault name fails with one line that says what a valid name is', async () => {
      const results = await Promise.all(
        ['1abc', 'a', 'ab--c'].map((bad) => cli(['vault', 'create', bad, ...dev, '--output', 'json'])),
      );
      for (const [index, bad] of ['1abc', 'a', 'ab--c'].entries()) {
        const line = assertOneLineFailure(results[index]!, new RegExp(`'${bad}' is not valid`));
        assert.match(line, /3-24 letters, digits and hyphens/);
      }
      const vaults = parseJson<Vault[]>(await cli(['vault', 'list', ...dev, '--output', 'json']));
      assert.deepEqual(
        vaults.filter((vault) => ['1abc', 'a', 'ab--c'].includes(vault.name)),
        [],
        'no vault was made',
      );
    });

    it('a usage mistake is one line too, pointing at --help', async () => {
      const [missingName, badRetention, badOutput] = await Promise.all([
        cli(['vault', 'create', ...dev]),
        cli(['vault', 'create', 'retention-five', '--retention-days', '5', ...dev]),
        cli(['vault', 'list', ...dev, '--output', 'xml']),
      ]);
      assertOneLineFailure(missingName!, /missing required argument 'name'.*coffer vault create --help/);
      assertOneLineFailure(badRetention!, /7 to 90/);
      assertOneLineFailure(badOutput!, /json, jsonc, table, tsv, yaml, none/);
    });

    it('vault delete removes it: show then fails with VaultNotFound', async () => {
      const deleted = await cli(['vault', 'delete', name, ...dev, '--output', 'json']);
      assertSucceeded(deleted);
      assert.equal(deleted.stdout, '', 'delete prints nothing in JSON mode');

      assertOneLineFailure(
        await cli(['vault', 'show', name, ...dev]),
        new RegExp(`VaultNotFound:.*'${name}'`),
      );
      const client = new SecretClient(`https://${name}.vault.localhost:${port}`, server.credential);
      await assert.rejects(client.getSecret('from-cli-vault'), (error) => statusCodeOf(error) === 404);
    });
  });

  describe('sp', () => {
    let created: Credentials;

    it('sp create --output json prints exactly the new credentials', async () => {
      created = parseJson<Credentials>(
        await cli(['sp', 'create', '--name', 'ci-bot', ...dev, '--output', 'json']),
      );
      assert.deepEqual(Object.keys(created).sort(), [
        'clientId',
        'clientSecret',
        'name',
        'objectId',
        'tenantId',
      ]);
      assert.equal(created.name, 'ci-bot');
      assert.equal(created.tenantId, server.facts.tenantId);
      for (const value of Object.values(created)) assert.ok(typeof value === 'string' && value !== '');
    });

    it('the new credentials get a token, but a non-administrator is refused on the data plane', async () => {
      const credential = credentialFor(server.facts, created.clientId, created.clientSecret);
      const token = await credential.getToken(`https://${server.facts.baseDomain}/.default`);
      assert.ok(token.token.length > 0);
      const client = new SecretClient(server.facts.vaultUrl, credential);
      await assert.rejects(client.getSecret('anything'), (error) => statusCodeOf(error) === 403);
      await assert.rejects(client.setSecret('anything', 'x'), (error) => statusCodeOf(error) === 403);
    });

    it('sp list and sp show find it, and never show the secret again', async () => {
      const list = await cli(['sp', 'list', ...dev, '--output', 'json']);
      const principals = parseJson<Principal[]>(list);
      const listed = principals.find((principal) => principal.clientId === created.clientId);
      assert.ok(listed, 'the new principal is listed');
      assert.equal(listed.name, 'ci-bot');
      assert.ok(!list.stdout.includes(created.clientSecret));

      const show = await cli(['sp', 'show', created.clientId, ...dev, '--output', 'json']);
      const shown = parseJson<Principal>(show);
      assert.equal(shown.objectId, created.objectId);
      assert.equal(shown.administrator, false);
      assert.equal(shown.secrets.length, 1);
      assert.ok(!show.stdout.includes(created.clientSecret));

      const table = await cli(['sp', 'show', created.objectId, ...dev]);
      assertSucceeded(table);
      assert.match(table.stdout, new RegExp(`^Client ID +${created.clientId}$`, 'm'));
      assert.ok(!table.stdout.includes(created.clientSecret));
    });

    it('sp reset-secret issues a new secret: the old one stops working, the new one works', async () => {
      const reset = parseJson<Credentials>(
        await cli(['sp', 'reset-secret', created.clientId, ...dev, '--output', 'json']),
      );
      assert.deepEqual(Object.keys(reset).sort(), [
        'clientId',
        'clientSecret',
        'name',
        'objectId',
        'tenantId',
      ]);
      assert.equal(reset.clientId, created.clientId);
      assert.notEqual(reset.clientSecret, created.clientSecret);

      const { authorityHost, tenantId } = server.facts;
      await assert.rejects(
        fetchToken(authorityHost, tenantId, created.clientId, created.clientSecret),
        /40[01]/,
      );
      assert.ok((await fetchToken(authorityHost, tenantId, reset.clientId, reset.clientSecret)).length > 0);
      created = reset;
    });

    it('sp delete removes it: no more tokens, and show fails with PrincipalNotFound', async () => {
      const deleted = await cli(['sp', 'delete', created.clientId, ...dev, '--output', 'json']);
      assertSucceeded(deleted);
      assert.equal(deleted.stdout, '');

      const { authorityHost, tenantId } = server.facts;
      await assert.rejects(
        fetchToken(authorityHost, tenantId, created.clientId, created.clientSecret),
        /40[01]/,
      );
      assertOneLineFailure(await cli(['sp', 'show', created.clientId, ...dev]), /PrincipalNotFound/);
    });
  });

  describe('connection', () => {
    const envFor = (facts: DevServer['facts']): Record<string, string> => ({
      COFFER_URL: facts.url,
      COFFER_TENANT_ID: facts.tenantId,
      COFFER_CLIENT_ID: facts.clientId,
      COFFER_CLIENT_SECRET: facts.clientSecret,
      COFFER_CA_FILE: facts.caFile,
    });
    const listNames = (result: CliResult) => parseJson<Vault[]>(result).map((vault) => vault.name);

    it('COFFER_* environment variables are enough, without any dev.json', async () => {
      const result = await cli(['vault', 'list', '--output', 'json'], {
        env: envFor(server.facts),
        cwd: scratchDir('cli-no-dev-json'),
      });
      assert.ok(listNames(result).includes('dev'));
    });

    it('flags alone are enough too', async () => {
      const { url, tenantId, clientId, clientSecret, caFile } = server.facts;
      const flags = ['--url', url, '--tenant-id', tenantId, '--client-id', clientId];
      const result = await cli(
        ['vault', 'list', ...flags, '--client-secret', clientSecret, '--ca-file', caFile, '-o', 'json'],
        { cwd: scratchDir('cli-flags-only') },
      );
      assert.ok(listNames(result).includes('dev'));
    });

    it('a flag overrides its environment variable', async () => {
      const env = { ...envFor(server.facts), COFFER_CLIENT_SECRET: 'wrong-secret-from-env' };
      const right = await cli(
        ['vault', 'list', '--client-secret', server.facts.clientSecret, '--output', 'json'],
        { env },
      );
      assert.ok(listNames(right).includes('dev'));

      const wrongFlag = await cli(
        ['vault', 'list', '--client-secret', 'wrong-secret-from-flag', '--output', 'json'],
        { env: envFor(server.facts) },
      );
      assertOneLineFailure(wrongFlag, /invalid_client/);
    });

    it('a wrong secret fails with one line that never shows a secret', async () => {
      const wrong = 'not-the-secret-Xq7Zr2';
      const result = await cli(['vault', 'list', ...dev, '--client-secret', wrong, '--output', 'json']);
      const line = assertOneLineFailure(result, /cannot get a token: invalid_client.*--client-secret/);
      assert.ok(!line.includes(wrong), 'the wrong secret is not echoed');
      assert.ok(!line.includes(server.facts.clientSecret), 'nor the right one');
    });

    it('without the CA file the certificate is not trusted, and the line says how to fix it', async () => {
      const env = envFor(server.facts);
      delete env['COFFER_CA_FILE'];
      const result = await cli(['vault', 'list', '--output', 'json'], { env });
      assertOneLineFailure(result, /cannot verify the TLS certificate.*--ca-file/);
    });

    it('a user signs in with a password from COFFER_PASSWORD, and a wrong one fails without echoing it', async () => {
      const password = `correct horse ${Date.now()}`;
      const created = await cli(
        [
          'user',
          'create',
          '--name',
          'operator@example.test',
          '--admin',
          '--password-stdin',
          ...dev,
          '--output',
          'json',
        ],
        { input: `${password}\n` },
      );
      assertSucceeded(created);
      const { url, tenantId, caFile } = server.facts;
      const asUser = [
        '--url',
        url,
        '--tenant-id',
        tenantId,
        '--ca-file',
        caFile,
        '--username',
        'operator@example.test',
      ];
      const listed = await cli(['vault', 'list', ...asUser, '-o', 'json'], {
        env: { COFFER_PASSWORD: password },
        cwd: scratchDir('cli-user'),
      });
      assert.ok(listNames(listed).includes('dev'));

      const wrong = 'not-the-password-Kq3';
      const refused = await cli(['vault', 'list', ...asUser, '-o', 'json'], {
        env: { COFFER_PASSWORD: wrong },
        cwd: scratchDir('cli-user-wrong'),
      });
      const line = assertOneLineFailure(refused, /invalid_grant/);
      assert.ok(!line.includes(wrong), 'the wrong password is not echoed');

      const noPassword = await cli(['vault', 'list', ...asUser], { cwd: scratchDir('cli-user-none') });
      assertOneLineFailure(noPassword, /COFFER_PASSWORD/);
    });

    it('--dev-data-dir without a dev.json says to start a dev server', async () => {
      const empty = scratchDir('cli-empty-dev');
      const result = await cli(['vault', 'list', '--dev-data-dir', empty]);
      assertOneLineFailure(result, /dev\.json.*coffer server --dev/);
    });
  });

  describe('operator', () => {
    it('operator status --output json: initialised and unsealed with the dev key', async () => {
      const status = parseJson<OperatorStatus>(await cli(['operator', 'status', ...dev, '--output', 'json']));
      assert.equal(status.initialized, true);
      assert.equal(status.sealed, false);
      assert.equal(status.sealType, 'dev-key');

      const table = await cli(['operator', 'status', ...dev]);
      assertSucceeded(table);
      assert.match(table.stdout, /^Sealed +false$/m);
    });

    it('operator rotate moves the key term up by one; data written before stays readable', async () => {
      await server.secrets().setSecret('before-rotation', 'still here');
      const before = parseJson<KeyStatus>(await cli(['operator', 'key-status', ...dev, '--output', 'json']));
      assert.ok(Number.isInteger(before.term) && before.term >= 1, `term ${before.term}`);

      const rotated = parseJson<KeyStatus>(await cli(['operator', 'rotate', ...dev, '--output', 'json']));
      assert.equal(rotated.term, before.term + 1);
      assert.ok(!Number.isNaN(Date.parse(rotated.rotatedAt)), `rotatedAt ${rotated.rotatedAt}`);

      const afterRotation = parseJson<KeyStatus>(
        await cli(['operator', 'key-status', ...dev, '--output', 'json']),
      );
      assert.equal(afterRotation.term, before.term + 1);
      assert.equal((await server.secrets().getSecret('before-rotation')).value, 'still here');
    });
  });

  describe('a server that is not running', () => {
    it('fails fast with a line telling the user to start the server', async () => {
      const url = `https://localhost:${await closedPort()}`;
      const anonymous = await cli(['operator', 'status', '--url', url, '--output', 'json']);
      assertOneLineFailure(anonymous, /connection refused.*coffer server/);
      assert.ok(anonymous.ms < 5_000, `failed after ${anonymous.ms} ms`);

      const creds = ['--tenant-id', 't', '--client-id', 'c', '--client-secret', 'secret-never-shown'];
      const withToken = await cli(['vault', 'list', '--url', url, ...creds]);
      const line = assertOneLineFailure(withToken, /connection refused.*coffer server/);
      assert.ok(!line.includes('secret-never-shown'));
    });

    it('a dev.json left by a stopped dev server leads to the same hint', async () => {
      const stale = scratchDir('cli-stale-dev');
      const url = `https://localhost:${await closedPort()}`;
      writeFileSync(
        path.join(stale, 'dev.json'),
        JSON.stringify({ ...server.facts, url, authorityHost: url, vaultUrl: url }),
        { mode: 0o600 },
      );
      assertOneLineFailure(
        await cli(['vault', 'list', '--dev-data-dir', stale]),
        /connection refused.*coffer server/,
      );
    });
  });

  describe('operator on a sealed production server', () => {
    let prod: ProductionServer;
    let connection: string[];
    let init: InitAnswer;
    let admin: string[];

    before(async () => {
      prod = await startProductionServer();
      connection = ['--url', prod.url, '--ca-file', path.join(prod.dataDir, 'tls', 'ca.pem')];
    });
    after(async () => {
      await prod?.stop('SIGTERM');
    });

    const status = async (): Promise<UnsealStatus> =>
      parseJson<UnsealStatus>(await cli(['operator', 'status', ...connection, '--output', 'json']));
    /** `operator unseal`, the share given as an argument or piped on stdin. */
    const unseal = async (share: string, how: 'argument' | 'stdin'): Promise<UnsealStatus> => {
      const args = [
        'operator',
        'unseal',
        ...(how === 'argument' ? [share] : []),
        ...connection,
        '-o',
        'json',
      ];
      const result = await cli(args, how === 'stdin' ? { input: `${share}\n` } : {});
      assert.ok(!result.stdout.includes(share), 'the share is not echoed');
      return parseJson<UnsealStatus>(result);
    };

    it('operator init --output json prints the shares and the first administrator, once', async () => {
      const before = await status();
      assert.equal(before.initialized, false);
      assert.equal(before.sealed, true);

      init = parseJson<InitAnswer>(
        await cli([
          'operator',
          'init',
          '--shares',
          '3',
          '--threshold',
          '2',
          ...connection,
          '--output',
          'json',
        ]),
      );
      assert.equal(init.shares.length, 3);
      assert.equal(new Set(init.shares).size, 3);
      for (const field of ['tenantId', 'objectId', 'clientId', 'clientSecret'] as const) {
        assert.ok(typeof init[field] === 'string' && init[field] !== '', field);
      }
      admin = [
        '--tenant-id',
        init.tenantId,
        '--client-id',
        init.clientId,
        '--client-secret',
        init.clientSecret,
      ];

      const after = await status();
      assert.equal(after.initialized, true);
      assert.equal(after.sealed, true, 'still sealed after init');
      assert.equal(after.sealType, 'shamir');

      const again = await cli(['operator', 'init', '--shares', '3', '--threshold', '2', ...connection]);
      const line = assertOneLineFailure(again, /initiali[sz]ed/i);
      for (const share of init.shares) assert.ok(!line.includes(share));
    });

    it('while sealed, commands that need a token fail with one line saying to unseal', async () => {
      const result = await cli(['vault', 'list', ...connection, ...admin]);
      const line = assertOneLineFailure(result, /sealed.*coffer operator unseal/);
      assert.ok(!line.includes(init.clientSecret));
    });

    it('operator unseal SHARE: one share is progress 1 of 2, the second unseals', async () => {
      const first = await unseal(init.shares[0]!, 'argument');
      assert.equal(first.sealed, true);
      assert.equal(first.progress, 1);
      assert.equal(first.threshold, 2);

      const second = await unseal(init.shares[1]!, 'argument');
      assert.equal(second.sealed, false);
      assert.equal((await status()).sealed, false);
    });

    it('the first administrator can then create a vault and use it through the SDK', async () => {
      const vault = parseJson<Vault>(
        await cli(['vault', 'create', 'prod-cli', ...connection, ...admin, '-o', 'json']),
      );
      assert.equal(vault.vaultUrl, prod.vaultUrl('prod-cli'));
      const credential = credentialFor(
        { tenantId: init.tenantId, authorityHost: prod.url },
        init.clientId,
        init.clientSecret,
      );
      const client = new SecretClient(vault.vaultUrl, credential);
      await client.setSecret('survives-seal', 'yes');
      assert.equal((await client.getSecret('survives-seal')).value, 'yes');
    });

    it('operator seal seals it; shares piped on stdin unseal it again', async () => {
      const sealed = parseJson<UnsealStatus>(
        await cli(['operator', 'seal', ...connection, ...admin, '-o', 'json']),
      );
      assert.equal(sealed.sealed, true);
      assert.equal((await status()).sealed, true);

      const first = await unseal(init.shares[2]!, 'stdin');
      assert.equal(first.sealed, true);
      assert.equal(first.progress, 1);
      const second = await unseal(init.shares[0]!, 'stdin');
      assert.equal(second.sealed, false);

      const credential = credentialFor(
        { tenantId: init.tenantId, authorityHost: prod.url },
        init.clientId,
        init.clientSecret,
      );
      const client = new SecretClient(prod.vaultUrl('prod-cli'), credential);
      assert.equal((await client.getSecret('survives-seal')).value, 'yes');
    });
  });
});
