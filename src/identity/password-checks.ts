import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Throttled } from '../errors/index.js';
import { hashPassword, verifyPassword } from './password-hash.js';
import type { PasswordHashRecord } from './types.js';

/**
 * How many password hashes run at once, and how many more may wait. A check is an scrypt of
 * 32 MiB and tens of milliseconds of a core; unbounded, a burst of sign-ins (or guesses) takes
 * every core and the memory with it. Half the cores leave the rest for everything else; the
 * queue holds about a second of work at most.
 */
export const PASSWORD_CHECK_LIMITS = {
  concurrent: Math.max(1, Math.floor(availableParallelism() / 2)),
  queued: 16,
} as const;

/** Weight of the newest measurement in the typical check time (an exponential moving average). */
const SMOOTHING = 0.2;

export interface PasswordChecks {
  /**
   * Whether `password` matches `stored`. For an unknown user (`stored` undefined) it answers
   * false after waiting the typical time of a real check, holding a slot like one: the answer
   * neither comes sooner nor queues differently when the user does not exist. Throws Throttled
   * (429) when the queue is full.
   */
  verify(password: string, stored: PasswordHashRecord | undefined): Promise<boolean>;
  /** Hashes computed since start (calibration included), and the typical check time in ms. */
  stats(): { hashes: number; typicalMs: number | undefined };
}

export function createPasswordChecks(
  limits: { concurrent: number; queued: number } = PASSWORD_CHECK_LIMITS,
): PasswordChecks {
  let running = 0;
  const waiting: Array<() => void> = [];
  let hashes = 0;
  let typicalMs: number | undefined;

  /** Runs `task` in one of the `concurrent` slots, first come first served. */
  async function inSlot<T>(task: () => Promise<T>): Promise<T> {
    if (running < limits.concurrent) running++;
    else if (waiting.length < limits.queued) await new Promise<void>((resume) => waiting.push(resume));
    else throw new Throttled(1);
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, so a newcomer cannot jump the queue.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  }

  async function timedHash<T>(hash: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await hash();
    const elapsed = performance.now() - started;
    hashes++;
    typicalMs = typicalMs === undefined ? elapsed : typicalMs + SMOOTHING * (elapsed - typicalMs);
    return result;
  }

  /** The typical time of a real check; measured once, by hashing a throwaway password, if none ran yet. */
  let calibration: Promise<unknown> | undefined;
  async function typical(): Promise<number> {
    if (typicalMs === undefined) {
      calibration ??= timedHash(() => hashPassword(randomBytes(16).toString('hex'), '')).catch((error) => {
        calibration = undefined;
        throw error;
      });
      await calibration;
    }
    return typicalMs!;
  }

  return {
    verify: (password, stored) =>
      inSlot(async () => {
        if (stored) return timedHash(() => verifyPassword(password, stored));
        // A little jitter, as real checks have: a constant delay would stand out.
        await sleep((await typical()) * (0.9 + 0.2 * Math.random()));
        return false;
      }),
    stats: () => ({ hashes, typicalMs }),
  };
}
