import assert from 'node:assert/strict';
import { constants, createPublicKey, privateEncrypt, publicDecrypt } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { generateKey } from './generate.js';
import { KeyHandleCache, keyHandleId, keyHandlePrefix } from './key-handle-cache.js';
import type { RsaPrivateJwk } from './types.js';

// The cache of parsed RSA private keys: bounded in count and bytes, least recently used out
// first, never returning a handle built from other material than the caller's, and dropping
// exactly what an invalidation names.

let keys: RsaPrivateJwk[];
before(async () => {
  keys = (await Promise.all(
    [2048, 2048, 2048, 4096].map((size) => generateKey({ kty: 'RSA', size })),
  )) as RsaPrivateJwk[];
});
const key = (i: number) => keys[i] as RsaPrivateJwk;
const publicOf = (jwk: RsaPrivateJwk) =>
  createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });

describe('key handle cache', () => {
  it('returns the same KeyObject for the same handle and material, and a working private key', () => {
    const cache = new KeyHandleCache();
    const id = keyHandleId('v1', 'Signing', 'a'.repeat(32));
    const first = cache.rsaPrivateKey(key(0), id);
    assert.equal(cache.rsaPrivateKey(key(0), id), first);
    assert.equal(cache.size, 1);
    const message = Buffer.from('round trip');
    const signed = privateEncrypt({ key: first, padding: constants.RSA_PKCS1_PADDING }, message);
    assert.deepEqual(publicDecrypt(publicOf(key(0)), signed), message);
  });

  it('never uses a handle built from other material under the same id: it imports the new one', () => {
    const cache = new KeyHandleCache();
    const id = keyHandleId('v1', 'k', 'b'.repeat(32));
    const old = cache.rsaPrivateKey(key(0), id);
    const fresh = cache.rsaPrivateKey(key(1), id);
    assert.notEqual(fresh, old);
    assert.equal(fresh.export({ format: 'jwk' }).n, key(1).n);
    assert.equal(cache.size, 1, 'the stale handle was replaced, not kept beside');
  });

  it('keeps nothing without a handle id, or when turned off', () => {
    const cache = new KeyHandleCache();
    assert.notEqual(cache.rsaPrivateKey(key(0), undefined), cache.rsaPrivateKey(key(0), undefined));
    assert.equal(cache.size, 0);
    const off = new KeyHandleCache({ maxEntries: 0 });
    off.rsaPrivateKey(key(0), 'v/k/1');
    assert.equal(off.size, 0);
  });

  it('holds at most maxEntries, evicting the least recently used', () => {
    const cache = new KeyHandleCache({ maxEntries: 2 });
    cache.rsaPrivateKey(key(0), 'v/a/1');
    cache.rsaPrivateKey(key(1), 'v/b/1');
    cache.rsaPrivateKey(key(0), 'v/a/1'); // a is now the most recently used
    cache.rsaPrivateKey(key(2), 'v/c/1');
    assert.equal(cache.size, 2);
    assert.ok(cache.has('v/a/1'));
    assert.ok(!cache.has('v/b/1'), 'b was the least recently used');
    assert.ok(cache.has('v/c/1'));
  });

  it('holds at most maxBytes, and never keeps a key larger than the whole budget', () => {
    const probe = new KeyHandleCache();
    probe.rsaPrivateKey(key(0), 'v/a/1');
    const oneKey = probe.bytes;
    assert.ok(oneKey > 0);
    const cache = new KeyHandleCache({ maxBytes: oneKey * 2 });
    cache.rsaPrivateKey(key(0), 'v/a/1');
    cache.rsaPrivateKey(key(1), 'v/b/1');
    cache.rsaPrivateKey(key(2), 'v/c/1');
    assert.equal(cache.size, 2);
    assert.ok(cache.bytes <= oneKey * 2);
    assert.ok(!cache.has('v/a/1'));
    const small = new KeyHandleCache({ maxBytes: oneKey });
    small.rsaPrivateKey(key(3), 'v/big/1'); // RSA-4096: twice the whole budget
    assert.ok(!small.has('v/big/1'));
    assert.equal(small.bytes, 0);
    small.rsaPrivateKey(key(0), 'v/a/1');
    assert.ok(small.has('v/a/1'));
  });

  it('invalidates every version of one key, or of one vault, and nothing else', () => {
    const cache = new KeyHandleCache();
    cache.rsaPrivateKey(key(0), keyHandleId('vault1', 'Alpha', '1'));
    cache.rsaPrivateKey(key(1), keyHandleId('vault1', 'alpha', '2'));
    cache.rsaPrivateKey(key(2), keyHandleId('vault1', 'alphabet', '1'));
    cache.rsaPrivateKey(key(0), keyHandleId('vault2', 'alpha', '1'));
    cache.invalidate(keyHandlePrefix('vault1', 'ALPHA'));
    assert.ok(!cache.has(keyHandleId('vault1', 'alpha', '1')));
    assert.ok(!cache.has(keyHandleId('vault1', 'alpha', '2')));
    assert.ok(
      cache.has(keyHandleId('vault1', 'alphabet', '1')),
      'a key whose name merely starts the same stays',
    );
    assert.ok(cache.has(keyHandleId('vault2', 'alpha', '1')), 'the same name in another vault stays');
    cache.invalidate(keyHandlePrefix('vault1'));
    assert.equal(cache.size, 1);
    cache.clear();
    assert.equal(cache.size, 0);
    assert.equal(cache.bytes, 0);
  });
});
