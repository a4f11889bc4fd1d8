import { createHash, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../crypto/constant-time.js';
import type { Clock } from '../lib/clock.js';

/** A session ends after this long without a request. */
export const SESSION_IDLE_MS = 15 * 60_000;
/** A sign-in that is not completed within this time is forgotten. */
const SIGN_IN_MS = 10 * 60_000;
/** Sessions and sign-ins in progress held at most: a flood cannot grow memory without bound. */
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
 * The console's server-side state, in memory on this node: sessions (a random 256-bit id in an
 * HttpOnly cookie, looked up by its SHA-256, so a memory dump holds no usable cookie) and sign-ins
 * in progress (the PKCE verifier and state). Cleared on seal; a restart signs everyone out.
 */
export function createConsoleSessions(clock: Clock) {
  const sessions = new Map<string, ConsoleSession>();
  const signIns = new Map<string, SignInAttempt>();
  const keyOf = (id: string) => createHash('sha256').update(id).digest('base64url');
  const newId = () => randomBytes(32).toString('base64url');

  function bounded<T extends { expiresAtMs: number }>(map: Map<string, T>): void {
    if (map.size < LIMIT) return;
    const now = clock.nowMs();
    for (const [key, value] of map) if (value.expiresAtMs <= now) map.delete(key);
    // Still full of live entries: the oldest goes (Map keeps insertion order).
    if (map.size >= LIMIT) map.delete(map.keys().next().value as string);
  }

  return {
    startSignIn(): { id: string; attempt: SignInAttempt } {
      bounded(signIns);
      const id = newId();
      const attempt = {
        state: newId(),
        codeVerifier: newId(),
        expiresAtMs: clock.nowMs() + SIGN_IN_MS,
      };
      signIns.set(keyOf(id), attempt);
      return { id, attempt };
    },

    /** The sign-in for this cookie and state, once: a replayed callback finds nothing. */
    finishSignIn(id: string | undefined, state: string | undefined): SignInAttempt | undefined {
      if (!id || !state) return undefined;
      const key = keyOf(id);
      const attempt = signIns.get(key);
      signIns.delete(key);
      if (!attempt || attempt.expiresAtMs <= clock.nowMs()) return undefined;
      return constantTimeEqual(attempt.state, state) ? attempt : undefined;
    },

    create(values: Omit<ConsoleSession, 'lastSeenMs' | 'csrfToken'>): string {
      bounded(sessions);
      const id = newId();
      sessions.set(keyOf(id), { ...values, lastSeenMs: clock.nowMs(), csrfToken: newId() });
      return id;
    },

    /** The live session for a cookie value, its idle time reset; expired ones are removed. */
    get(id: string | undefined): ConsoleSession | undefined {
      if (!id) return undefined;
      const key = keyOf(id);
      const session = sessions.get(key);
      if (!session) return undefined;
      const now = clock.nowMs();
      if (session.expiresAtMs <= now || session.lastSeenMs + SESSION_IDLE_MS <= now) {
        sessions.delete(key);
        return undefined;
      }
      session.lastSeenMs = now;
      return session;
    },

    end(id: string | undefined): void {
      if (id) sessions.delete(keyOf(id));
    },

    clear(): void {
      sessions.clear();
      signIns.clear();
    },
  };
}

export type ConsoleSessions = ReturnType<typeof createConsoleSessions>;
