import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { cofferCli } from './helpers/coffer-cli.js';
import { fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { freePort } from './helpers/production-server.js';
import {
  credentialFor,
  type DevFacts,
  type ServerProcess,
  spawnCoffer,
  startDevServer,
} from './helpers/server-process.js';

interface Vault {
  id: string;
  name: string;
  vaultUrl: string;
  createdAt: string;
}

/** A restart as a user does it: the same command, data dir and port, and nothing copied in beforehand. */
async function restartDevServer(
  dataDir: string,
  port: number,
): Promise<{ process: ServerProcess; facts: DevFacts }> {
  const server = spawnCoffer(['server', '--dev', '--data-dir', dataDir, '--port', String(port)]);
  await server.waitForOutput(/"caFile": "[^"]+"/);
  return {
    process: server,
    facts: JSON.parse(readFileSync(path.join(dataDir, 'dev.json'), 'utf8')) as DevFacts,
  };
}

describe('durability (dev server)', () => {
  let dataDir: string;
  let port: number;
  let facts: DevFacts;
  let current: ServerProcess;
  let secrets: SecretClient;

  before(async () => {
    port = await freePort();
    const server = await startDevServer({ port });
    dataDir = server.dataDir;
    facts = server.facts;
    current = server.process;
    secrets = server.secrets();
  });

  after(async () => {
    if (current.child.exitCode === null && current.child.signalCode === null) {
      assert.equal(await current.stop('SIGTERM'), 0);
    }
  });

  const api = (method: string, apiPath: string, token: string, body?: unknown): Promise<RawResponse> =>
    rawRequest(`${facts.url}${apiPath}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('a SIGTERM restart on the same data dir keeps secrets, versions, deleted state, vaults, tenant, credentials and CA', async () => {
    const v1 = `v1-${randomBytes(16).toString('base64url')}`;
    const v2 = `v2-${randomBytes(16).toString('base64url')}`;
    const first = await secrets.setSecret('kept', v1, { contentType: 'text/plain' });
    const second = await secrets.setSecret('kept', v2, { tags: { stage: 'two' } });
    await secrets.updateSecretProperties('kept', first.properties.version!, { enabled: false });

    const goneValue = `gone-${randomBytes(16).toString('base64url')}`;
    await secrets.setSecret('gone', goneValue);
    const deletion = await secrets.beginDeleteSecret('gone', { intervalInMs: 50 });
    const deleted = await deletion.pollUntilDone();

    const adminToken = await fetchToken(
      facts.authorityHost,
      facts.tenantId,
      facts.clientId,
      facts.clientSecret,
    );
    const created = await api('POST', '/coffer/vaults', adminToken, {
      name: 'durable',
      softDeleteRetentionInDays: 7,
    });
    assert.equal(created.status, 201, created.text);
    const durable = created.json() as Vault;
    const inDurable = `other-vault-${randomBytes(16).toString('base64url')}`;
    await new SecretClient(
      durable.vaultUrl,
      credentialFor(facts, facts.clientId, facts.clientSecret),
    ).setSecret('in-durable', inDurable);
    const principal = await api('POST', '/coffer/principals', adminToken, { name: 'survivor' });
    assert.equal(principal.status, 201, principal.text);
    const survivor = principal.json() as { clientId: string; clientSecret: string };

    const devJsonBefore = readFileSync(path.join(dataDir, 'dev.json'), 'utf8');
    const caBefore = readFileSync(path.join(dataDir, 'tls/ca.pem'));
    const serverCertBefore = readFileSync(path.join(dataDir, 'tls/server.pem'));

    assert.equal(await current.stop('SIGTERM'), 0, 'SIGTERM exits 0');
    const restarted = await restartDevServer(dataDir, port);
    current = restarted.process;

    // The same installation: tenant, administrator, URLs, CA and certificate.
    assert.deepEqual(restarted.facts, facts);
    assert.equal(readFileSync(path.join(dataDir, 'dev.json'), 'utf8'), devJsonBefore);
    assert.ok(readFileSync(path.join(dataDir, 'tls/ca.pem')).equals(caBefore), 'the same CA');
    assert.ok(
      readFileSync(path.join(dataDir, 'tls/server.pem')).equals(serverCertBefore),
      'the same certificate',
    );

    // A client that was running before the restart carries on with its cached token.
    const latest = await secrets.getSecret('kept');
    assert.equal(latest.value, v2);
    assert.equal(latest.properties.version, second.properties.version);
    assert.deepEqual(latest.properties.tags, { stage: 'two' });
    const versions: { version?: string; enabled?: boolean; contentType?: string }[] = [];
    for await (const version of secrets.listPropertiesOfSecretVersions('kept')) versions.push(version);
    const older = versions.find((version) => version.version === first.properties.version);
    assert.equal(versions.length, 2);
    assert.equal(older?.enabled, false, 'the disabled version is still disabled');
    assert.equal(older?.contentType, 'text/plain');

    await assert.rejects(secrets.getSecret('gone'), { statusCode: 404 });
    const stillDeleted = await secrets.getDeletedSecret('gone');
    assert.equal(stillDeleted.properties.recoveryId, deleted.properties.recoveryId);
    assert.equal(stillDeleted.properties.deletedOn?.getTime(), deleted.properties.deletedOn?.getTime());
    await (await secrets.beginRecoverDeletedSecret('gone', { intervalInMs: 50 })).pollUntilDone();
    assert.equal(
      (await secrets.getSecret('gone')).value,
      goneValue,
      'a deleted secret recovers after a restart',
    );

    const vaults = await api('GET', '/coffer/vaults', adminToken);
    assert.equal(vaults.status, 200, vaults.text);
    const listed = (vaults.json() as { value: Vault[] }).value;
    assert.deepEqual(
      listed.map((vault) => vault.name),
      ['dev', 'durable'],
    );
    assert.deepEqual(
      listed.find((vault) => vault.name === 'durable'),
      durable,
    );
    const otherVault = new SecretClient(
      durable.vaultUrl,
      credentialFor(facts, facts.clientId, facts.clientSecret),
    );
    assert.equal((await otherVault.getSecret('in-durable')).value, inDurable);

    assert.ok(
      await fetchToken(facts.authorityHost, facts.tenantId, survivor.clientId, survivor.clientSecret),
    );
  });

  it('kill -9 in the middle of a concurrent write load loses no acknowledged write', async (t) => {
    const LOOPS = 16;
    const KILL_AFTER = 300;
    const acknowledged: { name: string; version: string; value: string }[] = [];
    let inFlight = 0;
    let inFlightAtKill = -1;
    let stopping = false;
    let cutOff = 0;
    /** HTTP error answers (not cut connections): the load itself must not make the server fail. */
    const answeredErrors: string[] = [];

    const loop = async (index: number) => {
      // No retries: a write that fails is simply not acknowledged.
      const client = new SecretClient(
        facts.vaultUrl,
        credentialFor(facts, facts.clientId, facts.clientSecret),
        {
          retryOptions: { maxRetries: 0 },
        },
      );
      for (let i = 0; !stopping; i++) {
        const name = `load-${index}-${i % 3}`;
        const value = `${index}.${i}.${randomBytes(18).toString('base64url')}`;
        inFlight++;
        try {
          const stored = await client.setSecret(name, value);
          acknowledged.push({ name, version: stored.properties.version!, value });
          if (acknowledged.length >= KILL_AFTER && !stopping) {
            stopping = true;
            inFlightAtKill = inFlight - 1;
            current.child.kill('SIGKILL');
          }
        } catch (error) {
          const status = (error as { statusCode?: number }).statusCode;
          if (status !== undefined) answeredErrors.push(`${status}: ${(error as Error).message}`);
          cutOff++;
          return;
        } finally {
          inFlight--;
        }
      }
    };
    await Promise.all(Array.from({ length: LOOPS }, (_, index) => loop(index)));
    assert.equal(await current.stop(), null, 'killed, no exit code');
    assert.equal(current.child.signalCode, 'SIGKILL');
    assert.ok(inFlightAtKill > 0, `writes were in flight at the kill (${inFlightAtKill})`);
    assert.ok(acknowledged.length >= KILL_AFTER);
    assert.deepEqual(answeredErrors, [], 'no write was refused before the kill');
    t.diagnostic(
      `${acknowledged.length} writes acknowledged, ${inFlightAtKill} in flight at the kill, ${cutOff} cut off`,
    );

    const restarted = await restartDevServer(dataDir, port);
    current = restarted.process;
    assert.deepEqual(restarted.facts, facts);
    const reader = new SecretClient(facts.vaultUrl, credentialFor(facts, facts.clientId, facts.clientSecret));
    const lost: string[] = [];
    for (let start = 0; start < acknowledged.length; start += 16) {
      await Promise.all(
        acknowledged.slice(start, start + 16).map(async ({ name, version, value }) => {
          const read = await reader.getSecret(name, { version }).catch(() => undefined);
          if (read?.value !== value) lost.push(`${name}/${version}`);
        }),
      );
    }
    assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged writes were lost`);

    // The restart passed the start checks (quick_check, commit record: a kill -9 is no rollback);
    // the full check finds the SQLite file intact and every record authentic.
    const check = await cofferCli(dataDir, ['operator', 'check', '--output', 'json']);
    assert.equal(check.code, 0, check.stderr);
    const report = JSON.parse(check.stdout) as {
      ok: boolean;
      records: { checked: number; failed: string[] };
    };
    assert.equal(report.ok, true);
    assert.ok(report.records.checked >= acknowledged.length, `${report.records.checked} records checked`);
  });
});
