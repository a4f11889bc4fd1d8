import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { EMPTY_CHAIN, type ChainHead, linkRecord } from '../chain.js';
import { CLAIMS, type SpooledEntry } from '../record.js';
import { checkpointEntry, eventBody, newSigner } from '../test-log.js';
import { IndexDb } from './index-db.js';
import { IndexSink } from './index-sink.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'audit-index-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Requests by three callers on two objects over three days, and a checkpoint (not indexed). */
function sampleLog(): SpooledEntry[] {
  const entries: SpooledEntry[] = [];
  let head: ChainHead = EMPTY_CHAIN;
  const add = (entry: SpooledEntry) => {
    entries.push(entry);
    head = entry.record;
  };
  const request = (
    day: number,
    operation: string,
    who: Record<string, string>,
    object: string,
    status = 200,
    vault = 'dev',
  ) =>
    add(
      linkRecord(
        eventBody(operation, {
          time: `2026-11-${String(day).padStart(2, '0')}T10:00:00.000Z`,
          resourceId: `/vaults/${vault}`,
          resultType: status < 400 ? 'Success' : 'Failure',
          identity: { claim: who },
          properties: {
            id: `https://${vault}.vault.localhost/${object}`,
            requestUri: `https://${vault}.vault.localhost/${object}`,
            httpStatusCode: status,
            clientInfo: '',
          },
        }),
        head,
      ),
    );
  const alice = { [CLAIMS.objectId]: 'aaaa', [CLAIMS.upn]: 'Alice@Example.com' };
  const app = { [CLAIMS.objectId]: 'bbbb', [CLAIMS.appId]: 'app-b' };
  request(10, 'SecretGet', alice, 'secrets/payroll'); // 1
  request(11, 'SecretGet', app, 'secrets/payroll'); // 2
  request(11, 'SecretSet', app, 'secrets/other'); // 3
  add(checkpointEntry(newSigner(), head, 'interval')); // 4
  request(12, 'SecretGet', app, 'secrets/payroll', 403); // 5
  request(12, 'KeySign', alice, 'keys/payroll', 200, 'prod'); // 6
  return entries;
}

const sequences = (lines: string[]) =>
  lines.map((line) => (JSON.parse(line) as { sequence: number }).sequence);

describe('audit query index', () => {
  const file = path.join(scratch, 'index.db');
  const db = new IndexDb(file);
  const log = sampleLog();
  db.insert(
    log.filter((entry) => entry.record.category === 'AuditEvent').map((entry) => entry.line),
    6,
  );
  const query = (extra: object) => sequences(db.query({ order: 'asc', limit: 100, ...extra }));

  it('answers "who read secret payroll, and when" from the object and operation', () => {
    assert.deepEqual(query({ objects: ['secrets/payroll'], operation: 'secretget' }), [1, 2, 5]);
    assert.deepEqual(
      query({ objects: ['secrets/payroll', 'keys/payroll', 'certificates/payroll'] }),
      [1, 2, 5, 6],
    );
  });

  it('finds a caller by object id, client id or user principal name (any case)', () => {
    assert.deepEqual(query({ caller: 'aaaa' }), [1, 6]);
    assert.deepEqual(query({ caller: 'APP-B' }), [2, 3, 5]);
    assert.deepEqual(query({ caller: 'alice@example.com' }), [1, 6]);
  });

  it('filters by time, vault and result, pages with a cursor, and reads newest first', () => {
    assert.deepEqual(
      query({ since: Date.parse('2026-11-11'), until: Date.parse('2026-11-11T23:59:59Z') }),
      [2, 3],
    );
    assert.deepEqual(query({ resource: '/vaults/prod' }), [6]);
    assert.deepEqual(query({ result: 'Failure' }), [5]);
    assert.deepEqual(query({ result: '403' }), [5]);
    assert.deepEqual(query({ limit: 2 }), [1, 2]);
    assert.deepEqual(query({ limit: 2, cursor: 2 }), [3, 5]);
    assert.deepEqual(query({ order: 'desc', limit: 2 }), [6, 5]);
  });

  it('keeps its cursor with its rows, and its file private', () => {
    assert.equal(db.cursor(), 6);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    db.close();
    const reopened = new IndexDb(file);
    assert.equal(reopened.cursor(), 6);
    reopened.close();
  });

  it('runs on a worker thread as a sink', async () => {
    const sink = new IndexSink(path.join(scratch, 'worker.db'));
    assert.equal(await sink.start(), 0);
    await sink.deliver(sampleLog());
    assert.equal(await sink.start(), 6, 'the cursor covers the checkpoint too');
    assert.deepEqual(sequences(await sink.query({ caller: 'aaaa', order: 'asc', limit: 10 })), [1, 6]);
    await sink.close();
  });
});
