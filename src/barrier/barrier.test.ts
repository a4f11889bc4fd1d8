import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { randomKey } from '../crypto/aes-gcm.js';
import { IntegrityError, Sealed } from '../errors/index.js';
import { ManualClock } from '../lib/clock.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { Barrier, KEYRING_PATH } from './barrier.js';

const PLAINTEXT = Buffer.from('correct horse battery staple / a secret that must never reach the disk');

/** The term in a raw record's header: byte 0 is the format version, bytes 1-4 the term. */
function headerTerm(raw: Buffer | undefined): number {
  assert.ok(raw !== undefined && raw.length >= 5, 'no raw record');
  return raw.readUInt32BE(1);
}

function isIntegrityError(error: unknown): boolean {
  return error instanceof IntegrityError;
}

function isSealed(error: unknown): boolean {
  return error instanceof Sealed;
}

describe('Barrier over SqliteStorage', () => {
  let dir: string;
  let file: string;
  let storage: SqliteStorage;
  let rootKey: Buffer;
  let barrier: Barrier;
  const clock = new ManualClock(1_700_000_000_000);

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-'));
    file = path.join(dir, 'coffer.db');
    storage = new SqliteStorage(file);
    rootKey = randomKey();
    barrier = new Barrier(storage, clock);
    await barrier.initialize(rootKey);
  });

  afterEach(async () => {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips values through put, get, list, delete and transactions', async () => {
    await barrier.put('secrets/a', PLAINTEXT);
    await barrier.put('secrets/empty', Buffer.alloc(0));
    await barrier.transaction(async (tx) => {
      await tx.put('secrets/b/c', Buffer.from('in a transaction'));
      assert.deepEqual(await tx.get('secrets/b/c'), Buffer.from('in a transaction'));
    });

    assert.deepEqual(await barrier.get('secrets/a'), PLAINTEXT);
    assert.deepEqual(await barrier.get('secrets/empty'), Buffer.alloc(0));
    assert.deepEqual(await barrier.get('secrets/b/c'), Buffer.from('in a transaction'));
    assert.equal(await barrier.get('secrets/missing'), undefined);
    assert.deepEqual(await barrier.list('secrets/'), ['a', 'b/c', 'empty']);
    assert.deepEqual(await barrier.list('secrets/', { after: 'a', limit: 1 }), ['b/c']);

    await barrier.delete('secrets/a');
    assert.equal(await barrier.get('secrets/a'), undefined);
  });

  it('stores only ciphertext: neither the row nor the database files contain the plaintext', async () => {
    await barrier.put('secrets/a', PLAINTEXT);
    const raw = await storage.get('secrets/a');
    assert.ok(raw !== undefined);
    assert.equal(raw.indexOf(PLAINTEXT.subarray(0, 16)), -1, 'the raw row holds plaintext');
    assert.equal(headerTerm(raw), 1);

    await storage.close();
    for (const name of fs.readdirSync(dir)) {
      const bytes = fs.readFileSync(path.join(dir, name));
      assert.equal(bytes.indexOf(PLAINTEXT.subarray(0, 16)), -1, `${name} holds plaintext`);
    }
    storage = new SqliteStorage(file);
  });

  it('throws IntegrityError, never garbage, when any single byte of a record is flipped', async () => {
    await barrier.put('secrets/a', PLAINTEXT);
    const original = (await storage.get('secrets/a'))!;
    // Header (version, term), nonce, body and tag: every position, with a low and a high bit.
    for (let position = 0; position < original.length; position++) {
      for (const mask of [0x01, 0x80]) {
        const tampered = Buffer.from(original);
        tampered[position] = tampered[position]! ^ mask;
        await storage.put('secrets/a', tampered);
        await assert.rejects(barrier.get('secrets/a'), isIntegrityError, `byte ${position} ^ ${mask}`);
      }
    }
    await storage.put('secrets/a', original);
    assert.deepEqual(await barrier.get('secrets/a'), PLAINTEXT);
  });

  it('throws IntegrityError for truncated, extended or empty records', async () => {
    await barrier.put('secrets/a', PLAINTEXT);
    const original = (await storage.get('secrets/a'))!;
    const variants = [
      original.subarray(0, original.length - 1),
      original.subarray(0, 5 + 12 + 16),
      original.subarray(0, 5),
      Buffer.alloc(0),
      Buffer.concat([original, Buffer.from([0])]),
    ];
    for (const variant of variants) {
      await storage.put('secrets/a', variant);
      await assert.rejects(barrier.get('secrets/a'), isIntegrityError, `${variant.length} bytes`);
    }
  });

  it('throws IntegrityError when a valid record is copied to another path', async () => {
    await barrier.put('tenants/a/secret', PLAINTEXT);
    await barrier.put('tenants/b/secret', Buffer.from('b'));
    await storage.put('tenants/b/secret', (await storage.get('tenants/a/secret'))!);
    await storage.put('tenants/b/fresh', (await storage.get('tenants/a/secret'))!);

    await assert.rejects(barrier.get('tenants/b/secret'), isIntegrityError);
    await assert.rejects(barrier.get('tenants/b/fresh'), isIntegrityError);
    assert.deepEqual(await barrier.get('tenants/a/secret'), PLAINTEXT);
  });

  it('refuses to read the keyring record as data', async () => {
    await assert.rejects(barrier.get(KEYRING_PATH), isIntegrityError);
  });

  it('stays sealed when unsealed with a wrong root key, and opens with the right one', async () => {
    await barrier.put('secrets/a', PLAINTEXT);
    const other = new Barrier(storage, clock);
    await assert.rejects(other.unseal(randomKey()));
    assert.equal(other.isSealed, true);
    await assert.rejects(other.get('secrets/a'), isSealed);

    await other.unseal(rootKey);
    assert.equal(other.isSealed, false);
    assert.deepEqual(await other.get('secrets/a'), PLAINTEXT);
  });

  it('throws Sealed from every access while sealed, and writes nothing', async () => {
    await barrier.put('secrets/a', PLAINTEXT);
    barrier.seal();
    assert.equal(barrier.isSealed, true);

    await assert.rejects(barrier.get('secrets/a'), isSealed);
    await assert.rejects(barrier.put('secrets/b', PLAINTEXT), isSealed);
    await assert.rejects(barrier.list('secrets/'), isSealed);
    await assert.rejects(barrier.delete('secrets/a'), isSealed);
    await assert.rejects(
      barrier.transaction(async () => undefined),
      isSealed,
    );
    await assert.rejects(barrier.rotate(), isSealed);
    assert.deepEqual(await storage.list('secrets/'), ['secrets/a']);

    await barrier.unseal(rootKey);
    assert.deepEqual(await barrier.get('secrets/a'), PLAINTEXT);
  });

  it('rotates to a new term: old records stay readable, new ones use the new term', async () => {
    await barrier.put('secrets/old', Buffer.from('before'));
    assert.deepEqual(await barrier.rotate(), { term: 2 });
    await barrier.put('secrets/new', Buffer.from('after'));

    assert.equal(headerTerm(await storage.get('secrets/old')), 1);
    assert.equal(headerTerm(await storage.get('secrets/new')), 2);
    assert.deepEqual(await barrier.get('secrets/old'), Buffer.from('before'));
    assert.deepEqual(await barrier.get('secrets/new'), Buffer.from('after'));
    assert.deepEqual(barrier.keyStatus().terms, [1, 2]);

    // The new term was persisted, not only held in memory.
    barrier.seal();
    await barrier.unseal(rootKey);
    assert.equal(barrier.keyStatus().term, 2);
    assert.deepEqual(await barrier.get('secrets/old'), Buffer.from('before'));
    assert.deepEqual(await barrier.get('secrets/new'), Buffer.from('after'));
  });

  it('lets another node unsealed before a rotation read records written after it', async () => {
    const otherNode = new Barrier(storage, clock);
    await otherNode.unseal(rootKey);
    await barrier.rotate();
    await barrier.put('secrets/new', Buffer.from('after rotation'));

    assert.deepEqual(await otherNode.get('secrets/new'), Buffer.from('after rotation'));
    assert.equal(otherNode.keyStatus().term, 2);
    // Having picked up the new term, it writes with it too.
    await otherNode.put('secrets/from-other', Buffer.from('x'));
    assert.equal(headerTerm(await storage.get('secrets/from-other')), 2);
  });

  it('lets a seal that lands mid-rotation win, without rewriting the keyring under a wiped key', async () => {
    // rotate() reads the clock between loading the keyring and writing the new one; sealing
    // there is an operator's seal arriving while a rotation is in flight.
    let sealMidRotation: Barrier | undefined;
    const sealingClock = {
      nowMs: () => {
        sealMidRotation?.seal();
        return clock.nowMs();
      },
    };
    const node = new Barrier(storage, sealingClock);
    await node.unseal(rootKey);
    sealMidRotation = node;
    await assert.rejects(node.rotate(), isSealed);
    sealMidRotation = undefined;
    assert.equal(node.isSealed, true);

    // The root key still opens the keyring, and the rotation did not happen.
    await node.unseal(rootKey);
    assert.deepEqual(node.keyStatus().terms, [1]);
  });

  it('confines a view to its prefix', async () => {
    const view = barrier.view('tenants/a/');
    await view.put('x', Buffer.from('mine'));
    await view.put('sub/y', Buffer.from('mine too'));
    await view.transaction(async (tx) => tx.put('z', Buffer.from('in a transaction')));
    for (const sibling of ['tenants/a0/x', 'tenants/ab', 'tenants/a', 'tenants/b/x', 'tenants/a-/x']) {
      await barrier.put(sibling, Buffer.from('not yours'));
    }

    assert.deepEqual(await storage.list('tenants/a/'), ['tenants/a/sub/y', 'tenants/a/x', 'tenants/a/z']);
    assert.deepEqual(await view.list(''), ['sub/y', 'x', 'z']);
    assert.deepEqual(await view.list('sub/'), ['y']);
    assert.deepEqual(await view.list('', { after: 'sub/y', limit: 1 }), ['x']);
    assert.deepEqual(await view.get('x'), Buffer.from('mine'));
    assert.equal(await view.get('tenants/b/x'), undefined);
    await view.transaction(async (tx) => {
      assert.deepEqual(await tx.list(''), ['sub/y', 'x', 'z']);
      assert.deepEqual(await tx.get('z'), Buffer.from('in a transaction'));
    });
  });
});

