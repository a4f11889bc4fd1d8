import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { createReplayGuard } from './replay-guard.js';

describe('client assertion replay guard', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-replay-'));
  const file = path.join(dir, 'coffer.db');
  // Two processes of one installation over one file, as `coffer server --workers 2` runs them.
  const first = new SqliteStorage(file, { mode: 'member' });
  const second = new SqliteStorage(file, { mode: 'member' });
  const guardOn = (storage: SqliteStorage) =>
    createReplayGuard({ claim: (id, untilMs, nowMs) => storage.cluster.claim(id, untilMs, nowMs) });

  after(async () => {
    await first.close();
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Times near now: members prune claims that expired by the real clock.
  const t = Date.now();

  it('refuses a jti seen before until it expires, per client', async () => {
    const guard = guardOn(first);
    await guard.accept('client-a', 'jti-1', t + 10_000, t);
    await assert.rejects(guard.accept('client-a', 'jti-1', t + 10_000, t + 5_000), /already used/);
    await guard.accept('client-b', 'jti-1', t + 10_000, t + 5_000);
    // Remembered past exp by the clock skew the verifier allows, then forgotten.
    await assert.rejects(guard.accept('client-a', 'jti-1', t + 10_000, t + 60_000), /already used/);
    await guard.accept('client-a', 'jti-1', t + 200_000, t + 100_000);
  });

  it('refuses on every member an assertion one member accepted, also when both race', async () => {
    const [here, there] = [guardOn(first), guardOn(second)];
    await here.accept('Client-C', 'jti-2', t + 10_000, t);
    await assert.rejects(there.accept('client-c', 'jti-2', t + 10_000, t + 1_000), /already used/);

    const raced = await Promise.allSettled([
      here.accept('client-c', 'jti-3', t + 10_000, t),
      there.accept('client-c', 'jti-3', t + 10_000, t),
    ]);
    assert.deepEqual(raced.map((outcome) => outcome.status).sort(), ['fulfilled', 'rejected']);
  });
});
