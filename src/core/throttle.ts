import { Throttled } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';

/**
 * Counts failures (bad client secrets, wrong passwords, refused authorizations) per key, such
 * as `client:{id}` or `address:{ip}`, over a sliding window, and throttles a key that failed too
 * often. An attempt reserves its slot BEFORE it is evaluated: attempts in flight count as
 * failures until they turn out otherwise, so a burst of concurrent guesses cannot all pass the
 * check before the first of them is recorded. In memory and per node on purpose: it blunts
 * guessing and noisy clients cheaply; it is not a quota.
 */
export interface FailureThrottle {
  /**
   * Waits for a slot: failures in the window plus attempts in flight stay within `maxFailures`.
   * Throws Throttled (with the seconds for Retry-After) once the failures alone reach it, or when
   * too many attempts already wait for the same key.
   */
  reserve(key: string): Promise<ReservedAttempt>;
  /**
   * A failure seen elsewhere (another member of the installation, core/cluster-wiring.ts):
   * counted like a local one, with no slot of its own.
   */
  recordFailure(key: string): void;
}

export interface ReservedAttempt {
  /** Gives the slot back, as one more failure when `failed`. Call exactly once. */
  settle(failed: boolean): void;
}

export interface FailureThrottleOptions {
  /** Failures allowed within the window: the attempt after the last allowed failure is refused. */
  maxFailures: number;
  windowMs: number;
  clock: Clock;
  /** Bound on keys tracked, so a flood of distinct addresses cannot exhaust memory. */
  maxKeys?: number;
}

const DEFAULT_MAX_KEYS = 100_000;
/** Attempts that may wait for a slot per key, as a multiple of the limit; more are refused at once. */
const WAITING_PER_FAILURE = 4;

interface KeyState {
  /** Failure times, oldest first; at most maxFailures are kept (older ones cannot matter). */
  failures: number[];
  inFlight: number;
  waiting: Array<() => void>;
}

export function createFailureThrottle(options: FailureThrottleOptions): FailureThrottle {
  const { maxFailures, windowMs, clock } = options;
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  const maxWaiting = WAITING_PER_FAILURE * maxFailures;
  /** A Map keeps insertion order: keys are re-inserted on failure, so the first is the least recently failed. */
  const states = new Map<string, KeyState>();

  const idle = (state: KeyState) => state.inFlight === 0 && state.waiting.length === 0;

  function stateOf(key: string, now: number): KeyState {
    let state = states.get(key);
    if (!state) {
      state = { failures: [], inFlight: 0, waiting: [] };
      states.set(key, state);
      evictBeyondBound();
    }
    state.failures = state.failures.filter((time) => time > now - windowMs);
    return state;
  }

  /** Forgets the least recently failed keys that nobody is waiting on or evaluating. */
  function evictBeyondBound(): void {
    for (const [key, state] of states) {
      if (states.size <= maxKeys) return;
      if (idle(state)) states.delete(key);
    }
  }

  /** Seconds until the oldest counted failure leaves the window, while failures fill the limit. */
  function retryAfter(state: KeyState, now: number): number | undefined {
    if (state.failures.length < maxFailures) return undefined;
    const reopensAt = state.failures[state.failures.length - maxFailures]! + windowMs;
    return Math.max(1, Math.ceil((reopensAt - now) / 1000));
  }

  function countFailure(key: string, state: KeyState): void {
    state.failures = [...state.failures, clock.nowMs()].slice(-maxFailures);
    states.delete(key);
    states.set(key, state);
  }

  function settle(key: string, state: KeyState, failed: boolean): void {
    state.inFlight--;
    if (failed) countFailure(key, state);
    // A success frees one slot for one waiter; a failure may close the key, so every waiter rechecks.
    const wake = failed ? state.waiting.splice(0) : state.waiting.splice(0, 1);
    for (const resume of wake) resume();
    if (idle(state) && state.failures.length === 0 && states.get(key) === state) states.delete(key);
  }

  return {
    recordFailure(key) {
      const state = stateOf(key, clock.nowMs());
      countFailure(key, state);
      // The key may have closed: every waiter rechecks.
      for (const resume of state.waiting.splice(0)) resume();
    },

    async reserve(key) {
      for (;;) {
        const now = clock.nowMs();
        const state = stateOf(key, now);
        const wait = retryAfter(state, now);
        if (wait !== undefined) throw new Throttled(wait);
        if (state.failures.length + state.inFlight < maxFailures) {
          state.inFlight++;
          let settled = false;
          return {
            settle: (failed) => {
              if (settled) return;
              settled = true;
              settle(key, state, failed);
            },
          };
        }
        if (state.waiting.length >= maxWaiting) throw new Throttled(1);
        await new Promise<void>((resume) => state.waiting.push(resume));
      }
    },
  };
}
