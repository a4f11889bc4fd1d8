import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { allRows, deleteRow, readRow, writeRow } from '../helpers/data-dir.js';
import { copyOfDevStore, spawnCoffer, startDevServer } from '../helpers/server-process.js';

/** A dev start on an existing data dir that must be refused: its exit code and what it printed. */
async function refusedStart(dataDir: string): Promise<string> {
  const server = spawnCoffer(['server', '--dev', '--data-dir', dataDir, '--port', '0']);
  const code = await server.waitForExit();
  assert.notEqual(code, 0, `the start was not refused:\n${server.output}`);
  return server.output;
}

/**
 * Initialisation never runs over an existing store (issue 11, finding 7 and item 10): losing the
 * plaintext seal configuration, the store or the dev unseal key is refused with a way to recover,
 * and the refusal changes nothing.
 */
describe('initialisation refuses to overwrite', () => {
  it('a store that lost core/seal-config: refused, nothing changed; with the row back every secret reads again', async () => {
    const dataDir = await copyOfDevStore();
    const sealConfig = readRow(dataDir, 'core/seal-config')!;
    deleteRow(dataDir, 'core/seal-config');
    const rowsBefore = allRows(dataDir);
    const keyBefore = readFileSync(path.join(dataDir, 'unseal.key'));

    const output = await refusedStart(dataDir);
    assert.match(output, /no seal configuration/);
    assert.match(output, /Restore the data directory from a backup/);
    assert.deepEqual(
      allRows(dataDir),
      rowsBefore,
      'not one row changed: the keyring and root key are intact',
    );
    assert.ok(
      readFileSync(path.join(dataDir, 'unseal.key')).equals(keyBefore),
      'the unseal key is unchanged',
    );

    writeRow(dataDir, 'core/seal-config', sealConfig);
    const again = await startDevServer({ dataDir });
    try {
      assert.equal((await again.secrets().getSecret('kept')).value, 'still here');
    } finally {
      assert.equal(await again.stop('SIGTERM'), 0);
    }
  });

  it('a deleted coffer.db with the unseal key present: refused, not replaced by an empty store', async () => {
    const dataDir = await copyOfDevStore();
    const keyBefore = readFileSync(path.join(dataDir, 'unseal.key'));
    for (const file of ['coffer.db', 'coffer.db-wal', 'coffer.db-shm'])
      rmSync(path.join(dataDir, file), { force: true });

    const output = await refusedStart(dataDir);
    assert.match(output, /coffer\.db\) is missing or empty/);
    assert.ok(
      readFileSync(path.join(dataDir, 'unseal.key')).equals(keyBefore),
      'the unseal key is unchanged',
    );
    assert.equal(allRows(dataDir).size, 0, 'no new store was initialised');
  });

  it('a lost unseal.key with an initialised store: refused, and no new (wrong) key is left behind', async () => {
    const dataDir = await copyOfDevStore();
    const keyFile = path.join(dataDir, 'unseal.key');
    const key = readFileSync(keyFile);
    rmSync(keyFile);
    const rowsBefore = allRows(dataDir);

    const output = await refusedStart(dataDir);
    assert.match(output, /unseal key .* is missing/);
    assert.equal(existsSync(keyFile), false, 'no new key file');
    assert.deepEqual(allRows(dataDir), rowsBefore);

    // Putting the key back is the whole recovery.
    writeFileSync(keyFile, key, { mode: 0o600 });
    const again = await startDevServer({ dataDir });
    assert.equal(await again.stop('SIGTERM'), 0);
  });
});
