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
    const sessions = createConsoleSessions(store, clock);
    /** A page view that is no refusal, as console.ts answers it. */
    const visit = async (id: string) => {
      const session = await sessions.get(id);
      if (session) await sessions.settle(id, session, 'shown');
      return session;
    };
    return { sessions, visit, counted };
  };

  before(async () => {
    scratch = await scratchBarrier(new ManualClock(0));
    barrier = scratch.barrier;
  });
  after(() => scratch.close());

  it('ends a session after 15 idle minutes, and activity keeps it alive until then', async () => {
    const clock = new ManualClock(0);
    const { sessions, visit } = sessionsAt(clock);
    const id = await sessions.create(session(3_600_000));
    clock.advance(SESSION_IDLE_MS - 1);
    assert.ok(await visit(id), 'just under the idle limit');
    clock.advance(SESSION_IDLE_MS - 1);
    assert.ok(await visit(id), 'the previous request reset the idle time');
    clock.advance(SESSION_IDLE_MS);
    assert.equal(await visit(id), undefined);
  });

  it('records activity only when the last record is older than the granularity, and never ends a session late', async () => {
    const clock = new ManualClock(0);
    const { sessions, visit, counted } = sessionsAt(clock);
    const id = await sessions.create(session(3_600_000));
    const afterCreate = counted.writes;
    const step = Math.floor(LAST_SEEN_GRANULARITY_MS / 10);
    for (let i = 0; i < 9; i++) {
      clock.advance(step);
      assert.ok(await visit(id));
    }
    assert.equal(counted.writes, afterCreate, 'page views within the granularity write nothing');
    clock.advance(LAST_SEEN_GRANULARITY_MS - 9 * step);
    assert.ok(await visit(id));
    assert.equal(counted.writes, afterCreate + 1, 'one write once the record is that old');
    // The last request (just now) was recorded: the session ends no later than idle time after it.
    const lastRequest = clock.nowMs();
    clock.advance(LAST_SEEN_GRANULARITY_MS - 1);
    assert.ok(await visit(id));
    clock.advance(lastRequest + SESSION_IDLE_MS - clock.nowMs());
    assert.equal(await visit(id), undefined);
  });

  it('ends a session when its token expires, however active', async () => {
    const clock = new ManualClock(0);
    const { sessions, visit } = sessionsAt(clock);
    const id = await sessions.create(session(20 * 60_000));
    for (let minute = 5; minute < 20; minute += 5) {
      clock.advance(5 * 60_000);
      assert.ok(await visit(id));
    }
    clock.advance(5 * 60_000);
    assert.equal(await visit(id), undefined);
  });

  it('keeps sessions by a hash of their id: another id, an empty one or a signed-out one finds nothing', async () => {
    const { sessions } = sessionsAt(new ManualClock(0));
    const id = await sessions.create(session(3_600_000));
    assert.equal(await sessions.get(`${id}x`), undefined);
    assert.equal(await sessions.get(''), undefined);
    await sessions.end(id);
    assert.equal(await sessions.get(id), undefined);
  });

  it('shows a flash message once, keeps it through a refused request, and keeps the CSRF token', async () => {
    const { sessions, visit, counted } = sessionsAt(new ManualClock(0));
    const id = await sessions.create(session(3_600_000));
    const created = (await sessions.get(id))!;
    await sessions.settle(id, created, { kind: 'ok', text: 'Secret s set.' });
    const writes = counted.writes;
    // A refused request only reads the session: nothing is written, the flash stays.
    assert.equal((await sessions.get(id))?.flash?.text, 'Secret s set.');
    assert.equal(counted.writes, writes);
    assert.deepEqual((await visit(id))?.flash, { kind: 'ok', text: 'Secret s set.' });
    assert.equal((await visit(id))?.flash, undefined, 'shown once');
    assert.equal((await sessions.get(id))?.csrfToken, created.csrfToken);
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
