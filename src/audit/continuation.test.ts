import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeContinuation, encodeContinuation } from './continuation.js';

describe('the continuation of a merged audit query', () => {
  it('carries the order and one position per worker', () => {
    const token = encodeContinuation('desc', [120, 0, 87]);
    assert.deepEqual(decodeContinuation(token, 'desc', 3), [120, 0, 87]);
    assert.deepEqual(decodeContinuation(encodeContinuation('asc', [5, 6]), 'asc', 2), [5, 6]);
  });

  it('refuses a damaged token, another order or another number of workers with a 400 that says what to do', () => {
    const refused = [
      ['', 'asc', 2],
      ['a', 'asc', 2],
      ['a.1', 'asc', 2],
      ['a.1.2.3', 'asc', 2],
      ['d.1.2', 'asc', 2],
      ['a.1.-2', 'asc', 2],
      ['a.1.2x', 'asc', 2],
      ['a.1..2', 'asc', 2],
      ['a.1.1e3', 'asc', 2],
      ['a.1.1234567890123456', 'asc', 2],
      ['x.1.2', 'asc', 2],
      [' a.1.2', 'asc', 2],
    ] as const;
    for (const [token, order, workers] of refused) {
      assert.throws(
        () => decodeContinuation(token, order, workers),
        (error: Error & { statusCode?: number }) =>
          /continuation .*pass it back exactly as the nextLink gives it/.test(error.message),
        `refuses '${token}'`,
      );
    }
  });
});