describe('Barrier: kept plaintext of records that hold nothing secret', () => {
  let dir: string;
  let storage: SqliteStorage;
  let rootKey: Buffer;
  const clock = new ManualClock(1_700_000_000_000);
  const notSecret = (path: string) => path.startsWith('heads/');
  let barrier: Barrier;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-memo-'));
    storage = new SqliteStorage(path.join(dir, 'coffer.db'));
    rootKey = randomKey();
    barrier = new Barrier(storage, clock, { notSecret });
    await barrier.initialize(rootKey);
  });

  afterEach(async () => {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('follows every change of the stored bytes: its own writes, another node, a restored row', async () => {
    await barrier.put('heads/a', Buffer.from('v1'));
    assert.deepEqual(await barrier.get('heads/a'), Buffer.from('v1'));
    const v1Row = (await storage.get('heads/a'))!;
    await barrier.put('heads/a', Buffer.from('v2'));
    assert.deepEqual(await barrier.get('heads/a'), Buffer.from('v2'));
    const otherNode = new Barrier(storage, clock);
    await otherNode.unseal(rootKey);
    await otherNode.put('heads/a', Buffer.from('v3'));
    assert.deepEqual(await barrier.get('heads/a'), Buffer.from('v3'));
    await storage.put('heads/a', v1Row); // an older copy of the row, put back below the barrier
    assert.deepEqual(await barrier.get('heads/a'), Buffer.from('v1'));
  });

  it('never serves a damaged row from what it kept, and hands out copies a caller may wipe', async () => {
    await barrier.put('heads/a', PLAINTEXT);
    const first = (await barrier.get('heads/a'))!;
    first.fill(0);
    assert.deepEqual(await barrier.get('heads/a'), PLAINTEXT);
    const row = (await storage.get('heads/a'))!;
    const tampered = Buffer.from(row);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    await storage.put('heads/a', tampered);
    await assert.rejects(barrier.get('heads/a'), isIntegrityError);
  });

  it('is Sealed when sealed, whatever it kept', async () => {
    await barrier.put('heads/a', Buffer.from('v1'));
    await barrier.get('heads/a');
    barrier.seal();
    await assert.rejects(barrier.get('heads/a'), isSealed);
    await barrier.unseal(rootKey);
    assert.deepEqual(await barrier.get('heads/a'), Buffer.from('v1'));
  });
});
