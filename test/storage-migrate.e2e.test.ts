import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { PgTestCluster } from '../src/storage/postgres/pg-test-cluster.js';
import { fetchToken } from './helpers/http.js';
import { type InitResult, runCoffer, unsealWithCli } from './helpers/pg-nodes.js';
import { type ProductionServer, startProductionServer } from './helpers/production-server.js';
import { credentialFor, scratchDir } from './helpers/server-process.js';

describe('coffer storage migrate: a SQLite installation moves to PostgreSQL', () => {
  let pg: PgTestCluster;
  let server: ProductionServer | undefined;
  let init: InitResult;
  let dataDir: string;
  const values = new Map<string, string>();

  before(async () => {
    pg = await PgTestCluster.create(path.join(scratchDir('pg-migrate'), 'server'));
    server = await startProductionServer();
    dataDir = server.dataDir;
    const initialised = await server.api('POST', '/coffer/operator/init', {
      body: { shares: 1, threshold: 1 },
    });
    assert.equal(initialised.status, 200, initialised.text);
    init = initialised.json() as InitResult;
    await unsealWithCli(server, init.shares);
    const token = await fetchToken(server.url, init.tenantId, init.clientId, init.clientSecret);
    assert.equal(
      (await server.api('POST', '/coffer/vaults', { body: { name: 'moving' }, token })).status,
      201,
    );
    const secrets = secretsOn(server);
    for (let i = 0; i < 25; i++) {
      values.set(`s${i}`, `value ${i}`);
      await secrets.setSecret(`s${i}`, `value ${i}`);
    }
  });

  after(async () => {
    await server?.stop();
    pg?.stop();
  });

  const secretsOn = (node: ProductionServer) =>
    new SecretClient(
      node.vaultUrl('moving'),
      credentialFor({ tenantId: init.tenantId, authorityHost: node.url }, init.clientId, init.clientSecret),
    );
  const migrate = (extra: string[] = []) =>
    runCoffer(['storage', 'migrate', '--from', `sqlite:${dataDir}`, '--to', pg.url(), ...extra]);

  it('refuses while a server still runs on the SQLite data dir', async () => {
    const refused = await migrate();
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /another Coffer process is using .*stop it first/);
  });

  it('copies with progress, verifies, and a PostgreSQL node unsealed with the same share serves the data', async () => {
    assert.equal(await server!.stop('SIGTERM'), 0);
    const moved = await migrate(['--output', 'json']);
    assert.equal(moved.code, 0, moved.stderr);
    const summary = JSON.parse(moved.stdout) as { entries: number; verified: boolean };
    assert.equal(summary.verified, true);
    assert.ok(summary.entries > values.size, `${summary.entries} entries`);
    assert.match(moved.stderr, /copying +\d+\/\d+ \(100%\)/);
    assert.match(moved.stderr, /verifying +\d+\/\d+ \(100%\)/);

    server = await startProductionServer({ dataDir, env: { COFFER_STORAGE_URL: pg.url() } });
    await unsealWithCli(server, init.shares);
    const secrets = secretsOn(server);
    for (const [name, value] of values) assert.equal((await secrets.getSecret(name)).value, value);
  });

  it('refuses to copy into a database that already holds an installation', async () => {
    assert.equal(await server!.stop('SIGTERM'), 0);
    server = undefined;
    const again = await migrate();
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already holds an installation/);
  });
});
