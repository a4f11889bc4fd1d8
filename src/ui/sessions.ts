import { randomBytes } from 'node:crypto';
import { createExpiringRecords } from '../barrier/expiring-records.js';
import { prefixedView, type SecureStore } from '../barrier/secure-store.js';
import { constantTimeEqual } from '../crypto/constant-time.js';
import type { Clock } from '../lib/clock.js';

/** A session ends after this long without a request. */
export const SESSION_IDLE_MS = 15 * 60_000;
/**
 * A request records itself as the session's last activity only when the recorded one is older
 * than this: an ordinary page view then reads the store without writing it (a durable write on
 * every page would cost every worker and node a commit and a feed notice). The price: a session
 * may end up to this much before SESSION_IDLE_MS after its last request, never later.
 */
export const LAST_SEEN_GRANULARITY_MS = SESSION_IDLE_MS / 4;
/** A sign-in that is not completed within this time is forgotten. */
const SIGN_IN_MS = 10 * 60_000;
/** Sessions, and sign-ins in progress, held at most each: a flood cannot grow the store without bound. */
const LIMIT = 10_000;

export interface ConsoleSession {
  /** The user's access token: kept here, never sent to the browser. */
  accessToken: string;
  userPrincipalName: string;
  objectId: string;
  /** The token's expiry, which ends the session whatever the activity. */
  expiresAtMs: number;
  lastSeenMs: number;
  /** Sent in every form, compared on every write. */
  csrfToken: string;
  /** One message for the next page (after a write, Post/Redirect/Get). */
  flash?: { kind: 'ok' | 'error'; text: string };
}

export interface SignInAttempt {
  state: string;
  codeVerifier: string;
  expiresAtMs: number;
}

/**
 * The console's server-side state, shared by every worker process and node through the store
 * behind the barrier (`sys/sessions/console/` and `.../console-sign-ins/`): sessions (a random
 * 256-bit id in an HttpOnly cookie, stored under its SHA-256, so a store dump holds no usable
 * cookie) and sign-ins in progress (the PKCE verifier and state, usable once across all
 * processes). Sessions survive a seal and unseal within their lifetimes: while sealed the barrier
 * holds no key, so none can be read or used; the token inside each expires on its own schedule.
 */
export function createConsoleSessions(store: SecureStore, clock: Clock) {
  const sessions = createExpiringRecords<ConsoleSession>(prefixedView(store, 'console/'), {
    clock,
    limit: LIMIT,
    sharded: true,
    endsAtMs: (session) => Math.min(session.expiresAtMs, session.lastSeenMs + SESSION_IDLE_MS),
    // As before in memory: a full table ends some session rather than refuse every new sign-in.
    whenFull: 'evictAny',
  });
  const signIns = createExpiringRecords<SignInAttempt>(prefixedView(store, 'console-sign-ins/'), {
    clock,
    limit: LIMIT,
    sharded: true,
    endsAtMs: (attempt) => attempt.expiresAtMs,
    whenFull: 'evictAny',
  });
  const newId = () => randomBytes(32).toString('base64url');

  return {
    async startSignIn(): Promise<{ id: string; attempt: SignInAttempt }> {
      const id = newId();
      const attempt = { state: newId(), codeVerifier: newId(), expiresAtMs: clock.nowMs() + SIGN_IN_MS };
      await signIns.add(id, attempt);
      return { id, attempt };
    },

    /** The sign-in for this cookie and state, once in all processes: a replayed callback finds nothing. */
    async finishSignIn(
      id: string | undefined,
      state: string | undefined,
    ): Promise<SignInAttempt | undefined> {
      if (!id || !state) return undefined;
      const attempt = await signIns.take(id);
      return attempt && constantTimeEqual(attempt.state, state) ? attempt : undefined;
    },

    async create(values: Omit<ConsoleSession, 'lastSeenMs' | 'csrfToken'>): Promise<string> {
      const id = newId();
      await sessions.add(id, { ...values, lastSeenMs: clock.nowMs(), csrfToken: newId() });
      return id;
    },

    /** The live session for a cookie value (read only: see `settle`). */
    async get(id: string | undefined): Promise<ConsoleSession | undefined> {
      return id ? sessions.read(id) : undefined;
    },

    /**
     * After an answer that is no refusal (a refused request changes nothing, the session
     * included): records the activity when the recorded one is stale, and sets the flash message
     * or clears the one just shown, in at most one write.
     */
    async settle(
      id: string,
      session: ConsoleSession,
      flash?: ConsoleSession['flash'] | 'shown',
    ): Promise<void> {
      const nowMs = clock.nowMs();
      const stale = nowMs - session.lastSeenMs >= LAST_SEEN_GRANULARITY_MS;
      const flashChange = flash === 'shown' ? session.flash !== undefined : flash !== undefined;
      if (!stale && !flashChange) return;
      await sessions.update(id, (stored) => ({
        ...stored,
        lastSeenMs: Math.max(stored.lastSeenMs, nowMs),
        flash: flash === 'shown' ? undefined : (flash ?? stored.flash),
      }));
    },

    async end(id: string | undefined): Promise<void> {
      if (id) await sessions.remove(id);
    },

    /** Removes ended sessions and abandoned sign-ins (the leader's periodic sweep). */
    async sweep(): Promise<number> {
      return (await sessions.sweep()) + (await signIns.sweep());
    },
  };
}

export type ConsoleSessions = ReturnType<typeof createConsoleSessions>;
