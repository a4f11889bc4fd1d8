import { BadParameter } from '../errors/index.js';
import type { ThrottleSetting } from './types.js';

/** The largest N of `--throttle N`: Azure's own vault limit, far above it makes no sense to test with. */
export const MAX_THROTTLE_PER_10S = 100_000;

/** `off`, `azure`, or a whole number of transactions per 10 seconds, else a 400 that says so. */
export function validateThrottle(value: unknown): ThrottleSetting {
  if (value === 'off' || value === 'azure') return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_THROTTLE_PER_10S) {
    return value;
  }
  throw new BadParameter(
    `throttle must be 'off', 'azure' (Azure's documented service limits) or a whole number of transactions per 10 seconds from 1 to ${MAX_THROTTLE_PER_10S}; got '${String(value).slice(0, 20)}'.`,
  );
}
