import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { copyOfDevStore, spawnCoffer, startDevServer } from '../helpers/server-process.js';

const STORE_FILES = ['coffer.db', 'coffer.db-wal', 'coffer.db-shm'];

async function refusedStart(dataDir: string): Promise<string> {
  const server = spawnCoffer(['server', '--dev', '--data-dir', dataDir, '--port', '0']);
  assert.notEqual(await server.waitForExit(), 0, `the start was not refused:\n${server.output}`);
  return server.output;
}

/**
 * A store rolled back to an older copy is refused at start where it can be detected (issue 11,
 * finding 9): the commit counter sealed in the store is compared with the copy kept outside it.
 */
describe('rollback detection', () => {
  it('an older copy of coffer.db put back is refused; deleting the record on purpose accepts it', async () => {
    const dataDir = await copyOfDevStore();
    const copy = path.join(dataDir, 'coffer.db.old-copy');
    copyFileSync(path.join(dataDir, 'coffer.db'), copy);

    const second = await startDevServer({ dataDir });
    await second.secrets().setSecret('late', 'written after the copy');
    assert.equal(await second.stop('SIGTERM'), 0);
    const record = readFileSync(path.join(dataDir, 'commit-record.json'), 'utf8');

    for (const file of STORE_FILES) rmSync(path.join(dataDir, file), { force: true });
    copyFileSync(copy, path.join(dataDir, 'coffer.db'));
    const output = await refusedStart(dataDir);
    assert.match(
      output,
      /older than its commit record: it holds commit \d+, but .* shows commit \d+ was acknowledged/,
    );
    assert.match(output, /if you put this older copy back on purpose \(a restore\), delete/);
    assert.equal(
      readFileSync(path.join(dataDir, 'commit-record.json'), 'utf8'),
      record,
      'the record is kept',
    );

    // A restore on purpose: the operator deletes the record, and the older copy is served.
    rmSync(path.join(dataDir, 'commit-record.json'));
    const restored = await startDevServer({ dataDir });
    try {
      assert.equal((await restored.secrets().getSecret('kept')).value, 'still here');
      await assert.rejects(restored.secrets().getSecret('late'), { statusCode: 404 });
    } finally {
      assert.equal(await restored.stop('SIGTERM'), 0);
    }
  });

  it('a lost WAL after a crash (acknowledged commits gone) is refused', async () => {
    const dataDir = await copyOfDevStore();
    const second = await startDevServer({ dataDir });
    for (let index = 0; index < 5; index++) await second.secrets().setSecret(`acknowledged-${index}`, 'x');
    // Everything acknowledged is in the WAL; the crash leaves it there, and then it is lost.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await second.stop('SIGKILL'), null);
    rmSync(path.join(dataDir, 'coffer.db-wal'));
    rmSync(path.join(dataDir, 'coffer.db-shm'), { force: true });

    const output = await refusedStart(dataDir);
    assert.match(output, /acknowledged write\(s\) are missing/);
  });
});
