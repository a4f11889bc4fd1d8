import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { StoreCheckReport } from '../../src/core/store-check.js';
import { cofferCli } from '../helpers/coffer-cli.js';
import { allRows, keysUnder, readRow, writeRow } from '../helpers/data-dir.js';
import { copyOfDevStore, spawnCoffer, startDevServer } from '../helpers/server-process.js';

const LEAF_INDEX_PAGE = 0x0a;
/** Rows that are not barrier records: read before unsealing, or the keyring under the root key. */
const PLAIN_ROWS = ['core/seal-config', 'core/root-key', 'core/keyring', 'core/init-pending'];

/**
 * Breaks one b-tree leaf page of a stopped server's coffer.db the way a bad sector or a stray
 * write does: its first cell pointer now points outside the page. Returns the page number.
 */
function damageLeafPage(dataDir: string): number {
  const file = path.join(dataDir, 'coffer.db');
  const bytes = readFileSync(file);
  const pageSize = bytes.readUInt16BE(16);
  for (let page = 2; page * pageSize <= bytes.length; page++) {
    const start = (page - 1) * pageSize;
    if (bytes[start] !== LEAF_INDEX_PAGE) continue;
    bytes[start + 8]! ^= 0xff;
    bytes[start + 9]! ^= 0xff;
    writeFileSync(file, bytes);
    return page;
  }
  throw new Error('no leaf page found');
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

async function check(dataDir: string, args: string[] = []) {
  const result = await cofferCli(dataDir, ['operator', 'check', ...args, '--output', 'json']);
  return { ...result, report: JSON.parse(result.stdout || '{}') as StoreCheckReport };
}

/**
 * Damage is found by Coffer, not by its users (issue 11, finding 9): a damaged page refuses the
 * start; `coffer operator check` reads every record.
 */
describe('a damaged store', () => {
  it('a damaged page is found at start: refused with how to restore, and the file left as it was', async () => {
    const dataDir = await copyOfDevStore();
    damageLeafPage(dataDir);
    const before = sha256(path.join(dataDir, 'coffer.db'));

    const refused = spawnCoffer(['server', '--dev', '--data-dir', dataDir, '--port', '0']);
    assert.notEqual(await refused.waitForExit(), 0, refused.output);
    assert.match(refused.output, /coffer\.db is damaged: SQLite's quick_check found/);
    assert.match(refused.output, /restore the data directory from the latest backup/);
    assert.doesNotMatch(refused.output, /listening/i);
    assert.equal(sha256(path.join(dataDir, 'coffer.db')), before, 'the damaged file is kept as it was');

    const offline = await check(dataDir, ['--data-dir', dataDir]);
    assert.equal(offline.code, 1, offline.stderr);
    assert.equal(offline.report.file?.ok, false);
    assert.ok(offline.report.file!.problems.length > 0);
    assert.match(offline.stderr, /coffer: the store is damaged/);
  });

  it('coffer operator check passes an intact store and names a record whose bytes changed', async () => {
    const dataDir = await copyOfDevStore();
    const server = await startDevServer({ dataDir });
    const intact = await check(dataDir);
    assert.equal(intact.code, 0, intact.stderr);
    assert.equal(intact.report.ok, true);
    assert.equal(intact.report.file?.ok, true);
    const records = [...allRows(dataDir).keys()].filter((key) => !PLAIN_ROWS.includes(key));
    assert.equal(intact.report.records.checked, records.length, 'every record was read');
    assert.deepEqual(intact.report.records.failed, []);
    assert.match(
      intact.stderr,
      /Checking records: 100% \(\d+ of \d+ records\)/,
      'progress as plain lines when not on a terminal',
    );
    assert.equal(await server.stop('SIGTERM'), 0);

    // One flipped bit in a value: SQLite sees nothing wrong, the record's authentication tag does.
    const damaged = keysUnder(dataDir, 'data/').find((key) => key.includes('/secrets-versions/kept/'))!;
    const row = readRow(dataDir, damaged)!;
    row[row.length - 5]! ^= 0x10;
    writeRow(dataDir, damaged, row);
    const again = await startDevServer({ dataDir });
    try {
      const found = await check(dataDir);
      assert.equal(found.code, 1, found.stderr);
      assert.equal(found.report.file?.ok, true);
      assert.deepEqual(found.report.records.failed, [damaged]);
      assert.equal(found.report.ok, false);
      assert.match(found.stderr, /restore the data dir from a backup/);
    } finally {
      assert.equal(await again.stop('SIGTERM'), 0);
    }
  });
});
