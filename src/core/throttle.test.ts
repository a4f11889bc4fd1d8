import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Throttled } from '../errors/index.js';
import { ManualClock } from '../lib/clock.js';
import { createFailureThrottle, type FailureThrottle } from './throttle.js';

/** Seconds of Retry-After when `key` is refused now, else undefined (and the slot is given back). */
async function refusal(throttle: FailureThrottle, key: string): Promise<number | undefined> {
  try {
    (await throttle.reserve(key)).settle(false);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof Throttled, String(error));
    return Number(error.headers['retry-after']);
  }
}

const fail = async (throttle: FailureThrottle, key: string) => (await throttle.reserve(key)).settle(true);

describe('failure throttle', () => {
  const make = (maxKeys?: number) => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const throttle = createFailureThrottle({ maxFailures: 3, windowMs: 60_000, clock, maxKeys });
    return { clock, throttle };
  };

  it('allows exactly maxFailures failures, then refuses with the seconds until it reopens', async () => {
    const { clock, throttle } = make();
    for (let i = 0; i < 3; i++) {
      await fail(throttle, 'client:a');
      clock.advance(1_000);
    }
    // The first failure (at t=0) leaves the window at t=60s; now is t=3s.
    assert.equal(await refusal(throttle, 'client:a'), 57, 'the attempt after the third failure is refused');
  });

  it('counts failures another member saw: with local ones they close the key, and a waiting attempt is refused', async () => {
    const { throttle } = make();
    await fail(throttle, 'client:a');
    throttle.recordFailure('client:a');
    const inFlight = await throttle.reserve('client:a');
    // The limit is reached by one local failure, one remote one and one attempt in flight.
    const waiting = refusal(throttle, 'client:a');
    throttle.recordFailure('client:a');
    assert.equal(await waiting, 60, 'the third failure, seen elsewhere, closes the key for the waiter');
    inFlight.settle(false);
    assert.equal(await refusal(throttle, 'client:b'), undefined, 'other keys are not affected');
  });

  it('counts attempts in flight: concurrent attempts beyond the limit wait, and are refused once it is reached', async () => {
    const { throttle } = make();
    const first = await Promise.all([1, 2, 3].map(() => throttle.reserve('user:u')));
    let fourthSettled = false;
    const fourth = throttle.reserve('user:u').then(
      (slot) => ({ slot }),
      (error: unknown) => ({ error }),
    );
    void fourth.then(() => (fourthSettled = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fourthSettled, false, 'the fourth waits while three are being evaluated');
    // One of the three succeeds: its slot goes to the waiting attempt.
    first[0]!.settle(false);
    const granted = await fourth;
    assert.ok('slot' in granted);
    // The others fail, and so does the fourth: the limit is reached, the next is refused.
    first[1]!.settle(true);
    first[2]!.settle(true);
    granted.slot.settle(true);
    assert.ok((await refusal(throttle, 'user:u'))! >= 1);
  });

  it('refuses waiting attempts as soon as failures reach the limit', async () => {
    const { throttle } = make();
    const evaluating = await Promise.all([1, 2, 3].map(() => throttle.reserve('user:v')));
    const waiting = Array.from({ length: 5 }, () =>
      throttle.reserve('user:v').then(
        () => 'granted',
        (error: unknown) => (error instanceof Throttled ? 'refused' : String(error)),
      ),
    );
    for (const slot of evaluating) slot.settle(true);
    assert.deepEqual(await Promise.all(waiting), Array(5).fill('refused'));
  });

  it('bounds the attempts waiting for one key: beyond it they are refused at once', async () => {
    const { throttle } = make();
    const evaluating = await Promise.all([1, 2, 3].map(() => throttle.reserve('user:w')));
    // Each waiter, once it gets a slot, succeeds at once and hands the slot on.
    const waiting = Array.from({ length: 12 }, () =>
      throttle.reserve('user:w').then((slot) => slot.settle(false)),
    );
    assert.equal(await refusal(throttle, 'user:w'), 1, 'the 13th waiter is refused');
    for (const slot of evaluating) slot.settle(false);
    await Promise.all(waiting);
  });

  it('counts keys apart: a client and an address, or two clients, do not share a budget', async () => {
    const { throttle } = make();
    for (let i = 0; i < 3; i++) await fail(throttle, 'address:203.0.113.9');
    assert.ok(await refusal(throttle, 'address:203.0.113.9'));
    assert.equal(await refusal(throttle, 'address:203.0.113.10'), undefined);
    assert.equal(await refusal(throttle, 'client:a'), undefined);
  });

  it('reopens once old failures leave the window, and throttles again on a new burst', async () => {
    const { clock, throttle } = make();
    for (let i = 0; i < 3; i++) await fail(throttle, 'client:a');
    clock.advance(59_999);
    assert.equal(await refusal(throttle, 'client:a'), 1, 'never less than one second');
    clock.advance(1);
    assert.equal(await refusal(throttle, 'client:a'), undefined);
    for (let i = 0; i < 2; i++) await fail(throttle, 'client:a');
    assert.equal(await refusal(throttle, 'client:a'), undefined, 'the old burst no longer counts');
    await fail(throttle, 'client:a');
    assert.equal(await refusal(throttle, 'client:a'), 60);
  });

  it('a sliding window: failures spread out (fewer than the limit per window) never throttle', async () => {
    const { clock, throttle } = make();
    for (let i = 0; i < 20; i++) {
      await fail(throttle, 'client:a');
      assert.equal(await refusal(throttle, 'client:a'), undefined);
      clock.advance(30_001);
    }
  });

  it('bounds the keys it remembers, forgetting the least recently failed first', async () => {
    const { throttle } = make(2);
    for (const key of ['a', 'b', 'c']) for (let i = 0; i < 3; i++) await fail(throttle, key);
    assert.ok(await refusal(throttle, 'b'));
    assert.ok(await refusal(throttle, 'c'));
    assert.equal(await refusal(throttle, 'a'), undefined, 'evicted');
  });
});
