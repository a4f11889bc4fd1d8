import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { vaultUrlOf } from './helpers/certificates.js';
import { cofferJson } from './helpers/coffer-cli.js';
import { fetchToken, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 14, Azure's service limits on request: a vault created with --throttle answers 429 with
// Retry-After and Azure's error text once over its rate, and the SDK's own retry gets through.

describe('per-vault throttle', () => {
  let server: DevServer;
  let token: string;
  const get = (vault: string, name: string) =>
    rawRequest(`${vaultUrlOf(server, vault)}/secrets/${name}?api-version=7.6`, {
      headers: { authorization: `Bearer ${token}` },
    });

  before(async () => {
    server = await startDevServer();
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    token = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('is off by default, and shows what a vault was given', async () => {
    const dev = await cofferJson<{ throttle: unknown }>(server.dataDir, ['vault', 'show', 'dev']);
    assert.equal(dev.throttle, 'off');
    const limited = await cofferJson<{ throttle: unknown }>(server.dataDir, [
      'vault',
      'create',
      'limited',
      '--throttle',
      '5',
    ]);
    assert.equal(limited.throttle, 5);
    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push((await get('dev', 'absent')).status);
    assert.deepEqual(new Set(statuses), new Set([404]), 'an unthrottled vault never answers 429');
  });

  it("answers 429 with Retry-After and Azure's error once over N per 10 seconds", async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get('limited', 'absent')).status);
    assert.deepEqual(new Set(statuses), new Set([404]));
    const refused = await get('limited', 'absent');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '2');
    assert.deepEqual(refused.json(), {
      error: {
        code: 'Throttled',
        message:
          'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached',
      },
    });
  });

  it("lets the SDK's retry succeed after Retry-After", async () => {
    const client = new SecretClient(vaultUrlOf(server, 'limited'), server.credential);
    await new Promise((resolve) => setTimeout(resolve, 10_000)); // a full bucket again
    await client.setSecret('patient', 'value');
    while ((await get('limited', 'patient')).status !== 429);
    const started = Date.now();
    assert.equal((await client.getSecret('patient')).value, 'value');
    assert.ok(Date.now() - started >= 1000, 'the SDK waited before retrying');
  });

  it('azure mode: 300 secret creates per 10 seconds, then 429', async () => {
    await cofferJson(server.dataDir, ['vault', 'update', 'limited', '--throttle', 'azure']);
    const started = Date.now();
    const puts = await Promise.all(
      Array.from({ length: 700 }, (_, i) =>
        rawRequest(`${vaultUrlOf(server, 'limited')}/secrets/s${i}?api-version=7.6`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ value: 'v' }),
        }),
      ),
    );
    const created = puts.filter((response) => response.status === 200).length;
    const throttled = puts.filter((response) => response.status === 429).length;
    const seconds = (Date.now() - started) / 1000;
    assert.equal(created + throttled, 700);
    // 300 at once, then the bucket refills at 30 a second while the requests arrive.
    assert.ok(created >= 300 && created <= 300 + 30 * seconds + 1, `${created} created in ${seconds} s`);
    assert.ok(throttled > 0, `${created} created, ${throttled} throttled`);
  });
});
