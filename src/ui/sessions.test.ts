import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../lib/clock.js';
import { createConsoleSessions, SESSION_IDLE_MS } from './sessions.js';

const session = (expiresAtMs: number) => ({
  accessToken: 'token',
  userPrincipalName: 'alice@coffer.test',
  objectId: '11111111-1111-4111-8111-111111111111',
  expiresAtMs,
});

describe('console sessions: idle and absolute expiry, single-use sign-ins', () => {
  it('ends a session after 15 idle minutes, and activity keeps it alive until then', () => {
    const clock = new ManualClock(0);
    const sessions = createConsoleSessions(clock);
    const id = sessions.create(session(3_600_000));
    clock.advance(SESSION_IDLE_MS - 1);
    assert.ok(sessions.get(id), 'just under the idle limit');
    clock.advance(SESSION_IDLE_MS - 1);
    assert.ok(sessions.get(id), 'the previous request reset the idle time');
    clock.advance(SESSION_IDLE_MS);
    assert.equal(sessions.get(id), undefined);
  });

  it('ends a session when its token expires, however active', () => {
    const clock = new ManualClock(0);
    const sessions = createConsoleSessions(clock);
    const id = sessions.create(session(20 * 60_000));
    for (let minute = 5; minute < 20; minute += 5) {
      clock.advance(5 * 60_000);
      assert.ok(sessions.get(id));
    }
    clock.advance(5 * 60_000);
    assert.equal(sessions.get(id), undefined);
  });

  it('keeps sessions by a hash of their id: another id, an empty one or a signed-out one finds nothing', () => {
    const sessions = createConsoleSessions(new ManualClock(0));
    const id = sessions.create(session(3_600_000));
    assert.equal(sessions.get(`${id}x`), undefined);
    assert.equal(sessions.get(''), undefined);
    sessions.end(id);
    assert.equal(sessions.get(id), undefined);
  });

  it('finishes a sign-in once, only with its own state, within ten minutes', () => {
    const clock = new ManualClock(0);
    const sessions = createConsoleSessions(clock);
    const first = sessions.startSignIn();
    assert.equal(
      sessions.finishSignIn(first.id, first.attempt.state)?.codeVerifier,
      first.attempt.codeVerifier,
    );
    assert.equal(sessions.finishSignIn(first.id, first.attempt.state), undefined, 'once');
    const second = sessions.startSignIn();
    assert.equal(sessions.finishSignIn(second.id, 'another state'), undefined);
    assert.equal(
      sessions.finishSignIn(second.id, second.attempt.state),
      undefined,
      'a wrong state spends it',
    );
    const third = sessions.startSignIn();
    clock.advance(10 * 60_000);
    assert.equal(sessions.finishSignIn(third.id, third.attempt.state), undefined, 'expired');
  });
});
