import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CertificateClient } from '@azure/keyvault-certificates';
import { SecretClient } from '@azure/keyvault-secrets';
import { OBJECT_ID_CLAIM, spoolRecords } from './helpers/audit.js';
import { bearerRequest, fetchToken, rawRequest } from './helpers/http.js';
import { parsePrometheus, type Scrape } from './helpers/prometheus.js';
import { credentialFor, type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 13, point 6: GET /metrics in Prometheus's format, behind a scrape token or
// Coffer/metrics/read, with Azure Monitor's Key Vault metric names; counts move with SDK calls;
// no secret value, object name, token or caller-made string becomes a label.

const SCRAPE_TOKEN = `scrape-${randomBytes(24).toString('base64url')}`;
const MARKER_VALUE = `metrics-marker-${randomBytes(18).toString('base64url')}`;
const MARKER_NAME = `marker-name-${randomBytes(6).toString('hex')}`;
const FORGED_VAULT = `nosuch${randomBytes(4).toString('hex')}`;
const FORGED_PATH = `no-route-${randomBytes(6).toString('hex')}`;

interface Principal {
  objectId: string;
  clientId: string;
  clientSecret: string;
}

describe('GET /metrics', () => {
  let server: DevServer;
  let adminToken: string;
  let secrets: SecretClient;
  const hidden: string[] = [SCRAPE_TOKEN, MARKER_VALUE, MARKER_NAME, FORGED_VAULT, FORGED_PATH];

  before(async () => {
    server = await startDevServer({ env: { COFFER_METRICS_SCRAPE_TOKEN: SCRAPE_TOKEN } });
    const { facts } = server;
    hidden.push(facts.clientSecret);
    adminToken = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    hidden.push(adminToken);
    secrets = server.secrets();
    // Before the first scrape: the expiry horizon is scanned at most once a minute.
    const certificates = new CertificateClient(facts.vaultUrl, server.credential);
    await (
      await certificates.beginCreateCertificate(
        'horizon',
        { issuerName: 'Self', subject: 'CN=horizon', validityInMonths: 2 },
        { intervalInMs: 20 },
      )
    ).pollUntilDone();
  });

  after(async () => {
    await server?.stop();
  });

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await bearerRequest(`${server.facts.url}${path}`, adminToken, method, body);
    assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${response.text}`);
    return response.json();
  };
  const scrapeWith = (authorization?: string) =>
    rawRequest(`${server.facts.url}/metrics`, {
      headers: authorization === undefined ? {} : { authorization },
    });
  async function scrape(authorization = `Bearer ${SCRAPE_TOKEN}`): Promise<Scrape> {
    const response = await scrapeWith(authorization);
    assert.equal(response.status, 200, response.text);
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    for (const value of hidden)
      assert.ok(!response.text.includes(value), 'a secret or caller string in the scrape');
    return parsePrometheus(response.text);
  }
  const secretGets = (scraped: Scrape, status: string) =>
    scraped.value('coffer_service_api_result_total', {
      vault: 'dev',
      activity_type: 'secret',
      activity_name: 'SecretGet',
      status_code: status,
    }) ?? 0;

  it('refuses a scrape without the token or the permission, and audits each as MetricsGet', async () => {
    const bare = await scrapeWith();
    assert.equal(bare.status, 401);
    assert.match(String(bare.headers['www-authenticate']), /^Bearer authorization=/);
    const wrong = await scrapeWith(`Bearer ${SCRAPE_TOKEN}x`);
    assert.equal(wrong.status, 401, 'a near miss of the scrape token is just an invalid token');
    const nobody = (await admin('POST', '/coffer/principals', { name: 'no-metrics' })) as Principal;
    const token = await fetchToken(
      server.facts.authorityHost,
      server.facts.tenantId,
      nobody.clientId,
      nobody.clientSecret,
    );
    const refused = await scrapeWith(`Bearer ${token}`);
    assert.equal(refused.status, 403, refused.text);
    assert.match(refused.text, /Coffer\/metrics\/read/);
    for (const response of [bare, wrong, refused]) assert.ok(!response.text.includes('coffer_'));
    const records = spoolRecords(server.dataDir).filter((record) => record.operationName === 'MetricsGet');
    assert.deepEqual(
      records.map((record) => record.properties?.httpStatusCode),
      [401, 401, 403],
    );
    assert.equal(records[2]!.identity?.claim[OBJECT_ID_CLAIM], nobody.objectId);
  });

  it('lets a principal with Coffer/metrics/read scrape, through the one authorization path', async () => {
    const scraper = (await admin('POST', '/coffer/principals', { name: 'prometheus' })) as Principal;
    const role = (await admin('POST', '/coffer/roles/definitions', {
      roleName: 'Metrics Reader',
      actions: ['Coffer/metrics/read'],
    })) as { id: string };
    await admin('POST', '/coffer/roles/assignments', {
      role: role.id,
      principalId: scraper.objectId,
      scope: '/',
    });
    const token = await fetchToken(
      server.facts.authorityHost,
      server.facts.tenantId,
      scraper.clientId,
      scraper.clientSecret,
    );
    hidden.push(scraper.clientSecret, token);
    const scraped = await scrape(`Bearer ${token}`);
    assert.equal(scraped.value('coffer_sealed'), 0);
    const record = spoolRecords(server.dataDir)
      .filter((entry) => entry.operationName === 'MetricsGet')
      .at(-1)!;
    assert.equal(record.properties?.httpStatusCode, 200);
    assert.equal(record.properties?.['appliedRoleName'], 'Metrics Reader');
    // CONTRACT section 8: the dev administrator's token scrapes (the administrator flag).
    await scrape(`Bearer ${adminToken}`);
  });

  it('counts SDK calls under Azure Monitor names: ServiceApiHit, ServiceApiResult, ServiceApiLatency, Availability', async () => {
    await secrets.setSecret(MARKER_NAME, MARKER_VALUE);
    const before = await scrape();
    for (let index = 0; index < 3; index++) await secrets.getSecret(MARKER_NAME);
    await secrets.getSecret('missing-one').catch(() => undefined);
    const after = await scrape();
    assert.equal(secretGets(after, '200') - secretGets(before, '200'), 3);
    assert.equal(secretGets(after, '404') - secretGets(before, '404'), 1);
    const hits = (scraped: Scrape) =>
      scraped.value('coffer_service_api_hit_total', {
        vault: 'dev',
        activity_type: 'secret',
        activity_name: 'SecretGet',
      }) ?? 0;
    assert.equal(hits(after) - hits(before), 4);
    const latencyLabels = { vault: 'dev', activity_name: 'SecretGet', status_code: '200' };
    const count = (scraped: Scrape) =>
      scraped.value('coffer_service_api_latency_seconds_count', latencyLabels) ?? 0;
    assert.equal(count(after) - count(before), 3);
    const inf = after.value('coffer_service_api_latency_seconds_bucket', { ...latencyLabels, le: '+Inf' });
    assert.equal(inf, count(after), 'the +Inf bucket holds every observation');
    assert.ok((after.value('coffer_service_api_latency_seconds_sum', latencyLabels) ?? 0) > 0);
    assert.equal(after.value('coffer_availability_percent', { vault: 'dev' }), 100);
    assert.equal(after.types.get('coffer_service_api_latency_seconds'), 'histogram');
  });

  it('exposes process, storage, audit, outbox, fault and certificate-horizon metrics', async () => {
    const scraped = await scrape();
    assert.ok((scraped.value('process_cpu_user_seconds_total') ?? 0) > 0, 'process metrics');
    assert.ok((scraped.value('process_resident_memory_bytes') ?? 0) > 0);
    assert.ok((scraped.value('coffer_storage_bytes') ?? 0) > 4096, 'the store has a size');
    for (const kind of ['integrityFailure', 'storageFull', 'purgeFailure'])
      assert.equal(scraped.value('coffer_storage_faults_total', { kind }), 0, kind);
    assert.equal(scraped.value('coffer_audit_spool_writable'), 1);
    assert.ok(scraped.value('coffer_audit_spool_depth') !== undefined);
    assert.ok(scraped.find('coffer_audit_sink_lag').length >= 2, 'the index and the file sink');
    assert.equal(scraped.value('coffer_event_outbox_depth'), 0);
    const horizon = scraped.value('coffer_certificate_expiry_horizon_seconds', { vault: 'dev' }) ?? 0;
    const day = 86_400;
    assert.ok(horizon > 55 * day && horizon < 63 * day, `two months ahead, got ${horizon / day} days`);
  });

  it('keeps labels bounded: unknown routes and vaults that do not exist become no label of their own', async () => {
    const before = await scrape();
    const unknown = (scraped: Scrape) =>
      scraped
        .find('coffer_service_api_hit_total', { activity_name: 'UnknownOperation' })
        .reduce((sum, sample) => sum + sample.value, 0);
    await rawRequest(`${server.facts.url}/${FORGED_PATH}/x?api-version=7.6`);
    const vaultUrl = server.facts.vaultUrl.replace('//dev.', `//${FORGED_VAULT}.`);
    const forged = await rawRequest(`${vaultUrl}/secrets/${MARKER_NAME}?api-version=7.6`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(forged.status, 404);
    const after = await scrape();
    assert.equal(unknown(after) - unknown(before), 1, 'one unknown route, one UnknownOperation');
    const vaults = new Set(
      after.samples.map((sample) => sample.labels['vault']).filter((v) => v !== undefined),
    );
    assert.deepEqual([...vaults].sort(), ['', 'dev']);
  });

  it("reports a throttled vault's saturation (Azure SaturationShoebox) and its 429s", async () => {
    await admin('POST', '/coffer/vaults', { name: 'metered', throttle: 4 });
    const client = new SecretClient(
      server.facts.vaultUrl.replace('//dev.', '//metered.'),
      credentialFor(server.facts, server.facts.clientId, server.facts.clientSecret),
      { retryOptions: { maxRetries: 0 } },
    );
    const statuses: number[] = [];
    for (let index = 0; index < 6; index++)
      await client
        .getSecret('none')
        .catch((error: { statusCode?: number }) => statuses.push(error.statusCode ?? 0));
    assert.ok(statuses.includes(429), `throttled: ${statuses.join(',')}`);
    const scraped = await scrape();
    assert.ok((scraped.value('coffer_saturation_shoebox_percent', { vault: 'metered' }) ?? 0) >= 50);
    assert.ok((scraped.value('coffer_throttled_requests_total', { vault: 'metered' }) ?? 0) >= 1);
    assert.ok(
      (scraped.value('coffer_service_api_result_total', { vault: 'metered', status_code: '429' }) ?? 0) >= 1,
    );
  });

  it('still answers the scrape token while sealed, and says so; principals wait for the unseal', async () => {
    const sealed = await bearerRequest(`${server.facts.url}/coffer/operator/seal`, adminToken, 'POST');
    assert.ok(sealed.status < 300, sealed.text);
    const scraped = await scrape();
    assert.equal(scraped.value('coffer_sealed'), 1);
    assert.equal(scraped.find('coffer_certificate_expiry_horizon_seconds').length, 0);
    assert.equal((await scrapeWith(`Bearer ${adminToken}`)).status, 503);
  });
});
