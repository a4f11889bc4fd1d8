import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CommitRecordFile, FLUSH_INTERVAL_MS, StoreRolledBack } from './commit-record.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CommitRecordFile', () => {
  let dir: string;
  let file: string;
  let warnings: string[];
  let record: CommitRecordFile;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-commits-'));
    file = path.join(dir, 'commit-record.json');
    warnings = [];
    record = new CommitRecordFile(file, (message) => warnings.push(message));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const onDisk = () => JSON.parse(readFileSync(file, 'utf8')) as unknown;

  it('starts a record where there is none, then follows each durable commit', async () => {
    record.verify({ storeId: 's', count: 7 });
    await tick();
    assert.deepEqual(onDisk(), { storeId: 's', count: 7 });
    record.committed({ storeId: 's', count: 8 });
    record.committed({ storeId: 's', count: 9 });
    // At most one write per FLUSH_INTERVAL_MS: the record may lag that long, never run ahead.
    await tick();
    assert.deepEqual(onDisk(), { storeId: 's', count: 7 });
    await new Promise((resolve) => setTimeout(resolve, FLUSH_INTERVAL_MS + 20));
    assert.deepEqual(onDisk(), { storeId: 's', count: 9 });
  });

  it('writes what is pending at once when stopped (seal, shutdown), whatever the interval', () => {
    record.verify({ storeId: 's', count: 1 });
    record.committed({ storeId: 's', count: 2 });
    record.stop();
    assert.deepEqual(onDisk(), { storeId: 's', count: 2 });
  });

  it('writes nothing before the store was verified (an initialisation in progress)', async () => {
    record.committed({ storeId: 's', count: 3 });
    await tick();
    assert.equal(record.exists(), false);
  });

  it('accepts the same or a newer store, refuses an older one, another one, or one without a record', () => {
    writeFileSync(file, JSON.stringify({ storeId: 's', count: 10 }));
    assert.doesNotThrow(() => record.verify({ storeId: 's', count: 10 }));
    assert.doesNotThrow(() => record.verify({ storeId: 's', count: 12 }));
    writeFileSync(file, JSON.stringify({ storeId: 's', count: 10 }));
    assert.throws(
      () => record.verify({ storeId: 's', count: 9 }),
      (error: unknown) => {
        assert.ok(error instanceof StoreRolledBack);
        assert.match(
          error.message,
          /holds commit 9, but .* shows commit 10 was acknowledged, so 1 acknowledged write/,
        );
        return true;
      },
    );
    assert.throws(() => record.verify({ storeId: 'other', count: 50 }), /not the one whose commits/);
    assert.throws(() => record.verify(undefined), /or no commit record at all/);
  });

  it('an unreadable record is replaced, with a warning', async () => {
    writeFileSync(file, '');
    record.verify({ storeId: 's', count: 2 });
    await tick();
    assert.deepEqual(onDisk(), { storeId: 's', count: 2 });
    assert.match(warnings.join('\n'), /could not be read/);
  });

  it('a record that cannot be written (a full disk) warns once and never fails the commit', async () => {
    record = new CommitRecordFile(path.join(dir, 'missing-dir', 'commit-record.json'), (message) =>
      warnings.push(message),
    );
    record.verify({ storeId: 's', count: 1 });
    record.committed({ storeId: 's', count: 2 });
    await tick();
    record.committed({ storeId: 's', count: 3 });
    await tick();
    assert.equal(warnings.filter((warning) => /could not be written/.test(warning)).length, 1);
  });
});
