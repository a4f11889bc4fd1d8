import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { eventually } from './helpers/audit.js';
import { bearerRequest, clientCredentialsRequest, fetchToken, rawRequest } from './helpers/http.js';
import { parsePrometheus } from './helpers/prometheus.js';
import { credentialFor, type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 13, point 7: alert rules over the audit stream, with small thresholds. Each rule is
// tripped by real requests, and shown not to trip just under its threshold or for activity
// that is not its concern. "Not tripped" is checked after a later alert of the same rule has
// been seen: the rules read records in order, so the earlier requests were judged by then.

const SCRAPE_TOKEN = `scrape-${randomBytes(24).toString('base64url')}`;
const MARKER_VALUE = `alert-marker-${randomBytes(18).toString('base64url')}`;

interface Principal {
  objectId: string;
  clientId: string;
  clientSecret: string;
}

interface AlertLine {
  alert: string;
  caller: string;
  vault?: string;
  level: number;
  [detail: string]: unknown;
}

describe('alerts over the audit stream', () => {
  let server: DevServer;
  let adminToken: string;
  const hidden: string[] = [SCRAPE_TOKEN, MARKER_VALUE];

  before(async () => {
    server = await startDevServer({
      env: {
        COFFER_METRICS_SCRAPE_TOKEN: SCRAPE_TOKEN,
        COFFER_TRUSTED_PROXIES: '127.0.0.1',
        COFFER_ALERTS_REFUSED_THRESHOLD: '5',
        COFFER_ALERTS_REFUSED_WINDOW_SECONDS: '60',
        COFFER_ALERTS_DISTINCT_SECRETS_THRESHOLD: '4',
        COFFER_ALERTS_DISTINCT_SECRETS_WINDOW_SECONDS: '60',
      },
    });
    const { facts } = server;
    // The dev server prints its own administrator's secret at start, by design: not checked here.
    adminToken = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    hidden.push(adminToken);
  });

  after(async () => {
    await server?.stop();
    hidden.forEach((value, index) =>
      assert.ok(!server.process.output.includes(value), `secret or token ${index} in the server log`),
    );
  });

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await bearerRequest(`${server.facts.url}${path}`, adminToken, method, body);
    assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${response.text}`);
    return response.text ? response.json() : undefined;
  };
  const principal = async (name: string, role?: string) => {
    const created = (await admin('POST', '/coffer/principals', { name })) as Principal;
    hidden.push(created.clientSecret);
    if (role)
      await admin('POST', '/coffer/roles/assignments', {
        role,
        principalId: created.objectId,
        scope: '/vaults/dev',
      });
    return created;
  };
  /** A token fetched from `address` (X-Forwarded-For through the trusted loopback proxy). */
  const tokenOf = async (who: Principal, address?: string) => {
    const request = clientCredentialsRequest(who.clientId, who.clientSecret);
    if (address) request.headers['x-forwarded-for'] = address;
    const response = await rawRequest(
      `${server.facts.authorityHost}/${server.facts.tenantId}/oauth2/v2.0/token`,
      request,
    );
    assert.equal(response.status, 200, response.text);
    const token = (response.json() as { access_token: string }).access_token;
    hidden.push(token);
    return token;
  };
  const vaultGet = (token: string, path: string, address?: string) =>
    rawRequest(`${server.facts.vaultUrl}${path}?api-version=7.6`, {
      headers: {
        authorization: `Bearer ${token}`,
        ...(address ? { 'x-forwarded-for': address } : {}),
      },
    });
  const alerts = (rule: string): AlertLine[] =>
    server.process.output
      .split('\n')
      .filter((line) => line.includes('"alert":'))
      .map((line) => JSON.parse(line) as AlertLine)
      .filter((line) => line.alert === rule);
  const waitForAlert = async (rule: string, match: (line: AlertLine) => boolean) => {
    await eventually(() => alerts(rule).some(match), `a ${rule} alert`);
    return alerts(rule).find(match)!;
  };
  const alertCount = async (rule: string) => {
    const response = await rawRequest(`${server.facts.url}/metrics`, {
      headers: { authorization: `Bearer ${SCRAPE_TOKEN}` },
    });
    return parsePrometheus(response.text).value('coffer_alerts_total', { rule }) ?? 0;
  };

  it('refusedBurst: 5 refusals within the window alert once for that caller; 4 do not', async () => {
    const clumsy = await principal('clumsy');
    const intruder = await principal('intruder');
    const clumsyToken = await tokenOf(clumsy);
    for (let index = 0; index < 4; index++)
      assert.equal((await vaultGet(clumsyToken, `/secrets/s${index}`)).status, 403);
    const intruderToken = await tokenOf(intruder);
    for (let index = 0; index < 7; index++) await vaultGet(intruderToken, `/secrets/s${index}`);
    const line = await waitForAlert('refusedBurst', (alert) => alert.caller === intruder.objectId);
    assert.equal(line.level, 40, 'a warn line');
    assert.equal(line.refused, 5);
    assert.equal(line.vault, 'dev');
    assert.equal(alerts('refusedBurst').filter((alert) => alert.caller === intruder.objectId).length, 1);
    assert.ok(!alerts('refusedBurst').some((alert) => alert.caller === clumsy.objectId));
    assert.equal(await alertCount('refusedBurst'), 1);
  });

  it('refusedBurst: the SDK challenge (a request without a token) is not a refusal', async () => {
    const before = await alertCount('refusedBurst');
    for (let index = 0; index < 6; index++)
      assert.equal((await rawRequest(`${server.facts.vaultUrl}/secrets/x?api-version=7.6`)).status, 401);
    // Five forged tokens from the same address do trip it, and only they (a key read, not a secret's).
    for (let index = 0; index < 5; index++) await vaultGet(`forged.${index}.token`, '/keys/x');
    const line = await waitForAlert('refusedBurst', (alert) => alert.caller === 'address:127.0.0.1');
    assert.deepEqual([line.refused, line.lastStatus, line.lastOperation], [5, 401, 'KeyGet']);
    assert.equal(await alertCount('refusedBurst'), before + 1);
  });

  it('distinctSecretReads: 4 distinct secrets read by one caller alert; 3 read many times do not', async () => {
    const names = ['alpha', 'bravo', 'charlie', 'delta'];
    const adminSecrets = server.secrets();
    for (const name of names) await adminSecrets.setSecret(name, MARKER_VALUE);
    const steady = await principal('steady', 'Key Vault Secrets User');
    const sweeper = await principal('sweeper', 'Key Vault Secrets User');
    const clientOf = (who: Principal) =>
      new SecretClient(server.facts.vaultUrl, credentialFor(server.facts, who.clientId, who.clientSecret));
    const steadyClient = clientOf(steady);
    for (let round = 0; round < 3; round++)
      for (const name of names.slice(0, 3)) await steadyClient.getSecret(name);
    const sweeperClient = clientOf(sweeper);
    for (const name of names) await sweeperClient.getSecret(name);
    const line = await waitForAlert('distinctSecretReads', (alert) => alert.caller === sweeper.objectId);
    assert.equal(line.distinctSecrets, 4);
    assert.ok(!alerts('distinctSecretReads').some((alert) => alert.caller === steady.objectId));
    for (const name of names) assert.ok(!JSON.stringify(line).includes(name), 'no secret name in the alert');
    assert.equal(await alertCount('distinctSecretReads'), 1);
  });

  it('newAddress: a principal seen from a second address alerts; its first address, and repeats, do not', async () => {
    const homebody = await principal('homebody', 'Key Vault Secrets User');
    const traveller = await principal('traveller', 'Key Vault Secrets User');
    const homeToken = await tokenOf(homebody, '203.0.113.20');
    for (let index = 0; index < 3; index++) await vaultGet(homeToken, '/secrets/alpha', '203.0.113.20');
    const travellerToken = await tokenOf(traveller, '203.0.113.10');
    assert.equal((await vaultGet(travellerToken, '/secrets/alpha', '203.0.113.10')).status, 200);
    assert.equal((await vaultGet(travellerToken, '/secrets/alpha', '198.51.100.7')).status, 200);
    const line = await waitForAlert('newAddress', (alert) => alert.caller === traveller.objectId);
    assert.equal(line.address, '198.51.100.7');
    assert.equal(line.operation, 'SecretGet');
    assert.ok(!alerts('newAddress').some((alert) => alert.caller === homebody.objectId));
    // Once seen, the new address is known: no second alert for it.
    await vaultGet(travellerToken, '/secrets/alpha', '198.51.100.7');
    await vaultGet(travellerToken, '/secrets/alpha', '192.0.2.99');
    await waitForAlert('newAddress', (alert) => alert.address === '192.0.2.99');
    assert.equal(alerts('newAddress').filter((alert) => alert.address === '198.51.100.7').length, 1);
  });

  it('destructive: a refused purge and a vault deletion alert; deleting a secret does not', async () => {
    const adminSecrets = server.secrets();
    await adminSecrets.setSecret('removable', MARKER_VALUE);
    await (await adminSecrets.beginDeleteSecret('removable')).pollUntilDone();
    const vandal = await principal('vandal');
    const purge = await rawRequest(`${server.facts.vaultUrl}/deletedsecrets/removable?api-version=7.6`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await tokenOf(vandal)}` },
    });
    assert.equal(purge.status, 403);
    const refused = await waitForAlert('destructive', (alert) => alert.caller === vandal.objectId);
    assert.deepEqual([refused.operation, refused.status, refused.result], ['SecretPurge', 403, 'Failure']);
    await admin('POST', '/coffer/vaults', { name: 'doomed' });
    await admin('DELETE', '/coffer/vaults/doomed');
    const deletion = await waitForAlert('destructive', (alert) => alert.operation === 'VaultDelete');
    assert.match(deletion.caller, /^[0-9a-f-]{36}$/, 'the administrator, by object id');
    assert.equal(deletion.vault, 'doomed');
    assert.ok(!alerts('destructive').some((alert) => alert.operation === 'SecretDelete'));
    assert.equal(await alertCount('destructive'), 2);
  });

  it('accessChange: network rules and the permission model alert; other settings do not', async () => {
    await admin('POST', '/coffer/vaults', { name: 'guarded' });
    await admin('PATCH', '/coffer/vaults/guarded', { softDeleteRetentionInDays: 30 });
    await admin('POST', '/coffer/vaults/guarded/networkAcls/ipRules/add', { value: '10.1.0.0/16' });
    const rule = await waitForAlert('accessChange', (alert) => alert.operation === 'VaultNetworkRuleUpdate');
    assert.equal(rule.vault, 'guarded');
    await admin('PATCH', '/coffer/vaults/guarded', { networkAcls: { defaultAction: 'Deny' } });
    const acls = await waitForAlert(
      'accessChange',
      (alert) => alert.operation === 'VaultNetworkRulesChanged',
    );
    assert.deepEqual([acls.defaultAction, acls.ipRules], ['Deny', '1']);
    await admin('PATCH', '/coffer/vaults/guarded', { enableRbacAuthorization: false });
    const model = await waitForAlert(
      'accessChange',
      (alert) => alert.operation === 'VaultPermissionModelChanged',
    );
    assert.deepEqual([model.from, model.to, model.vault], ['RBAC', 'AccessPolicies', 'guarded']);
    assert.equal(alerts('accessChange').length, 3, 'the retention change raised nothing');
    assert.equal(await alertCount('accessChange'), 3);
  });
});
