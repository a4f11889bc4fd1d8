import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publicRandomBytes } from './public-random.js';

describe('publicRandomBytes', () => {
  it('hands out each value once, across many refills of the pool', () => {
    // 12 bytes does not divide the 4 KiB pool: values near each refill take the new buffer.
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const value = publicRandomBytes(12);
      assert.equal(value.length, 12);
      seen.add(value.toString('hex'));
    }
    assert.equal(seen.size, 20_000, 'no 96-bit value came out twice');
  });

  it('gives each caller its own memory', () => {
    const first = publicRandomBytes(16);
    const copy = Buffer.from(first);
    const second = publicRandomBytes(16);
    second.fill(0);
    assert.deepEqual(first, copy, 'changing a later value leaves an earlier one alone');
  });

  it('serves sizes from 1 byte to well past the pooled limit', () => {
    for (const size of [1, 12, 16, 63, 64, 65, 4096, 10_000]) {
      assert.equal(publicRandomBytes(size).length, size);
    }
  });

  it('looks uniformly random (byte frequencies within a loose chi-square bound)', () => {
    const counts = new Array<number>(256).fill(0);
    const draws = 50_000;
    for (let i = 0; i < draws; i++) for (const byte of publicRandomBytes(16)) counts[byte]!++;
    const expected = (draws * 16) / 256;
    const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    // 255 degrees of freedom: the 99.999th percentile is about 370; unfilled or repeated bytes go far past.
    assert.ok(chiSquare < 400, `chi-square ${chiSquare.toFixed(1)}`);
  });
});
