import type { Clock } from '../lib/clock.js';

/**
 * Counts failures (bad client secrets, refused authorizations) per key, such as `client:{id}`
 * or `address:{ip}`, over a sliding window, and throttles a key that failed too often. In memory
 * and per node on purpose: it blunts guessing and noisy clients cheaply; it is not a quota.
 */
export interface FailureThrottle {
  /** Seconds to wait (for Retry-After) while the key is throttled, else undefined. */
  isThrottled(key: string): number | undefined;
  recordFailure(key: string): void;
}

export interface FailureThrottleOptions {
  /** Failures allowed within the window; one more throttles the key. */
  maxFailures: number;
  windowMs: number;
  clock: Clock;
  /** Bound on keys tracked, so a flood of distinct addresses cannot exhaust memory. */
  maxKeys?: number;
}

const DEFAULT_MAX_KEYS = 100_000;

export function createFailureThrottle(options: FailureThrottleOptions): FailureThrottle {
  const { maxFailures, windowMs, clock } = options;
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  /** Failure times per key, oldest first; a Map keeps insertion order for eviction. */
  const failures = new Map<string, number[]>();

  const recent = (key: string, now: number): number[] => {
    const times = (failures.get(key) ?? []).filter((time) => time > now - windowMs);
    if (times.length === 0) failures.delete(key);
    else failures.set(key, times);
    return times;
  };

  return {
    isThrottled(key) {
      const now = clock.nowMs();
      const times = recent(key, now);
      if (times.length <= maxFailures) return undefined;
      // Open again once enough old failures leave the window to bring the count back to the limit.
      const reopensAt = times[times.length - maxFailures - 1]! + windowMs;
      return Math.max(1, Math.ceil((reopensAt - now) / 1000));
    },

    recordFailure(key) {
      const now = clock.nowMs();
      const times = recent(key, now);
      // Past the limit only the newest failures matter; keeping them bounded bounds memory per key.
      const kept = [...times, now].slice(-(maxFailures + 1));
      failures.delete(key);
      failures.set(key, kept);
      if (failures.size > maxKeys) failures.delete(failures.keys().next().value!);
    },
  };
}
