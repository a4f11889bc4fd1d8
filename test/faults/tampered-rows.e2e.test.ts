import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { keysUnder, readRow, writeRow } from '../helpers/data-dir.js';
import { adminToken, rawRequest } from '../helpers/http.js';
import { type DevServer, startDevServer } from '../helpers/server-process.js';

/** The one storage path that ends with `suffix` under a vault's data. */
function storagePath(dataDir: string, suffix: string): string {
  const found = keysUnder(dataDir, 'data/').filter((key) => key.endsWith(suffix));
  assert.equal(found.length, 1, `one row ends with ${suffix}: ${found.join(', ')}`);
  return found[0]!;
}

/**
 * A row changed on disk is refused, never served and never skipped in silence (issue 11,
 * finding 8): a listing that meets it answers 500 in Azure's shape, the server logs the row's
 * storage path (not its content), and the rest of the vault still reads.
 */
describe('tampered rows', () => {
  let server: DevServer;
  let secrets: SecretClient;
  let damagedPath: string;
  const values = new Map(
    Array.from({ length: 6 }, (_, index) => [`s${index}`, `value-${index}-${'q'.repeat(20)}`]),
  );

  before(async () => {
    const first = await startDevServer();
    for (const [name, value] of values) await first.secrets().setSecret(name, value);
    assert.equal(await first.stop('SIGTERM'), 0);
    const { dataDir } = first;
    // s2: one byte of its latest version's ciphertext flipped.
    const versionPath = keysUnder(dataDir, 'data/').find((key) => key.includes('/secrets-versions/s2/'))!;
    const flipped = readRow(dataDir, versionPath)!;
    flipped[flipped.length - 20]! ^= 0x40;
    writeRow(dataDir, versionPath, flipped);
    damagedPath = versionPath;
    // s4's head replaced by s3's: a row moved to another path must not be served there.
    writeRow(
      dataDir,
      storagePath(dataDir, '/secrets/s4'),
      readRow(dataDir, storagePath(dataDir, '/secrets/s3'))!,
    );

    server = await startDevServer({ dataDir });
    // No retries: a 500 is the answer under test, not a hiccup to ride out.
    secrets = new SecretClient(server.facts.vaultUrl, server.credential, { retryOptions: { maxRetries: 0 } });
  });

  after(async () => {
    assert.equal(await server.stop('SIGTERM'), 0);
  });

  it('a listing that meets a damaged record answers 500 in Azure shape instead of leaving it out', async () => {
    const token = await adminToken(server.facts);
    const response = await rawRequest(`${server.facts.vaultUrl}/secrets?api-version=7.6`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 500, response.text);
    assert.deepEqual(Object.keys((response.json() as { error: object }).error), ['code', 'message']);
    assert.equal((response.json() as { error: { code: string } }).error.code, 'InternalServerError');
    await assert.rejects(
      (async () => {
        for await (const _ of secrets.listPropertiesOfSecrets()) void _;
      })(),
      { statusCode: 500 },
    );
  });

  it('the damaged record and the moved row are refused, not served; the others still read', async () => {
    await assert.rejects(secrets.getSecret('s2'), { statusCode: 500 });
    await assert.rejects(secrets.getSecret('s4'), { statusCode: 500 });
    for (const name of ['s0', 's1', 's3', 's5']) {
      assert.equal((await secrets.getSecret(name)).value, values.get(name));
    }
  });

  it('the log names the damaged storage path and holds no secret value', async () => {
    const output = server.process.output;
    assert.ok(
      output
        .split('\n')
        .some((line) => line.includes('"fault":"integrityFailure"') && line.includes(damagedPath)),
      `a fault line names ${damagedPath}`,
    );
    for (const value of values.values()) assert.ok(!output.includes(value), 'no secret value in the log');
  });
});
