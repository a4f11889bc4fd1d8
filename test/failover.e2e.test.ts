import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { PgTestCluster } from '../src/storage/postgres/pg-test-cluster.js';
import { rawRequest } from './helpers/http.js';
import { type PgInstallation, startPgInstallation, within } from './helpers/pg-nodes.js';
import { type ProductionServer, startProductionServer } from './helpers/production-server.js';
import { scratchDir } from './helpers/server-process.js';

interface WriteFailure {
  status: number | undefined;
  message: string;
  retryAfter: string | null | undefined;
}

/**
 * A primary and a hot standby in synchronous streaming replication (remote_apply: a commit is
 * acknowledged only once the standby applied it), two nodes configured with both. The primary is
 * killed with SIGKILL while writers and a reader run.
 */
describe('read-only failover to the replica when the primary is killed (official SDKs)', () => {
  let primary: PgTestCluster;
  let standby: PgTestCluster;
  let installation: PgInstallation;
  const vault = 'failover';

  before(async () => {
    const dir = scratchDir('pg-failover');
    primary = await PgTestCluster.create(path.join(dir, 'primary'));
    standby = await primary.createStandby(path.join(dir, 'standby'));
    primary.sql('coffer', "ALTER SYSTEM SET synchronous_standby_names = '*'");
    primary.sql('coffer', "ALTER SYSTEM SET synchronous_commit = 'remote_apply'");
    primary.sql('coffer', 'SELECT pg_reload_conf()');
    installation = await startPgInstallation(2, {
      pg: primary,
      env: { COFFER_STORAGE_READ_REPLICA_URL: standby.url() },
    });
    await installation.adminApi(installation.nodes[0]!, 'POST', '/coffer/vaults', { name: vault }, 201);
  });

  after(async () => {
    await installation?.stop();
    primary?.stop();
    standby?.stop();
  });

  /** No SDK retries: every 503 is seen as it is answered. */
  const secretsOn = (node: ProductionServer) =>
    new SecretClient(
      node.vaultUrl(vault),
      installation.credential(node, installation.init.clientId, installation.init.clientSecret),
      { retryOptions: { maxRetries: 0 } },
    );
  const readyz = async (node: ProductionServer) => {
    const response = await rawRequest(`${node.url}/readyz`);
    return { status: response.status, body: response.json() as { status: string } };
  };

  it('keeps every acknowledged write, serves reads throughout, refuses writes as read-only until promotion', async () => {
    const [a, b] = installation.nodes as [ProductionServer, ProductionServer];
    await secretsOn(a).setSecret('steady', 'read me');
    const acknowledged = new Map<string, string>();
    const failures: WriteFailure[] = [];
    const readErrors: string[] = [];
    let reads = 0;
    let running = true;

    const writer = async (node: ProductionServer, label: string) => {
      const client = secretsOn(node);
      for (let i = 0; running; i++) {
        const name = `${label}-${i}`;
        try {
          await client.setSecret(name, `value-${name}`);
          acknowledged.set(name, `value-${name}`);
        } catch (error) {
          const rest = error as {
            statusCode?: number;
            message: string;
            response?: { headers: { get(name: string): string | undefined } };
          };
          failures.push({
            status: rest.statusCode,
            message: rest.message,
            retryAfter: rest.response?.headers.get('retry-after'),
          });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    const reader = async (node: ProductionServer) => {
      const client = secretsOn(node);
      while (running) {
        try {
          assert.equal((await client.getSecret('steady')).value, 'read me');
          reads++;
        } catch (error) {
          readErrors.push((error as Error).message);
        }
      }
    };
    const load = Promise.all([writer(a, 'a'), writer(b, 'b'), reader(a), reader(b)]);
    try {
      await within(20_000, 'writes acknowledged before the crash', async () => acknowledged.size >= 20);
      primary.kill9();

      // Both nodes notice, serve reads from the standby, and say so.
      for (const node of [a, b]) {
        await within(
          15_000,
          'read-only mode reported',
          async () => (await readyz(node)).body.status === 'read-only',
        );
        assert.equal((await readyz(node)).status, 200, 'a read-only node still serves: /readyz 200');
      }
      const view = await installation.adminApi(a, 'GET', '/coffer/operator/nodes', undefined, 200);
      assert.equal((view.json() as { node: { mode: string; readOnly: boolean } }).node.mode, 'read-only');
      await within(10_000, 'a write refused as read-only', async () =>
        failures.some((f) => /read-only mode/.test(f.message)),
      );
      const readsDuringOutage = reads;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.ok(reads > readsDuringOutage, 'reads continue while the primary is down');

      standby.promote();
      const failedBefore = failures.length;
      const ackedBefore = acknowledged.size;
      await within(
        20_000,
        'writes resume on the promoted standby',
        async () => acknowledged.size >= ackedBefore + 10,
      );
      for (const node of [a, b]) {
        await within(10_000, 'ready again', async () => (await readyz(node)).body.status === 'ready');
      }
      assert.ok(failures.length >= failedBefore);
    } finally {
      running = false;
      await load;
    }

    assert.deepEqual(readErrors, [], 'every read was served');
    assert.ok(failures.length > 0, 'some writes were refused while the primary was down');
    for (const failure of failures) {
      assert.equal(failure.status, 503, `a refused write is a 503: ${failure.message}`);
      assert.ok(Number(failure.retryAfter) > 0, `with Retry-After: ${failure.message}`);
    }
    // Every write a client was told succeeded is on the promoted standby, read through either node.
    const check = secretsOn(b);
    for (const [name, value] of acknowledged) assert.equal((await check.getSecret(name)).value, value, name);
  });
});

describe('a node whose database is down when it starts', () => {
  let database: PgTestCluster;
  let node: ProductionServer | undefined;

  before(async () => {
    database = await PgTestCluster.create(path.join(scratchDir('pg-late'), 'server'));
    database.stop();
  });

  after(async () => {
    await node?.stop();
    database?.stop();
  });

  it('listens, answers 503 naming the database, and serves once the database is up, without a restart', async () => {
    node = await startProductionServer({
      env: { COFFER_STORAGE_URL: database.url().replace('coffer@', 'coffer:pw-not-shown@') },
    });
    assert.match(node.process.output, /storage unavailable: retrying/);
    const down = await node.api('GET', '/coffer/operator/status');
    assert.equal(down.status, 503, down.text);
    assert.ok(Number(down.headers['retry-after']) > 0);
    assert.match(down.text, new RegExp(`127\\.0\\.0\\.1:${database.port}/coffer\\): connection refused`));
    assert.equal((await node.api('GET', '/readyz')).status, 503);

    database.start();
    await within(
      15_000,
      'the node reaches the database',
      async () => (await node!.api('GET', '/coffer/operator/status')).status === 200,
    );
    const status = (await node.api('GET', '/coffer/operator/status')).json() as { initialized: boolean };
    assert.equal(status.initialized, false);
    assert.ok(!node.process.output.includes('pw-not-shown'), 'the database password never reaches the log');
  });
});
