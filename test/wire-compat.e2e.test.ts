import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { within } from './helpers/pg-nodes.js';
import { type DevServer, repoRoot, startDevServer } from './helpers/server-process.js';

// What Azure adds to every response and what it tolerates in requests: request ids on every
// response, the Key Vault headers on data-plane responses, and a JSON content type on a request
// without a body.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REGION = 'test-region-2';

describe('Azure response headers and request leniency', () => {
  let server: DevServer;
  let token: string;
  let version: string;

  const vault = (path: string, options: Parameters<typeof rawRequest>[1] = {}) =>
    rawRequest(`${server.facts.vaultUrl}${path}`, options);
  const authorized = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });

  before(async () => {
    server = await startDevServer({ env: { COFFER_REGION: REGION } });
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    token = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
    version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string })
      .version;
    await server.secrets().setSecret('probe', 'x');
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('puts a fresh x-ms-request-id on every response, errors and every endpoint included', async () => {
    const { url, authorityHost, tenantId } = server.facts;
    const responses: Array<[string, RawResponse]> = [
      ['data plane 200', await vault('/secrets/probe?api-version=7.6', { headers: authorized() })],
      ['401 challenge', await vault('/secrets/probe?api-version=7.6')],
      ['400 api-version', await vault('/secrets/probe?api-version=1.0', { headers: authorized() })],
      ['404 no route', await vault('/no-such-thing?api-version=7.6', { headers: authorized() })],
      ['400 malformed URL', await vault('/secrets/%zz?api-version=7.6', { headers: authorized() })],
      [
        'OpenID document',
        await rawRequest(`${authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration`),
      ],
      [
        '400 token endpoint',
        await rawRequest(`${authorityHost}/${tenantId}/oauth2/v2.0/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        }),
      ],
      ['health', await rawRequest(`${url}/healthz`)],
      ['admin API', await rawRequest(`${url}/coffer/vaults`, { headers: authorized() })],
    ];
    const ids = new Set<string>();
    for (const [what, response] of responses) {
      const id = response.headers['x-ms-request-id'];
      assert.match(String(id), UUID, `${what} (${response.status}) carries x-ms-request-id`);
      ids.add(String(id));
    }
    assert.equal(ids.size, responses.length, 'every response has its own id');
    // Its audit record carries it: an operator finds the request a client reports.
    const reported = String(responses[0]![1].headers['x-ms-request-id']);
    await within(10_000, 'the audit record of the request the client reports', async () => {
      const found = await rawRequest(`${url}/coffer/audit/records?operation=SecretGet&limit=100`, {
        headers: authorized(),
      });
      const records = (found.json() as { value: Array<{ properties: { requestId?: string } }> }).value;
      return records.some((record) => record.properties.requestId === reported);
    });
  });

  it('echoes x-ms-client-request-id when the client sends a plain one, and only then', async () => {
    const clientId = 'c0ffee00-1234-4abc-8def-0123456789ab';
    const echoed = await vault('/secrets/probe?api-version=7.6', {
      headers: authorized({ 'x-ms-client-request-id': clientId }),
    });
    assert.equal(echoed.headers['x-ms-client-request-id'], clientId);
    const challenged = await vault('/secrets/probe?api-version=7.6', {
      headers: { 'x-ms-client-request-id': clientId },
    });
    assert.equal(challenged.status, 401);
    assert.equal(challenged.headers['x-ms-client-request-id'], clientId);
    assert.equal(
      (await vault('/secrets/probe?api-version=7.6', { headers: authorized() })).headers[
        'x-ms-client-request-id'
      ],
      undefined,
    );
    for (const junk of ['x'.repeat(300), 'two words', '<script>']) {
      const response = await vault('/secrets/probe?api-version=7.6', {
        headers: authorized({ 'x-ms-client-request-id': junk }),
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers['x-ms-client-request-id'], undefined, `not echoed: ${junk.slice(0, 20)}`);
    }
  });

  it('sends the Key Vault service version, region and network info on data-plane answers, 401 included', async () => {
    for (const response of [
      await vault('/secrets/probe?api-version=7.6', { headers: authorized() }),
      await vault('/secrets/probe?api-version=7.6'),
      await vault('/secrets/absent?api-version=7.6', { headers: authorized() }),
    ]) {
      assert.equal(response.headers['x-ms-keyvault-service-version'], version);
      assert.equal(response.headers['x-ms-keyvault-region'], REGION);
      assert.equal(
        response.headers['x-ms-keyvault-network-info'],
        'conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;',
      );
    }
  });

  it('lets the SDK see its own request id echoed and the server request id', async () => {
    const seen: Array<{ sent?: string; echoed?: string; requestId?: string }> = [];
    const client = new SecretClient(server.facts.vaultUrl, server.credential);
    await client.getSecret('probe', {
      onResponse: (response) => {
        seen.push({
          sent: response.request.headers.get('x-ms-client-request-id'),
          echoed: response.headers.get('x-ms-client-request-id'),
          requestId: response.headers.get('x-ms-request-id'),
        });
      },
    });
    const last = seen.at(-1)!;
    assert.ok(last.sent, 'the SDK sends a client request id');
    assert.equal(last.echoed, last.sent);
    assert.match(last.requestId ?? '', UUID);
  });

  it('treats an empty body with a JSON content type as no body (a DELETE), and still needs a body where one is required', async () => {
    await server.secrets().setSecret('bodiless', 'gone soon');
    /** A request that says its body is JSON, with the body given (empty: none at all). */
    const sendJson = (method: string, path: string, body = '') =>
      vault(`${path}?api-version=7.6`, {
        method,
        headers: authorized({ 'content-type': 'application/json' }),
        body,
      });
    const deleted = await sendJson('DELETE', '/secrets/bodiless');
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(
      (deleted.json() as { recoveryId: string }).recoveryId,
      `${server.facts.vaultUrl}/deletedsecrets/bodiless`,
    );
    const backup = await sendJson('POST', '/secrets/probe/backup');
    assert.equal(backup.status, 200, backup.text);

    const put = await sendJson('PUT', '/secrets/needs-body');
    assert.equal(put.status, 400, put.text);
    assert.equal((put.json() as { error: { code: string } }).error.code, 'BadParameter');
    const broken = await sendJson('PUT', '/secrets/needs-body', '{"value":');
    assert.equal(broken.status, 400, broken.text);
    const poisoned = await sendJson('PUT', '/secrets/needs-body', '{"value":"x","__proto__":{"admin":true}}');
    assert.equal(poisoned.status, 400, 'prototype poisoning is still refused');
    await assert.rejects(server.secrets().getSecret('needs-body'), { statusCode: 404 });
  });
});
