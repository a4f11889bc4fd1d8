import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Barrier } from '../barrier/barrier.js';
import { scratchBarrier } from '../barrier/scratch-barrier.js';
import type { SecureStore } from '../barrier/secure-store.js';
import { ManualClock } from '../lib/clock.js';
import { createConsoleSessions, LAST_SEEN_GRANULARITY_MS, SESSION_IDLE_MS } from './sessions.js';

const session = (expiresAtMs: number) => ({
  accessToken: 'token',
  userPrincipalName: 'alice@coffer.test',
  objectId: '11111111-1111-4111-8111-111111111111',
  expiresAtMs,
});

describe('console sessions: idle and absolute expiry, single-use sign-ins, in the store', () => {
  let scratch: Awaited<ReturnType<typeof scratchBarrier>>;
  let barrier: Barrier;
  let views = 0;
  /** Sessions over a fresh part of one real barrier; `writes` counts what reached the store. */
  const sessionsAt = (clock: ManualClock) => {
    const view = barrier.view(`sys/sessions-${views++}/`);
    const counted = { writes: 0 };
    const store: SecureStore = {
      ...view,
      transaction: (work) =>
        view.transaction((tx) =>
          work({
            ...tx,
            get: (p) => tx.get(p),
            list: (p, o) => tx.list(p, o),
            put: (p, v) => (counted.writes++, tx.put(p, v)),
            delete: (p) => tx.delete(p),
          }),
        ),
    };
    return { sessions: createConsoleSessions(store, clock), counted };
  };

  before(async () => {
    scratch = await scratchBarrier(new ManualClock(0));
    barrier = scratch.barrier;
  });
  after(() => scratch.close());

  it('ends a session after 15 idle minutes, and activity keeps it alive until then', async () => {
    const clock = new ManualClock(0);
    const { sessions } = sessionsAt(clock);
    const id = await sessions.create(session(3_600_000));
    clock.advance(SESSION_IDLE_MS - 1);
    assert.ok(await sessions.get(id), 'just under the idle limit');
    clock.advance(SESSION_IDLE_MS - 1);
    assert.ok(await sessions.get(id), 'the previous request reset the idle time');
    clock.advance(SESSION_IDLE_MS);
    assert.equal(await sessions.get(id), undefined);
  });

  it('records activity only when the last record is older than the granularity, and never ends a session late', async () => {
    const clock = new ManualClock(0);
    const { sessions, counted } = sessionsAt(clock);
    const id = await sessions.create(session(3_600_000));
    const afterCreate = counted.writes;
    const step = Math.floor(LAST_SEEN_GRANULARITY_MS / 10);
    for (let i = 0; i < 9; i++) {
      clock.advance(step);
      assert.ok(await sessions.get(id));
    }
    assert.equal(counted.writes, afterCreate, 'page views within the granularity write nothing');
    clock.advance(LAST_SEEN_GRANULARITY_MS - 9 * step);
    assert.ok(await sessions.get(id));
    assert.equal(counted.writes, afterCreate + 1, 'one write once the record is that old');
    // The last request (just now) was recorded: the session ends no later than idle time after it.
    const lastRequest = clock.nowMs();
    clock.advance(LAST_SEEN_GRANULARITY_MS - 1);
    assert.ok(await sessions.get(id));
    clock.advance(lastRequest + SESSION_IDLE_MS - clock.nowMs());
    assert.equal(await sessions.get(id), undefined);
  });

  it('ends a session when its token expires, however active', async () => {
    const clock = new ManualClock(0);
    const { sessions } = sessionsAt(clock);
    const id = await sessions.create(session(20 * 60_000));
    for (let minute = 5; minute < 20; minute += 5) {
      clock.advance(5 * 60_000);
      assert.ok(await sessions.get(id));
    }
    clock.advance(5 * 60_000);
    assert.equal(await sessions.get(id), undefined);
  });

  it('keeps sessions by a hash of their id: another id, an empty one or a signed-out one finds nothing', async () => {
    const { sessions } = sessionsAt(new ManualClock(0));
    const id = await sessions.create(session(3_600_000));
    assert.equal(await sessions.get(`${id}x`), undefined);
    assert.equal(await sessions.get(''), undefined);
    await sessions.end(id);
    assert.equal(await sessions.get(id), undefined);
  });

  it('shows a flash message once, and keeps the CSRF token', async () => {
    const { sessions } = sessionsAt(new ManualClock(0));
    const id = await sessions.create(session(3_600_000));
    const csrf = (await sessions.get(id))?.csrfToken;
    assert.ok(csrf);
    await sessions.setFlash(id, { kind: 'ok', text: 'Secret s set.' });
    const first = (await sessions.get(id))!;
    assert.deepEqual(await sessions.takeFlash(id, first), { kind: 'ok', text: 'Secret s set.' });
    const second = (await sessions.get(id))!;
    assert.equal(await sessions.takeFlash(id, second), undefined);
    assert.equal(second.csrfToken, csrf);
  });

  it('finishes a sign-in once, only with its own state, within ten minutes', async () => {
    const clock = new ManualClock(0);
    const { sessions } = sessionsAt(clock);
    const first = await sessions.startSignIn();
    assert.equal(
      (await sessions.finishSignIn(first.id, first.attempt.state))?.codeVerifier,
      first.attempt.codeVerifier,
    );
    assert.equal(await sessions.finishSignIn(first.id, first.attempt.state), undefined, 'once');
    const second = await sessions.startSignIn();
    assert.equal(await sessions.finishSignIn(second.id, 'another state'), undefined);
    assert.equal(
      await sessions.finishSignIn(second.id, second.attempt.state),
      undefined,
      'a wrong state spends it',
    );
    const third = await sessions.startSignIn();
    clock.advance(10 * 60_000);
    assert.equal(await sessions.finishSignIn(third.id, third.attempt.state), undefined, 'expired');
  });

  it('sweeps ended sessions and abandoned sign-ins, and keeps live ones', async () => {
    const clock = new ManualClock(0);
    const { sessions } = sessionsAt(clock);
    const ending = await sessions.create(session(60_000));
    const staying = await sessions.create(session(3_600_000));
    await sessions.startSignIn();
    clock.advance(10 * 60_000);
    assert.equal(await sessions.sweep(), 2);
    assert.equal(await sessions.get(ending), undefined);
    assert.ok(await sessions.get(staying));
  });
});
