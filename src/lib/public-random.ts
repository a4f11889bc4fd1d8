import { randomBytes, randomFillSync } from 'node:crypto';

/**
 * Random bytes for values that are public once used (AES-GCM nonces, which are stored beside
 * their ciphertext; object version ids), drawn from a pool that one call to the CSPRNG refills
 * 4 KiB at a time. Each OpenSSL call costs 1-2 µs whatever its size, and a secret set makes four
 * of them (three nonces and a version id), ~7% of its CPU in profiles (bench/README.md). Node's
 * randomUUID pools its randomness the same way.
 *
 * Every byte is handed out once: the offset only moves forward and a refill allocates a new
 * buffer, so no caller can see bytes another caller got. Never use it for secrets (keys,
 * passwords, tokens): those take randomBytes directly, so no secret ever sits in a pool.
 * Each process, worker thread and cluster worker has its own module instance, hence its own pool.
 */

const POOL_BYTES = 4096;
/** Larger requests go straight to the CSPRNG: the pool is for small values. */
const MAX_POOLED_BYTES = 64;

let pool: Buffer = Buffer.alloc(0);
let offset = 0;

export function publicRandomBytes(size: number): Buffer {
  if (size > MAX_POOLED_BYTES) return randomBytes(size);
  if (offset + size > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES));
    offset = 0;
  }
  // A copy, so the caller owns memory no later value shares.
  const value = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return value;
}
