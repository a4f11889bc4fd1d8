import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createPublicKey } from 'node:crypto';
import { AuditBroker } from './broker.js';
import type { SpooledRecord } from './record.js';
import { segmentName } from './spool-files.js';
import { Spool } from './spool.js';
import { eventBody, newSigner } from './test-log.js';
import { LogVerifier } from './verify.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'audit-broker-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;

async function newBroker(
  options: { failClosed?: boolean; checkpointIntervalMs?: number; segmentBytes?: number } = {},
) {
  const dir = path.join(scratch, `case-${++count}`);
  const logged: Array<{ level: string; message: string; details: object }> = [];
  const log = (level: string) => (details: object, message: string) =>
    logged.push({ level, message, details });
  const spool = await Spool.open({
    dir: path.join(dir, 'spool'),
    segmentBytes: options.segmentBytes ?? 1 << 20,
    sync: 'always',
  });
  const broker = new AuditBroker({
    spool,
    sinks: [],
    cursorDir: path.join(dir, 'cursors'),
    log: { info: log('info'), warn: log('warn'), error: log('error') },
    failClosed: options.failClosed ?? true,
    checkpointIntervalMs: options.checkpointIntervalMs ?? 3_600_000,
  });
  await broker.start();
  return { broker, dir, logged, spoolDir: path.join(dir, 'spool') };
}

const spooled = (spoolDir: string) =>
  readdirSync(spoolDir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .flatMap((name) => readFileSync(path.join(spoolDir, name), 'utf8').split('\n').filter(Boolean));

describe('audit broker', () => {
  it('tells subscribers each record once it is durable, in order', async () => {
    const { broker, spoolDir } = await newBroker();
    const heard: Array<{ sequence: number; onDisk: boolean }> = [];
    broker.subscribe((record) => {
      heard.push({
        sequence: record.sequence,
        onDisk: spooled(spoolDir).some((line) => line.includes(record.hash)),
      });
    });
    await Promise.all([
      broker.record(eventBody('A')),
      broker.record(eventBody('B')),
      broker.record(eventBody('C')),
    ]);
    assert.deepEqual(
      heard,
      [1, 2, 3].map((sequence) => ({ sequence, onDisk: true })),
    );
    await broker.close(100);
  });

  it('signs checkpoints on unseal, at the interval when records came, at seal and shutdown: a log verify accepts', async () => {
    const { broker, spoolDir } = await newBroker({ checkpointIntervalMs: 50 });
    const signer = newSigner();
    await broker.record(eventBody('WhileSealed'));
    await broker.setSigner(signer, 'start');
    await broker.record(eventBody('Unsealed'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await broker.setSigner(undefined, 'seal');
    await broker.close(100);
    const records = spooled(spoolDir).map((line) => JSON.parse(line) as SpooledRecord & { reason?: string });
    const reasons = records
      .filter((record) => record.category === 'AuditCheckpoint')
      .map((record) => record.reason);
    assert.deepEqual(
      reasons,
      ['start', 'interval', 'seal'],
      'no interval checkpoint without new records; none after sealing',
    );
    const verifier = new LogVerifier({ publicKeys: [createPublicKey(signer.publicKeyPem)] });
    spooled(spoolDir).forEach((line, index) => verifier.feed('spool', index + 1, line));
    assert.equal(verifier.finish().problem, undefined);
  });

  it('fails closed while the spool cannot be written, logs why once, and records the outage when it can again', async () => {
    const { broker, spoolDir, logged } = await newBroker({ failClosed: true, segmentBytes: 1 });
    await broker.record(eventBody('Before'));
    symlinkSync('/dev/full', path.join(spoolDir, segmentName(2)));
    await assert.rejects(broker.record(eventBody('Refused')));
    assert.equal(broker.accepting, false, 'requests are refused from now on');
    broker.refusedRequest();
    broker.refusedRequest();
    const errors = logged.filter((line) => line.level === 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /refused with 503/);
    assert.equal(
      (errors[0]!.details as { reason?: string }).reason,
      'the disk under the audit spool is full',
    );
    assert.equal(broker.stats().outage?.code, 'ENOSPC');

    unlinkSync(path.join(spoolDir, segmentName(2)));
    const deadline = Date.now() + 5000;
    while (!broker.accepting && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(broker.accepting, true, 'the probe found the spool writable again');
    const outage = spooled(spoolDir).map(
      (line) => JSON.parse(line) as { operationName?: string; resultDescription?: string },
    );
    const note = outage.find((record) => record.operationName === 'AuditLogUnavailable');
    assert.ok(note, 'the outage is on record');
    assert.match(note.resultDescription!, /\(ENOSPC\): 2 request\(s\) refused/);
    assert.equal(broker.stats().refusedRequests, 2);
    await broker.close(100);
  });

  it('fails open when told to: accepting stays true, lost records are counted', async () => {
    const { broker, spoolDir, logged } = await newBroker({ failClosed: false, segmentBytes: 1 });
    await broker.record(eventBody('Before'));
    symlinkSync('/dev/full', path.join(spoolDir, segmentName(2)));
    await assert.rejects(broker.record(eventBody('Lost')));
    broker.lostRecord();
    assert.equal(broker.accepting, true);
    assert.match(logged.find((line) => line.level === 'error')!.message, /WITHOUT audit records/);
    assert.equal(broker.stats().lostRecords, 1);
    unlinkSync(path.join(spoolDir, segmentName(2)));
    await broker.close(100);
  });
});
