import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { SecretClient } from '@azure/keyvault-secrets';
import { API_VERSIONS } from '../src/http/api-version.js';
import { fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Azure's rules and errors for secrets, as a client sees them: limits, conflicts, not-found,
// disabled secrets, api-versions, malformed requests. No client mistake may produce a 5xx.

interface SdkError {
  statusCode?: number;
  code?: string;
  message: string;
}

/** Asserts that an SDK call fails with the given HTTP status and Azure error code. */
async function rejectsWith(
  promise: Promise<unknown>,
  statusCode: number,
  code: string,
  message?: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    const actual = error as SdkError;
    assert.equal(actual.statusCode, statusCode, `status of ${String(error)}`);
    assert.equal(actual.code, code, `code of ${String(error)}`);
    if (message !== undefined) assert.equal(actual.message, message);
    return true;
  });
}

/** Asserts the Azure error JSON `{"error": {"code", "message"}}` with the given status and code. */
function assertAzureError(response: RawResponse, status: number, code: string): void {
  assert.equal(response.status, status, response.text);
  const body = response.json() as { error?: { code?: unknown; message?: unknown } };
  assert.equal(body.error?.code, code, response.text);
  assert.equal(typeof body.error?.message, 'string', response.text);
  assert.ok((body.error?.message as string).length > 0);
}

const randomVersion = () => randomBytes(16).toString('hex');

