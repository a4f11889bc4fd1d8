import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Barrier } from '../barrier/barrier.js';
import { CofferError } from '../errors/index.js';
import { ManualClock } from '../lib/clock.js';
import { INIT_PENDING_PATH } from '../seal/types.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { SealManager } from './seal-manager.js';

const DEV_KEY = { type: 'dev-key' as const, shares: 1, threshold: 1 };

describe('SealManager initialisation over SqliteStorage', () => {
  let dir: string;
  let storage: SqliteStorage;
  let barrier: Barrier;
  let seal: SealManager;
  const clock = new ManualClock(1_700_000_000_000);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-seal-'));
    storage = new SqliteStorage(path.join(dir, 'coffer.db'));
    barrier = new Barrier(storage, clock);
    seal = new SealManager(storage, barrier, { afterUnseal: async () => {}, beforeSeal: () => {} }, clock);
  });

  afterEach(async () => {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const everyKey = () => storage.list('');
  const bootstrap = async () => {
    await barrier.put('sys/identity/tenant', Buffer.from('{"tenantId":"t"}'));
    return 'bootstrapped';
  };

  it('a bootstrap that fails leaves an empty store, and initialisation can run again', async () => {
    await assert.rejects(
      seal.initialize(DEV_KEY, async () => {
        await bootstrap();
        throw new Error('the disk is full');
      }),
      /the disk is full/,
    );
    assert.deepEqual(await everyKey(), [], 'no keyring, root key, record or marker is left');
    assert.equal(await seal.storeState(), 'empty');
    assert.equal((await seal.initialize(DEV_KEY, bootstrap)).bootstrapped, 'bootstrapped');
    assert.equal(await seal.storeState(), 'initialized');
    assert.ok(!(await everyKey()).includes(INIT_PENDING_PATH), 'the marker goes with the seal configuration');
  });

  it('an initialisation cut short by a crash (its marker still there) is cleared and redone', async () => {
    await storage.put(INIT_PENDING_PATH, Buffer.from('2026-01-01T00:00:00Z'));
    await storage.put('core/keyring', Buffer.from('half-written keyring'));
    await storage.put('sys/identity/leftover', Buffer.from('from the first attempt'));
    assert.equal(await seal.storeState(), 'interrupted');
    await seal.initialize(DEV_KEY, bootstrap);
    assert.equal(await storage.get('sys/identity/leftover'), undefined);
    assert.notDeepEqual(await storage.get('core/keyring'), Buffer.from('half-written keyring'));
  });

  for (const key of ['core/keyring', 'core/root-key', 'sys/identity/tenant', 'data/v1/secrets/a']) {
    it(`refuses to initialise over ${key} without a seal configuration, and changes nothing`, async () => {
      const value = Buffer.from(`existing ${key}`);
      await storage.put(key, value);
      let refusal: unknown;
      await seal.initialize(DEV_KEY, bootstrap).catch((error: unknown) => (refusal = error));
      assert.ok(refusal instanceof CofferError, `refused: ${String(refusal)}`);
      assert.equal(refusal.status, 409);
      assert.equal(refusal.code, 'StoreNotEmpty');
      assert.match(refusal.message, /Restore the data directory from a backup/);
      assert.deepEqual(await everyKey(), [key]);
      assert.deepEqual(await storage.get(key), value);
    });
  }

  it('does not trust a marker beside vault data', async () => {
    await storage.put(INIT_PENDING_PATH, Buffer.from('2026-01-01T00:00:00Z'));
    await storage.put('data/v1/secrets/a', Buffer.from('a record'));
    assert.equal(await seal.storeState(), 'orphaned');
    await assert.rejects(seal.initialize(DEV_KEY, bootstrap), { code: 'StoreNotEmpty' });
    assert.deepEqual(await storage.get('data/v1/secrets/a'), Buffer.from('a record'));
  });

  it('refuses a second initialisation', async () => {
    await seal.initialize(DEV_KEY, bootstrap);
    await assert.rejects(seal.initialize(DEV_KEY, bootstrap), { code: 'AlreadyInitialized' });
  });

  it("two members initialising at once: the second is refused with 409 and leaves the first one's work alone", async () => {
    const claim = (id: string, untilMs: number, nowMs: number) => storage.cluster.claim(id, untilMs, nowMs);
    const hooks = { afterUnseal: async () => {}, beforeSeal: () => {} };
    const first = new SealManager(storage, barrier, hooks, clock, { claim });
    const otherBarrier = new Barrier(storage, clock);
    const second = new SealManager(storage, otherBarrier, hooks, clock, { claim });
    let release!: () => void;
    let bootstrapping!: () => void;
    const inBootstrap = new Promise<void>((resolve) => (bootstrapping = resolve));
    const running = first.initialize(DEV_KEY, async () => {
      await bootstrap();
      bootstrapping();
      await new Promise<void>((resolve) => (release = resolve));
      return 'first';
    });
    await inBootstrap;
    await assert.rejects(second.initialize(DEV_KEY, bootstrap), (error: unknown) => {
      assert.ok(error instanceof CofferError);
      assert.equal(error.status, 409);
      assert.match(error.message, /Another node is initialising this installation/);
      return true;
    });
    assert.ok((await everyKey()).includes(INIT_PENDING_PATH), "the first member's marker is still there");
    release();
    assert.equal((await running).bootstrapped, 'first');
    assert.equal(await seal.storeState(), 'initialized');
    await assert.rejects(second.initialize(DEV_KEY, bootstrap), { code: 'AlreadyInitialized' });
  });
});
