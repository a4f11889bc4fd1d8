import { AsyncLocalStorage } from 'node:async_hooks';
import { BadParameter } from '../errors/index.js';
import { type Clock, DAY_MS } from '../lib/clock.js';

/** What a time shift needs to know of a vault. */
interface ShiftedVault {
  id: string;
}

/** The furthest one shift may move a vault's clock: ten years covers every retention and validity. */
export const MAX_SHIFT_DAYS = 3650;

/**
 * Dev-mode time control (what Lowkey Vault users value): each vault may run ahead of the real
 * clock, so rotation, near-expiry, expiry, auto-renewal and purge can be tested in seconds. The
 * vault domains get `clock`, which reads the offset of the vault whose work is running (set by
 * `run` around a request or a sweep); identity, tokens and throttles keep the real clock, so
 * tokens stay valid across a shift. Offsets live in memory: a restart returns to real time.
 * Production servers never shift (the endpoint is refused there), so `run` costs nothing.
 */
export function createTimeShift(base: Clock) {
  const current = new AsyncLocalStorage<number>();
  const byVault = new Map<string, number>();
  let everyVault = 0;

  const offsetOf = (vault: ShiftedVault) => everyVault + (byVault.get(vault.id) ?? 0);

  return {
    clock: { nowMs: () => base.nowMs() + (current.getStore() ?? 0) } satisfies Clock,

    /** Runs `work` in the vault's time. */
    run<T>(vault: ShiftedVault, work: () => Promise<T>): Promise<T> {
      const offset = offsetOf(vault);
      return offset === 0 && current.getStore() === undefined ? work() : current.run(offset, work);
    },

    /** Moves one vault's clock (or, without a vault, every vault's) forward; returns the vault's offset in ms. */
    shift(days: number, vault?: ShiftedVault): number {
      if (!Number.isInteger(days) || days < 1 || days > MAX_SHIFT_DAYS) {
        throw new BadParameter(
          `days must be a whole number from 1 to ${MAX_SHIFT_DAYS}: time only moves forward.`,
        );
      }
      if (vault) byVault.set(vault.id, (byVault.get(vault.id) ?? 0) + days * DAY_MS);
      else everyVault += days * DAY_MS;
      return vault ? offsetOf(vault) : everyVault;
    },

    offsetOf,
    /** The time a vault sees now. */
    nowFor: (vault: ShiftedVault) => base.nowMs() + offsetOf(vault),
  };
}

export type TimeShift = ReturnType<typeof createTimeShift>;
