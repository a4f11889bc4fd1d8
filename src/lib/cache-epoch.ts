/**
 * Counts the clears of a cache, so a value loaded while one happened (another node's change
 * arriving mid-load) is used but not kept: it may predate the change the clear announced.
 */
export function createCacheEpoch() {
  let epoch = 0;
  return {
    bump(): void {
      epoch++;
    },
    /** Call before loading; the function it returns says whether the loaded value may be kept. */
    begin(): () => boolean {
      const started = epoch;
      return () => started === epoch;
    },
  };
}
