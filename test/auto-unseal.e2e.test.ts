import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { fetchToken, rawRequest } from './helpers/http.js';
import { type InitResult, runCoffer, unsealWithCli, within } from './helpers/pg-nodes.js';
import { freePort, type ProductionServer, startProductionServer } from './helpers/production-server.js';
import { credentialFor, type DevServer, scratchDir, startDevServer } from './helpers/server-process.js';

/**
 * Auto-unseal through the Key Vault API against a second Coffer on loopback: its dev server
 * holds the RSA key, and a service principal that may only wrap and unwrap with that key is
 * the sealed server's credential. The sealed server resolves `*.vault.localhost` the way the
 * test processes do (CONTRACT section 3: clients map those names to loopback themselves).
 */
describe('auto-unseal with a key in another Coffer, and seal migration both ways', () => {
  let keyVault: DevServer;
  let keyVaultPort: number;
  let server: ProductionServer | undefined;
  let port: number;
  let dataDir: string;
  let configFile: string;
  let sealSecret: string;
  let admin: InitResult;
  const loopbackDns = pathToFileURL(path.join(import.meta.dirname, 'helpers', 'loopback-dns.js')).href;
  const env = () => ({ COFFER_CONFIG: configFile, NODE_OPTIONS: `--import ${loopbackDns}` });

  before(async () => {
    keyVaultPort = await freePort();
    keyVault = await startDevServer({ port: keyVaultPort });
    await new KeyClient(keyVault.facts.vaultUrl, keyVault.credential).createRsaKey('unseal', {
      keySize: 2048,
    });
    const { authorityHost, tenantId, clientId, clientSecret } = keyVault.facts;
    const token = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
    const call = async (method: string, apiPath: string, body: unknown) => {
      const response = await rawRequest(`${keyVault.facts.url}${apiPath}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 201, response.text);
      return response.json() as Record<string, string>;
    };
    const principal = await call('POST', '/coffer/principals', { name: 'unsealer' });
    // Least privilege: wrap and unwrap with this one key, nothing else.
    await call('POST', '/coffer/roles/assignments', {
      role: 'Key Vault Crypto Service Encryption User',
      principalId: principal['objectId'],
      scope: `/vaults/${keyVault.facts.vaultName}/keys/unseal`,
    });
    sealSecret = principal['clientSecret']!;

    dataDir = scratchDir('auto-unseal');
    configFile = path.join(dataDir, 'coffer.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        seal: {
          type: 'keyvault',
          vaultUrl: keyVault.facts.vaultUrl,
          keyName: 'unseal',
          credentials: {
            tenantId,
            clientId: principal['clientId'],
            clientSecret: sealSecret,
            authorityHost,
            caFile: keyVault.facts.caFile,
          },
        },
      }),
    );
    port = await freePort();
  });

  after(async () => {
    await server?.stop();
    await keyVault?.stop();
  });

  const start = async () => {
    server = await startProductionServer({ dataDir, port, env: env() });
    return server;
  };
  const restart = async () => {
    assert.equal(await server!.stop('SIGTERM'), 0);
    return start();
  };
  const status = async () =>
    (await server!.api('GET', '/coffer/operator/status')).json() as { sealed: boolean; sealType: string };
  /** `coffer operator seal-migrate` on the server's host, the current shares (if any) on stdin. */
  const sealMigrate = (args: string[], stdin?: string) =>
    runCoffer(
      [
        'operator',
        'seal-migrate',
        ...args,
        '--config',
        configFile,
        '--data-dir',
        dataDir,
        '--output',
        'json',
      ],
      env(),
      stdin,
    );
  const isReady = async () => (await server!.api('GET', '/readyz')).status === 200;
  const secrets = () =>
    new SecretClient(
      server!.vaultUrl('autos'),
      credentialFor(
        { tenantId: admin.tenantId, authorityHost: server!.url },
        admin.clientId,
        admin.clientSecret,
      ),
    );

  it('initialises with the key vault seal and unseals itself, without shares', async () => {
    await start();
    const init = await server!.api('POST', '/coffer/operator/init', { body: {} });
    assert.equal(init.status, 200, init.text);
    admin = init.json() as InitResult;
    assert.deepEqual(admin.shares, []);
    const opened = await status();
    assert.equal(opened.sealed, false);
    assert.equal(opened.sealType, 'keyvault');
    const token = await fetchToken(server!.url, admin.tenantId, admin.clientId, admin.clientSecret);
    const created = await server!.api('POST', '/coffer/vaults', { body: { name: 'autos' }, token });
    assert.equal(created.status, 201, created.text);
    await secrets().setSecret('kept', 'across every seal');
  });

  it('comes back unsealed on its own after a restart', async () => {
    await restart();
    await within(15_000, 'ready after restart', isReady);
    assert.equal((await secrets().getSecret('kept')).value, 'across every seal');
  });

  it('stays sealed while the key vault is down, says why without secrets, and unseals once it is back', async () => {
    assert.equal(await keyVault.stop('SIGTERM'), 0);
    await restart();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal((await status()).sealed, true);
    assert.equal((await server!.api('GET', '/readyz')).status, 503);
    await server!.process.waitForOutput(/the key vault could not be reached.*auto-unseal failed/);
    assert.ok(!server!.process.output.includes(sealSecret), 'the seal credential never reaches the log');

    keyVault = await startDevServer({ dataDir: keyVault.dataDir, port: keyVaultPort });
    await within(20_000, 'unsealed once the key vault is back', isReady);
    assert.equal((await secrets().getSecret('kept')).value, 'across every seal');
  });

  it('migrates to Shamir shares and back to the key vault, keeping the data', async () => {
    assert.equal(await server!.stop('SIGTERM'), 0);
    const toShamir = await sealMigrate(['--to', 'shamir', '--shares', '3', '--threshold', '2']);
    assert.equal(toShamir.code, 0, toShamir.stderr);
    const shares = (JSON.parse(toShamir.stdout) as { sealType: string; shares: string[] }).shares;
    assert.equal(shares.length, 3);

    await start();
    const sealed = await status();
    assert.equal(sealed.sealed, true, 'a Shamir installation waits for its shares');
    assert.equal(sealed.sealType, 'shamir');
    await unsealWithCli(server!, [shares[2]!, shares[0]!]);
    assert.equal((await secrets().getSecret('kept')).value, 'across every seal');

    assert.equal(await server!.stop('SIGTERM'), 0);
    const toKeyVault = await sealMigrate(['--to', 'keyvault'], `${shares[1]}\n${shares[2]}\n`);
    assert.equal(toKeyVault.code, 0, toKeyVault.stderr);
    assert.deepEqual(JSON.parse(toKeyVault.stdout), { sealType: 'keyvault', shares: [] });
    await start();
    await within(15_000, 'unsealed by the key vault again', isReady);
    assert.equal((await secrets().getSecret('kept')).value, 'across every seal');
  });
});