describe('secrets: Azure rules and errors', () => {
  let server: DevServer;
  let client: SecretClient;
  let token: string;
  const poll = { intervalInMs: 20 };

  /** A raw request to the dev vault; `query` replaces the default api-version when given. */
  const raw = (
    method: string,
    path: string,
    options: { body?: string; query?: string; headers?: Record<string, string> } = {},
  ) =>
    rawRequest(`${server.facts.vaultUrl}${path}${options.query ?? '?api-version=7.6'}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        connection: 'close',
        ...options.headers,
      },
      body: options.body,
    });
  const deleteSecret = async (name: string) => (await client.beginDeleteSecret(name, poll)).pollUntilDone();

  before(async () => {
    server = await startDevServer();
    client = server.secrets();
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    token = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
  });
  after(async () => {
    await server.stop();
  });

  it('answers 400 to an update of an invalid secret name, and stays up (it used to crash the server)', async () => {
    // The fuzz suite found it: the name was checked after the update's transaction had started,
    // so that transaction's rejection went unhandled and ended the process.
    const name = encodeURIComponent('\u{4c35b}\u{1052c5}\u{3184a}');
    const response = await raw('PATCH', `/secrets/${name}/`, { body: JSON.stringify({ tags: { a: 'b' } }) });
    assert.equal(response.status, 400, response.text);
    assert.equal((await rawRequest(`${server.facts.url}/healthz`)).status, 200, 'the server is still up');
  });

  describe('not found', () => {
    it('answers 404 SecretNotFound for an unknown name, through every operation', async () => {
      await rejectsWith(client.getSecret('never-set'), 404, 'SecretNotFound');
      await rejectsWith(
        client.updateSecretProperties('never-set', '', { enabled: false }),
        404,
        'SecretNotFound',
      );
      await rejectsWith(client.beginDeleteSecret('never-set', poll), 404, 'SecretNotFound');
      await rejectsWith(client.backupSecret('never-set'), 404, 'SecretNotFound');
      await rejectsWith(client.getDeletedSecret('never-set'), 404, 'SecretNotFound');
      await rejectsWith(client.purgeDeletedSecret('never-set'), 404, 'SecretNotFound');
      await rejectsWith(client.beginRecoverDeletedSecret('never-set', poll), 404, 'SecretNotFound');
    });

    it('answers 404 SecretNotFound for an unknown version of a known secret', async () => {
      await client.setSecret('known', 'x');
      await rejectsWith(client.getSecret('known', { version: randomVersion() }), 404, 'SecretNotFound');
      await rejectsWith(
        client.updateSecretProperties('known', randomVersion(), { enabled: false }),
        404,
        'SecretNotFound',
      );
      assertAzureError(await raw('GET', '/secrets/known/not-a-version'), 404, 'SecretNotFound');
      assert.equal((await client.getSecret('known')).value, 'x');
    });

    it('answers an unknown route with 404 and the Azure error JSON', async () => {
      assertAzureError(await raw('GET', '/nothing-here'), 404, 'NotFound');
      assertAzureError(await raw('GET', '/secrets/known/versions/extra'), 404, 'NotFound');
      assertAzureError(await raw('POST', '/secrets/known/rotate'), 404, 'NotFound');
    });
  });

  describe('disabled secrets', () => {
    it('refuses to read a disabled secret with 403 Forbidden', async () => {
      const stored = await client.setSecret('disabled', 'hidden', { enabled: false });
      const message = 'Operation get is not allowed on a disabled secret.';
      await rejectsWith(client.getSecret('disabled'), 403, 'Forbidden', message);
      await rejectsWith(
        client.getSecret('disabled', { version: stored.properties.version! }),
        403,
        'Forbidden',
      );
      const response = await raw('GET', '/secrets/disabled/');
      assertAzureError(response, 403, 'Forbidden');
      assert.ok(!response.text.includes('hidden'), 'the answer does not carry the value');

      const listed: boolean[] = [];
      for await (const properties of client.listPropertiesOfSecrets()) {
        if (properties.name === 'disabled') listed.push(properties.enabled ?? true);
      }
      assert.deepEqual(listed, [false], 'a disabled secret is still listed, as disabled');
    });
  });

  describe('names', () => {
    it('accepts 1 and 127 characters of letters, digits and hyphens', async () => {
      const longest = `A-${'z9'.repeat(62)}X`;
      assert.equal(longest.length, 127);
      for (const name of ['a', '7', longest]) {
        await client.setSecret(name, `value of ${name}`);
        assert.equal((await client.getSecret(name)).value, `value of ${name}`);
      }
    });

    it('rejects 128 characters and characters outside [0-9a-zA-Z-] with 400 BadParameter', async () => {
      await rejectsWith(client.setSecret('b'.repeat(128), 'x'), 400, 'BadParameter');
      for (const name of ['bad_name', 'dot.name', 'space name', 'naïve']) {
        await rejectsWith(client.setSecret(name, 'x'), 400, 'BadParameter');
      }
    });
  });

  describe('limits', () => {
    it('takes a value of exactly 25 KB and refuses one byte more', async () => {
      const max = 'v'.repeat(25 * 1024);
      await client.setSecret('big', max);
      assert.equal((await client.getSecret('big')).value, max);
      await rejectsWith(client.setSecret('big', `${max}v`), 400, 'BadParameter');
    });

    it('counts the value in UTF-8 bytes, not characters', async () => {
      const max = 'é'.repeat((25 * 1024) / 2);
      await client.setSecret('wide', max);
      assert.equal((await client.getSecret('wide')).value, max);
      await rejectsWith(client.setSecret('wide', `${max}é`), 400, 'BadParameter');
    });

    it('takes 15 tags and refuses 16, on set and on update', async () => {
      const tags = (count: number) =>
        Object.fromEntries(Array.from({ length: count }, (_, i) => [`t${i}`, `${i}`]));
      await client.setSecret('tagged', 'x', { tags: tags(15) });
      assert.deepEqual((await client.getSecret('tagged')).properties.tags, tags(15));
      await rejectsWith(client.setSecret('tagged', 'x', { tags: tags(16) }), 400, 'BadParameter');
      await rejectsWith(client.updateSecretProperties('tagged', '', { tags: tags(16) }), 400, 'BadParameter');
      assert.deepEqual(
        (await client.getSecret('tagged')).properties.tags,
        tags(15),
        'a refused update changes nothing',
      );
    });

    it('takes a contentType of 255 characters and refuses 256', async () => {
      await client.setSecret('typed', 'x', { contentType: 'c'.repeat(255) });
      assert.equal((await client.getSecret('typed')).properties.contentType, 'c'.repeat(255));
      await rejectsWith(
        client.setSecret('typed', 'x', { contentType: 'c'.repeat(256) }),
        400,
        'BadParameter',
      );
      await rejectsWith(
        client.updateSecretProperties('typed', '', { contentType: 'c'.repeat(256) }),
        400,
        'BadParameter',
      );
    });
  });

  describe('conflicts', () => {
    it('refuses to set a name that is soft-deleted with 409 Conflict', async () => {
      await client.setSecret('in-limbo', 'x');
      await deleteSecret('in-limbo');
      await rejectsWith(client.setSecret('in-limbo', 'y'), 409, 'Conflict');
      await rejectsWith(client.setSecret('IN-LIMBO', 'y'), 409, 'Conflict');
    });

    it('refuses to restore over a soft-deleted or a live secret with 409', async () => {
      await client.setSecret('restore-conflict', 'original');
      const blob = await client.backupSecret('restore-conflict');
      assert.ok(blob);
      await rejectsWith(client.restoreSecretBackup(blob), 409, 'Conflict');
      await deleteSecret('restore-conflict');
      await rejectsWith(client.restoreSecretBackup(blob), 409, 'Conflict');
      await client.purgeDeletedSecret('restore-conflict');
      await client.restoreSecretBackup(blob);
      assert.equal((await client.getSecret('restore-conflict')).value, 'original');
    });

    it('refuses a tampered backup blob with 400', async () => {
      await client.setSecret('tamper', 'x');
      const blob = await client.backupSecret('tamper');
      assert.ok(blob);
      await deleteSecret('tamper');
      await client.purgeDeletedSecret('tamper');
      for (const index of [0, Math.floor(blob.length / 2), blob.length - 1]) {
        const tampered = Uint8Array.from(blob);
        tampered[index] = (tampered[index] ?? 0) ^ 0x01;
        await rejectsWith(client.restoreSecretBackup(tampered), 400, 'BadParameter');
      }
      await rejectsWith(client.restoreSecretBackup(blob.subarray(0, blob.length - 1)), 400, 'BadParameter');
      await rejectsWith(client.getSecret('tamper'), 404, 'SecretNotFound');
      await client.restoreSecretBackup(blob);
      assert.equal((await client.getSecret('tamper')).value, 'x', 'the untouched blob still restores');
    });
  });

  describe('api-version', () => {
    before(async () => {
      await client.setSecret('versions-ok', 'x');
    });

    it('accepts every api-version of the table, previews and the old GA versions included', async () => {
      for (const { version } of API_VERSIONS) {
        const response = await raw('GET', '/secrets/versions-ok', { query: `?api-version=${version}` });
        assert.equal(response.status, 200, `api-version ${version}: ${response.text}`);
        assert.equal((response.json() as { value: string }).value, 'x');
      }
    });

    it('answers a missing or unknown api-version with 400 and the Azure error JSON', async () => {
      for (const query of [
        '',
        '?api-version=',
        '?api-version=7.7',
        '?api-version=2016-10-02',
        '?api-version=7.4-preview.2',
        '?apiversion=7.6',
      ]) {
        assertAzureError(await raw('GET', '/secrets/versions-ok', { query }), 400, 'BadParameter');
      }
      const put = await raw('PUT', '/secrets/versions-ok', { query: '', body: '{"value":"changed"}' });
      assertAzureError(put, 400, 'BadParameter');
      assert.equal((await client.getSecret('versions-ok')).value, 'x', 'a refused request changes nothing');
    });
  });

  describe('malformed requests', () => {
    before(async () => {
      await client.setSecret('target', 'unchanged');
    });

    it('answers invalid JSON with 400 BadParameter', async () => {
      for (const body of ['{"value":', '{value: "x"}', "{'value':'x'}", '']) {
        assertAzureError(await raw('PUT', '/secrets/malformed', { body }), 400, 'BadParameter');
      }
      assertAzureError(await raw('PATCH', '/secrets/target', { body: '{"tags":' }), 400, 'BadParameter');
    });

    it('answers a wrong-typed field with 400 BadParameter', async () => {
      const bodies = [
        { value: 'x', attributes: { enabled: 'yes' } },
        { value: 42 },
        { value: 'x', contentType: 7 },
        { value: 'x', tags: { a: 1 } },
        { value: 'x', attributes: { nbf: '2024-01-01' } },
        { value: 'x', attributes: { exp: 1.5 } },
      ];
      for (const body of bodies) {
        assertAzureError(
          await raw('PUT', '/secrets/typed-field', { body: JSON.stringify(body) }),
          400,
          'BadParameter',
        );
      }
      const patch = await raw('PATCH', '/secrets/target', { body: '{"attributes":{"enabled":"yes"}}' });
      assertAzureError(patch, 400, 'BadParameter');
      await rejectsWith(client.getSecret('typed-field'), 404, 'SecretNotFound');
    });

    it('never answers a client mistake with a 5xx', async () => {
      const longName = 'n'.repeat(4000);
      const requests: Array<
        [string, string, { body?: string; query?: string; headers?: Record<string, string> }]
      > = [
        ['PUT', '/secrets/m', { body: '{"value":"x"' }],
        ['PUT', '/secrets/m', { body: 'null' }],
        ['PATCH', '/secrets/target', { body: 'null' }],
        ['PUT', '/secrets/m', { body: '[]' }],
        ['PUT', '/secrets/m', { body: '[{"value":"x"}]' }],
        ['PUT', '/secrets/m', { body: '"just a string"' }],
        ['PUT', '/secrets/m', { body: '{"value":["x"]}' }],
        ['PUT', '/secrets/m', { body: '{"value":{"nested":"x"}}' }],
        ['PUT', '/secrets/m', { body: '{"value":"x","tags":[]}' }],
        ['PUT', '/secrets/m', { body: '{"value":"x","tags":["a","b"]}' }],
        ['PUT', '/secrets/m', { body: '{"value":"x","tags":{"":"empty name"}}' }],
        ['PUT', '/secrets/m', { body: '{"value":"x","tags":{"__proto__":{"polluted":"yes"}}}' }],
        ['PUT', '/secrets/m', { body: '{"value":"x","attributes":[]}' }],
        ['PUT', '/secrets/m', { body: '{"value":"x","attributes":"enabled"}' }],
        ['PUT', '/secrets/m', { body: '{"value":"x","attributes":{"nbf":1e300}}' }],
        ['PUT', '/secrets/m', { body: '{"value":"x","attributes":{"nbf":1e400}}' }],
        ['PUT', '/secrets/m', { body: '{"value":"x","attributes":{"exp":-1e300}}' }],
        ['PUT', '/secrets/m', { body: '{"value":"x","attributes":{"nbf":99999999999999999999999}}' }],
        ['PUT', '/secrets/m', { body: '{"value":"x","attributes":{"nbf":2000000000,"exp":1000000000}}' }],
        ['PATCH', '/secrets/target', { body: '{"attributes":{"exp":1e300}}' }],
        ['PUT', '/secrets/m', { body: '{"value":"x"}', headers: { 'content-type': 'text/plain' } }],
        ['PUT', '/secrets/m', { body: '{"value":"x"}', headers: { 'content-type': 'application/xml' } }],
        ['PUT', '/secrets/%F0%9F%94%91', { body: '{"value":"x"}' }],
        ['PUT', '/secrets/%C3%A9t%C3%A9', { body: '{"value":"x"}' }],
        ['GET', '/secrets/%E0%A4%A', {}],
        ['GET', '/secrets/%00', {}],
        ['GET', '/secrets/..%2F..%2Fvaults', {}],
        ['GET', '/deletedsecrets/%F0%9F%94%91', {}],
        ['GET', `/secrets/${longName}`, {}],
        ['GET', `/secrets/target/${longName}`, {}],
        ['PUT', `/secrets/${longName}`, { body: '{"value":"x"}' }],
        ['GET', '/secrets', { query: '?api-version=7.6&maxresults=abc' }],
        ['GET', '/secrets', { query: `?api-version=7.6&maxresults=${'9'.repeat(400)}` }],
        ['GET', '/secrets', { query: '?api-version=7.6&maxresults=-1' }],
        ['GET', '/secrets', { query: '?api-version=7.6&maxresults=2.5' }],
        ['GET', '/secrets', { query: '?api-version=7.6&maxresults=1&maxresults=2' }],
        ['GET', '/secrets', { query: '?api-version=7.6&$skiptoken=%00%01' }],
        ['GET', '/secrets', { query: '?api-version=7.6&$skiptoken=a&$skiptoken=b' }],
        ['GET', '/secrets/target/versions', { query: `?api-version=7.6&$skiptoken=${'Lw'.repeat(50)}` }],
        ['GET', '/secrets/target', { query: '?api-version=7.6&api-version=7.5' }],
        ['POST', '/secrets/restore', { body: '{}' }],
        ['POST', '/secrets/restore', { body: '{"value":""}' }],
        ['POST', '/secrets/restore', { body: '{"value":"not base64 !!"}' }],
        ['POST', '/secrets/restore', { body: '{"value":12}' }],
        ['POST', '/secrets/restore', { body: '{"value":"Q0ZCMQ"}' }],
        ['POST', '/secrets/restore', { body: JSON.stringify({ value: 'A'.repeat(300_000) }) }],
        ['PUT', '/secrets/m', { body: JSON.stringify({ value: 'x'.repeat(400_000) }) }],
        ['DELETE', '/secrets', {}],
        ['PUT', '/secrets', { body: '{"value":"x"}' }],
      ];
      for (const [method, path, options] of requests) {
        const response = await raw(method, path, options);
        assert.ok(
          response.status >= 400 && response.status < 500,
          `${method} ${path.slice(0, 60)} ${options.query ?? ''} ${options.body?.slice(0, 80) ?? ''}: ${response.status} ${response.text.slice(0, 200)}`,
        );
      }
      const ready = await rawRequest(`${server.facts.url}/readyz`);
      assert.equal(ready.status, 200, 'the server is still serving');
      await rejectsWith(client.getSecret('m'), 404, 'SecretNotFound');
      const target = await client.getSecret('target');
      assert.equal(target.value, 'unchanged');
      assert.equal(target.properties.expiresOn, undefined, 'no refused update was applied');
    });
  });
});
