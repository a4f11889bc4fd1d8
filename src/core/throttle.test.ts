import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../lib/clock.js';
import { createFailureThrottle } from './throttle.js';

describe('failure throttle', () => {
  const make = (maxKeys?: number) => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const throttle = createFailureThrottle({ maxFailures: 3, windowMs: 60_000, clock, maxKeys });
    return { clock, throttle };
  };

  it('allows up to maxFailures failures, then throttles with the seconds until it reopens', () => {
    const { clock, throttle } = make();
    for (let i = 0; i < 3; i++) {
      throttle.recordFailure('client:a');
      clock.advance(1_000);
    }
    assert.equal(throttle.isThrottled('client:a'), undefined, 'three failures are within the limit');
    throttle.recordFailure('client:a');
    // The first failure (at t=0) leaves the window at t=60s; now is t=3s.
    assert.equal(throttle.isThrottled('client:a'), 57);
  });

  it('counts keys apart: a client and an address, or two clients, do not share a budget', () => {
    const { throttle } = make();
    for (let i = 0; i < 4; i++) throttle.recordFailure('address:203.0.113.9');
    assert.ok(throttle.isThrottled('address:203.0.113.9'));
    assert.equal(throttle.isThrottled('address:203.0.113.10'), undefined);
    assert.equal(throttle.isThrottled('client:a'), undefined);
  });

  it('reopens once old failures leave the window, and throttles again on a new burst', () => {
    const { clock, throttle } = make();
    for (let i = 0; i < 4; i++) throttle.recordFailure('client:a');
    clock.advance(59_999);
    assert.equal(throttle.isThrottled('client:a'), 1, 'never less than one second');
    clock.advance(1);
    assert.equal(throttle.isThrottled('client:a'), undefined);
    for (let i = 0; i < 3; i++) throttle.recordFailure('client:a');
    assert.equal(throttle.isThrottled('client:a'), undefined, 'the old burst no longer counts');
    throttle.recordFailure('client:a');
    assert.equal(throttle.isThrottled('client:a'), 60);
  });

  it('a sliding window: failures spread out never throttle', () => {
    const { clock, throttle } = make();
    for (let i = 0; i < 20; i++) {
      throttle.recordFailure('client:a');
      assert.equal(throttle.isThrottled('client:a'), undefined);
      clock.advance(20_001);
    }
  });

  it('bounds the keys it remembers, forgetting the least recently failed first', () => {
    const { throttle } = make(2);
    for (const key of ['a', 'b', 'c']) for (let i = 0; i < 4; i++) throttle.recordFailure(key);
    assert.equal(throttle.isThrottled('a'), undefined, 'evicted');
    assert.ok(throttle.isThrottled('b'));
    assert.ok(throttle.isThrottled('c'));
  });
});
