import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CloudEvent, type EventGridEvent, EventGridDeserializer, isSystemEvent } from '@azure/eventgrid';
import { CertificateClient } from '@azure/keyvault-certificates';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { vaultUrlOf } from './helpers/certificates.js';
import { cofferCli, cofferJson } from './helpers/coffer-cli.js';
import { bearerRequest, fetchToken } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';
import { Webhook } from './helpers/webhook.js';

// Issue 13 point 5: Key Vault's Event Grid events, delivered to HTTPS webhooks at least once,
// received and parsed here as an Azure user would, with @azure/eventgrid.

const DAY_MS = 24 * 3600 * 1000;
const VAULT = 'eventful';
const MARKER = 'marker-value-7c1e4a0b9d2f-never-in-an-event';
const MAX_ATTEMPTS = 4;
const poll = { intervalInMs: 20 };
const deserializer = new EventGridDeserializer();

type Subscription = { name: string; provisioningState: string; endpoint: string; schema: string };
type DeadLetter = {
  subscription: string;
  eventType: string;
  subject: string;
  attempts: number;
  reason: string;
};

describe('events (Event Grid schema and CloudEvents over HTTPS webhooks)', () => {
  let hook: Webhook;
  let server: DevServer;
  let secrets: SecretClient;
  let keys: KeyClient;
  let certificates: CertificateClient;
  const env = () => ({
    COFFER_EVENTS_CA_FILE: hook.caFile,
    // Private addresses are refused; the webhook's host is allowed by name.
    COFFER_EVENTS_ALLOW_PRIVATE_ENDPOINTS: 'false',
    COFFER_EVENTS_ALLOWED_HOSTS: 'localhost',
    COFFER_EVENTS_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    COFFER_EVENTS_RETRY_INITIAL_SECONDS: '0.2',
    COFFER_EVENTS_RETRY_MAX_SECONDS: '0.5',
    COFFER_EVENTS_DELIVERY_TIMEOUT_SECONDS: '2',
  });
  const start = async (dataDir?: string) => {
    server = await startDevServer({ dataDir, env: env() });
    const url = vaultUrlOf(server, VAULT);
    secrets = new SecretClient(url, server.credential);
    keys = new KeyClient(url, server.credential);
    certificates = new CertificateClient(url, server.credential);
  };
  const subscribe = (name: string, path: string, ...extra: string[]) =>
    cofferJson<Subscription>(server.dataDir, [
      'event',
      'subscription',
      'create',
      '--vault',
      VAULT,
      '--name',
      name,
      '--endpoint',
      hook.url(path),
      ...extra,
    ]);
  const shift = (days: number) =>
    cofferJson(server.dataDir, ['dev', 'time-shift', '--days', String(days), '--vault', VAULT]);
  /** Event Grid events delivered (answered 200) to a path, parsed by the SDK. */
  const eventsAt = async (path: string): Promise<EventGridEvent<unknown>[]> =>
    (
      await Promise.all(
        hook.delivered(path).map((request) => deserializer.deserializeEventGridEvents(request.body)),
      )
    ).flat();
  const eventOf = async (path: string, type: string, subject: string) =>
    (await eventsAt(path)).filter((event) => event.eventType === type && event.subject === subject);
  async function pollEvents(path: string, type: string, subject: string) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = await eventOf(path, type, subject);
      if (found.length > 0) return found;
      if (Date.now() > deadline) throw new Error(`no ${type} for ${subject} at ${path}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  before(async () => {
    hook = await Webhook.start();
    await start();
    await cofferJson(server.dataDir, ['vault', 'create', VAULT]);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
    // No event, handshake or dead letter ever carried the marker value, in any encoding.
    for (const request of hook.requests) {
      for (const form of [MARKER, Buffer.from(MARKER).toString('base64'), encodeURIComponent(MARKER)])
        assert.ok(!request.body.includes(form), `a request to ${request.path} carried the secret value`);
    }
    await hook.close();
  });

  it('activates a subscription only once the endpoint answers the validation handshake', async () => {
    const created = await subscribe('main', '/main');
    assert.equal(created.provisioningState, 'Active');
    const handshake = hook.requests.find(
      (request) => request.path === '/main' && request.headers['aeg-event-type'] === 'SubscriptionValidation',
    );
    assert.ok(handshake, 'the validation event came first');
    const [event] = await deserializer.deserializeEventGridEvents(handshake.body);
    assert.ok(isSystemEvent('Microsoft.EventGrid.SubscriptionValidationEvent', event!));

    hook.modes.set('/mute', 'ignore-handshake');
    const mute = await subscribe('mute', '/mute');
    assert.equal(mute.provisioningState, 'AwaitingValidation', 'no validationResponse: not active');
    await secrets.setSecret('before-validation', 'x');
    await pollEvents('/main', 'Microsoft.KeyVault.SecretNewVersionCreated', 'before-validation');
    assert.equal(hook.delivered('/mute').length, 0, 'nothing is delivered to an unvalidated endpoint');

    const listed = await cofferJson<Subscription[]>(server.dataDir, [
      'event',
      'subscription',
      'list',
      '--vault',
      VAULT,
    ]);
    assert.deepEqual(listed.map((item) => item.name).sort(), ['main', 'mute']);
    // A key in the endpoint's query string reaches the endpoint but is never shown again.
    const keyed = await subscribe('keyed', '/keyed?code=hook-key-5f2e');
    assert.equal(keyed.endpoint, hook.url('/keyed'));
    assert.ok(hook.requests.some((request) => request.path === '/keyed?code=hook-key-5f2e'));
    await cofferCli(server.dataDir, ['event', 'subscription', 'delete', '--vault', VAULT, '--name', 'keyed']);
    const table = await cofferCli(server.dataDir, ['event', 'subscription', 'list', '--vault', VAULT]);
    assert.match(table.stdout, /main\s+Active\s+EventGridSchema/);
  });

  it('refuses endpoints that are not HTTPS or resolve to a private address not allowed', async () => {
    const plain = await cofferCli(server.dataDir, [
      ...['event', 'subscription', 'create', '--vault', VAULT, '--name', 'plain'],
      ...['--endpoint', `http://localhost:${hook.port}/main`],
    ]);
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /https:\/\//);
    const metadata = await cofferCli(server.dataDir, [
      ...['event', 'subscription', 'create', '--vault', VAULT, '--name', 'metadata'],
      ...['--endpoint', 'https://169.254.169.254/latest'],
    ]);
    assert.match(metadata.stderr, /InvalidEndpoint.*not a public address/);
    const loopback = await cofferCli(server.dataDir, [
      ...['event', 'subscription', 'create', '--vault', VAULT, '--name', 'loopback'],
      ...['--endpoint', hook.url('/main', '127.0.0.1')],
    ]);
    assert.match(loopback.stderr, /127\.0\.0\.1.*not a public address/);
  });

  it("authorizes subscriptions with Event Grid's actions at the vault's scope, and audits them", async () => {
    const sp = await cofferJson<{ clientId: string; clientSecret: string; objectId: string }>(
      server.dataDir,
      [...['sp', 'create', '--name', 'event-watcher']],
    );
    const assign = (role: string) =>
      cofferJson(server.dataDir, [
        ...['role', 'assignment', 'create', '--role', role, '--assignee', sp.objectId],
        ...['--scope', `/vaults/${VAULT}`],
      ]);
    await assign('Key Vault Reader');
    const token = await fetchToken(
      server.facts.authorityHost,
      server.facts.tenantId,
      sp.clientId,
      sp.clientSecret,
    );
    const path = `${server.facts.url}/coffer/vaults/${VAULT}/eventSubscriptions`;
    const body = { endpoint: hook.url('/watcher') };
    assert.equal(
      (await bearerRequest(`${path}/watcher`, token, 'PUT', body)).status,
      403,
      'a reader may not subscribe',
    );
    assert.equal((await bearerRequest(path, token, 'GET')).status, 403);
    await assign('Key Vault Crypto Service Encryption User');
    const created = await bearerRequest(`${path}/watcher`, token, 'PUT', body);
    assert.equal(created.status, 201, created.text);
    assert.equal((created.json() as Subscription).provisioningState, 'Active');
    const everyVault = await bearerRequest(`${server.facts.url}/coffer/events/dead-letters`, token, 'GET');
    assert.equal(everyVault.status, 403, 'the whole dead-letter list needs the installation scope');
    const otherVault = await bearerRequest(
      `${server.facts.url}/coffer/vaults/dev/eventSubscriptions/x`,
      token,
      'PUT',
      body,
    );
    assert.equal(otherVault.status, 403, 'not on another vault');
    assert.equal((await bearerRequest(`${path}/watcher`, token, 'DELETE')).status, 204);
    const records = await cofferJson<Array<{ properties: { httpStatusCode: number } }>>(server.dataDir, [
      ...['audit', 'query', '--vault', VAULT, '--operation', 'EventSubscriptionCreate'],
    ]);
    const statuses = records.map((record) => record.properties.httpStatusCode);
    assert.ok(statuses.includes(403) && statuses.includes(201), `audited: ${statuses.join(', ')}`);
  });

  it("delivers Key Vault's events with Azure's data shapes, parsed by @azure/eventgrid", async () => {
    const expiresOn = new Date(Date.now() + 90 * DAY_MS);
    const secret = await secrets.setSecret('payroll', MARKER, { expiresOn });
    const [created] = await pollEvents('/main', 'Microsoft.KeyVault.SecretNewVersionCreated', 'payroll');
    assert.ok(isSystemEvent('Microsoft.KeyVault.SecretNewVersionCreated', created!));
    assert.match(created!.topic!, new RegExp(`/providers/Microsoft.KeyVault/vaults/${VAULT}$`));
    assert.deepEqual(created!.data, {
      Id: `${vaultUrlOf(server, VAULT)}/secrets/payroll/${secret.properties.version}`,
      VaultName: VAULT,
      ObjectType: 'Secret',
      ObjectName: 'payroll',
      Version: secret.properties.version,
      NBF: null,
      EXP: Math.floor(expiresOn.getTime() / 1000),
    });

    const key = await keys.createEcKey('signer', { curve: 'P-256' });
    const [keyEvent] = await pollEvents('/main', 'Microsoft.KeyVault.KeyNewVersionCreated', 'signer');
    assert.equal((keyEvent!.data as { Version: string }).Version, key.properties.version);

    const poller = await certificates.beginCreateCertificate(
      'site',
      { issuerName: 'Self', subject: 'CN=site.example', validityInMonths: 12 },
      poll,
    );
    const certificate = await poller.pollUntilDone();
    const [certEvent] = await pollEvents('/main', 'Microsoft.KeyVault.CertificateNewVersionCreated', 'site');
    assert.equal((certEvent!.data as { Version: string }).Version, certificate.properties.version);
    assert.equal(
      (certEvent!.data as { EXP: number }).EXP,
      Math.floor(certificate.properties.expiresOn!.getTime() / 1000),
    );

    await (await secrets.beginDeleteSecret('payroll', poll)).pollUntilDone();
    await pollEvents('/main', 'Coffer.KeyVault.SecretDeleted', 'payroll');
    await secrets.purgeDeletedSecret('payroll');
    await pollEvents('/main', 'Coffer.KeyVault.SecretPurged', 'payroll');
    // The purge also trips the destructive-action alert rule, raised to the vault's subscribers.
    const [alert] = await pollEvents('/main', 'Coffer.Security.AlertRaised', 'destructive');
    const alertData = alert!.data as { rule: string; vault: string; caller: string };
    assert.equal(alertData.rule, 'destructive');
    assert.equal(alertData.vault, VAULT);
    assert.ok(alertData.caller, 'the alert names who did it');
    assert.ok(!JSON.stringify(alertData).includes('payroll'), 'an alert carries no object name');

    await cofferJson(server.dataDir, ['vault', 'update', VAULT, '--enable-rbac-authorization', 'false']);
    const [policy] = await pollEvents('/main', 'Microsoft.KeyVault.VaultAccessPolicyChanged', VAULT);
    assert.ok(isSystemEvent('Microsoft.KeyVault.VaultAccessPolicyChanged', policy!));
    await cofferJson(server.dataDir, ['vault', 'update', VAULT, '--enable-rbac-authorization', 'true']);
  });

  it('sends CloudEvents 1.0 after the CloudEvents handshake, filtered by event type', async () => {
    const created = await subscribe(
      'cloud',
      '/cloud',
      '--schema',
      'CloudEventSchemaV1_0',
      '--event-types',
      'Microsoft.KeyVault.KeyNewVersionCreated',
    );
    assert.equal(created.provisioningState, 'Active');
    const options = hook.requests.find(
      (request) => request.path === '/cloud' && request.method === 'OPTIONS',
    );
    assert.equal(options?.headers['webhook-request-origin'], 'eventgrid.azure.net');

    await secrets.setSecret('not-for-cloud', 'x');
    await keys.createRsaKey('cloud-key');
    const cloudEvents = await hook.until(() => {
      const requests = hook.delivered('/cloud');
      return requests.length > 0 && requests;
    }, 'a CloudEvent');
    assert.match(String(cloudEvents[0]!.headers['content-type']), /application\/cloudevents-batch\+json/);
    const parsed: CloudEvent<unknown>[] = await deserializer.deserializeCloudEvents(cloudEvents[0]!.body);
    assert.equal(parsed[0]!.type, 'Microsoft.KeyVault.KeyNewVersionCreated');
    assert.equal(parsed[0]!.subject, 'cloud-key');
    assert.ok(isSystemEvent('Microsoft.KeyVault.KeyNewVersionCreated', parsed[0]!));
    // The secret's event (written first) was filtered out: the key's is the only one here.
    await secrets.setSecret('sentinel-cloud', 'x');
    await pollEvents('/main', 'Microsoft.KeyVault.SecretNewVersionCreated', 'sentinel-cloud');
    assert.ok(hook.delivered('/cloud').every((request) => !request.body.includes('not-for-cloud')));
  });

  it('retries through an outage (500, then no answer) and delivers once the endpoint is back', async () => {
    hook.modes.set('/flaky', 'ok');
    await subscribe('flaky', '/flaky');
    hook.modes.set('/flaky', 'fail');
    await secrets.setSecret('during-outage', 'x');
    await hook.until(
      () => hook.requests.filter((r) => r.path === '/flaky' && r.answered === 'fail').length >= 2,
      'two failed tries',
    );
    hook.modes.set('/flaky', 'hang');
    await hook.until(() => hook.hanging > 0, 'a try that hangs');
    hook.modes.set('/flaky', 'ok');
    const [event] = await pollEvents('/flaky', 'Microsoft.KeyVault.SecretNewVersionCreated', 'during-outage');
    assert.ok(event);
    const delivery = hook.delivered('/flaky').find((request) => request.body.includes('during-outage'))!;
    assert.ok(Number(delivery.headers['aeg-delivery-count']) >= 4, 'counted as a retry');
  });

  it('dead-letters after the configured tries, without holding up another subscriber', async () => {
    hook.modes.set('/dead', 'ok');
    await subscribe('dead', '/dead');
    hook.modes.set('/dead', 'hang');
    await secrets.setSecret('undeliverable', 'x');
    await hook.until(() => hook.hanging > 0, 'a try that hangs');
    // The healthy subscriber gets the next event while the other's request is still hanging.
    await secrets.setSecret('meanwhile', 'x');
    await pollEvents('/main', 'Microsoft.KeyVault.SecretNewVersionCreated', 'meanwhile');
    const arrival = hook.delivered('/main').find((request) => request.body.includes('"meanwhile"'))!;
    assert.ok(arrival.hangingAtArrival > 0, 'delivered while the hanging endpoint held its request');
    hook.modes.set('/dead', 'fail');
    const deadline = Date.now() + 20_000;
    let letters: DeadLetter[] = [];
    while (Date.now() < deadline) {
      letters = await cofferJson<DeadLetter[]>(server.dataDir, [
        'event',
        'dead-letter',
        'list',
        '--vault',
        VAULT,
      ]);
      if (letters.some((letter) => letter.subject === 'undeliverable')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const letter = letters.find((item) => item.subject === 'undeliverable' && item.subscription === 'dead');
    assert.ok(letter, 'the event is on the dead-letter list');
    assert.equal(letter.eventType, 'Microsoft.KeyVault.SecretNewVersionCreated');
    assert.equal(letter.attempts, MAX_ATTEMPTS);
    const tries = hook.requests.filter(
      (request) => request.path === '/dead' && request.body.includes('undeliverable'),
    );
    assert.equal(tries.length, MAX_ATTEMPTS, 'no try after the last');
    const table = await cofferCli(server.dataDir, ['event', 'dead-letter', 'list']);
    assert.match(table.stdout, /undeliverable/);
  });

  it('sends near-expiry and expiry once per version, across a restart, from the durable outbox', async () => {
    const expiresOn = new Date(Date.now() + 10 * DAY_MS);
    await secrets.setSecret('expiring', 'x', { expiresOn });
    // A Notify action 40 days before expiry raises KeyNearExpiry earlier than the default 30 days.
    await keys.createEcKey('noticed', { curve: 'P-256', expiresOn: new Date(Date.now() + 60 * DAY_MS) });
    await keys.updateKeyRotationPolicy('noticed', {
      lifetimeActions: [{ action: 'Notify', timeBeforeExpiry: 'P40D' }],
    });
    await (
      await certificates.beginCreateCertificate(
        'mailed',
        {
          issuerName: 'Self',
          subject: 'CN=mailed.example',
          validityInMonths: 12,
          lifetimeActions: [{ action: 'EmailContacts', lifetimePercentage: 50 }],
        },
        poll,
      )
    ).pollUntilDone();

    await shift(1);
    await pollEvents('/main', 'Microsoft.KeyVault.SecretNearExpiry', 'expiring');
    assert.equal((await eventOf('/main', 'Microsoft.KeyVault.KeyNearExpiry', 'noticed')).length, 0);
    await shift(21);
    const [keyNotice] = await pollEvents('/main', 'Microsoft.KeyVault.KeyNearExpiry', 'noticed');
    assert.ok(isSystemEvent('Microsoft.KeyVault.KeyNearExpiry', keyNotice!));
    await pollEvents('/main', 'Microsoft.KeyVault.SecretExpired', 'expiring');
    await shift(200);
    await pollEvents('/main', 'Microsoft.KeyVault.CertificateNearExpiry', 'mailed');

    // An outage across a restart: the event waits in the outbox and arrives after it.
    hook.modes.set('/flaky', 'fail');
    await secrets.setSecret('across-restart', 'x');
    await hook.until(
      () =>
        hook.requests.some(
          (r) => r.path === '/flaky' && r.answered === 'fail' && r.body.includes('across-restart'),
        ),
      'a failed try',
    );
    assert.equal(await server.stop(), 0);
    hook.modes.set('/flaky', 'ok');
    await start(server.dataDir);
    await pollEvents('/flaky', 'Microsoft.KeyVault.SecretNewVersionCreated', 'across-restart');

    // Time shifts reset at restart: shifting again finds the same versions due, and sends nothing twice.
    await shift(222);
    await secrets.setSecret('sentinel', 'x');
    await pollEvents('/main', 'Microsoft.KeyVault.SecretNewVersionCreated', 'sentinel');
    for (const [type, subject] of [
      ['Microsoft.KeyVault.SecretNearExpiry', 'expiring'],
      ['Microsoft.KeyVault.SecretExpired', 'expiring'],
      ['Microsoft.KeyVault.KeyNearExpiry', 'noticed'],
      ['Microsoft.KeyVault.CertificateNearExpiry', 'mailed'],
    ] as const)
      assert.equal((await eventOf('/main', type, subject)).length, 1, `${type} for ${subject} once`);
  });
});
