import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CertificateClient } from '@azure/keyvault-certificates';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import {
  type Exchange,
  eventually,
  httpCollector,
  OBJECT_ID_CLAIM,
  type Record,
  RequestCapture,
  readRecords,
  spoolRecords,
  syslogRecord,
  syslogTcpReceiver,
  syslogUdpReceiver,
} from './helpers/audit.js';
import { clientCredentialsRequest, fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { filesUnder, leakedForms } from './helpers/scan.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 13, the audit log: every request of every kind leaves exactly one Azure AuditEvent
// record with the right operationName, caller and result, failures included; every sink gets
// every record; no secret value, client secret, password or token reaches any of them.

const MARKER = `audit-marker-${randomBytes(24).toString('base64url')}`;
const PASSWORD = `pw-${randomBytes(18).toString('base64url')}`;

describe('audit log (dev server, every sink)', () => {
  let server: DevServer;
  const capture = new RequestCapture();
  const tcp = syslogTcpReceiver();
  const collector = httpCollector();
  let udp: Awaited<ReturnType<typeof syslogUdpReceiver>>;
  let secrets: SecretClient;
  let adminToken: string;
  let reader: { objectId: string; clientId: string; clientSecret: string };
  /** Credentials and tokens that must never reach a record. */
  const secretsToHide: string[] = [MARKER, PASSWORD];

  before(async () => {
    await tcp.start();
    await collector.start();
    udp = await syslogUdpReceiver();
    const sinks = [
      { type: 'file' },
      { type: 'stdout' },
      { type: 'syslog', transport: 'tcp', port: tcp.port() },
      { type: 'syslog', transport: 'udp', port: udp.port },
      { type: 'http', url: collector.url(), batchSize: 7 },
    ];
    server = await startDevServer({ env: { COFFER_AUDIT_SINKS: JSON.stringify(sinks) } });
    const { facts } = server;
    secretsToHide.push(facts.clientSecret);
    adminToken = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    secretsToHide.push(adminToken);
    secrets = new SecretClient(facts.vaultUrl, server.credential, capture.options);
    // The first call of a client answers the SDK's 401 challenge; later calls carry a token.
    await secrets.getSecret('warm-up').catch(() => undefined);
    const created = await admin('POST', '/coffer/principals', { name: 'audit-reader' });
    reader = created.json() as typeof reader;
    secretsToHide.push(reader.clientSecret);
  });

  after(async () => {
    await server?.stop();
    await tcp.stop();
    await collector.stop();
    udp?.stop();
  });

  const admin = (method: string, adminPath: string, body?: unknown, requestId = randomUUID()) =>
    rawRequest(`${server.facts.url}${adminPath}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        'x-ms-client-request-id': requestId,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  /** The one record each exchange left in the spool, checked against [operation, status]. */
  function expectRecords(
    exchanges: Exchange[],
    expected: Array<[string, number]>,
    caller = server.facts.clientId,
  ) {
    const spool = spoolRecords(server.dataDir);
    assert.deepEqual(
      exchanges.map((exchange) => [exchange.method, exchange.status]),
      exchanges.map((exchange, index) => [exchange.method, expected[index]?.[1]]),
      `statuses of ${exchanges.map((exchange) => `${exchange.method} ${exchange.url}`).join(', ')}`,
    );
    return exchanges.map((exchange, index) => {
      const records = spool.filter((record) => record.correlationId === exchange.id);
      assert.equal(records.length, 1, `exactly one record for ${exchange.method} ${exchange.url}`);
      const record = records[0]!;
      assert.equal(record.operationName, expected[index]![0], exchange.url);
      assert.equal(record.properties?.httpStatusCode, exchange.status);
      assert.equal(record.resultType, exchange.status < 400 ? 'Success' : 'Failure');
      if (caller) assert.equal(record.identity?.claim['appid'], caller, `caller of ${exchange.url}`);
      return record;
    });
  }

  /** A raw request with a known request id; its record found by that id. */
  async function rawWithRecord(url: string, options: Parameters<typeof rawRequest>[1] = {}) {
    const id = randomUUID();
    const response = await rawRequest(url, {
      ...options,
      headers: { ...options.headers, 'x-ms-client-request-id': id },
    });
    const records = spoolRecords(server.dataDir).filter((record) => record.correlationId === id);
    assert.equal(records.length, 1, `exactly one record for ${url}: ${response.status}`);
    return { response, record: records[0]! };
  }

  it('records secret operations, successes and failures, with the role that granted', async () => {
    const set = await capture.during(() =>
      secrets.setSecret('audited', MARKER, { tags: { owner: 'payroll' } }),
    );
    const [record] = expectRecords(set, [['SecretSet', 200]]);
    assert.equal(record!.properties!.id, `${server.facts.vaultUrl}/secrets/audited`);
    assert.equal(record!.properties!['isRbacAuthorized'], true);
    assert.equal(record!.properties!['appliedRoleName'], 'Key Vault Administrator');
    assert.equal(record!.resourceId, '/vaults/dev');
    assert.equal(
      record!.identity!.claim['http://schemas.microsoft.com/identity/claims/tenantid'],
      server.facts.tenantId,
    );

    expectRecords(await capture.during(() => secrets.getSecret('audited')), [['SecretGet', 200]]);
    expectRecords(await capture.during(() => secrets.getSecret('never-set')), [['SecretGet', 404]]);
    expectRecords(
      await capture.during(() => secrets.updateSecretProperties('audited', '', { enabled: true })),
      [['SecretUpdate', 200]],
    );
    expectRecords(
      await capture.during(async () => {
        for await (const page of secrets.listPropertiesOfSecrets().byPage({ maxPageSize: 25 })) return page;
      }),
      [['SecretList', 200]],
    );
    expectRecords(await capture.during(() => secrets.backupSecret('audited')), [['SecretBackup', 200]]);
    const deletion = await capture.during(async () => {
      const poller = await secrets.beginDeleteSecret('audited', { intervalInMs: 20 });
      await poller.pollUntilDone();
    });
    expectRecords(deletion, [
      ['SecretDelete', 200],
      ...deletion.slice(1).map((e) => ['SecretGetDeleted', e.status] as [string, number]),
    ]);
    expectRecords(await capture.during(() => secrets.purgeDeletedSecret('audited')), [['SecretPurge', 204]]);
  });

  it('records key and certificate operations', async () => {
    const keys = new KeyClient(server.facts.vaultUrl, server.credential, capture.options);
    await keys.getKey('warm-up').catch(() => undefined);
    const created = await capture.during(() => keys.createRsaKey('audited-key', { keySize: 2048 }));
    expectRecords(created, [['KeyCreate', 200]]);
    const key = await keys.getKey('audited-key');
    const crypto = new CryptographyClient(key, server.credential, capture.options);
    const digest = Buffer.alloc(32, 7);
    await crypto.sign('RS256', digest);
    expectRecords(await capture.during(() => crypto.sign('RS256', digest)), [['KeySign', 200]]);

    const certificates = new CertificateClient(server.facts.vaultUrl, server.credential, capture.options);
    await certificates.getCertificate('warm-up').catch(() => undefined);
    const issued = await capture.during(async () => {
      const poller = await certificates.beginCreateCertificate(
        'audited-cert',
        { issuerName: 'Self', subject: 'CN=audited' },
        { intervalInMs: 50 },
      );
      await poller.pollUntilDone();
    });
    const [first, ...polls] = issued;
    expectRecords([first!], [['CertificateCreate', 202]]);
    assert.ok(polls.length > 0);
    for (const poll of polls) {
      const name = poll.url.includes('/pending') ? 'CertificatePendingGet' : 'CertificateGet';
      expectRecords([poll], [[name, poll.status]]);
    }
  });

  it('records refusals: no token (401), no role (403), firewall (403), bad input (400), unknown path (404)', async () => {
    const { vaultUrl } = server.facts;
    const noToken = await rawWithRecord(`${vaultUrl}/secrets/anything?api-version=7.6`);
    assert.equal(noToken.response.status, 401);
    assert.deepEqual([noToken.record.operationName, noToken.record.identity?.claim], ['SecretGet', {}]);
    assert.equal(noToken.record.properties!.id, `${vaultUrl}/secrets/anything`);

    const readerToken = await fetchToken(
      server.facts.authorityHost,
      server.facts.tenantId,
      reader.clientId,
      reader.clientSecret,
    );
    secretsToHide.push(readerToken);
    const refused = await rawWithRecord(`${vaultUrl}/secrets/anything?api-version=7.6`, {
      headers: { authorization: `Bearer ${readerToken}` },
    });
    assert.equal(refused.response.status, 403);
    assert.equal(refused.record.identity?.claim['appid'], reader.clientId);
    assert.equal(refused.record.identity?.claim[OBJECT_ID_CLAIM], reader.objectId);
    assert.equal(refused.record.properties!['isRbacAuthorized'], false);

    const badVersion = await rawWithRecord(`${vaultUrl}/secrets/anything?api-version=1.0`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.deepEqual([badVersion.response.status, badVersion.record.operationName], [400, 'SecretGet']);
    const badBody = await rawWithRecord(`${vaultUrl}/secrets/anything?api-version=7.6`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 5 }),
    });
    assert.deepEqual([badBody.response.status, badBody.record.operationName], [400, 'SecretSet']);
    const badUrl = await rawWithRecord(`${vaultUrl}/secrets/%E0%A4%A?api-version=7.6`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.deepEqual([badUrl.response.status, badUrl.record.operationName], [400, 'UnknownOperation']);
    const unknown = await rawWithRecord(`${vaultUrl}/nothing-here`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.deepEqual([unknown.response.status, unknown.record.operationName], [404, 'UnknownOperation']);

    assert.equal((await admin('POST', '/coffer/vaults', { name: 'walled' })).status, 201);
    await admin('POST', '/coffer/vaults/walled/networkAcls/ipRules/add', { value: '127.0.0.1/32' });
    await admin('PATCH', '/coffer/vaults/walled', { networkAcls: { defaultAction: 'Deny' } });
    const agent = new https.Agent({ localAddress: '127.0.0.2', keepAlive: false });
    const walled = new SecretClient(server.facts.vaultUrl.replace('dev.', 'walled.'), server.credential, {
      ...capture.options,
      agent,
    });
    await walled.getSecret('warm-up').catch(() => undefined);
    const [firewalled] = expectRecords(await capture.during(() => walled.getSecret('inside')), [
      ['SecretGet', 403],
    ]);
    agent.destroy();
    assert.equal(firewalled!.properties!['isAddressAuthorized'], false);
    assert.equal(firewalled!.resourceId, '/vaults/walled');
    assert.equal(firewalled!.properties!['isRbacAuthorized'], undefined, 'refused before authorization');
  });

  it('records the token endpoint: success with the principal, failure with the client id asked for, throttling', async () => {
    const { authorityHost, tenantId } = server.facts;
    const token = (clientId: string, clientSecret: string) =>
      rawWithRecord(
        `${authorityHost}/${tenantId}/oauth2/v2.0/token`,
        clientCredentialsRequest(clientId, clientSecret),
      );
    const ok = await token(reader.clientId, reader.clientSecret);
    secretsToHide.push((ok.response.json() as { access_token: string }).access_token);
    assert.deepEqual(
      [ok.response.status, ok.record.operationName, ok.record.resultType],
      [200, 'Authentication', 'Success'],
    );
    assert.equal(ok.record.identity?.claim[OBJECT_ID_CLAIM], reader.objectId);
    assert.equal(ok.record.identity?.claim['appid'], reader.clientId);

    const victim = (
      await admin('POST', '/coffer/principals', { name: 'audit-victim' })
    ).json() as typeof reader;
    secretsToHide.push(victim.clientSecret);
    let last: { response: RawResponse; record: Record } | undefined;
    for (let attempt = 0; attempt < 12; attempt++) last = await token(victim.clientId, `wrong-${attempt}`);
    assert.equal(last!.response.status, 429);
    assert.deepEqual(
      [last!.record.operationName, last!.record.properties!.httpStatusCode],
      ['Authentication', 429],
    );
    const first = spoolRecords(server.dataDir).find(
      (record) =>
        record.operationName === 'Authentication' && record.identity?.claim['appid'] === victim.clientId,
    );
    assert.deepEqual([first?.properties!.httpStatusCode, first?.resultType], [401, 'Failure']);
    assert.equal(first?.identity?.claim[OBJECT_ID_CLAIM], undefined, 'no principal was authenticated');

    const user = await admin('POST', '/coffer/users', {
      userPrincipalName: 'auditor@coffer.test',
      password: PASSWORD,
    });
    assert.equal(user.status, 201, user.text);
    const signIn = await rawWithRecord(`${authorityHost}/${tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: 'auditor@coffer.test',
        password: PASSWORD,
        scope: 'https://vault.localhost/.default',
      }).toString(),
    });
    secretsToHide.push((signIn.response.json() as { access_token: string }).access_token);
    assert.equal(
      signIn.record.identity?.claim['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn'],
      'auditor@coffer.test',
    );
  });

  it('records the administration API, and the permission model switch as a record of its own', async () => {
    const requestId = randomUUID();
    const created = await admin('POST', '/coffer/vaults', { name: 'audited-vault' }, requestId);
    assert.equal(created.status, 201);
    const [put] = spoolRecords(server.dataDir).filter((record) => record.correlationId === requestId);
    assert.deepEqual(
      [put?.operationName, put?.resourceId, put?.properties!['isInstallationAdministrator']],
      ['VaultPut', '/', true],
    );
    const switchId = randomUUID();
    const patched = await admin(
      'PATCH',
      '/coffer/vaults/audited-vault',
      { enableRbacAuthorization: false },
      switchId,
    );
    assert.equal(patched.status, 200);
    const patch = spoolRecords(server.dataDir).filter((record) => record.correlationId === switchId);
    assert.deepEqual(
      patch.map((record) => record.operationName),
      ['VaultPatch'],
    );
    const change = spoolRecords(server.dataDir).filter(
      (record) => record.operationName === 'VaultPermissionModelChanged',
    );
    assert.equal(change.length, 1);
    assert.equal(change[0]!.resourceId, '/vaults/audited-vault');
    assert.deepEqual(change[0]!.properties!['change'], { from: 'RBAC', to: 'AccessPolicies' });
    assert.ok(change[0]!.sequence < patch[0]!.sequence, 'on record before the request is answered');
  });

  it('delivers every record to every sink, and none of them holds a secret, password or token', async () => {
    const head = Math.max(...spoolRecords(server.dataDir).map((record) => record.sequence));
    const everything = Array.from({ length: head }, (_, index) => index + 1);
    const sequencesIn = (records: Record[]) =>
      [...new Set(records.map((record) => record.sequence))].sort((a, b) => a - b);
    await eventually(() => sequencesIn(collector.records()).length >= head, 'the HTTP collector');
    await eventually(() => sequencesIn(tcp.messages.map(syslogRecord)).length >= head, 'the syslog receiver');
    await eventually(
      () => readRecords(path.join(server.dataDir, 'audit'), /^audit-/).length >= head,
      'the file sink',
    );
    assert.deepEqual(sequencesIn(collector.records()).slice(0, head), everything);
    assert.deepEqual(sequencesIn(tcp.messages.map(syslogRecord)).slice(0, head), everything);
    assert.deepEqual(
      sequencesIn(readRecords(path.join(server.dataDir, 'audit'), /^audit-/)).slice(0, head),
      everything,
    );
    const stdoutRecords = server.process.output
      .split('\n')
      .filter((line) => line.startsWith('{"') && line.includes('"previousHash"'))
      .map((line) => JSON.parse(line) as Record);
    assert.deepEqual(sequencesIn(stdoutRecords).slice(0, head), everything);
    assert.ok(udp.messages.length > 0);
    for (const message of udp.messages) syslogRecord(message);

    const places: Array<[string, Buffer]> = [
      ...filesUnder(path.join(server.dataDir, 'audit')).map(
        (file) => [file, readFileSync(file)] as [string, Buffer],
      ),
      ['syslog tcp', Buffer.from(tcp.messages.join('\n'))],
      ['syslog udp', Buffer.from(udp.messages.join('\n'))],
      ['http collector', Buffer.from(collector.bodies.join('\n'))],
      // The dev banner prints the administrator's secret on purpose (CONTRACT section 2); after it, nothing may.
      [
        'server output (stdout sink, logs)',
        Buffer.from(server.process.output.split('NODE_EXTRA_CA_CERTS=')[1] ?? ''),
      ],
    ];
    const leaks = places.flatMap(([place, bytes]) =>
      secretsToHide.flatMap((value, index) =>
        leakedForms(bytes, value).map((form) => `${place}: secret #${index} as ${form}`),
      ),
    );
    assert.deepEqual(leaks, []);
  });
});
