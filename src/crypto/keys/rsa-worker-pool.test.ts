import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BadParameter, InternalError } from '../../errors/index.js';
import { cipherAlgorithm } from './algorithms.js';
import {
  RSA_CIPHERS,
  RSA_PKCS1_PADDING,
  RSA_PKCS1_PSS_PADDING,
  digestOf,
  rsaPrivate,
} from './provider-fixtures.js';
import { rsaDecrypt } from './rsa.js';
import { RsaWorkerPool } from './rsa-worker-pool.js';
import { SoftwareKeyProvider } from './software-provider.js';
import type { RsaPrivateJwk } from './types.js';

// RSA private-key operations on worker threads: concurrency without cross-talk, the same 400s as
// in-thread, a thread dying under the pool, and a pool that never holds the process open.

const provider = new SoftwareKeyProvider({ rsaWorkers: 3 });
let keys: RsaPrivateJwk[];

before(async () => {
  keys = (await Promise.all(
    [2048, 2048, 3072, 4096].map((size) => provider.generate({ kty: 'RSA', size })),
  )) as RsaPrivateJwk[];
});

after(() => provider.close());

const DECRYPTION_FAILED = 'Decryption failed: the value was not encrypted with this key and algorithm.';

/** What rsa.ts throws when it runs in this thread, as the provider did before the pool. */
function inThreadError(key: RsaPrivateJwk, alg: string, ciphertext: Buffer): unknown {
  try {
    rsaDecrypt(rsaPrivate(key), cipherAlgorithm('encrypt', alg), ciphertext);
  } catch (error) {
    return error;
  }
  return undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('RSA worker pool', () => {
  it('64 concurrent RS256/PS256 signs over four keys each verify against their own key and digest', async () => {
    const jobs = Array.from({ length: 64 }, (_, i) => {
      const key = keys[i % keys.length] as RsaPrivateJwk;
      const alg = i % 3 === 0 ? 'PS256' : 'RS256';
      const data = Buffer.from(`message ${i}`);
      return { key, alg, data, signature: provider.sign(key, alg, digestOf('sha256', data)) };
    });
    const signatures = await Promise.all(jobs.map((job) => job.signature));
    assert.equal(provider.rsaPool.workers.length, 3);
    jobs.forEach((job, i) => {
      const options =
        job.alg === 'RS256'
          ? { padding: RSA_PKCS1_PADDING }
          : { padding: RSA_PKCS1_PSS_PADDING, saltLength: 32 };
      const signature = signatures[i] as Buffer;
      assert.ok(
        crypto.verify('sha256', job.data, { key: rsaPrivate(job.key), ...options }, signature),
        `signature ${i} (${job.alg})`,
      );
    });
    // RSASSA-PKCS1-v1_5 is deterministic: equal to node's own signature, byte for byte.
    const first = jobs[1];
    assert.ok(first);
    assert.deepEqual(signatures[1], crypto.sign('sha256', first.data, rsaPrivate(first.key)));
  });

  it('decrypting garbage fails with the same BadParameter as in-thread', async () => {
    const key = keys[0] as RsaPrivateJwk;
    for (const alg of RSA_CIPHERS) {
      const garbage = crypto.randomBytes(256);
      const expected = inThreadError(key, alg, garbage);
      assert.ok(expected instanceof BadParameter);
      assert.equal(expected.message, DECRYPTION_FAILED);
      for (const call of [
        () => provider.decrypt(key, alg, garbage),
        () => provider.unwrapKey(key, alg, garbage),
      ]) {
        await assert.rejects(call, (error: unknown) => {
          assert.ok(error instanceof BadParameter, `${alg}: ${String(error)}`);
          assert.equal(error.status, 400);
          assert.equal(error.code, 'BadParameter');
          assert.equal(error.message, expected.message);
          return true;
        });
      }
      const short = garbage.subarray(1);
      const lengthError = inThreadError(key, alg, short);
      assert.ok(lengthError instanceof BadParameter);
      await assert.rejects(provider.decrypt(key, alg, short), {
        name: 'BadParameter',
        message: lengthError.message,
      });
    }
  });

  it('an operation still succeeds after a thread is terminated; its pending ones fail with InternalError', async () => {
    const pool = new RsaWorkerPool({ size: 2 });
    try {
      const big = keys[3] as RsaPrivateJwk; // RSA-4096: each sign takes long enough to be cut off
      await pool.run('sign', rsaPrivate(big), 'RS256', digestOf('sha256'));
      const [victim] = pool.workers;
      assert.ok(victim);
      const data = Array.from({ length: 16 }, (_, i) => Buffer.from(`cut ${i}`));
      const runs = data.map((d) => pool.run('sign', rsaPrivate(big), 'RS256', digestOf('sha256', d)));
      void victim.terminate();
      const settled = await withTimeout(Promise.allSettled(runs), 30_000);
      let failed = 0;
      settled.forEach((outcome, i) => {
        if (outcome.status === 'rejected') {
          failed++;
          assert.ok(outcome.reason instanceof InternalError, String(outcome.reason));
          assert.match(outcome.reason.message, /did not complete/);
        } else {
          assert.ok(crypto.verify('sha256', data[i] as Buffer, rsaPrivate(big), outcome.value));
        }
      });
      assert.ok(failed > 0, 'the terminated thread had operations pending');
      assert.ok(failed < runs.length, 'the other thread completed its share');

      const signature = await withTimeout(
        pool.run('sign', rsaPrivate(big), 'PS256', digestOf('sha256')),
        30_000,
      );
      const options = { key: rsaPrivate(big), padding: RSA_PKCS1_PSS_PADDING, saltLength: 32 };
      assert.ok(
        crypto.verify(
          'sha256',
          Buffer.from('The quick brown fox jumps over the lazy dog'),
          options,
          signature,
        ),
      );
      assert.equal(pool.workers.length, 2, 'the dead thread was replaced');
      assert.ok(!pool.workers.includes(victim));
    } finally {
      await pool.close();
    }
  });

  it('a thread that crashes fails the operations queued on it with InternalError, and is replaced', async () => {
    const pool = new RsaWorkerPool({ size: 2 });
    try {
      const key = keys[0] as RsaPrivateJwk;
      await pool.run('sign', rsaPrivate(key), 'RS256', digestOf('sha256'));
      const [victim] = pool.workers;
      assert.ok(victim);
      victim.postMessage(null); // a request without an id: the thread throws and dies
      const runs = Array.from({ length: 8 }, () =>
        pool.run('sign', rsaPrivate(key), 'RS256', digestOf('sha256')),
      );
      const settled = await withTimeout(Promise.allSettled(runs), 30_000);
      const failed = settled.filter((outcome) => outcome.status === 'rejected');
      assert.equal(failed.length, 4, 'the four queued behind the bad message');
      for (const outcome of failed) assert.ok(outcome.reason instanceof InternalError);
      const signature = await withTimeout(
        pool.run('sign', rsaPrivate(key), 'RS256', digestOf('sha256')),
        30_000,
      );
      assert.ok(
        crypto.verify(
          'sha256',
          Buffer.from('The quick brown fox jumps over the lazy dog'),
          rsaPrivate(key),
          signature,
        ),
      );
      assert.equal(pool.workers.length, 2);
    } finally {
      await pool.close();
    }
  });

  it('close() fails what is pending, refuses what comes later, and can be called twice', async () => {
    const pool = new RsaWorkerPool({ size: 1 });
    const key = keys[0] as RsaPrivateJwk;
    await pool.run('sign', rsaPrivate(key), 'RS256', digestOf('sha256'));
    const pending = assert.rejects(
      pool.run('sign', rsaPrivate(key), 'RS256', digestOf('sha256')),
      InternalError,
    );
    await pool.close();
    await pending;
    await assert.rejects(pool.run('sign', rsaPrivate(key), 'RS256', digestOf('sha256')), /closed/);
    assert.equal(pool.workers.length, 0);
    await pool.close();
  });

  it('the pool lets the process exit: after close(), and while idle without it', () => {
    const url = new URL('./software-provider.js', import.meta.url).href;
    const script = (close: boolean) => `
      import { SoftwareKeyProvider } from ${JSON.stringify(url)};
      const provider = new SoftwareKeyProvider({ rsaWorkers: 2 });
      const key = await provider.generate({ kty: 'RSA', size: 2048 });
      // Nothing else keeps this process alive: the thread must hold it while the sign is pending.
      const signature = await provider.sign(key, 'RS256', Buffer.alloc(32, 1));
      const plain = await provider.decrypt(key, 'RSA-OAEP', (await provider.encrypt(key, 'RSA-OAEP', Buffer.from('hi'))).result);
      console.log(signature.length, plain.toString());
      ${close ? 'await provider.close();' : ''}
    `;
    for (const close of [true, false]) {
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script(close)], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(child.signal, null, `close=${close}: the process did not exit by itself`);
      assert.equal(child.status, 0, `close=${close}: ${child.stderr}`);
      assert.equal(child.stdout.trim(), '256 hi');
    }
  });
});
