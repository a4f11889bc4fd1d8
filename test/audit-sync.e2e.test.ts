import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { eventually, logFiles, readRecords, spoolRecords } from './helpers/audit.js';
import { credentialFor, type DevServer, startDevServer } from './helpers/server-process.js';

// With `audit.fsync: changes` (the default) a change's answer waits for its record's sync, a
// read's does not: its record is written before the answer (kill -9 keeps it) and synced within
// `audit.syncIntervalMs`. A key's cryptographic operations are POSTs that store nothing, so they
// are kept like reads. Sinks see a record only once it is synced, which is what this test watches,
// with a sync interval long enough (10 s) that "not yet" cannot be an accident of timing.

describe('audit.fsync changes: which answers wait for their record to be synced', () => {
  let server: DevServer;
  const SYNC_INTERVAL_MS = 10_000;

  before(async () => {
    server = await startDevServer({
      env: {
        COFFER_AUDIT_SINKS: JSON.stringify([{ type: 'file' }]),
        COFFER_AUDIT_SYNC_INTERVAL_MS: String(SYNC_INTERVAL_MS),
      },
    });
  });

  after(async () => {
    await server?.stop('SIGTERM');
  });

  const sinkOperations = () =>
    logFiles(path.join(server.dataDir, 'audit')).length === 0
      ? []
      : readRecords(path.join(server.dataDir, 'audit'), /^audit-\d{16}\.jsonl$/).map(
          (record) => record.operationName,
        );

  it('a key sign is answered before its record is synced, a key create only after', async () => {
    const credential = credentialFor(server.facts, server.facts.clientId, server.facts.clientSecret);
    const keys = new KeyClient(server.facts.vaultUrl, credential);
    const key = await keys.createEcKey('sync-probe', { curve: 'P-256' });
    // A change: synced before its answer, so the sink gets it without waiting for the interval.
    await eventually(() => sinkOperations().includes('KeyCreate'), 'the KeyCreate record in the sink', 5_000);

    const crypto = new CryptographyClient(key, credential);
    const digest = createHash('sha256').update('audit sync').digest();
    const signed = await crypto.sign('ES256', digest);
    assert.equal(signed.result.length, 64);
    // Written before the answer: a kill -9 now would keep it.
    assert.ok(
      spoolRecords(server.dataDir).some((record) => record.operationName === 'KeySign'),
      'the KeySign record is in the spool when its answer arrives',
    );
    // Not synced yet: the answer did not wait for the disk, so the sink has not seen it.
    await sleep(1_500);
    assert.ok(!sinkOperations().includes('KeySign'), 'the KeySign answer did not wait for a sync');
    // ...and the next sync brings it, within the interval.
    await eventually(
      () => sinkOperations().includes('KeySign'),
      'the KeySign record in the sink',
      SYNC_INTERVAL_MS + 5_000,
    );
  });
});
