import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomKey } from '../crypto/aes-gcm.js';
import { BadParameter } from '../errors/index.js';
import { combineShares, parseShare, splitUnsealKey, validateShamirParameters } from './shamir.js';

/** Every subset of `items` with `size` elements. */
function subsets<T>(items: T[], size: number): T[][] {
  if (size === 0) return [[]];
  if (items.length < size) return [];
  const [first, ...rest] = items as [T, ...T[]];
  return [...subsets(rest, size - 1).map((subset) => [first, ...subset]), ...subsets(rest, size)];
}

/** Shares as the operator pastes them back: parsed from their base64 text. */
function parsed(shares: string[], total: number): Buffer[] {
  return shares.map((share) => parseShare(share, total === 1 ? 32 : 33));
}

const isBadParameter = (error: unknown) => error instanceof BadParameter;

describe('Shamir unseal shares', () => {
  const cases: [number, number][] = [
    [1, 1],
    [2, 2],
    [3, 2],
    [5, 3],
    [6, 5],
    [10, 2],
    [10, 10],
  ];

  for (const [total, threshold] of cases) {
    it(`${threshold} of ${total}: every quorum reconstructs the key, in any order`, async () => {
      const key = randomKey();
      const shares = await splitUnsealKey(key, total, threshold);
      assert.equal(shares.length, total);
      assert.equal(new Set(shares).size, total, 'the shares are distinct');
      const quorums = subsets(shares, threshold).slice(0, 60);
      assert.ok(quorums.length > 0);
      for (const quorum of quorums) {
        assert.deepEqual(await combineShares(parsed(quorum, total)), key);
        assert.deepEqual(await combineShares(parsed([...quorum].reverse(), total)), key);
      }
      if (total > threshold) {
        // More shares than needed still give the key.
        assert.deepEqual(await combineShares(parsed(shares, total)), key);
      }
    });
  }

  for (const [total, threshold] of cases.filter(([, t]) => t >= 2)) {
    it(`${threshold} of ${total}: no ${threshold - 1} shares reconstruct the key`, async () => {
      const key = randomKey();
      const shares = await splitUnsealKey(key, total, threshold);
      for (const partial of subsets(shares, threshold - 1).slice(0, 60)) {
        const candidate = await combineShares(parsed(partial, total));
        assert.notDeepEqual(candidate, key);
        assert.ok(!candidate.includes(key), 'the key is not inside what threshold - 1 shares give');
      }
    });
  }

  it('does not leak the key into any single share', async () => {
    const key = randomKey();
    for (const share of await splitUnsealKey(key, 5, 3)) {
      const bytes = Buffer.from(share, 'base64');
      assert.ok(!bytes.includes(key.subarray(0, 8)), 'a share does not carry key bytes in the clear');
    }
  });

  it('shares of two different keys do not combine into either key', async () => {
    const first = randomKey();
    const second = randomKey();
    const ours = await splitUnsealKey(first, 5, 3);
    const theirs = await splitUnsealKey(second, 5, 3);
    const ourShares = parsed(ours.slice(0, 2), 5);
    const stranger = parsed(theirs, 5).find(
      (share) => !ourShares.some((mine) => mine.at(-1) === share.at(-1)),
    )!;
    const mixed = await combineShares([...ourShares, stranger]);
    assert.notDeepEqual(mixed, first);
    assert.notDeepEqual(mixed, second);
  });

  it('two different shares at the same x coordinate are refused with BadParameter', async () => {
    const shares = parsed(await splitUnsealKey(randomKey(), 5, 3), 5);
    const mistyped = Buffer.from(shares[0]!);
    mistyped[0] = mistyped[0]! ^ 0xff;
    await assert.rejects(combineShares([shares[0]!, mistyped, shares[1]!]), isBadParameter);
  });

  it('rejects invalid parameters', async () => {
    const invalid: [number, number][] = [
      [0, 0],
      [0, 1],
      [11, 3],
      [3, 1],
      [2, 3],
      [5, 0],
      [5, -1],
      [2.5, 2],
      [5, 2.5],
      [Number.NaN, 2],
    ];
    for (const [total, threshold] of invalid) {
      assert.throws(
        () => validateShamirParameters(total, threshold),
        isBadParameter,
        `${total}/${threshold}`,
      );
      await assert.rejects(
        splitUnsealKey(randomKey(), total, threshold),
        isBadParameter,
        `${total}/${threshold}`,
      );
    }
    for (const [total, threshold] of [
      [1, 1],
      [2, 2],
      [10, 2],
      [10, 10],
    ] as const) {
      assert.doesNotThrow(() => validateShamirParameters(total, threshold));
    }
  });

  it('rejects shares that are not base64 of the expected length', () => {
    for (const text of [
      '',
      'not a share',
      '!!!!',
      Buffer.alloc(32).toString('base64'),
      Buffer.alloc(34).toString('base64'),
    ]) {
      assert.throws(() => parseShare(text, 33), isBadParameter, JSON.stringify(text));
    }
    assert.equal(
      parseShare(` ${Buffer.alloc(33, 7).toString('base64')}\n`, 33).length,
      33,
      'surrounding blanks are fine',
    );
  });
});
