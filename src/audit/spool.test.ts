import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  appendFileSync,
  statSync,
} from 'node:fs';
import { unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { linkRecord } from './chain.js';
import { segmentName } from './spool-files.js';
import { Spool, SpoolWriteError } from './spool.js';
import { eventBody } from './test-log.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'audit-spool-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;
const freshDir = () => path.join(scratch, `spool-${++count}`);
const open = (dir: string, extra: Partial<Parameters<typeof Spool.open>[0]> = {}) =>
  Spool.open({ dir, segmentBytes: 1024 * 1024, sync: 'always', ...extra });
const append = (spool: Spool, name: string) => spool.append((head) => linkRecord(eventBody(name), head));
const fileLines = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .flatMap((name) => readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean))
    .map(
      (line) =>
        JSON.parse(line) as { sequence: number; operationName?: string; previousHash: string; hash: string },
    );

describe('audit spool', () => {
  it('acknowledges a record only once it is in the file, and groups concurrent appends into one write', async () => {
    const dir = freshDir();
    const spool = await open(dir);
    const batches: number[] = [];
    spool.onDurable((entries) => batches.push(entries.length));
    const entries = await Promise.all(Array.from({ length: 200 }, (_, index) => append(spool, `Op${index}`)));
    assert.deepEqual(
      entries.map((entry) => entry.record.sequence),
      Array.from({ length: 200 }, (_, index) => index + 1),
    );
    const onDisk = fileLines(dir);
    assert.equal(onDisk.length, 200, 'every acknowledged record is on disk');
    for (let index = 1; index < onDisk.length; index++)
      assert.equal(onDisk[index]!.previousHash, onDisk[index - 1]!.hash);
    assert.ok(batches.length < 20, `200 concurrent appends shared few writes (${batches.length})`);
    await spool.close();
  });

  it('with changes: acknowledges a read once written and a change once synced; readers hear both after the sync', async () => {
    const dir = freshDir();
    const spool = await open(dir, { sync: 'changes', syncIntervalMs: 30 });
    const heard: number[] = [];
    spool.onDurable((entries) => heard.push(...entries.map((entry) => entry.record.sequence)));
    const read = await spool.append((head) => linkRecord(eventBody('SecretGet'), head), false);
    assert.equal(
      fileLines(dir).length,
      1,
      'in the file (the page cache) when acknowledged: kill -9 keeps it',
    );
    assert.deepEqual(heard, [], 'not handed to readers before it is synced');
    assert.deepEqual((await spool.read(0, 10)).entries, []);
    const started = Date.now();
    while (heard.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(Date.now() - started < 1000, 'synced within the interval');
    assert.deepEqual(heard, [read.record.sequence]);
    const change = await spool.append((head) => linkRecord(eventBody('SecretSet'), head), true);
    assert.deepEqual(heard, [1, 2], 'a change is acknowledged only after the sync that hands it to readers');
    assert.equal(change.record.previousHash, read.record.hash);
    await spool.close();
  });

  it('with never: acknowledges and hands out each record once written', async () => {
    const dir = freshDir();
    const spool = await open(dir, { sync: 'never' });
    const heard: number[] = [];
    spool.onDurable((entries) => heard.push(...entries.map((entry) => entry.record.sequence)));
    await append(spool, 'One');
    assert.deepEqual(heard, [1]);
    assert.equal(fileLines(dir).length, 1);
    await spool.close();
  });

  it('continues the chain after a restart and drops a line a crash cut short', async () => {
    const dir = freshDir();
    const first = await open(dir);
    await append(first, 'One');
    const last = await append(first, 'Two');
    await first.close();
    // A crash in the middle of a write leaves part of a line, never acknowledged.
    const segment = path.join(dir, segmentName(1));
    appendFileSync(segment, '{"category":"AuditEvent","seq');
    const reopened = await open(dir);
    assert.deepEqual(reopened.head, { sequence: 2, hash: last.record.hash });
    const third = await append(reopened, 'Three');
    assert.equal(third.record.previousHash, last.record.hash);
    await reopened.close();
    assert.deepEqual(
      fileLines(dir).map((record) => record.operationName),
      ['One', 'Two', 'Three'],
    );
  });

  it('rejects a batch it cannot write (a full disk), keeps no part of it, and recovers', async () => {
    const dir = freshDir();
    const spool = await open(dir);
    const one = await append(spool, 'One');
    await spool.close();
    // The next segment is a device where every write fails with ENOSPC, as on a full disk.
    const reopened = await open(dir, { segmentBytes: 1 });
    const next = path.join(dir, segmentName(2));
    symlinkSync('/dev/full', next);
    await assert.rejects(append(reopened, 'Lost'), (error: unknown) => {
      assert.ok(error instanceof SpoolWriteError);
      assert.equal(error.code, 'ENOSPC');
      return true;
    });
    assert.equal(reopened.head.sequence, 1, 'the chain did not move');
    await unlink(next);
    const two = await append(reopened, 'Two');
    assert.equal(two.record.sequence, 2);
    assert.equal(two.record.previousHash, one.record.hash);
    await reopened.close();
    assert.deepEqual(
      fileLines(dir).map((record) => record.operationName),
      ['One', 'Two'],
    );
  });

  it('with changes: a failed sync refuses the change that waited, reports the read answered before it, and the chain resumes from the last sync', async () => {
    const dir = freshDir();
    await (await open(dir)).close();
    // The first segment takes every write and refuses every sync, as a failing disk may.
    const segment = path.join(dir, segmentName(1));
    symlinkSync('/dev/null', segment);
    const spool = await open(dir, { sync: 'changes', syncIntervalMs: 10_000 });
    const lost: number[] = [];
    spool.onSyncFailure = (_error, acknowledgedLost) => lost.push(acknowledgedLost);
    const read = await spool.append((head) => linkRecord(eventBody('SecretGet'), head), false);
    assert.equal(read.record.sequence, 1, 'a read is answered once written');
    await assert.rejects(
      spool.append((head) => linkRecord(eventBody('SecretSet'), head), true),
      SpoolWriteError,
    );
    assert.deepEqual(lost, [1], 'the read answered before the failed sync is reported lost');
    assert.equal(spool.head.sequence, 0, 'the chain is back at the last good sync');
    await unlink(segment);
    const one = await spool.append((head) => linkRecord(eventBody('One'), head), true);
    assert.equal(one.record.sequence, 1);
    await spool.close();
    assert.deepEqual(
      fileLines(dir).map((record) => record.operationName),
      ['One'],
    );
  });

  it('rolls segments, reads old records from disk, and deletes segments every reader has consumed', async () => {
    const dir = freshDir();
    const spool = await open(dir, { segmentBytes: 2000, recentLimit: 3 });
    for (let index = 1; index <= 20; index++) await append(spool, `Op${index}`);
    const segments = readdirSync(dir).filter((name) => name.endsWith('.jsonl'));
    assert.ok(segments.length > 3, `several segments (${segments.length})`);
    const fromDisk = await spool.read(4, 5);
    assert.deepEqual(
      fromDisk.entries.map((entry) => entry.record.sequence),
      [5, 6, 7, 8, 9],
    );
    const next = await spool.read(9, 100, fromDisk.position);
    assert.deepEqual(
      next.entries.map((entry) => entry.record.sequence),
      Array.from({ length: 11 }, (_, index) => index + 10),
    );
    await spool.prune(12);
    const kept = readdirSync(dir).filter((name) => name.endsWith('.jsonl'));
    assert.ok(kept.length < segments.length, 'consumed segments are gone');
    const oldest = (await spool.read(0, 1)).entries[0]!.record.sequence;
    assert.ok(oldest <= 13, `records after the consumed point are kept (oldest ${oldest})`);
    await spool.close();
  });

  it('writes segments readable by the server user only', async () => {
    const dir = freshDir();
    const spool = await open(dir);
    await append(spool, 'One');
    await spool.close();
    assert.equal(statSync(path.join(dir, segmentName(1))).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    truncateSync(path.join(dir, segmentName(1)), 0);
    assert.deepEqual((await open(dir)).head.sequence, 0, 'an emptied spool starts a new chain');
  });

  it(
    'opens, and reads past, a segment that is not a regular file (it holds no records)',
    { timeout: 10_000 },
    async () => {
      const dir = freshDir();
      const damage: string[] = [];
      await (await open(dir)).close();
      symlinkSync('/dev/zero', path.join(dir, segmentName(1)));
      const spool = await open(dir, { onDamage: (message) => damage.push(message) });
      assert.match(damage[0]!, /not a regular file/);
      assert.deepEqual((await spool.read(0, 10)).entries, [], 'an endless device is not read');
      await spool.close();
    },
  );
});
