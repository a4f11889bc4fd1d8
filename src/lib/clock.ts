/**
 * Time as the rest of the code sees it. Services take a Clock rather than calling Date.now()
 * so that schedulers (purge, rotation, renewal) can be tested by moving time, not by waiting.
 */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** Azure's wire format for times: integer Unix seconds. */
export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** A clock a test can move by hand. */
export class ManualClock implements Clock {
  constructor(private current: number = Date.now()) {}
  nowMs(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
