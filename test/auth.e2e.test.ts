import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type JsonWebKey, randomUUID, verify } from 'node:crypto';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JWK, jwtVerify, SignJWT } from 'jose';
import { fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { credentialFor, type DevServer, startDevServer } from './helpers/server-process.js';

interface OpenIdConfiguration {
  issuer: string;
  token_endpoint: string;
  jwks_uri: string;
  authorization_endpoint: string;
}

interface IssuedCredentials {
  objectId: string;
  clientId: string;
  clientSecret: string;
  tenantId: string;
  name: string;
}

interface OAuthErrorBody {
  error: string;
  error_description: string;
}

function assertOAuthError(response: RawResponse, status: number, error: string): void {
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${response.text}`);
  const body = response.json() as OAuthErrorBody;
  assert.equal(body.error, error);
  assert.equal(typeof body.error_description, 'string');
}

function assertAzureError(response: RawResponse, status: number, code: string): void {
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${response.text}`);
  const body = response.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 0);
}

/** The token with one signature character changed (a middle one, where all 6 bits count). */
function tamper(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const at = Math.floor(signature.length / 2);
  const flipped = signature[at] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${signature.slice(0, at)}${flipped}${signature.slice(at + 1)}`;
}

describe('authentication: Entra-compatible tokens and the bearer challenge (dev server)', () => {
  let server: DevServer;
  let challenge: string;
  let listUrl: string;
  let adminObjectId: string;
  let adminToken: string;

  before(async () => {
    server = await startDevServer();
    const { authorityHost, tenantId, vaultUrl, clientId, clientSecret } = server.facts;
    // The servers of the tests listen on a port other than 443: the resource carries it.
    challenge = `Bearer authorization="${authorityHost}/${tenantId}", resource="https://vault.localhost:${new URL(vaultUrl).port}"`;
    listUrl = `${vaultUrl}/secrets?api-version=7.6`;
    adminToken = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
    const admin = await api('GET', `/coffer/principals/${clientId}`, adminToken);
    assert.equal(admin.status, 200, admin.text);
    adminObjectId = (admin.json() as { objectId: string }).objectId;
    await server.secrets().setSecret('auth-probe', 'visible to administrators');
  });

  after(async () => {
    assert.equal(await server.stop('SIGTERM'), 0);
  });

  function api(method: string, path: string, token?: string, body?: unknown): Promise<RawResponse> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return rawRequest(`${server.facts.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  function tokenRequest(
    form: Record<string, string>,
    tenantId = server.facts.tenantId,
  ): Promise<RawResponse> {
    return rawRequest(`${server.facts.authorityHost}/${tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  const dataPlane = (token: string, url = listUrl) =>
    rawRequest(url, { headers: { authorization: `Bearer ${token}` } });

  function assertChallenged(response: RawResponse): void {
    assertAzureError(response, 401, 'Unauthorized');
    assert.equal(response.headers['www-authenticate'], challenge);
  }

  it('answers an unauthenticated PUT with 401 and the challenge while its body is still being uploaded', async () => {
    const declared = 4 * 1024 * 1024;
    const url = new URL(`${server.facts.vaultUrl}/secrets/big-upload?api-version=7.6`);
    const response = await new Promise<RawResponse>((resolve, reject) => {
      const request = https.request(url, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'content-length': String(declared) },
      });
      const timer = setTimeout(() => {
        request.destroy();
        reject(new Error('no answer while the body was incomplete: the server waited for the body'));
      }, 10_000);
      request.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          request.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      });
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      // A quarter of the declared body, then nothing: the request cannot finish on its own.
      request.write(`{"value": "${'x'.repeat(declared / 4)}`);
    });
    assertChallenged(response);
  });

  it('answers a GET without Authorization with 401 and the same challenge, on a vault host and the bare host', async () => {
    assertChallenged(await rawRequest(listUrl));
    assertChallenged(await rawRequest(`${server.facts.url}/secrets?api-version=7.6`));
    assertChallenged(await rawRequest(listUrl, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }));
  });

  it('publishes the OpenID configuration and the JWKS (CONTRACT section 4)', async () => {
    const { authorityHost, tenantId } = server.facts;
    const base = `${authorityHost}/${tenantId}`;
    const response = await rawRequest(`${base}/v2.0/.well-known/openid-configuration`);
    assert.equal(response.status, 200, response.text);
    const config = response.json() as OpenIdConfiguration;
    assert.equal(config.issuer, `${base}/v2.0`);
    assert.equal(config.token_endpoint, `${base}/oauth2/v2.0/token`);
    assert.equal(config.jwks_uri, `${base}/discovery/v2.0/keys`);
    assert.ok(config.authorization_endpoint.startsWith(`${base}/`), config.authorization_endpoint);

    const jwks = await rawRequest(config.jwks_uri);
    assert.equal(jwks.status, 200, jwks.text);
    const { keys } = jwks.json() as { keys: JWK[] };
    assert.ok(keys.length >= 1);
    for (const key of keys) {
      assert.equal(key.kty, 'RSA');
      assert.equal(typeof key.kid, 'string');
      assert.ok(key.n && key.e, 'a public RSA key');
      for (const privatePart of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
        assert.equal(key[privatePart], undefined, `the JWKS must not publish ${privatePart}`);
      }
    }

    const unknown = await rawRequest(
      `${authorityHost}/${randomUUID()}/v2.0/.well-known/openid-configuration`,
    );
    assert.equal(unknown.status, 400, 'an unknown tenant has no OpenID configuration');
  });

  it('issues tokens that verify independently against the JWKS, with iss, aud, exp, tid and oid', async () => {
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    const issued = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      scope: 'https://vault.localhost/.default',
    });
    assert.equal(issued.status, 200, issued.text);
    const body = issued.json() as { token_type: string; expires_in: number; access_token: string };
    assert.equal(body.token_type, 'Bearer');
    assert.ok(body.expires_in > 60 && body.expires_in <= 86_400, `expires_in ${body.expires_in}`);
    const viaSdk = await server.credential.getToken('https://vault.localhost/.default');

    const jwks = (await rawRequest(`${authorityHost}/${tenantId}/discovery/v2.0/keys`)).json() as {
      keys: JWK[];
    };
    for (const token of [body.access_token, viaSdk.token]) {
      // node:crypto alone: the RS256 signature over header.payload with the published key.
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const { alg, kid } = decodeProtectedHeader(token);
      assert.equal(alg, 'RS256');
      const jwk = jwks.keys.find((key) => key.kid === kid);
      assert.ok(jwk, 'the token names a key of the JWKS');
      const publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      assert.ok(
        verify('sha256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url')),
        'the signature verifies with node:crypto',
      );

      // jose: the same, plus the claims.
      const { payload: claims } = await jwtVerify(token, createLocalJWKSet(jwks), {
        issuer: `${authorityHost}/${tenantId}/v2.0`,
        audience: 'https://vault.localhost',
        algorithms: ['RS256'],
      });
      assert.equal(claims.tid, tenantId);
      assert.equal(claims.oid, adminObjectId);
      const now = Math.floor(Date.now() / 1000);
      assert.ok(typeof claims.exp === 'number' && claims.exp > now + 60 && claims.exp <= now + 86_400);
    }
    assert.equal((await dataPlane(body.access_token)).status, 200);
  });

  it('accepts tokens for the challenge resource with its port, the bare base domain and https://vault.azure.net', async () => {
    const withPort = `https://vault.localhost:${new URL(server.facts.vaultUrl).port}`;
    for (const audience of [withPort, 'https://vault.localhost', 'https://vault.azure.net']) {
      const { token } = await server.credential.getToken(`${audience}/.default`);
      assert.equal(decodeJwt(token).aud, audience);
      const listed = await dataPlane(token);
      assert.equal(listed.status, 200, listed.text);
      const read = await dataPlane(token, `${server.facts.vaultUrl}/secrets/auth-probe?api-version=7.6`);
      assert.equal(read.status, 200, read.text);
      assert.equal((read.json() as { value: string }).value, 'visible to administrators');
    }
    const otherPort = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: server.facts.clientId,
      client_secret: server.facts.clientSecret,
      scope: 'https://vault.localhost:1/.default',
    });
    assertOAuthError(otherPort, 400, 'invalid_scope');
  });

  it('passes the JavaScript SDK challenge check with default options and gets a token for the resource with its port', async () => {
    const audiences: string[] = [];
    const credential = {
      getToken: async (scopes: string | string[]) => {
        const scope = Array.isArray(scopes) ? scopes[0]! : scopes;
        audiences.push(scope);
        return server.credential.getToken(scope);
      },
    };
    const client = new SecretClient(server.facts.vaultUrl, credential);
    assert.equal((await client.getSecret('auth-probe')).value, 'visible to administrators');
    assert.deepEqual(audiences, [`https://vault.localhost:${new URL(server.facts.vaultUrl).port}/.default`]);
  });

  it('refuses an unknown scope, a wrong secret, an unknown tenant and an unsupported grant type', async () => {
    const { clientId, clientSecret } = server.facts;
    const valid = { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret };
    const vaultScope = 'https://vault.localhost/.default';

    assertOAuthError(
      await tokenRequest({ ...valid, scope: 'https://graph.microsoft.com/.default' }),
      400,
      'invalid_scope',
    );
    await assert.rejects(server.credential.getToken('https://storage.example.org/.default'));

    assertOAuthError(
      await tokenRequest({ ...valid, client_secret: `${clientSecret}x`, scope: vaultScope }),
      401,
      'invalid_client',
    );
    assertOAuthError(
      await tokenRequest({ ...valid, client_id: randomUUID(), scope: vaultScope }),
      401,
      'invalid_client',
    );
    const wrongSecret = credentialFor(server.facts, clientId, 'wrong-secret');
    await assert.rejects(wrongSecret.getToken(vaultScope));

    const unknownTenant = await tokenRequest({ ...valid, scope: vaultScope }, randomUUID());
    assert.equal(unknownTenant.status, 400, unknownTenant.text);
    assert.equal(typeof (unknownTenant.json() as OAuthErrorBody).error, 'string');
    assert.ok(!unknownTenant.text.includes('access_token'));

    assertOAuthError(
      await tokenRequest({ ...valid, grant_type: 'authorization_code', scope: vaultScope }),
      400,
      'unsupported_grant_type',
    );
  });

  // Found by the fuzz suite (test/fuzz): a JSON body reached the token endpoint with a list as
  // client_id, and counting its failure threw (500). The endpoint takes forms only (CONTRACT 4).
  it('refuses a token request that is not form-encoded with invalid_request', async () => {
    const { clientId, clientSecret } = server.facts;
    const scope = 'https://vault.localhost/.default';
    const url = `${server.facts.authorityHost}/${server.facts.tenantId}/oauth2/v2.0/token`;
    const bodies = [
      { grant_type: 'client_credentials', client_id: [clientId], client_secret: clientSecret, scope },
      { grant_type: 'password', username: { upn: 'x' }, password: 'p', scope },
      { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope },
    ];
    for (const body of bodies) {
      const response = await rawRequest(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assertOAuthError(response, 400, 'invalid_request');
      assert.match((response.json() as OAuthErrorBody).error_description, /x-www-form-urlencoded/);
    }
    const plain = await rawRequest(url, { method: 'POST', body: `client_id=${clientId}` });
    assertOAuthError(plain, 400, 'invalid_request');
  });

  it('refuses a tampered token, a token signed by another key and an unsigned token with 401', async () => {
    assert.equal((await dataPlane(adminToken)).status, 200, 'the untouched token works');
    assertChallenged(await dataPlane(tamper(adminToken)));

    const claims = decodeJwt(adminToken);
    const header = decodeProtectedHeader(adminToken);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: header.kid! })
      .sign(privateKey);
    assertChallenged(await dataPlane(forged));

    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${adminToken.split('.')[1]}.`;
    assertChallenged(await dataPlane(unsigned));
    assertChallenged(await api('GET', '/coffer/vaults', forged));
  });

  describe('service principals', () => {
    let reader: IssuedCredentials;

    it('a principal without a role gets a token but is refused on the data plane with 403 Forbidden', async () => {
      const created = await api('POST', '/coffer/principals', adminToken, { name: 'no-role-reader' });
      assert.equal(created.status, 201, created.text);
      reader = created.json() as IssuedCredentials;
      assert.equal(reader.tenantId, server.facts.tenantId);

      const credential = credentialFor(server.facts, reader.clientId, reader.clientSecret);
      const { token } = await credential.getToken('https://vault.localhost/.default');
      assert.equal(decodeJwt(token).oid, reader.objectId);

      const client = new SecretClient(server.facts.vaultUrl, credential);
      await assert.rejects(client.getSecret('auth-probe'), { statusCode: 403, code: 'Forbidden' });
      await assert.rejects(client.setSecret('not-allowed', 'x'), { statusCode: 403, code: 'Forbidden' });
      assertAzureError(await dataPlane(token), 403, 'Forbidden');
      assertAzureError(await api('GET', '/coffer/vaults', token), 403, 'Forbidden');
    });

    it('after reset-secret the old secret fails at the token endpoint and the new one works', async () => {
      const reset = await api('POST', `/coffer/principals/${reader.objectId}/reset-secret`, adminToken);
      assert.equal(reset.status, 200, reset.text);
      const renewed = reset.json() as IssuedCredentials;
      assert.equal(renewed.clientId, reader.clientId);
      assert.notEqual(renewed.clientSecret, reader.clientSecret);

      const form = (secret: string) => ({
        grant_type: 'client_credentials',
        client_id: reader.clientId,
        client_secret: secret,
        scope: 'https://vault.localhost/.default',
      });
      assertOAuthError(await tokenRequest(form(reader.clientSecret)), 401, 'invalid_client');
      assert.equal((await tokenRequest(form(renewed.clientSecret))).status, 200);
      const fresh = credentialFor(server.facts, reader.clientId, renewed.clientSecret);
      assert.ok((await fresh.getToken('https://vault.localhost/.default')).token);
      await assert.rejects(
        credentialFor(server.facts, reader.clientId, reader.clientSecret).getToken(
          'https://vault.localhost/.default',
        ),
      );
    });

    it("after DELETE /coffer/principals/{id} the principal's already-issued token is refused with 401", async () => {
      const created = await api('POST', '/coffer/principals', adminToken, {
        name: 'short-lived-admin',
        administrator: true,
      });
      assert.equal(created.status, 201, created.text);
      const doomed = created.json() as IssuedCredentials;
      // The administrator flag manages Coffer; reading vault data takes a role, as in Azure.
      const assigned = await api('POST', '/coffer/roles/assignments', adminToken, {
        role: 'Key Vault Administrator',
        principalId: doomed.objectId,
        scope: '/',
      });
      assert.equal(assigned.status, 201, assigned.text);
      const token = await fetchToken(
        server.facts.authorityHost,
        server.facts.tenantId,
        doomed.clientId,
        doomed.clientSecret,
      );
      assert.equal((await dataPlane(token)).status, 200, 'an administrator reads the vault');

      const removed = await api('DELETE', `/coffer/principals/${doomed.objectId}`, adminToken);
      assert.equal(removed.status, 204, removed.text);

      assertChallenged(await dataPlane(token));
      assertChallenged(await api('GET', '/coffer/vaults', token));
      assertOAuthError(
        await tokenRequest({
          grant_type: 'client_credentials',
          client_id: doomed.clientId,
          client_secret: doomed.clientSecret,
          scope: 'https://vault.localhost/.default',
        }),
        401,
        'invalid_client',
      );
      assertAzureError(
        await api('GET', `/coffer/principals/${doomed.objectId}`, adminToken),
        404,
        'PrincipalNotFound',
      );
      assert.equal((await dataPlane(adminToken)).status, 200, 'other principals are unaffected');
    });
  });
});
