import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually, spoolRecords } from './helpers/audit.js';
import { fetchToken, rawRequest } from './helpers/http.js';
import { type ProductionServer, startProductionServer } from './helpers/production-server.js';
import { filesUnder, leaksInFiles } from './helpers/scan.js';
import { type DevServer, scratchDir, startDevServer } from './helpers/server-process.js';

// When the spool cannot be written (here: every write fails with ENOSPC, as on a full disk,
// through a spool segment that is /dev/full), audit.failClosed refuses requests with 503 and
// says why in the log; false serves them and says so. Either way the outage goes on record once
// the spool works again. And a sealed server's 503s are audited like any other answer.

/** A dev data dir whose first spool segment is /dev/full: the spool cannot be written. */
function fullDiskDataDir(label: string): { dataDir: string; segment: string } {
  const dataDir = scratchDir(label);
  const spool = path.join(dataDir, 'audit', 'spool');
  mkdirSync(spool, { recursive: true, mode: 0o700 });
  const segment = path.join(spool, 'spool-0000000000000001.jsonl');
  symlinkSync('/dev/full', segment);
  return { dataDir, segment };
}

describe('audit faults', () => {
  const servers: Array<DevServer | ProductionServer> = [];
  after(async () => {
    for (const server of servers) await server.stop();
  });

  it('failClosed (the default): 503 while the spool cannot be written, a clear log line, service again once it can', async () => {
    const { dataDir, segment } = fullDiskDataDir('audit-closed');
    const server = await startDevServer({ dataDir });
    servers.push(server);
    const { facts } = server;
    const refused = await rawRequest(`${facts.vaultUrl}/secrets/x?api-version=7.6`);
    assert.equal(refused.status, 503, refused.text);
    assert.ok(Number(refused.headers['retry-after']) > 0);
    assert.match(
      (refused.json() as { error: { message: string } }).error.message,
      /cannot write its audit log/,
    );
    const tokenRefused = await rawRequest(`${facts.authorityHost}/${facts.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
    });
    assert.equal(tokenRefused.status, 503, 'the token endpoint too');
    await server.process.waitForOutput(
      /"code":"ENOSPC".*"reason":"the disk under the audit spool is full".*refused with 503/,
    );

    unlinkSync(segment);
    await eventually(async () => (await rawRequest(`${facts.url}/readyz`)).status === 200, 'ready');
    await eventually(
      async () => (await rawRequest(`${facts.vaultUrl}/secrets/x?api-version=7.6`)).status === 401,
      'requests served again',
    );
    const token = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    const id = randomUUID();
    const ok = await rawRequest(`${facts.vaultUrl}/secrets?api-version=7.6`, {
      headers: { authorization: `Bearer ${token}`, 'x-ms-client-request-id': id },
    });
    assert.equal(ok.status, 200);
    const records = spoolRecords(dataDir);
    const outage = records.find((record) => record.operationName === 'AuditLogUnavailable');
    assert.ok(outage, 'the outage is on record');
    const change = outage.properties!['change'] as { code: string; refused: string };
    assert.equal(change.code, 'ENOSPC');
    assert.ok(Number(change.refused) >= 2, `refused requests counted (${change.refused})`);
    assert.equal(records.filter((record) => record.correlationId === id).length, 1);
    await server.process.waitForOutput(/audit spool can be written again/);
  });

  it('failClosed false: requests are served without records while the spool fails, and the log says so', async () => {
    const { dataDir, segment } = fullDiskDataDir('audit-open');
    const server = await startDevServer({ dataDir, env: { COFFER_AUDIT_FAIL_CLOSED: 'false' } });
    servers.push(server);
    const { facts } = server;
    const token = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    const served = await rawRequest(`${facts.vaultUrl}/secrets?api-version=7.6`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(served.status, 200);
    await server.process.waitForOutput(/"code":"ENOSPC".*served WITHOUT audit records/);
    unlinkSync(segment);
    await eventually(
      () => spoolRecords(dataDir).some((record) => record.operationName === 'AuditLogUnavailable'),
      'the outage record',
    );
    const outage = spoolRecords(dataDir).find((record) => record.operationName === 'AuditLogUnavailable')!;
    assert.ok(
      Number((outage.properties!['change'] as { lost: string }).lost) >= 2,
      'the token and list requests went unrecorded',
    );
  });

  it('a sealed server answers 503 and records it; unseal shares never reach the log', async () => {
    const server = await startProductionServer();
    servers.push(server);
    const init = (
      await server.api('POST', '/coffer/operator/init', { body: { shares: 1, threshold: 1 } })
    ).json() as {
      shares: string[];
      clientId: string;
      clientSecret: string;
      tenantId: string;
    };
    const id = randomUUID();
    const sealed = await rawRequest(`${server.vaultUrl('dev')}/secrets/x?api-version=7.6`, {
      headers: { 'x-ms-client-request-id': id },
    });
    assert.equal(sealed.status, 503);
    const tokenId = randomUUID();
    const token = await rawRequest(`${server.url}/${init.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-ms-client-request-id': tokenId },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: init.clientId,
        client_secret: init.clientSecret,
      }).toString(),
    });
    assert.equal(token.status, 503);
    assert.equal(
      (await server.api('POST', '/coffer/operator/unseal', { body: { share: init.shares[0] } })).status,
      200,
    );

    const records = spoolRecords(server.dataDir);
    const [get] = records.filter((record) => record.correlationId === id);
    assert.deepEqual(
      [get?.operationName, get?.properties!.httpStatusCode, get?.resultType],
      ['SecretGet', 503, 'Failure'],
    );
    const [auth] = records.filter((record) => record.correlationId === tokenId);
    assert.deepEqual(
      [auth?.operationName, auth?.properties!.httpStatusCode, auth?.identity?.claim['appid']],
      ['Authentication', 503, init.clientId],
    );
    assert.ok(records.some((record) => record.operationName === 'OperatorUnseal'));
    assert.ok(records.some((record) => record.category === 'AuditCheckpoint' && record.reason === 'start'));
    const auditFiles = filesUnder(path.join(server.dataDir, 'audit'));
    assert.deepEqual(leaksInFiles(auditFiles, init.shares[0]!), []);
    assert.deepEqual(leaksInFiles(auditFiles, init.clientSecret), []);
    assert.ok(
      readFileSync(path.join(server.dataDir, 'audit', 'checkpoint-public-key.pem'), 'utf8').includes(
        'PUBLIC KEY',
      ),
    );
  });
});
