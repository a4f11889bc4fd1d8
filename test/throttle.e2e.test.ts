import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchToken, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 5, abuse resistance: bursts of failed token requests and refused authorizations are
// throttled with 429 and Retry-After, per client or principal, without locking others out.
describe('throttling of failed token requests and refused authorizations', () => {
  let server: DevServer;
  let adminToken: string;
  before(async () => {
    server = await startDevServer();
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    adminToken = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  const createPrincipal = async (name: string) => {
    const response = await rawRequest(`${server.facts.url}/coffer/principals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    assert.equal(response.status, 201);
    return response.json() as { clientId: string; clientSecret: string };
  };

  const tokenRequest = (clientId: string, clientSecret: string) =>
    rawRequest(`${server.facts.authorityHost}/${server.facts.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        scope: 'https://vault.localhost/.default',
      }).toString(),
    });

  it('throttles a client after 10 failed token requests, even with the right secret, and no one else', async () => {
    const target = await createPrincipal('guessed');
    for (let attempt = 1; attempt <= 11; attempt++) {
      const response = await tokenRequest(target.clientId, `wrong-${attempt}`);
      assert.equal(response.status, 401, `attempt ${attempt} is refused as a bad secret`);
    }
    const throttled = await tokenRequest(target.clientId, target.clientSecret);
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers['retry-after']) >= 1, 'Retry-After says when to come back');
    assert.equal((throttled.json() as { error: { code: string } }).error.code, 'Throttled');

    const bystander = await createPrincipal('bystander');
    assert.equal((await tokenRequest(bystander.clientId, bystander.clientSecret)).status, 200);
  });

  it('throttles a principal whose requests keep being refused, after 100 refusals', async () => {
    const nosy = await createPrincipal('nosy');
    const { authorityHost, tenantId } = server.facts;
    const token = await fetchToken(authorityHost, tenantId, nosy.clientId, nosy.clientSecret);
    const url = `${server.facts.vaultUrl}/secrets?api-version=7.6`;
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 101; attempt++) {
      statuses.push((await rawRequest(url, { headers: { authorization: `Bearer ${token}` } })).status);
    }
    assert.deepEqual(new Set(statuses), new Set([403]), 'every refusal before the limit is a plain 403');
    const throttled = await rawRequest(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers['retry-after']) >= 1);

    const allowed = await rawRequest(url, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(allowed.status, 200, 'the administrator is not throttled by someone else');
  });
});
