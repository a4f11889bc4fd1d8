import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ClientAssertionCredential, ClientCertificateCredential } from '@azure/identity';
import { decodeJwt, SignJWT } from 'jose';
import { fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { selfSignedCertificate, type TestCertificate } from './helpers/client-certificate.js';
import { startTestIssuer, type TestIssuer } from './helpers/oidc-issuer.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const SCOPE = 'https://vault.localhost/.default';

function assertOAuthError(response: RawResponse, status: number, error: string): void {
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${response.text}`);
  assert.equal((response.json() as { error: string }).error, error);
}

describe('service principal credentials: certificates and federated identity (dev server)', () => {
  let server: DevServer;
  let issuer: TestIssuer;
  let adminToken: string;
  let tokenEndpoint: string;

  before(async () => {
    [server, issuer] = await Promise.all([startDevServer(), startTestIssuer()]);
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    adminToken = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
    tokenEndpoint = `${authorityHost}/${tenantId}/oauth2/v2.0/token`;
  });

  after(async () => {
    await issuer.close();
    assert.equal(await server.stop('SIGTERM'), 0);
  });

  async function api(method: string, path: string, body?: unknown): Promise<RawResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${adminToken}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return rawRequest(`${server.facts.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function newPrincipal(name: string): Promise<{ objectId: string; clientId: string }> {
    const created = await api('POST', '/coffer/principals', { name });
    assert.equal(created.status, 201, created.text);
    return created.json() as { objectId: string; clientId: string };
  }

  const tokenRequest = (clientId: string, assertion: string) =>
    rawRequest(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: assertion,
        scope: SCOPE,
      }).toString(),
    });

  /** A token is accepted on the data plane when the answer is about permissions (403), not identity (401). */
  async function assertAcceptedOnDataPlane(token: string): Promise<void> {
    const response = await rawRequest(`${server.facts.vaultUrl}/secrets?api-version=7.6`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(
      response.status,
      403,
      `a principal without a role is authenticated but refused: ${response.text}`,
    );
  }

  async function assertRefusedOnDataPlane(token: string): Promise<void> {
    const response = await rawRequest(`${server.facts.vaultUrl}/secrets?api-version=7.6`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 401, response.text);
  }

  describe('certificate credentials', () => {
    let principal: { objectId: string; clientId: string };
    let cert: TestCertificate;

    before(async () => {
      principal = await newPrincipal('cert-client');
      cert = await selfSignedCertificate();
      const added = await api('POST', `/coffer/principals/${principal.clientId}/certificates`, {
        certificate: cert.certPem,
        displayName: 'ci',
      });
      assert.equal(added.status, 201, added.text);
      const view = added.json() as { thumbprintSha256: string; subject: string };
      assert.equal(
        view.thumbprintSha256,
        Buffer.from(cert.x5tS256, 'base64url').toString('hex').toUpperCase(),
      );
      assert.ok(!added.text.includes('BEGIN'), 'the PEM is not echoed');
    });

    /** An assertion as RFC 7523 and MSAL make it, with overrides for the refusal cases. */
    function assertion(
      options: {
        claims?: Record<string, unknown>;
        header?: Record<string, unknown>;
        key?: KeyObject;
        alg?: string;
        clientId?: string;
      } = {},
    ): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      const alg = options.alg ?? 'PS256';
      const clientId = options.clientId ?? principal.clientId;
      return new SignJWT({
        aud: tokenEndpoint,
        iss: clientId,
        sub: clientId,
        jti: randomUUID(),
        nbf: now,
        exp: now + 600,
        ...options.claims,
      })
        .setProtectedHeader({ alg, 'x5t#S256': cert.x5tS256, ...options.header })
        .sign(options.key ?? cert.privateKey);
    }

    it('ClientCertificateCredential gets a token that the data plane accepts', async () => {
      const credential = new ClientCertificateCredential(
        server.facts.tenantId,
        principal.clientId,
        { certificate: cert.certPem + cert.keyPem },
        { authorityHost: server.facts.authorityHost, disableInstanceDiscovery: true },
      );
      const { token } = await credential.getToken(SCOPE);
      const claims = decodeJwt(token);
      assert.equal(claims.oid, principal.objectId);
      assert.equal(claims.appid, principal.clientId);
      await assertAcceptedOnDataPlane(token);
    });

    it('accepts RS256 with x5t (SHA-1) as older MSAL releases send, and refuses the same assertion twice', async () => {
      const signed = await assertion({ alg: 'RS256', header: { 'x5t#S256': undefined, x5t: cert.x5t } });
      const first = await tokenRequest(principal.clientId, signed);
      assert.equal(first.status, 200, first.text);
      assertOAuthError(await tokenRequest(principal.clientId, signed), 401, 'invalid_client');
    });

    it('refuses expired, wrong-audience, wrong-subject, wrong-issuer, foreign-key and unknown-certificate assertions', async () => {
      // A client of its own: eight failures spend most of a client's budget of ten a minute.
      const target = await newPrincipal('cert-refusals');
      const added = await api('POST', `/coffer/principals/${target.clientId}/certificates`, {
        certificate: cert.certPem,
      });
      assert.equal(added.status, 201, added.text);
      const { clientId } = target;
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const past = Math.floor(Date.now() / 1000) - 3600;
      const refused = {
        expired: await assertion({ clientId, claims: { nbf: past - 600, exp: past } }),
        'wrong audience': await assertion({
          clientId,
          claims: { aud: 'https://login.microsoftonline.com/common/oauth2/v2.0/token' },
        }),
        'wrong subject': await assertion({ clientId, claims: { sub: randomUUID() } }),
        'wrong issuer': await assertion({ clientId, claims: { iss: 'https://attacker.example' } }),
        'signed by another key': await assertion({ clientId, key: other }),
        'unknown certificate': await assertion({
          clientId,
          header: { 'x5t#S256': createHash('sha256').update('x').digest('base64url') },
        }),
        'no jti': await assertion({ clientId, claims: { jti: undefined } }),
        HS256: 'eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo',
      };
      for (const [label, signed] of Object.entries(refused)) {
        const response = await tokenRequest(clientId, signed);
        assert.equal(response.status, 401, `${label}: ${response.text}`);
        assert.equal((response.json() as { error: string }).error, 'invalid_client', label);
      }
    });

    it('a disabled principal is refused at the token endpoint, and its issued token stops working', async () => {
      const issued = await tokenRequest(principal.clientId, await assertion());
      assert.equal(issued.status, 200, issued.text);
      const token = (issued.json() as { access_token: string }).access_token;
      await assertAcceptedOnDataPlane(token);

      const disabled = await api('PATCH', `/coffer/principals/${principal.objectId}`, { enabled: false });
      assert.equal(disabled.status, 200, disabled.text);
      assert.equal((disabled.json() as { enabled: boolean }).enabled, false);
      assertOAuthError(await tokenRequest(principal.clientId, await assertion()), 401, 'invalid_client');
      await assertRefusedOnDataPlane(token);

      assert.equal(
        (await api('PATCH', `/coffer/principals/${principal.objectId}`, { enabled: true })).status,
        200,
      );
      assert.equal((await tokenRequest(principal.clientId, await assertion())).status, 200);
    });

    it('removing the certificate refuses new assertions and revokes tokens issued with it', async () => {
      const issued = await tokenRequest(principal.clientId, await assertion());
      const token = (issued.json() as { access_token: string }).access_token;
      const listed = await api('GET', `/coffer/principals/${principal.clientId}/certificates`);
      const [credential] = (listed.json() as { value: { id: string; thumbprint: string }[] }).value;
      assert.ok(credential);
      const removed = await api(
        'DELETE',
        `/coffer/principals/${principal.clientId}/certificates/${credential.thumbprint}`,
      );
      assert.equal(removed.status, 204, removed.text);
      assertOAuthError(await tokenRequest(principal.clientId, await assertion()), 401, 'invalid_client');
      await assertRefusedOnDataPlane(token);
    });

    it('refuses a certificate that is not a PEM certificate or has a weak key', async () => {
      const bad = await api('POST', `/coffer/principals/${principal.clientId}/certificates`, {
        certificate: 'nope',
      });
      assert.equal(bad.status, 400, bad.text);
    });
  });

  describe('federated credentials', () => {
    let principal: { objectId: string; clientId: string };
    const subject = 'system:serviceaccount:apps:builder';
    const audience = 'api://AzureADTokenExchange';

    before(async () => {
      principal = await newPrincipal('federated-client');
      const added = await api('POST', `/coffer/principals/${principal.objectId}/federated-credentials`, {
        name: 'k8s-builder',
        issuer: issuer.issuer,
        subject,
        audiences: [audience],
      });
      assert.equal(added.status, 201, added.text);
    });

    it('ClientAssertionCredential exchanges the external token for a token the data plane accepts', async () => {
      const credential = new ClientAssertionCredential(
        server.facts.tenantId,
        principal.clientId,
        () => issuer.sign({ sub: subject, aud: audience }),
        { authorityHost: server.facts.authorityHost, disableInstanceDiscovery: true },
      );
      const { token } = await credential.getToken(SCOPE);
      assert.equal(decodeJwt(token).oid, principal.objectId);
      await assertAcceptedOnDataPlane(token);
      assert.ok(issuer.requests.includes('/.well-known/openid-configuration'));
      assert.ok(issuer.requests.includes('/keys'));
    });

    it('refuses expired, wrong-audience, wrong-subject, wrong-issuer and foreign-key tokens', async () => {
      const past = Math.floor(Date.now() / 1000) - 3600;
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const refused = {
        expired: await issuer.sign({
          sub: subject,
          aud: audience,
          iat: past - 600,
          nbf: past - 600,
          exp: past,
        }),
        'wrong audience': await issuer.sign({ sub: subject, aud: 'api://SomethingElse' }),
        'wrong subject': await issuer.sign({ sub: 'system:serviceaccount:apps:intruder', aud: audience }),
        'wrong issuer': await issuer.sign({ iss: 'https://issuer.invalid', sub: subject, aud: audience }),
        'signed by another key': await issuer.sign({ sub: subject, aud: audience }, { key: other }),
      };
      for (const [label, token] of Object.entries(refused)) {
        const response = await tokenRequest(principal.clientId, token);
        assert.equal(response.status, 401, `${label}: ${response.text}`);
        assert.equal((response.json() as { error: string }).error, 'invalid_client', label);
      }
      // The unregistered issuer was never contacted: only registered issuers are fetched.
      assert.ok(
        issuer.requests.every((path) => path === '/.well-known/openid-configuration' || path === '/keys'),
      );
    });

    it('a disabled principal is refused, and a removed federated credential no longer works', async () => {
      const external = await issuer.sign({ sub: subject, aud: audience });
      assert.equal((await tokenRequest(principal.clientId, external)).status, 200);
      await api('PATCH', `/coffer/principals/${principal.objectId}`, { enabled: false });
      assertOAuthError(await tokenRequest(principal.clientId, external), 401, 'invalid_client');
      await api('PATCH', `/coffer/principals/${principal.objectId}`, { enabled: true });
      const removed = await api(
        'DELETE',
        `/coffer/principals/${principal.objectId}/federated-credentials/k8s-builder`,
      );
      assert.equal(removed.status, 204, removed.text);
      assertOAuthError(await tokenRequest(principal.clientId, external), 401, 'invalid_client');
    });
  });
});
