import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
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

  /** A token request from `from`, a loopback address of its own, so each case has its own per-address budget. */
  const tokenForm = (form: Record<string, string>, from = '127.0.0.1') =>
    rawRequest(`${server.facts.authorityHost}/${server.facts.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ scope: 'https://vault.localhost/.default', ...form }).toString(),
      localAddress: from,
    });
  const tokenRequest = (clientId: string, clientSecret: string, from?: string) =>
    tokenForm({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }, from);
  const passwordGrant = (username: string, password: string, from: string) =>
    tokenForm({ grant_type: 'password', username, password, client_id: randomUUID() }, from);
  const createUser = async (userPrincipalName: string, password: string) => {
    const response = await rawRequest(`${server.facts.url}/coffer/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userPrincipalName, password }),
    });
    assert.equal(response.status, 201, response.text);
  };
  const errorOf = (response: { text: string }) =>
    (JSON.parse(response.text) as { error: string | { code: string } }).error;

  it('throttles a client after 10 failed token requests, even with the right secret, and no one else', async () => {
    const target = await createPrincipal('guessed');
    // The bound is exactly the number: the 10th failure is answered, the 11th attempt is refused.
    for (let attempt = 1; attempt <= 10; attempt++) {
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
    for (let attempt = 0; attempt < 100; attempt++) {
      statuses.push((await rawRequest(url, { headers: { authorization: `Bearer ${token}` } })).status);
    }
    assert.deepEqual(new Set(statuses), new Set([403]), 'every refusal before the limit is a plain 403');
    const throttled = await rawRequest(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers['retry-after']) >= 1);

    const allowed = await rawRequest(url, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(allowed.status, 200, 'the administrator is not throttled by someone else');
  });

  it('counts password failures per user name, whatever client_id each guess names', async () => {
    await createUser('target@coffer.test', 'the real passphrase');
    const from = '127.0.0.3';
    for (let attempt = 1; attempt <= 10; attempt++) {
      const response = await passwordGrant('target@coffer.test', `guess number ${attempt}`, from);
      assert.equal(response.status, 400, `guess ${attempt}: ${response.text}`);
      assert.equal(errorOf(response), 'invalid_grant');
    }
    // A fresh random client_id and even the right password: the user name is throttled.
    const throttled = await passwordGrant('TARGET@coffer.test', 'the real passphrase', from);
    assert.equal(throttled.status, 429, throttled.text);
    assert.ok(Number(throttled.headers['retry-after']) >= 1);
    // Another user on the same address is not locked out by it.
    await createUser('neighbour@coffer.test', 'a passphrase of mine');
    assert.equal((await passwordGrant('neighbour@coffer.test', 'a passphrase of mine', from)).status, 200);
  });

  it('reserves before evaluating: of 200 concurrent wrong passwords for one user, exactly 10 are checked', async () => {
    await createUser('burst@coffer.test', 'the burst passphrase');
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        passwordGrant('burst@coffer.test', `wrong guess ${i}`, '127.0.0.4'),
      ),
    );
    const statuses = responses.map((response) => response.status);
    assert.equal(statuses.filter((status) => status === 400).length, 10, `statuses: ${statuses.join(' ')}`);
    assert.equal(statuses.filter((status) => status === 429).length, 190);
    for (const response of responses.filter((r) => r.status === 429))
      assert.ok(Number(response.headers['retry-after']) >= 1);
  });

  it('bounds concurrent password hashing with 429, and a client-credentials token is answered meanwhile', async () => {
    const legit = await createPrincipal('legit-client');
    const answered: string[] = [];
    let firstRefusal: () => void = () => {};
    const refused = new Promise<void>((resolve) => (firstRefusal = resolve));
    // 200 different user names (unknown ones cost a known one's time), so no per-user limit applies.
    const attack = Array.from({ length: 200 }, (_, i) =>
      passwordGrant(`nobody-${i}@coffer.test`, 'a wrong passphrase', '127.0.0.5').then((response) => {
        answered.push(`password ${response.status}`);
        if (response.status === 429) firstRefusal();
        return response;
      }),
    );
    // Once the hash queue is full, a legitimate client asks for a token from its own address.
    await Promise.race([refused, Promise.all(attack)]);
    const token = await tokenRequest(legit.clientId, legit.clientSecret, '127.0.0.6');
    answered.push(`client ${token.status}`);
    const responses = await Promise.all(attack);
    assert.equal(token.status, 200, token.text);
    const statuses = responses.map((response) => response.status);
    assert.deepEqual(
      new Set(statuses),
      new Set([400, 429]),
      'each guess is checked or refused, nothing else',
    );
    for (const response of responses.filter((r) => r.status === 429)) {
      assert.ok(Number(response.headers['retry-after']) >= 1);
      assert.equal((errorOf(response) as { code: string }).code, 'Throttled');
    }
    // Not starved: the token came back while guesses already queued were still waiting for a hash.
    const client = answered.indexOf('client 200');
    assert.ok(
      answered.slice(client + 1).includes('password 400'),
      `checked guesses answered after the client: ${answered.join(', ')}`,
    );
  });
});
