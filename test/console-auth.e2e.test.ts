import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { authCodeClient, CONSOLE_CLIENT_ID, pkcePair } from './helpers/auth-code.js';
import { adminToken, bearerRequest, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

const PASSWORD = 'correct horse battery staple';

describe('authorization code flow with PKCE (the web console sign-in)', () => {
  let server: DevServer;
  let client: ReturnType<typeof authCodeClient>;

  before(async () => {
    server = await startDevServer();
    client = authCodeClient(server.facts);
    const token = await adminToken(server.facts);
    for (const upn of ['alice@coffer.test', 'mallory@coffer.test']) {
      const created = await bearerRequest(`${server.facts.url}/coffer/users`, token, 'POST', {
        userPrincipalName: upn,
        password: PASSWORD,
      });
      assert.equal(created.status, 201, created.text);
    }
  });

  after(async () => {
    assert.equal(await server.stop('SIGTERM'), 0);
  });

  it('discovery names the authorize endpoint, the code grant and S256', async () => {
    const response = await rawRequest(
      `${server.facts.authorityHost}/${server.facts.tenantId}/v2.0/.well-known/openid-configuration`,
    );
    const config = response.json() as Record<string, unknown>;
    assert.match(String(config.authorization_endpoint), /\/oauth2\/v2\.0\/authorize$/);
    assert.ok((config.grant_types_supported as string[]).includes('authorization_code'));
    assert.deepEqual(config.code_challenge_methods_supported, ['S256']);
  });

  it('signs a user in: form, redirect with code and state, code plus verifier for a user token', async () => {
    const { verifier, challenge } = pkcePair();
    const form = await client.showForm(client.authorizeParams(challenge));
    assert.equal(form.status, 200);
    assert.match(String(form.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.match(form.text, /<form method="post"/);

    const signedIn = await client.signIn(client.authorizeParams(challenge), 'alice@coffer.test', PASSWORD);
    assert.equal(signedIn.status, 303, signedIn.text);
    const location = new URL(String(signedIn.headers.location));
    assert.equal(`${location.origin}${location.pathname}`, client.callback);
    assert.equal(location.searchParams.get('state'), 'state-1');

    const redeemed = await client.redeem({
      code: location.searchParams.get('code')!,
      code_verifier: verifier,
    });
    assert.equal(redeemed.status, 200, redeemed.text);
    assert.equal(redeemed.headers['cache-control'], 'no-store');
    const claims = decodeJwt((redeemed.json() as { access_token: string }).access_token);
    assert.equal(claims.upn, 'alice@coffer.test');
    assert.equal(claims.idtyp, 'user');
    assert.equal(claims.appid, CONSOLE_CLIENT_ID);
  });

  it('a user signed in with a code holds the roles assigned to them (by UPN) and nothing more', async () => {
    const { verifier, challenge } = pkcePair();
    const code = await client.code('alice@coffer.test', PASSWORD, challenge);
    const token = (
      (await client.redeem({ code, code_verifier: verifier })).json() as { access_token: string }
    ).access_token;
    const secrets = `${server.facts.vaultUrl}/secrets?api-version=7.6`;
    assert.equal((await bearerRequest(secrets, token, 'GET')).status, 403, 'no role yet');
    const assigned = await bearerRequest(
      `${server.facts.url}/coffer/roles/assignments`,
      await adminToken(server.facts),
      'POST',
      { role: 'Key Vault Secrets User', principalId: 'alice@coffer.test', scope: '/vaults/dev' },
    );
    assert.equal(assigned.status, 201, assigned.text);
    assert.equal((await bearerRequest(secrets, token, 'GET')).status, 200);
    const write = await bearerRequest(`${server.facts.vaultUrl}/secrets/x?api-version=7.6`, token, 'PUT', {
      value: 'v',
    });
    assert.equal(write.status, 403, 'Secrets User reads, never writes');
  });

  it('refuses bad authorization requests on the page itself, never redirecting', async () => {
    const { challenge } = pkcePair();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ client_id: '22222222-2222-4222-8222-222222222222' }, /client_id is not a client registered/],
      [{ redirect_uri: 'https://evil.example/ui/callback' }, /redirect_uri does not match/],
      [{ redirect_uri: `${client.callback}/` }, /redirect_uri does not match/],
      [{ redirect_uri: `${client.callback}?next=https://evil.example` }, /redirect_uri does not match/],
      [{ redirect_uri: client.callback.replace('https:', 'http:') }, /redirect_uri does not match/],
      [{ response_type: 'token' }, /response_type must be code/],
      [{ code_challenge_method: 'plain' }, /must be S256/],
      [{ code_challenge: 'too-short' }, /must be S256/],
      [{ state: 'x'.repeat(513) }, /state must be/],
    ];
    for (const [change, message] of cases) {
      for (const response of [
        await client.showForm(client.authorizeParams(challenge, change)),
        await client.signIn(client.authorizeParams(challenge, change), 'alice@coffer.test', PASSWORD),
      ]) {
        assert.equal(response.status, 400, `${JSON.stringify(change)}: ${response.text}`);
        assert.equal(response.headers.location, undefined, 'no redirect for a refused request');
        assert.match(response.text, message);
      }
    }
    const otherTenant = await rawRequest(
      `${server.facts.authorityHost}/00000000-0000-4000-8000-000000000000/oauth2/v2.0/authorize?${new URLSearchParams(client.authorizeParams(challenge)).toString()}`,
    );
    assert.equal(otherTenant.status, 400);
    assert.match(otherTenant.text, /Tenant .* not found/);
  });

  it('a wrong password shows the form again with a message, and no code', async () => {
    const { challenge } = pkcePair();
    const response = await client.signIn(
      client.authorizeParams(challenge),
      'alice@coffer.test',
      'wrong password!!',
    );
    assert.equal(response.status, 400);
    assert.equal(response.headers.location, undefined);
    assert.match(response.text, /user name or password is wrong/);
    assert.doesNotMatch(response.text, /wrong password!!/, 'the password is never echoed');
  });

  it('refuses a reused code, a wrong verifier, another redirect and another client (the attempt spends the code)', async () => {
    const { verifier, challenge } = pkcePair();
    const reused = await client.code('alice@coffer.test', PASSWORD, challenge);
    assert.equal((await client.redeem({ code: reused, code_verifier: verifier })).status, 200);
    const again = await client.redeem({ code: reused, code_verifier: verifier });
    assert.equal(again.status, 400);
    assert.equal((again.json() as { error: string }).error, 'invalid_grant');

    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ code_verifier: pkcePair().verifier }, /code_verifier does not match/],
      [{ redirect_uri: `${client.callback}/` }, /redirect_uri does not match/],
      [{ client_id: '22222222-2222-4222-8222-222222222222' }, /another client_id/],
    ];
    for (const [change, message] of cases) {
      const code = await client.code('alice@coffer.test', PASSWORD, challenge);
      const refused = await client.redeem({ code, code_verifier: verifier, ...change });
      assert.equal(refused.status, 400, refused.text);
      const body = refused.json() as { error: string; error_description: string };
      assert.equal(body.error, 'invalid_grant');
      assert.match(body.error_description, message);
      const after = await client.redeem({ code, code_verifier: verifier });
      assert.equal(after.status, 400, 'the refused attempt spent the code');
    }
    const code = await client.code('alice@coffer.test', PASSWORD, challenge);
    const noVerifier = await client.redeem({ code });
    assert.equal((noVerifier.json() as { error: string }).error, 'invalid_request');
  });

  it('throttles failed sign-ins per user exactly as the password grant: the 11th attempt in a minute is 429', async () => {
    const { challenge } = pkcePair();
    for (let attempt = 0; attempt < 10; attempt++) {
      const response = await client.signIn(
        client.authorizeParams(challenge),
        'mallory@coffer.test',
        `guess number ${attempt}`,
      );
      assert.equal(response.status, 400);
    }
    const throttled = await client.signIn(client.authorizeParams(challenge), 'mallory@coffer.test', PASSWORD);
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers['retry-after']) > 0);
    assert.equal(throttled.headers.location, undefined, 'not even the right password gets a code');
    assert.match(throttled.text, /Too many failed sign-ins/);
    // The password grant shares the budget: the same user is throttled there too.
    const grant = await rawRequest(
      `${server.facts.authorityHost}/${server.facts.tenantId}/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          username: 'mallory@coffer.test',
          password: PASSWORD,
          scope: 'https://vault.localhost/.default',
        }).toString(),
      },
    );
    assert.equal(grant.status, 429);
  });

  it('throttles bad codes per address: the 11th bad code in a minute is 429, other addresses unaffected', async () => {
    const { verifier } = pkcePair();
    // From an address of its own: the earlier tests spent some of 127.0.0.1's budget.
    const address = '127.0.0.3';
    for (let attempt = 0; attempt < 10; attempt++) {
      const refused = await client.redeem(
        { code: `not-a-code-${attempt}`, code_verifier: verifier },
        address,
      );
      assert.equal(refused.status, 400);
    }
    const throttled = await client.redeem({ code: 'not-a-code', code_verifier: verifier }, address);
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers['retry-after']) > 0);
    // Another address still redeems: one sender's bad codes lock nobody else out of the console.
    const { verifier: good, challenge } = pkcePair();
    const code = await client.code('alice@coffer.test', PASSWORD, challenge);
    assert.equal((await client.redeem({ code, code_verifier: good }, '127.0.0.4')).status, 200);
  });
});
